"""Policies and compliance as pure functions: no ORM, no HTTP (the local and the proxy backend
both feed them Run:ai's documents)."""
