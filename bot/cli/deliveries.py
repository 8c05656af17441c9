"""`cobot deliveries`: the webhook deliveries received (newest first), and `replay ID` to run one again."""

from __future__ import annotations

import json
import sys
from typing import Any

import click
from rich.console import Console
from rich.table import Table
from sqlalchemy import select

from bot.cli.common import config_option, iso, open_database, settings_or_exit
from bot.clock import system_clock
from bot.pipeline.processor import Pipeline
from bot.platforms.registry import webhook_platforms
from bot.store.tables import DELIVERY_STATUSES, Delivery


def delivery_row(delivery: Delivery) -> dict[str, Any]:
    return {
        "id": delivery.id, "platform": delivery.platform, "event": delivery.event, "action": delivery.action,
        "status": delivery.status, "error": delivery.error, "attempts": delivery.attempts, "key": delivery.key,
        "received_at": iso(delivery.received_at), "processed_at": iso(delivery.processed_at),
    }


@click.group(invoke_without_command=True)
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
