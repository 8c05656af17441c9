"""`cobot backfill github|gitee`: import a repository's history from its forge's API, quietly (bot.history.backfill);
`cobot backfill status`: where the imports got to."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeRemainingColumn
from rich.table import Table
from sqlalchemy import select

from bot.cli.common import config_option, iso, open_database, settings_or_exit
from bot.cli.stats import parse_since
from bot.clock import system_clock
from bot.config import Settings
from bot.history.backfill import Backfill, StageStart, Summary
from bot.history.ingest import IMPORT_STATE, Tally
from bot.platforms.actions import PermanentFailure, RetryLater
from bot.platforms.base import parse_time
from bot.platforms.history_reading import HistoryReader, NotATarget, Page, Patience

since_option = click.option("--since", help="only what changed since: a date (2026-11-01), an ISO time, or 30d, 12w")
restart_option = click.option("--restart", is_flag=True,
                              help="read everything again from the first page (what is stored already is skipped)")


@click.group()
def backfill() -> None:
    """Import history from a forge's API: recorded, but nobody is greeted and nothing is announced."""


@backfill.command()
@click.argument("target", metavar="OWNER/REPO|OWNER")
@since_option
@restart_option
@config_option
def github(target: str, since: str | None, restart: bool, config_file: str | None) -> None:
    """Issues, pull requests, comments, reviews and stargazers of a GitHub repository, or of every repository of an
    organisation or user (settings github.token and github.api_url)."""
    settings = settings_or_exit(config_file)
    from bot.platforms.github_history import GitHubHistory

    _run(settings, target, since, restart, lambda patience: GitHubHistory(
        settings.github.token, settings.github.api_url, settings.outbox.request_timeout_seconds, patience))


@backfill.command()
@click.argument("target", metavar="OWNER/REPO")
@since_option
@restart_option
@config_option
def gitee(target: str, since: str | None, restart: bool, config_file: str | None) -> None:
    """Issues, pull requests, comments and stargazers of a Gitee repository (settings gitee.token and
    gitee.api_url)."""
    settings = settings_or_exit(config_file)
    from bot.platforms.gitee_history import GiteeHistory

    _run(settings, target, since, restart, lambda patience: GiteeHistory(
        settings.gitee.token, settings.gitee.api_url, settings.outbox.request_timeout_seconds, patience))


@backfill.command()
@config_option
def status(config_file: str | None) -> None:
    """Where each backfill got to, stage by stage."""
    db = open_database(settings_or_exit(config_file))
    with db.reading() as conn:
        rows = conn.execute(select(IMPORT_STATE).where(IMPORT_STATE.c.source.like("backfill:%"))
                            .order_by(IMPORT_STATE.c.source)).all()
    if not rows:
        click.echo("no backfill yet")
        return
    table = Table("source", "done", "since", "newest", "next", "updated")
    for row in rows:
        cursor = dict(row.cursor or {})
        after = cursor.get("after")
        where = ", ".join(([f"after #{after[2]}"] if isinstance(after, list) else [])
                          + ([f"page {cursor['page']}"] if "page" in cursor else []))
        table.add_row(row.source, "yes" if row.done else "no", str(cursor.get("since") or "")[:19],
                      str(cursor.get("newest") or "")[:19], where, (iso(row.updated_at) or "")[:19])
    Console().print(table)


def _since(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        return parse_since(text, system_clock())
    except ValueError as error:
        try:
            return parse_time(text)
        except ValueError:
            raise click.ClickException(str(error)) from None


class Bars:
    """A progress bar per stage (pages, or threads for what is read thread by thread), with counts and ETA."""

    def __init__(self, console: Console) -> None:
        self._console = console
        self._progress = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                                  TimeRemainingColumn(), TextColumn("{task.fields[counts]}"), console=console)
        self._tasks: dict[str, TaskID] = {}
        self._counts: dict[str, Tally] = {}
        self._repo = ""

    def __enter__(self) -> Bars:
        self._progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._progress.stop()

    def repo(self, repo: str, resumed: bool) -> None:
        self._repo = repo
        self._progress.console.print(f"[bold]{repo}[/bold]" + (" (resuming)" if resumed else ""))

    def stage(self, stage: str, start: StageStart) -> None:
        label = f"  {stage}" + (" (resumed)" if start == "resume" else "")
        if start == "skip":
            self._progress.console.print(f"  {stage}: finished before, not read again")
            return
        self._counts[stage] = Tally()
        self._tasks[stage] = self._progress.add_task(label, total=None, counts="")

    def page(self, stage: str, page: Page, tally: Tally) -> None:
        counts = self._counts[stage]
        counts.add(tally)
        self._progress.update(self._tasks[stage], completed=page.done, total=page.total,
                              counts=f"{counts.events} new, {counts.duplicates} already stored")

    def notice(self, text: str) -> None:
        self._progress.console.print(f"[yellow]{text}[/yellow]")


def _run(settings: Settings, target: str, since_text: str | None, restart: bool,
         reader_for: Callable[[Patience], HistoryReader]) -> None:
    since = _since(since_text)
    db = open_database(settings)
    console = Console()
    logging.getLogger("cobot.backfill").setLevel(logging.WARNING)
    with Bars(console) as bars:
        reader = reader_for(Patience(sleep=time.sleep, notice=bars.notice))
        run = Backfill(db, settings, system_clock, reader, bars)
        try:
            summary = run.run(target, since, restart)
        except NotATarget as error:
            raise click.ClickException(str(error)) from None
        except (PermanentFailure, RetryLater) as error:
            bars.notice(f"stopped: {error}")
            summary = run.summary
            failed: str | None = str(error)
        except KeyboardInterrupt:
            summary, failed = run.summary, "interrupted"
        else:
            failed = None
        finally:
            reader.close()
    _print_summary(console, summary)
    if failed is not None:
        raise click.ClickException(f"{failed}; run the same command again to resume where it stopped")


def _print_summary(console: Console, summary: Summary) -> None:
    tally = summary.tally
    table = Table("stored", "events")
    for kind, count in sorted(tally.kinds.items()):
        table.add_row(kind, str(count))
    table.add_row("[dim]stored before, skipped[/dim]", str(tally.duplicates))
    table.add_row("[dim]stored by webhooks already, skipped[/dim]", str(tally.overlapping))
    console.print(table)
    pages = sum(repo.pages for repo in summary.repos)
    repos = f"{len(summary.repos)} repositor{'y' if len(summary.repos) == 1 else 'ies'}"
    console.print(f"{repos}, {pages} pages, {summary.requests} requests: {tally.items} "
                  f"items, {tally.events} events stored, {tally.duplicates} duplicates skipped, in "
                  f"{summary.seconds:.1f}s ({summary.rate:.1f} items/s), {summary.waited:.0f}s waiting for the forge")
    if tally.failed:
        console.print(f"[red]{tally.failed} items failed in a handler[/red] (the next run offers them again): "
                      + "; ".join(tally.errors[:3]))
    if tally.silenced:
        console.print(f"[yellow]{tally.silenced} actions handlers decided on this history were dropped[/yellow]")
