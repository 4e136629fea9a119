"""Slack: the bolt App and its listeners, Block Kit for reports, the Web API and response_url."""
