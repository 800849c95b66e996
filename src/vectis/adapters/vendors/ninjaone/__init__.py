"""NinjaOne RMM: OAuth2 client credentials, ``/v2`` REST lists, activity webhooks."""

VENDOR = "ninjaone"
