"""HaloPSA (PSA): REST API with OAuth2 client credentials, array writes, basic-auth webhooks."""

VENDOR = "halopsa"
