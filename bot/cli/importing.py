"""`cobot import gharchive FILE…`: history stored as it happened, and nobody told (see bot.history)."""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

import click
from rich import box
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, DownloadColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Column, Table

from bot.cli.common import config_option, open_database, settings_or_exit
from bot.cli.stats import echo_json
from bot.clock import system_clock
from bot.history.gharchive import BATCH_SIZE, FileReport, GHArchiveImport, in_hour_order


@click.group("import")
def import_group() -> None:
    """Import history quietly: repos, contributors, issues and PRs, activity, first-timers and badges recorded as
    they happened, nobody told (no comment, label or notification). Importing again changes nothing."""


@import_group.command("gharchive")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--org", "orgs", multiple=True, metavar="ORG", help="keep the records of ORG's repos (repeatable)")
@click.option("--repo", "repos", multiple=True, metavar="OWNER/REPO", help="keep this repo's records (repeatable)")
@config_option
@click.option("--batch-size", type=click.IntRange(1), default=BATCH_SIZE, show_default=True,
              help="records stored a transaction")
@click.option("--again", is_flag=True, help="read files imported before once more (what is stored is skipped)")
@click.option("--json", "as_json", is_flag=True, help="print a JSON array of the files' reports")
def gharchive(files: tuple[Path, ...], orgs: tuple[str, ...], repos: tuple[str, ...], config_file: str | None,
              batch_size: int, again: bool, as_json: bool) -> None:
    """Import GH Archive hourly files (YYYY-MM-DD-H.json.gz from data.gharchive.org), oldest hour first: the
    records of the orgs and repos given (all when none is), as GitHub events. An interrupted import resumes where
    it stopped; a file imported before is not read again (unless --again)."""
    settings = settings_or_exit(config_file)
    progress = Progress(TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TimeElapsedColumn(),
                        TextColumn("{task.fields[events]:,} events, {task.fields[rate]:,.0f}/s"),
                        console=Console(stderr=True), transient=as_json)
    tasks: dict[str, TaskID] = {}

    def show(report: FileReport, position: int, size: int) -> None:
        progress.update(tasks[report.file], completed=position, total=size, events=report.stored.events,
                        rate=report.rate)

    try:
        importer = GHArchiveImport(open_database(settings), settings, system_clock, orgs=orgs, repos=repos,
                                   batch_size=batch_size, again=again, progress=show)
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--repo") from None
    reports: list[FileReport] = []
    try:
        with progress:
            for path in in_hour_order(files):
                tasks[path.name] = progress.add_task(escape(path.name), total=path.stat().st_size, events=0, rate=0)
                reports.append(importer.run(path))
                if reports[-1].already:
                    progress.update(tasks[path.name], completed=path.stat().st_size)
    except KeyboardInterrupt:
        click.echo("interrupted: the same command resumes after the last batch stored", err=True)
        sys.exit(130)
    except RuntimeError as error:
        _print(reports, as_json)
        raise click.ClickException(str(error)) from None
    _print(reports, as_json)
    if any(report.stored.failed for report in reports):
        sys.exit(1)


def _print(reports: list[FileReport], as_json: bool) -> None:
    if as_json:
        echo_json([report.as_dict() for report in reports])
        return
    numbers = ("read", "kept", "imported", "events", "dupl.", "skipped", "events/s")
    table = Table(Column("file", overflow="fold", min_width=13),
                  *(Column(name, justify="right", no_wrap=True) for name in numbers),
                  title="GH Archive import", box=box.SIMPLE_HEAD, pad_edge=False)
    skipped: Counter[str] = Counter()
    kinds: Counter[str] = Counter()
    notes: list[str] = []
    for report in reports:
        stored = report.stored
        name = escape(report.file.removesuffix(".json.gz"))
        table.add_row(name, f"{report.read:,}", f"{report.kept:,}", f"{stored.imported:,}", f"{stored.events:,}",
                      f"{stored.duplicates:,}", f"{sum(report.skipped.values()):,}",
                      "–" if report.already else f"{report.rate:,.0f}")
        if report.already:
            notes.append(f"{name}: imported before, not read again (--again reads it again)")
        elif report.resumed_from:
            notes.append(f"{name}: resumed after line {report.resumed_from:,}")
        if stored.overlapping:
            notes.append(f"{name}: {stored.overlapping:,} events stored by webhooks already, skipped")
        if stored.failed:
            notes.append(f"[red]{name}: {stored.failed:,} records failed in a handler[/red] "
                         "(importing the file --again offers them again)")
        notes.extend(f"[yellow]{name}: {escape(problem)}[/yellow]" for problem in report.problems + stored.errors)
        skipped.update(report.skipped)
        kinds.update(stored.kinds)
    console = Console()
    console.print(table)
    if kinds:
        console.print("events by kind: " + ", ".join(f"{kind} {count:,}" for kind, count in sorted(kinds.items())))
    if skipped:
        console.print("skipped (not tracked) by type: "
                      + ", ".join(f"{escape(kind)} {count:,}" for kind, count in sorted(skipped.items())))
    for note in notes:
        console.print(note)
