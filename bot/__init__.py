"""The application shell: CLI, Slack app, scheduler."""
