"""`cobot db upgrade`: the database schema brought up to date."""

from __future__ import annotations

import click

from bot.cli.common import config_option, settings_or_exit
from bot.store.db import Database


@click.group()
def db() -> None:
    """Database schema."""


@db.command()
@config_option
def upgrade(config_file: str | None) -> None:
    """Apply the migrations the database has not had yet."""
    settings = settings_or_exit(config_file)
    Database(settings.database.url).upgrade()
    click.echo("database is up to date")
