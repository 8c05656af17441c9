"""`cobot digest preview`: the weekly digest, for any window, as Markdown or as the e-mail's HTML."""

from __future__ import annotations

from datetime import datetime, timedelta

import click

from bot.cli.common import config_option, open_database, settings_or_exit
from bot.cli.stats import parse_since
from bot.clock import system_clock
from bot.settings.campaigns import DigestSettings
from campaigns.digest import build_digest, render_markdown, standalone_html


@click.group()
def digest() -> None:
    """The weekly community digest (a [[campaigns]] of kind "digest" sends it)."""


@digest.command()
@config_option
@click.option("--campaign", "name", help="a digest campaign: its scope and settings (default: the community)")
@click.option("--since", help="start: 7d, 2w, or a date such as 2026-11-16 (default: 7 days ago)")
@click.option("--until", help="end: a date, or 0d for now (default: now)")
@click.option("--format", "form", type=click.Choice(["md", "html"]), default="md", show_default=True)
@click.option("--language", type=click.Choice(["en", "zh"]), help="default: the campaign's, then community.language")
@click.option("--output", type=click.Path(dir_okay=False, writable=True), help="write to this file (default: print)")
def preview(config_file: str | None, name: str | None, since: str | None, until: str | None, form: str,
            language: str | None, output: str | None) -> None:
    """Build the digest of a window from the store and print it (nothing is sent)."""
    settings = settings_or_exit(config_file)
    campaign = None
    if name is not None:
        found = settings.campaign(name)
        if not isinstance(found, DigestSettings):
            digests = [c.name for c in settings.campaigns if isinstance(c, DigestSettings)]
            raise click.ClickException(f"no digest campaign named {name!r} (digests: {', '.join(digests) or 'none'})")
        campaign = found
    now = system_clock()
    try:
        end = parse_since(until, now) if until else now
        start = parse_since(since, now) if since else end - timedelta(days=7)
    except ValueError as error:
        raise click.ClickException(str(error).replace("--since", "--since/--until")) from None
    if start >= end:
        raise click.ClickException("--since must be before --until")
    language = language or (campaign.language if campaign else None) or settings.community.language
    db = open_database(settings)
    with db.reading() as conn:
        built = build_digest(conn, settings, campaign, start, end, language)
    text = render_markdown(built, language) if form == "md" else standalone_html(built, language)
    if output:
        with open(output, "w", encoding="utf-8") as sink:
            sink.write(text)
        click.echo(f"wrote the digest of {_day(start)} to {_day(end)} to {output}")
    else:
        click.echo(text)


def _day(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M")
