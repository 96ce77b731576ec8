"""Authentication (JWT bearer tokens) and authorization (roles and groups)."""
