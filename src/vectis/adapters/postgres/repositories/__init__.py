"""Repositories: domain objects in and out of PostgreSQL, mapped explicitly, scoped by RLS."""
