"""What every connector shares beyond HTTP: reading pages of records, idempotency markers."""
