"""`python -m bot` is the `cobot` command."""

from bot.cli import main

main()
