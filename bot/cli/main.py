"""The `cobot` command, composed here from one module per command group: serve, demo, deliveries, db, outbox and
notify (bot.cli.notify), stats, contributors and leaderboard (bot.cli.stats), badges and award (bot.cli.badges),
campaign, digest, backfill and import (bot.cli.importing)."""

from __future__ import annotations

import click

from bot.cli.backfill import backfill
from bot.cli.badges import award, badges
from bot.cli.campaign import campaign
from bot.cli.db import db
from bot.cli.deliveries import deliveries
from bot.cli.demo import demo
from bot.cli.digest import digest
from bot.cli.importing import import_group
from bot.cli.notify import notify, outbox
from bot.cli.serve import serve
from bot.cli.stats import contributors, leaderboard, stats


@click.group()
@click.version_option(package_name="cobot")
def main() -> None:
    """cobot: community operations for GitHub and Gitee."""


for command in (serve, demo, deliveries, db, outbox, notify, stats, contributors, leaderboard, badges, campaign,
                digest, backfill, import_group):
    main.add_command(command)
main.add_command(award, name="award")  # `cobot badges award`, also at the top
