"""Vendor connectors; each has the same files (client, wire, mapping, gateway, webhooks)."""
