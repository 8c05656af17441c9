"""Reactions to events: each module is one feature with one router (see bot/pipeline/dispatch.py)."""
