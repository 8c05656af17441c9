"""The Slack slash command `/cobot`: `POST /slack/commands`.

Slack signs each request (signature v0: `X-Slack-Signature` over `v0:TIMESTAMP:BODY` with the app's signing
secret, `X-Slack-Request-Timestamp` no more than five minutes off), checked with slack-sdk's verifier: a bad or
missing signature, or an old timestamp, is answered 401, and so is a replay: a signature accepted once is
remembered while its timestamp could be accepted (`SeenSignatures`), so that a captured request sent again within
its five minutes is refused. They are remembered in memory, per process: with several replicas behind one address,
a replay that reaches another replica than the original is accepted once more (Slack itself never sends a request
twice with the same signature: a retry has a new timestamp). Slack wants an answer within three seconds: an answer
ready within `slack.answer_within_seconds` is given at once; a slower one is acknowledged ("working on it") and
posted to the request's `response_url` when ready: only over https, to a host in `slack.response_hosts`, on the
default port (a port other than 443 only where the host is listed with it, `127.0.0.1:8443`, for tests).

Sub-commands come from the registry (`bot.commands.registry.SLACK_COMMANDS`); a Slack member's role and forge
accounts come from `[[slack.users]]`. Every answer is Markdown made with every value escaped
(`bot.commands.answers.message`, or `render_message` for views and digests): what a member typed (a name, a badge, a
campaign) shows as written in Slack, never as a link or a mention.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs

from aiohttp import web
from slack_sdk.signature import SignatureVerifier
from yarl import URL

from bot.badges.awards import grant
from bot.badges.rules import UnknownBadge
from bot.clock import Clock
from bot.commands.answers import message
from bot.commands.registry import SLACK_COMMANDS, SLACK_LIST, arity_problem
from bot.community import people as community
from bot.config import Settings
from bot.log_limits import QuietLog
from bot.messages.escape import Markdown
from bot.notifiers.text import slack_mrkdwn
from bot.notifiers.urls import outbound_session
from bot.settings.campaigns import DigestSettings
from bot.settings.commands import Role, SlackUser
from bot.store.db import Database
from campaigns.digest import build_digest, render_markdown
from campaigns.views import campaign_views, render_view

log = logging.getLogger("cobot.slack")

MENTION = re.compile(r"^<@(?P<id>[UW][A-Z0-9]+)(?:\|[^>]*)?>$")
MAX_BODY = 64 * 1024
TIMESTAMP = re.compile(r"[0-9]{1,12}")  # seconds since 1970, as Slack writes them (ASCII digits: int() reads others)
SIGNATURE = re.compile(r"v0=[0-9a-f]{64}")  # what slack-sdk's verifier computes (hex of an HMAC-SHA256)
REPLAY_WINDOW = 5 * 60  # seconds a timestamp is accepted either side of now (slack-sdk's verifier)


@dataclass(frozen=True, slots=True)
class SlackAnswer:
    text: Markdown  # sent as Slack mrkdwn
    in_channel: bool = False

    def message(self) -> dict[str, Any]:
        return {"response_type": "in_channel" if self.in_channel else "ephemeral", "text": slack_mrkdwn(str(self.text)),
                "mrkdwn": True}


class _VerifierClock:
    """slack-sdk's verifier asks a clock for the time: cobot's (injected) clock."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock

    def now(self) -> float:
        return self._clock().timestamp()


class SeenSignatures:
    """The signatures of the requests accepted, each remembered until its timestamp is too old to be accepted again
    (REPLAY_WINDOW after it), so that the same request sent again is refused. Only requests signed with the secret
    are remembered: no more than Slack sent in ten minutes (a timestamp may be five minutes ahead, too)."""

    def __init__(self) -> None:
        self._seen: set[str] = set()
        self._expiring: list[tuple[float, str]] = []  # (when a signature may be forgotten, the signature): a heap

    def first(self, signature: str, timestamp: int, now: float) -> bool:
        """Whether `signature` (of a request dated `timestamp`) is new, remembering it; False for a replay."""
        while self._expiring and self._expiring[0][0] < now:
            self._seen.discard(heapq.heappop(self._expiring)[1])
        if signature in self._seen:
            return False
        self._seen.add(signature)
        heapq.heappush(self._expiring, (timestamp + REPLAY_WINDOW, signature))
        return True


