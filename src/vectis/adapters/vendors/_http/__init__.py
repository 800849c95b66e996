"""HTTP concerns every connector shares: retries, Retry-After, error classification, SSRF."""
