"""The `envadmin` command: export, plan and apply environments files over Run:ai's API."""
