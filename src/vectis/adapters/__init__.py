"""Adapters: PostgreSQL, vendor connectors and security primitives behind the ports."""
