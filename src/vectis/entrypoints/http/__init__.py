"""The HTTP surface: the server-rendered hub, the REST API, webhook receivers and health."""
