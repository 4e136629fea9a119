"""The application shell: the terminal, Slack, scheduled alerts; config, logs and storage."""
