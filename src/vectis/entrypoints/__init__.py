"""Entrypoints: the hub, REST API, webhooks and CLI, all calling the same application services."""
