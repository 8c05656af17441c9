"""Who the community is and what it did, read from the store: people and their contributions (people), what counts as
what (kinds), activity, ranks and health (metrics)."""
