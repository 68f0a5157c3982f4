"""Web security that is not a view's own business: sign-in throttling, the shared cache table."""
