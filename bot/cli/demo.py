"""`cobot demo`: a fresh SQLite file, a running server, and a small community's signed webhook stream. Its dashboard
is private, as every cobot's is: the demo makes a dashboard token of its own for the run and prints it with the
dashboard's address, so a newcomer logs in and browses the made-up community."""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
import socket
import sys
import time
import tomllib
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import click
from aiohttp import web
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from sqlalchemy import func, select

from bot.app.factory import COBOT, create_app
from bot.cli.common import setup_logging
from bot.config import Settings, settings_from_mapping
from bot.demo.stream import DEMO_CONFIG, DemoDelivery, demo_deliveries
from bot.outbox.storing import describe
from bot.platforms.gitee import signature as gitee_signature
from bot.platforms.github import sign as github_sign
from bot.store.community_tables import Contributor, Milestone, Thread
from bot.store.db import Database, inbox_url
from bot.store.tables import Delivery, OutboxAction


def demo_settings(db_path: Path, host: str, port: int) -> Settings:
    """The demo community's configuration on `db_path`, served at http://HOST:PORT (its public address: badge
    documents name it, and its session cookie is for plain HTTP), with secrets and a dashboard token made for this
    run alone."""
    data = tomllib.loads(DEMO_CONFIG)
    data["database"] = {"url": f"sqlite:///{db_path}"}
    data["server"] = {"host": host, "port": port, "public_url": address(host, port)}
    data["github"] = {"webhook_secret": secrets.token_hex(16)}
    data["gitee"] = {"webhook_secret": secrets.token_hex(16)}
    data["dashboard"] = {**data.get("dashboard", {}), "token": secrets.token_urlsafe(24)}
    # env={}: the demo never reads tokens from the environment, so it never writes to a real forge.
    return settings_from_mapping(data, "the demo configuration", env={})


def signed_request(item: DemoDelivery, settings: Settings, millis: int) -> tuple[bytes, dict[str, str]]:
    """The body and headers the forge would send; `millis`: a Gitee delivery's timestamp (Gitee signs only its
    timestamp, so two deliveries must not share one: cobot refuses a signature seen with another body)."""
    if item.platform == "github":
        body = json.dumps(item.payload).encode()
        headers = {"X-GitHub-Event": item.event, "X-GitHub-Delivery": item.delivery_id or "",
                   "X-Hub-Signature-256": github_sign(settings.github.webhook_secret, body),
                   "Content-Type": "application/json", "User-Agent": "GitHub-Hookshot/cobot-demo"}
        return body, headers
    timestamp = str(millis)
    token = gitee_signature(settings.gitee.webhook_secret, timestamp)
    body = json.dumps({**item.payload, "password": "", "sign": token, "timestamp": timestamp},
                      ensure_ascii=False).encode()
    headers = {"X-Gitee-Event": item.event, "X-Gitee-Token": token, "X-Gitee-Timestamp": timestamp,
               "X-Gitee-Ping": "false", "Content-Type": "application/json", "User-Agent": "git-oschina-hook"}
    return body, headers


async def send_stream(base_url: str, settings: Settings, stream: list[DemoDelivery]) -> Counter[int]:
    answers: Counter[int] = Counter()
    millis = 0
    async with aiohttp.ClientSession() as session:
        for item in stream:
            millis = max(millis + 1, int(time.time() * 1000))
            body, headers = signed_request(item, settings, millis)
            async with session.post(f"{base_url}/webhooks/{item.platform}", data=body, headers=headers) as response:
                answers[response.status] += 1
    return answers


def settled(db: Database) -> bool:
    with db.inbox.session() as session:
        waiting = session.execute(select(func.count()).select_from(Delivery).where(
            Delivery.status == "received")).scalar_one()
    with db.session() as session:
        pending = session.execute(select(func.count()).select_from(OutboxAction).where(
            OutboxAction.status == "pending")).scalar_one()
    return waiting == 0 and pending == 0


