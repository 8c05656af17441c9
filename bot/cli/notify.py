"""`cobot outbox` (what cobot did or still has to do, and retrying what failed) and `cobot notify test`."""

from __future__ import annotations

import asyncio
import json
import sys

import click
from rich.console import Console
from rich.table import Table
from sqlalchemy import select

from bot.cli.common import config_option, open_database, settings_or_exit
from bot.clock import system_clock
from bot.config import Settings
from bot.messages.render import render
from bot.notifiers.base import Notification, PermanentFailure, RetryLater, mask
from bot.notifiers.registry import build_notifier, channel_secrets
from bot.notifiers.urls import RefusedURL, check_url_async, outbound_session
from bot.outbox.rows import action_row
from bot.store.tables import OUTBOX_STATUSES, OutboxAction


@click.group(invoke_without_command=True)
@config_option
@click.option("--status", type=click.Choice(OUTBOX_STATUSES), help="only actions with this status")
@click.option("--channel", help="only notifications to this channel")
@click.option("--limit", type=int, default=200, show_default=True, help="newest N (0: all)")
@click.option("--json", "as_json", is_flag=True, help="print a JSON array")
@click.pass_context
def outbox(ctx: click.Context, config_file: str | None, status: str | None, channel: str | None, limit: int,
           as_json: bool) -> None:
    """List outbox actions (comments, labels, notifications; newest first); `retry ID` retries a failed one."""
    ctx.obj = config_file
    if ctx.invoked_subcommand is not None:
        return
    settings = settings_or_exit(config_file)
    db = open_database(settings)
    with db.session() as session:
        query = select(OutboxAction).order_by(OutboxAction.id.desc())
        if status:
            query = query.where(OutboxAction.status == status)
        if channel:
            query = query.where(OutboxAction.channel == channel)
        if limit:
            query = query.limit(limit)
        rows = [action_row(a, channel_secrets(settings.notify)) for a in session.execute(query).scalars()]
    db.dispose()
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    if not rows:
        click.echo("no outbox actions" + (f" with status {status}" if status else ""))
        return
    table = Table("id", "kind", "status", "tries", "created", "where", "result or error")
    for row in rows:
        outcome = " ".join((row["error"] or row["result"] or "").split())
        table.add_row(str(row["id"]), row["kind"], row["status"], str(row["attempts"]),
                      (row["created_at"] or "")[5:16].replace("T", " "), row["where"] or "",
                      outcome if len(outcome) <= 60 else outcome[:59] + "…")
    Console().print(table)


@outbox.command()
@click.argument("action_id", type=int)
@click.pass_obj
def retry(config_file: str | None, action_id: int) -> None:
    """Send failed action ACTION_ID again (a running `cobot serve` picks it up within a second or so)."""
    settings = settings_or_exit(config_file)
    db = open_database(settings)
    with db.session() as session:
        action = session.get(OutboxAction, action_id)
        if action is None:
            raise click.ClickException(f"no outbox action with id {action_id}")
        if action.status != "failed":
            raise click.ClickException(f"outbox action {action_id} is {action.status}: only failed ones are retried")
        action.status, action.attempts, action.done_at = "pending", 0, None
        action.next_attempt_at = system_clock()
    db.dispose()
    click.echo(f"outbox action {action_id} is pending again")


@click.group()
def notify() -> None:
    """Notification channels."""


@notify.command("test")
@config_option
@click.argument("channel")
def notify_test(config_file: str | None, channel: str) -> None:
    """Send a test message to CHANNEL (a name in [notify.channels]) and print the platform's answer."""
    settings = settings_or_exit(config_file)
    if channel not in settings.notify.channels:
        known = ", ".join(sorted(settings.notify.channels)) or "none configured"
        raise click.ClickException(f"no channel {channel!r} in [notify.channels] (channels: {known})")
    ok, answer = asyncio.run(send_test(settings, channel))
    click.echo(f"{channel} ({settings.notify.channels[channel].kind}): {answer}")
    if not ok:
        sys.exit(1)


async def send_test(settings: Settings, name: str) -> tuple[bool, str]:
    """Send the test notification to one channel: (whether it was accepted, the platform's answer or error)."""
    channel = settings.notify.channels[name]
    secrets = channel.secrets()
    language = channel.language or settings.community.language
    values = {"community": settings.community.name, "channel": name}
    message = Notification(title=render("test_notice_title", language, **values),
                           body=render("test_notice", language, **values), language=language,
                           key=f"test:{name}:{system_clock().isoformat()}", topic="test")
    http = outbound_session(settings.notify.allow_hosts, settings.outbox.request_timeout_seconds)
    notifier = build_notifier(channel, http)
    try:
        for field_name, url in channel.urls().items():
            try:
                await check_url_async(url, settings.notify.allow_hosts)
            except RefusedURL as refused:
                return False, f"refused: notify.channels.{name}.{field_name}: {mask(str(refused), *secrets)}"
        return True, mask(await notifier.send(message), *secrets)
    except RetryLater as wait:
        return False, f"not sent, the platform asked to wait {wait.delay:g}s: {mask(wait.reason, *secrets)}"
    except PermanentFailure as refusal:
        return False, f"refused: {mask(str(refusal), *secrets)}"
    finally:
        await notifier.close()
        await http.close()
