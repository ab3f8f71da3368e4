"""MLflow's tracking REST API over runyard runs (mounted by server/; nothing else imports it)."""
