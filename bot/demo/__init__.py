"""`backupcheck demo`: the bot in your own Slack, with simulated servers read from files."""
