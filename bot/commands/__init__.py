"""Maintainer commands: the parser, the registry, permissions and settings (the handler is handlers/commands.py)."""
