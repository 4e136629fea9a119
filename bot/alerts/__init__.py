"""Scheduled alerts: lifecycle, alert message, stores, silences, history, outbox, schedule."""
