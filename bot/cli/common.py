"""What the `cobot` sub-commands share: the --config option, logging, settings, the database."""

from __future__ import annotations

import logging
from datetime import datetime

import click

from bot.config import ConfigError, Settings, load_settings
from bot.store.db import Database

config_option = click.option("--config", "config_file", type=click.Path(dir_okay=False),
                             help="config file (default: $COBOT_CONFIG, then ./config.toml)")


def setup_logging(verbose: bool = False) -> None:
    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")


def settings_or_exit(config_file: str | None) -> Settings:
    try:
        return load_settings(config_file)
    except ConfigError as error:
        raise click.ClickException(str(error)) from None


def open_database(settings: Settings) -> Database:
    db = Database(settings.database.url)
    if settings.database.auto_migrate:
        db.upgrade()
    return db


def iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None
