"""Open Badges: the badge catalogue, the rules that award them and the records of awards (rules)."""
