"""Autotask PSA: REST API v1.0 with header auth, zone discovery and HMAC-SHA1 signed webhooks."""

VENDOR = "autotask"
