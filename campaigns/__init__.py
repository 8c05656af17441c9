"""Scheduled community work (hackathons, training camps, leaderboards, digests)."""
