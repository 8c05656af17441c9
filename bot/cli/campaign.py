"""`cobot campaign list|show|start|close`: the campaigns of config.toml, from the shell."""

from __future__ import annotations

import json

import click
from rich.console import Console
from rich.markdown import Markdown
from rich.markup import escape
from rich.table import Table

from bot.cli.common import config_option, open_database, settings_or_exit
from bot.clock import system_clock
from bot.outbox.storing import describe
from campaigns.camp import UnknownParticipant
from campaigns.runner import CampaignRunner, TickResult, UnknownCampaign
from campaigns.views import campaign_views, render_view


@click.group()
def campaign() -> None:
    """Hackathons, training camps and leaderboards (defined in [[campaigns]])."""


@campaign.command("list")
@config_option
@click.option("--json", "as_json", is_flag=True, help="print a JSON array")
def list_(config_file: str | None, as_json: bool) -> None:
    """The campaigns, with their windows and status."""
    settings = settings_or_exit(config_file)
    db = open_database(settings)
    with db.reading() as conn:
        views = campaign_views(conn, settings, system_clock())
    if as_json:
        click.echo(json.dumps(views, ensure_ascii=False, indent=2))
        return
    if not views:
        click.echo("no campaigns: add [[campaigns]] to the config (see config.toml)")
        return
    table = Table("name", "kind", "title", "start", "end", "status")
    for view in views:
        table.add_row(escape(view["name"]), view["kind"], escape(view["title"]), view["start"][:16],
                      (view["end"] or "")[:16], view["status"])
    Console().print(table)


@campaign.command()
@config_option
@click.argument("name")
@click.option("--participant", help="one person: github:LOGIN, gitee:LOGIN or a login")
@click.option("--json", "as_json", is_flag=True, help="print JSON")
def show(config_file: str | None, name: str, participant: str | None, as_json: bool) -> None:
    """One campaign: tasks and standings, participants and progress, or the ranking so far."""
    settings = settings_or_exit(config_file)
    db = open_database(settings)
    runner = CampaignRunner(db, settings, system_clock)
    try:
        found = runner.campaign(name)
    except UnknownCampaign as error:
        raise click.ClickException(str(error)) from None
    try:
        with db.reading() as conn:
            views = campaign_views(conn, settings, system_clock(), only=found.name, participant=participant)
    except UnknownParticipant as error:
        raise click.ClickException(str(error)) from None
    if as_json:
        click.echo(json.dumps(views[0], ensure_ascii=False, indent=2))
        return
    Console().print(Markdown(render_view(views[0], settings.community.language)))


def _report(result: TickResult, what: str) -> None:
    verb = "would do" if result.dry_run else "did"
    click.echo(f"{result.campaign}: {what}; {verb} {len(result.actions)} action(s)")
    for action in result.actions:
        click.echo(f"  - {describe(action)}")


def _change(config_file: str | None, name: str, dry_run: bool, how: str) -> None:
    settings = settings_or_exit(config_file)
    db = open_database(settings)
    runner = CampaignRunner(db, settings, system_clock)
    try:
        result = runner.start(name, dry_run) if how == "start" else runner.close(name, dry_run)
    except UnknownCampaign as error:
        raise click.ClickException(str(error)) from None
    _report(result, "started" if how == "start" else "closed")


@campaign.command()
@config_option
@click.argument("name")
@click.option("--dry-run", is_flag=True, help="show what would happen; change nothing")
def start(config_file: str | None, name: str, dry_run: bool) -> None:
    """Start NAME now, ahead of its configured start (its start is announced)."""
    _change(config_file, name, dry_run, "start")


@campaign.command()
@config_option
@click.argument("name")
@click.option("--dry-run", is_flag=True, help="show what would happen; change nothing")
def close(config_file: str | None, name: str, dry_run: bool) -> None:
    """End NAME now, ahead of its configured end (final results are decided and announced)."""
    _change(config_file, name, dry_run, "close")
