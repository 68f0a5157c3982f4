"""A snapshot: an org tree and its assets in one YAML file, loaded all or nothing (loader.py,
`manage.py load_snapshot`). It sits above the backends: environments and policies go through
the local backend, so a snapshot obeys exactly the rules of the API."""
