"""Durable state: alerts and their history, check results, and the outbox to Slack."""
