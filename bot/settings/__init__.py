"""The settings model of each feature's config section; bot.config composes them. They import no feature."""
