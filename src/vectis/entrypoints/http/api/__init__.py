"""The public REST API (``/api/v1``), authenticated by personal access tokens."""
