"""Durable actions: stored in the transaction that caused them (storing) and performed with retries (dispatcher)."""
