"""`backupcheck doctor`: the config, Slack and each server, checked one line at a time."""
