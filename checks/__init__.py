"""Facts, rules and tips: everything that knows Windows Server Backup but nothing of Slack."""
