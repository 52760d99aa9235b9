"""git as a subprocess: cached bare repositories and leased checkouts."""
