"""ConnectWise Manage (PSA): REST API 3.0 with Basic auth and a clientId, signed callbacks."""

VENDOR = "connectwise"
