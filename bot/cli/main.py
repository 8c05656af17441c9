"""The `cobot` command: serve, demo, deliveries, db here; the others each in a module of its own: outbox and notify
(bot.cli.notify), stats, contributors and leaderboard (bot.cli.stats), badges and award (bot.cli.badges),
campaign (bot.cli.campaign), digest (bot.cli.digest), backfill (bot.cli.backfill), import (bot.cli.importing)."""

from __future__ import annotations

import json
import logging
import sys
from typing import Any

import click
from rich.console import Console
from rich.table import Table
from sqlalchemy import select

from bot.app import serving
from bot.app.factory import create_app
from bot.cli.common import config_option, iso, open_database, settings_or_exit, setup_logging
from bot.clock import system_clock
from bot.config import ConfigError
from bot.pipeline.inbox import Pipeline
from bot.platforms.registry import webhook_platforms
from bot.store.db import Database
from bot.store.tables import DELIVERY_STATUSES, Delivery
from bot.web.exposure import listening, statement


@click.group()
@click.version_option(package_name="cobot")
def main() -> None:
    """cobot: community operations for GitHub and Gitee."""


ACK_SWITCH_INTERVAL = 0.0005  # seconds (sys.setswitchinterval) in `cobot serve`


@main.command()
@config_option
@click.option("--host", default=None, help="address to listen on (default: server.host)")
@click.option("--port", type=int, default=None, help="port to listen on (default: server.port)")
@click.option("-v", "--verbose", is_flag=True, help="debug logging")
def serve(config_file: str | None, host: str | None, port: int | None, verbose: bool) -> None:
    """Run the webhook server, the inbox worker and the outbox dispatcher."""
    setup_logging(verbose)
    settings = listening(settings_or_exit(config_file), host, port)  # the address it serves on, as the app knows it
    app = create_app(settings)
    for level, line in statement(settings, app.router):  # what it serves to whom, said before it serves anything
        logging.getLogger("cobot").log(level, line)
    # Acknowledging a delivery takes the GIL a few times; a thread reading for the dashboard (its quick reads; its
    # slow ones too with dashboard.slow_reads = "thread") would hold it for the default 5 ms each time. Handing it
    # over every 0.5 ms keeps acknowledgements quick meanwhile.
    sys.setswitchinterval(ACK_SWITCH_INTERVAL)
    try:  # with a head timeout and a connection cap (see bot.app.serving)
        serving.run(app, host or settings.server.host, port if port is not None else settings.server.port,
                    settings.server, click.echo)
    except ConfigError as error:
        raise click.ClickException(str(error)) from None


@main.command()
@click.option("--db", "db_path", default="cobot-demo.db", show_default=True, type=click.Path(dir_okay=False),
              help="SQLite file to create afresh for the demo")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=int, default=8080, show_default=True, help="port (0 picks a free one)")
@click.option("--exit", "exit_after", is_flag=True, help="stop after the demo stream instead of serving on")
def demo(db_path: str, host: str, port: int, exit_after: bool) -> None:
    """Start cobot on a fresh SQLite file and send it a small community's signed webhook stream."""
    from bot.cli.demo import run_demo

    setup_logging()
    logging.getLogger("alembic").setLevel(logging.WARNING)
    logging.getLogger("cobot.outbox").setLevel(logging.WARNING)
    logging.getLogger("cobot.webhooks").setLevel(logging.ERROR)
    run_demo(db_path, host, port, serve_on=not exit_after, console=Console())


def delivery_row(delivery: Delivery) -> dict[str, Any]:
    return {
        "id": delivery.id, "platform": delivery.platform, "event": delivery.event, "action": delivery.action,
        "status": delivery.status, "error": delivery.error, "attempts": delivery.attempts, "key": delivery.key,
        "received_at": iso(delivery.received_at), "processed_at": iso(delivery.processed_at),
    }


@main.group(invoke_without_command=True)
@config_option
@click.option("--status", type=click.Choice(DELIVERY_STATUSES), help="only deliveries with this status")
@click.option("--limit", type=int, default=200, show_default=True, help="newest N (0: all)")
@click.option("--json", "as_json", is_flag=True, help="print a JSON array")
@click.pass_context
def deliveries(ctx: click.Context, config_file: str | None, status: str | None, limit: int, as_json: bool) -> None:
    """List received webhook deliveries (newest first); `replay ID` runs one again."""
    ctx.obj = config_file
    if ctx.invoked_subcommand is not None:
        return
    db = open_database(settings_or_exit(config_file))
    with db.inbox.session() as session:
        query = select(Delivery).order_by(Delivery.id.desc())
        if status:
            query = query.where(Delivery.status == status)
        if limit:
            query = query.limit(limit)
        rows = [delivery_row(d) for d in session.execute(query).scalars()]
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    table = Table("id", "platform", "event", "status", "attempts", "received", "error")
    for row in rows:
        event = row["event"] + (f"/{row['action']}" if row["action"] else "")
        table.add_row(str(row["id"]), row["platform"], event, row["status"], str(row["attempts"]),
                      (row["received_at"] or "")[:19], (row["error"] or "")[:80])
    Console().print(table)
    if not rows:
        click.echo("no deliveries" + (f" with status {status}" if status else ""))


@deliveries.command()
@click.argument("delivery_id", type=int)
@click.option("--json", "as_json", is_flag=True, help="print the result as JSON")
@click.pass_obj
def replay(config_file: str | None, delivery_id: int, as_json: bool) -> None:
    """Run delivery DELIVERY_ID through the handlers again (they never repeat a comment)."""
    settings = settings_or_exit(config_file)
    db = open_database(settings)
    pipeline = Pipeline(db, settings, system_clock, webhook_platforms(settings))
    try:
        delivery = pipeline.replay(delivery_id)
    except LookupError as error:
        raise click.ClickException(str(error)) from None
    finally:
        pipeline.close()
    row = delivery_row(delivery)
    if as_json:
        click.echo(json.dumps(row, ensure_ascii=False))
    else:
        click.echo(f"delivery {row['id']}: {row['status']}" + (f" ({row['error']})" if row["error"] else ""))
    if row["status"] == "failed":
        sys.exit(1)


@main.group()
def db() -> None:
    """Database schema."""


@db.command()
@config_option
def upgrade(config_file: str | None) -> None:
    """Apply the migrations the database has not had yet."""
    settings = settings_or_exit(config_file)
    Database(settings.database.url).upgrade()
    click.echo("database is up to date")


def _register_more_commands() -> None:
    from bot.cli.backfill import backfill
    from bot.cli.badges import award, badges
    from bot.cli.campaign import campaign
    from bot.cli.digest import digest
    from bot.cli.importing import import_group
    from bot.cli.notify import notify, outbox
    from bot.cli.stats import contributors, leaderboard, stats

    for command in (outbox, notify, stats, contributors, leaderboard, badges, campaign, digest, backfill,
                    import_group):
        main.add_command(command)
    main.add_command(award, name="award")  # `cobot badges award`, also at the top


_register_more_commands()