async def wait_until_settled(db: Database, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not await asyncio.to_thread(settled, db):
        await asyncio.sleep(0.1)


def summary(db: Database, answers: Counter[int], console: Console) -> None:
    with db.inbox.session() as session:
        statuses = Counter(session.execute(select(Delivery.status)).scalars())
    with db.session() as session:
        people = list(session.execute(select(Contributor).order_by(Contributor.first_seen_at)).scalars())
        threads = list(session.execute(select(Thread).order_by(Thread.platform, Thread.repo, Thread.id)).scalars())
        firsts = list(session.execute(select(Milestone).where(Milestone.scope != "community")
                                      .order_by(Milestone.reached_at)).scalars())
        comments = list(session.execute(select(OutboxAction).where(OutboxAction.kind == "comment")
                                        .order_by(OutboxAction.id)).scalars())
        changes = list(session.execute(select(OutboxAction).where(OutboxAction.kind.not_in(("comment", "notify")))
                                       .order_by(OutboxAction.id)).scalars())
    console.rule("[bold]cobot demo: what happened")
    console.print("HTTP answers: " + ", ".join(f"{code} × {n}" for code, n in sorted(answers.items()))
                  + "   (202 accepted, 200 ping or duplicate)")
    console.print("Deliveries stored: " + ", ".join(f"{s} {n}" for s, n in sorted(statuses.items())))
    bots = sum(1 for p in people if p.is_bot)
    console.print(f"Contributors tracked: {len(people)} ({bots} flagged as bots)")

    table = Table("where", "kind", "state", "author", "labels", "first response", title="Issues and PRs")
    for t in threads:
        response = "" if t.first_response_at is None else f"{t.first_responder} after " + _after(
            t.first_response_at, t.created_at)
        table.add_row(escape(f"{t.platform} {t.repo}#{t.number}"), "PR" if t.is_pr else "issue", t.state,
                      escape(t.author), escape(", ".join(t.labels)), escape(response))
    console.print(table)

    table = Table("who", "first", "where", title="First-time contributors detected (per repo)")
    for m in firsts:
        table.add_row(escape(m.person.split(":", 1)[1]), m.kind.replace("_", " "),
                      escape(f"{m.platform} {m.repo}#{m.number}"))
    console.print(table)

    table = Table("what", title="Labels, assignments and states cobot would change (welcomes, commands)")
    for action in changes:
        table.add_row(escape(describe(action)))
    console.print(table)

    console.rule("[bold]Comments cobot would post (dry run: no tokens)")
    for action in comments:
        where = escape(f"{action.platform} {action.repo}#{action.number}")
        console.print(f"[cyan]{where}[/cyan] ({action.payload['language']})")
        console.print("  " + escape(action.payload["body"].splitlines()[0]))


def _after(later: datetime, earlier: datetime) -> str:
    minutes = int((later - earlier).total_seconds() // 60)
    return f"{minutes // 60}h{minutes % 60:02d}m"


def address(host: str, port: int) -> str:
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def listen(host: str, port: int) -> socket.socket:
    """A socket listening on HOST:PORT (port 0: a free one), bound before the app is built so that its address,
    the port included, is known to it."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    return socket.create_server((host, port), family=family)


def dashboard_notice(base_url: str, token: str) -> str:
    """How to open the demo's dashboard: its address, the login page and the token made for this run."""
    return "\n".join([
        f"The dashboard: {base_url}/ (private, as every cobot dashboard is by default). Open",
        f"  {base_url}/login?next=%2F",
        "and log in with the token made for this run of the demo (no other run, nor any other cobot, takes it):",
        f"  {token}",
        f"Scripts send it as a bearer token: curl -H 'Authorization: Bearer {token}' {base_url}/api/overview"])


async def _demo(db_path: Path, host: str, port: int, serve_on: bool, console: Console) -> None:
    inbox_path = inbox_url(f"sqlite:///{db_path}").removeprefix("sqlite:///")
    for path in (str(db_path), inbox_path):
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    sock = listen(host, port)
    port = sock.getsockname()[1]
    settings = demo_settings(db_path, host, port)
    app = create_app(settings)
    runner = web.AppRunner(app, access_log=None, auto_decompress=False)  # as `cobot serve` (bot.app.serving)
    await runner.setup()
    site = web.SockSite(runner, sock)
    await site.start()
    base_url = address(host, port)
    try:
        stream = demo_deliveries(datetime.now(UTC))
        console.print(f"cobot is listening on {base_url}; sending {len(stream)} signed deliveries "
                      f"from a small community on GitHub and Gitee …")
        answers = await send_stream(base_url, settings, stream)
        db = app[COBOT].db
        await wait_until_settled(db)
        summary(db, answers, console)
        if serve_on:
            console.rule()
            console.print(escape(dashboard_notice(base_url, settings.dashboard.token)), soft_wrap=True,
                          highlight=False)
            console.print(f"Still serving on {escape(base_url)} (POST /webhooks/github, /webhooks/gitee; GET "
                          f"/healthz). In another terminal:\n  COBOT_DATABASE_URL=sqlite:///{escape(str(db_path))} "
                          "cobot deliveries\nPress Ctrl-C to stop.", soft_wrap=True, highlight=False)
            sys.stdout.flush()
            await asyncio.Event().wait()
    finally:
        await runner.cleanup()


def run_demo(db_path: str, host: str, port: int, serve_on: bool, console: Console) -> None:
    try:
        asyncio.run(_demo(Path(db_path).resolve(), host, port, serve_on, console))
    except KeyboardInterrupt:
        console.print("stopped")


@click.command()
@click.option("--db", "db_path", default="cobot-demo.db", show_default=True, type=click.Path(dir_okay=False),
              help="SQLite file to create afresh for the demo")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=int, default=8080, show_default=True, help="port (0 picks a free one)")
@click.option("--exit", "exit_after", is_flag=True, help="stop after the demo stream instead of serving on")
def demo(db_path: str, host: str, port: int, exit_after: bool) -> None:
    """Start cobot on a fresh SQLite file and send it a small community's signed webhook stream."""
    setup_logging()
    logging.getLogger("alembic").setLevel(logging.WARNING)
    logging.getLogger("cobot.outbox").setLevel(logging.WARNING)
    logging.getLogger("cobot.webhooks").setLevel(logging.ERROR)
    run_demo(db_path, host, port, serve_on=not exit_after, console=Console())
