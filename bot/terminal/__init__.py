"""The terminal: the `backupcheck` command, rich tables, Nagios output, doctor. No Slack stack."""
