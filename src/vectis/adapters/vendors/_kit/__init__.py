"""What every connector shares beyond HTTP: reading pages of records (``records``), paging
(``paging``), reading its settings (``settings``) and idempotency markers (``markers``)."""