class SlackCommands:
    """The endpoint and what it answers with; `close()` waits for answers still on their way."""

    def __init__(self, settings: Settings, db: Database, clock: Clock) -> None:
        self._settings = settings
        self._db = db
        self._clock = clock
        self._language = settings.slack.language or settings.community.language
        self._pending: set[asyncio.Task[None]] = set()
        self._verifier = (SignatureVerifier(settings.slack.signing_secret, _VerifierClock(clock))
                          if settings.slack.signing_secret else None)
        self._seen = SeenSignatures()
        self._refusals = QuietLog(log)  # anyone may send: a flood of refusals writes a few lines and a count
        self._response_addresses = settings.slack.response_addresses()

    async def handle(self, request: web.Request) -> web.Response:
        if request.content_length is not None and request.content_length > MAX_BODY:
            return web.json_response({"error": "body too large"}, status=413)
        body = await request.read()
        refusal = self._refusal(request, body)
        if refusal is not None:
            self._refusals.warning("Slack 401", "Slack command from %s refused: %s", request.remote, refusal)
            return web.json_response({"error": refusal}, status=401)
        form = {key: values[0] for key, values in parse_qs(body.decode("utf-8", "replace")).items()}
        response_url = form.get("response_url", "")
        if response_url and not self._may_answer_at(response_url):
            return web.json_response({"error": "response_url is not a Slack address (see slack.response_hosts)"},
                                     status=400)
        work = asyncio.ensure_future(self._answer_safely(form.get("user_id", ""), form.get("text", "")))
        try:
            answer = await asyncio.wait_for(asyncio.shield(work), self._settings.slack.answer_within_seconds)
        except TimeoutError:
            if not response_url:  # nowhere to send it later: wait for it (a test client, say)
                return web.json_response((await work).message())
            self._follow_up(work, response_url)
            working = SlackAnswer(message("commands/slack_working", self._language))
            return web.json_response(working.message())
        return web.json_response(answer.message())

    async def _answer_safely(self, user_id: str, text: str) -> SlackAnswer:
        try:
            return await asyncio.to_thread(self.answer, user_id, text)
        except Exception:
            log.exception("the Slack command %r failed", text[:100])
            return SlackAnswer(message("commands/slack_failed", self._language))

    def _refusal(self, request: web.Request, body: bytes) -> str | None:
        if self._verifier is None:
            return "no Slack signing secret is configured (COBOT_SLACK_SIGNING_SECRET)"
        timestamp = request.headers.get("X-Slack-Request-Timestamp", "")
        signature = request.headers.get("X-Slack-Signature", "")
        if not timestamp or not signature:
            return "missing X-Slack-Signature or X-Slack-Request-Timestamp"
        if not TIMESTAMP.fullmatch(timestamp):
            return "X-Slack-Request-Timestamp is not a number"
        if not SIGNATURE.fullmatch(signature) or not self._verifier.is_valid(body, timestamp, signature):
            return "the signature does not match, or the timestamp is more than five minutes off"
        if not self._seen.first(signature, int(timestamp), self._clock().timestamp()):
            return "a replay: this signature was accepted already"
        return None

    def _may_answer_at(self, url: str) -> bool:
        """Whether a slow answer may be posted to `url`: https on the default port of a host in
        `slack.response_hosts`, or on a port listed with the host there; plain http only to such a host that
        `notify.allow_hosts` names as well (a local server, in tests)."""
        try:
            parsed = URL(url)
            port = None if parsed.is_default_port() else parsed.explicit_port  # (:443 in an https URL: None)
        except ValueError:
            return False
        if parsed.scheme not in ("https", "http") or not parsed.host or parsed.user is not None:
            return False
        host = parsed.host.lower()
        if (host, port) not in self._response_addresses:
            return False
        return parsed.scheme == "https" or host in self._settings.notify.allow_hosts

    def _follow_up(self, work: Awaitable[SlackAnswer], response_url: str) -> None:
        task = asyncio.ensure_future(self._post_later(work, response_url))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def _post_later(self, work: Awaitable[SlackAnswer], response_url: str) -> None:
        answer = await work
        allow = [*self._settings.notify.allow_hosts]
        async with outbound_session(allow, self._settings.outbox.request_timeout_seconds) as http:
            try:
                async with http.post(response_url, json={**answer.message(), "replace_original": True}) as sent:
                    if sent.status >= 300:
                        log.warning("Slack answered %s to a command's response", sent.status)
            except Exception as error:
                log.warning("could not post a command's answer to Slack: %s", type(error).__name__)

    async def close(self) -> None:
        if self._pending:
            await asyncio.gather(*self._pending, return_exceptions=True)

    # -- what is answered (in a thread: it reads and writes the store) ---------------------------------------------

    def answer(self, user_id: str, text: str) -> SlackAnswer:
        words = text.split()
        name, args = (words[0].lower(), tuple(words[1:])) if words else ("help", ())
        spec = SLACK_COMMANDS.get(name)
        language = self._language
        if spec is None:
            return SlackAnswer(message("commands/slack_unknown", language, name=name))
        member = self._settings.slack.user(user_id)
        role = Role.named(member.role) if member else Role.CONTRIBUTOR
        command = f"cobot {spec.name}"
        if role < spec.role:
            return SlackAnswer(message("commands/refused", language, name=command, who=spec.who(language)))
        problem = arity_problem(spec, len(args), command, language)
        if problem is not None:
            example = spec.examples[0] if spec.examples else spec.usage
            return SlackAnswer(message("commands/usage", language, problem=problem, usage=f"/cobot {spec.usage}",
                                       example=example))
        return SUB_COMMANDS[spec.name](self, member, user_id, args)

    def _person_named(self, name: str) -> str | None:
        """A Slack mention as the forge account `[[slack.users]]` gives that member; any other name as it is."""
        mention = MENTION.match(name)
        if mention is None:
            return name
        member = self._settings.slack.user(mention["id"])
        return _account_of(member)

    def _stats(self, member: SlackUser | None, user_id: str, args: tuple[str, ...]) -> SlackAnswer:
        language, settings = self._language, self._settings
        name = self._person_named(args[0]) if args else _account_of(member)
        if name is None:
            return SlackAnswer(message("commands/slack_unmapped", language, id=args[0] if args else user_id))
        now = self._clock()
        with self._db.reading() as conn:
            try:
                person = community.resolve_person(conn, settings, name)
            except community.UnknownPerson:
                return SlackAnswer(message("commands/unknown_person", language, name=name))
            found = community.stats(conn, settings, person, now, settings.commands.leaderboard_days)
        catalogue = settings.badges.catalogue()
        badges = [catalogue[b].name_in(language) if b in catalogue else b for b in found.badges]
        text = message("commands/stats", language, s=found, name=person.name, own=not args,
                       community=settings.community.name, badges=badges)
        return SlackAnswer(_capitalised(text))

    def _leaderboard(self, member: SlackUser | None, user_id: str, args: tuple[str, ...]) -> SlackAnswer:
        settings = self._settings
        if args:
            return self._campaign_view(args[0])
        days = settings.commands.leaderboard_days
        with self._db.reading() as conn:
            standings = community.leaderboard(conn, self._clock(), days, settings.commands.leaderboard_size)
        text = message("commands/leaderboard", self._language, standings=standings, days=days,
                       community=settings.community.name)
        return SlackAnswer(_capitalised(text))

    def _award(self, member: SlackUser | None, user_id: str, args: tuple[str, ...]) -> SlackAnswer:
        language = self._language
        badge_id, who = args
        name = self._person_named(who)
        if name is None:
            return SlackAnswer(message("commands/slack_unmapped", language, id=who))
        try:
            award, new = grant(self._db, self._settings, badge_id, name, f"slack:{user_id}", self._clock())
        except UnknownBadge as unknown:
            return SlackAnswer(message("commands/unknown_badge", language, badge=badge_id, known=unknown.known))
        except community.UnknownPerson:
            return SlackAnswer(message("commands/unknown_person", language, name=name.lstrip("@")))
        values = {"recipient": award.login, "badge": award.badge.name_in(language),
                  "about": award.badge.description_in(language)}
        if new:
            return SlackAnswer(message("commands/awarded", language, **values), in_channel=True)
        return SlackAnswer(message("commands/award_held", language, **values))

    def _campaign(self, member: SlackUser | None, user_id: str, args: tuple[str, ...]) -> SlackAnswer:
        verb = args[0].lower()
        if verb == "show" and len(args) == 2:
            return self._campaign_view(args[1])
        if verb == "list" and len(args) == 1:
            with self._db.reading() as conn:
                views = campaign_views(conn, self._settings, self._clock())
            return SlackAnswer(message("commands/slack_campaigns", self._language, views=views))
        spec = SLACK_COMMANDS["campaign"]
        return SlackAnswer(message("commands/usage", self._language, problem=message(
            "commands/problem_verb", self._language, value=" ".join(args), verbs=["list", "show NAME"],
            command="cobot campaign"), usage=f"/cobot {spec.usage}", example=spec.examples[0]))

    def _campaign_view(self, name: str) -> SlackAnswer:
        found = self._settings.campaign(name.lower())
        if found is None:
            names = [campaign.name for campaign in self._settings.campaigns]
            return SlackAnswer(message("commands/slack_no_campaign", self._language, name=name, names=names))
        with self._db.reading() as conn:
            [view] = campaign_views(conn, self._settings, self._clock(), only=found.name)
        return SlackAnswer(Markdown(render_view(view, self._language)))  # render_message's

    def _digest(self, member: SlackUser | None, user_id: str, args: tuple[str, ...]) -> SlackAnswer:
        if args[0].lower() != "preview":
            spec = SLACK_COMMANDS["digest"]
            return SlackAnswer(message("commands/usage", self._language, problem=message(
                "commands/problem_verb", self._language, value=args[0], verbs=["preview"], command="cobot digest"),
                usage=f"/cobot {spec.usage}", example=spec.examples[0]))
        digests = [c for c in self._settings.campaigns if isinstance(c, DigestSettings) and c.scope == "community"]
        campaign = digests[0] if digests else None
        now = self._clock()
        with self._db.reading() as conn:
            built = build_digest(conn, self._settings, campaign, now - timedelta(days=7), now, self._language)
        title = message("campaigns/digest_title", self._language, d=built)
        return SlackAnswer(title + Markdown("\n\n" + render_markdown(built, self._language)))  # render_message's

    def _help(self, member: SlackUser | None, user_id: str, args: tuple[str, ...]) -> SlackAnswer:
        return SlackAnswer(message("commands/slack_help", self._language, specs=SLACK_LIST, lang=self._language))


SubCommand = Callable[[SlackCommands, SlackUser | None, str, tuple[str, ...]], SlackAnswer]
SUB_COMMANDS: dict[str, SubCommand] = {
    "stats": SlackCommands._stats, "leaderboard": SlackCommands._leaderboard, "award": SlackCommands._award,
    "campaign": SlackCommands._campaign, "digest": SlackCommands._digest, "help": SlackCommands._help,
}


def _account_of(member: SlackUser | None) -> str | None:
    if member is None:
        return None
    if member.github:
        return f"github:{member.github}"
    if member.gitee:
        return f"gitee:{member.gitee}"
    return None


def _capitalised(text: Markdown) -> Markdown:
    """The messages are written to follow "@login: "; on their own, they start with a capital."""
    return Markdown(text[:1].upper() + text[1:])


def slack_route(settings: Settings, db: Database, clock: Clock, app: web.Application) -> web.RouteDef:
    """`POST /slack/commands`, its answers still on their way awaited when the app stops."""
    commands = SlackCommands(settings, db, clock)

    async def finish(_app: web.Application) -> None:
        with contextlib.suppress(Exception):
            await commands.close()

    app.on_cleanup.append(finish)
    return web.post("/slack/commands", commands.handle)
