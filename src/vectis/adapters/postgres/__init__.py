"""PostgreSQL: the schema, row-level security, repositories and the unit of work."""
