"""The `cobot` command: one module per command group, composed in bot.cli.main."""
