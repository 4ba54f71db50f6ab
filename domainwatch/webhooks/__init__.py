"""Webhooks: signed, durable, at-least-once delivery of every status change."""
