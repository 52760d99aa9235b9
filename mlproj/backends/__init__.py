"""Where a run executes: local processes now, cluster engines later."""
