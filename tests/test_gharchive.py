"""GH Archive imports: a real hour of GitHub's public events (../shared/fixtures/gharchive) stored as history.

What each record should become is worked out here from the file itself, record by record (its `type`, its
payload's `action` or `ref_type`), and compared with the activity log, the command's report and the store: the
counts per kind, filtering by org and by repo, a second import that changes nothing, an interrupted import that
resumes to the same store as an uninterrupted one, quiet history (milestones and badges recorded, nothing in the
outbox), and events that webhooks stored already, not counted twice.
"""

from __future__ import annotations

import gzip
import io
import json
import re
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import delete, func, select
from sqlmodel import SQLModel

from bot.cli.main import main
from bot.events import Event
from bot.history.gharchive import GHArchiveImport, in_hour_order
from bot.history.gharchive_reader import EVENT, PREFIX, Scope, frames, loads, read
from bot.history.ingest import Checkpoint, HandlerFailed, Ingest, Item
from bot.history.ledger import DeliveryLedger
from bot.pipeline.dispatch import ROUTERS
from bot.platforms.gharchive import translate
from bot.routing.router import Router
from bot.store.community_tables import Activity, BadgeAward, Contributor, Milestone, Repo, Thread
from bot.store.tables import Delivery, ImportState, OutboxAction
from tests.helpers import count, shared_fixture
from tests.store_copy import FilledStores

HOUR = ("gharchive", "2015-01-01-12.json.gz")
COMMAND_LINE = re.compile(r"^/[A-Za-z][A-Za-z0-9_-]*(?:$|[\s:,])")
COMPARED = (Repo, Contributor, Thread, Activity, Milestone, BadgeAward, OutboxAction)


# -- what the file says, read here on its own ------------------------------------------------------------------


def records(path: Path) -> list[dict[str, Any]]:
    with gzip.open(path, "rt", encoding="utf-8") as lines:
        return [json.loads(line) for line in lines]


def said_only_commands(body: str | None) -> bool:
    said = [line.strip() for line in (body or "").splitlines() if line.strip() and not line.strip().startswith(">")]
    return bool(said) and all(COMMAND_LINE.match(line) for line in said)


def kinds_of(record: dict[str, Any]) -> list[str]:
    """What the activity log should hold for a record, from its type and what its payload says it did."""
    kind, payload = record["type"], record["payload"]
    action = payload.get("action")
    if kind == "IssuesEvent":
        return [f"issue.{action}"]
    if kind == "PullRequestEvent":
        if action == "closed":
            return ["pr.merged" if payload["pull_request"]["merged"] else "pr.closed"]
        return [f"pr.{action}"]
    if kind in ("IssueCommentEvent", "PullRequestReviewCommentEvent"):
        where = "comment.created" if kind == "IssueCommentEvent" else "comment.diff"
        return ["command" if said_only_commands(payload["comment"]["body"]) else where]
    if kind == "PushEvent":
        return [] if payload["ref"].startswith("refs/tags/") else ["push"]
    if kind in ("CreateEvent", "DeleteEvent"):
        return [("tag.created" if kind == "CreateEvent" else "tag.deleted")] if payload["ref_type"] == "tag" else []
    return {"WatchEvent": ["star.created"], "ForkEvent": ["fork.created"],
            "ReleaseEvent": ["release.published"] if action == "published" else [],
            "MemberEvent": ["member.added"] if action == "added" else []}.get(kind, [])


def skipped_as(record: dict[str, Any]) -> str:
    payload = record["payload"]
    detail = payload.get("ref_type") if record["type"] in ("CreateEvent", "DeleteEvent") else payload.get("action")
    return f"{record['type']}/{detail}" if detail else record["type"]


def expected(rows: list[dict[str, Any]]) -> dict[str, Any]:
    kinds: Counter[str] = Counter()
    skipped: Counter[str] = Counter()
    stored = 0
    for record in rows:
        found = kinds_of(record)
        kinds.update(found)
        if found:
            stored += 1
        else:
            skipped[skipped_as(record)] += 1
    return {"read": len(rows), "imported": stored, "kinds": kinds, "skipped": skipped}


def in_scope(rows: list[dict[str, Any]], orgs: set[str], repos: set[str]) -> list[dict[str, Any]]:
    return [record for record in rows if record["repo"]["name"].lower() in repos
            or record["repo"]["name"].split("/")[0].lower() in orgs]


# -- the store, read back ----------------------------------------------------------------------------------------


def activity_kinds(db: Any) -> Counter[str]:
    with db.reading() as conn:
        return Counter(dict(conn.execute(select(Activity.kind, func.count()).group_by(Activity.kind)).all()))


def snapshot(db: Any) -> dict[str, list[str]]:
    """Every row of the community's tables, without the ids the store chose (an activity row names its record)."""
    with db.inbox.reading() as conn:
        keys = dict(conn.execute(select(Delivery.id, Delivery.key)).all())
    shot = {}
    with db.reading() as conn:
        for table in COMPARED:
            columns = [column for column in table.__table__.c if column.name not in ("id", "uid")]
            rows = [row._asdict() for row in conn.execute(select(*columns))]
            if table is Activity:
                for row in rows:
                    row["delivery_id"] = keys.get(row["delivery_id"])
            shot[table.__tablename__] = sorted(json.dumps(row, default=str, sort_keys=True) for row in rows)
    return shot


def empty(db: Any) -> None:
    for store in {id(db): db, id(db.inbox): db.inbox}.values():
        with store.session() as session:
            for table in reversed(SQLModel.metadata.sorted_tables):
                session.execute(delete(table))


@pytest.fixture(scope="module")
def hour() -> Path:
    return shared_fixture(*HOUR)


@pytest.fixture(scope="module")
def hour_records(hour: Path) -> list[dict[str, Any]]:
    return records(hour)


@pytest.fixture(scope="module")
def imported(tmp_path_factory) -> FilledStores:
    """The store as the first import of the hour in this module (for each backend) left it."""
    return FilledStores(tmp_path_factory.mktemp("imported"))


def import_the_hour(cli: Any, db: Any, hour: Path, imported: FilledStores) -> None:
    """`cobot import gharchive` of the hour into the empty store `db`, once per backend in this module: the next
    times, a copy of the store that import made."""
    db.dispose()  # no connection open while the files are written over
    if not imported.put(db.url, "hour"):
        cli(str(hour))
        imported.keep(db, "hour")


@pytest.fixture
def cli(tmp_path, settings):
    config = tmp_path / "cobot.toml"
    config.write_text(f'[database]\nurl = "{settings.database.url}"\n\n[community]\nname = "History"\n'
                      '\n[badges]\nauto_award = true\n')
    unset = {name: None for name in ("COBOT_CONFIG", "COBOT_DATABASE_URL", "COBOT_GITHUB_TOKEN")}

    def run(*args: str, code: int = 0) -> Any:
        result = CliRunner().invoke(main, ["import", "gharchive", "--config", str(config), *args], env=unset,
                                    catch_exceptions=False)
        assert result.exit_code == code, result.output
        return result
    return run


# -- the real hour -----------------------------------------------------------------------------------------------


def test_the_file_is_the_hour_its_sources_describe(hour_records):
    assert len(hour_records) == 8273
    types = Counter(record["type"] for record in hour_records)
    assert (types["PushEvent"], types["WatchEvent"], types["IssuesEvent"], types["PullRequestEvent"]) == (
        4284, 994, 361, 367)


def test_the_real_hour_imported_counts_every_kind_exactly(cli, db, hour, hour_records, imported):
    want = expected(hour_records)
    [report] = json.loads(cli(str(hour), "--json").stdout)
    imported.keep(db, "hour")
    assert report["read"] == report["kept"] == want["read"]
    assert report["imported"] == report["events"] == want["imported"]
    assert report["kinds"] == dict(want["kinds"])
    assert report["skipped"] == dict(want["skipped"])
    assert (report["duplicates"], report["failed"], report["done"]) == (0, 0, True)
    assert activity_kinds(db) == want["kinds"]
    # the records' own numbers, so that a mapping gone wrong shows here (e.g. merged PRs counted as closed)
    assert (want["kinds"]["pr.merged"], want["kinds"]["pr.closed"], want["kinds"]["comment.diff"],
            want["kinds"]["tag.created"], want["kinds"]["star.created"]) == (150, 24, 50, 144, 994)
    assert count(db, Repo) == len({record["repo"]["name"] for record in hour_records if kinds_of(record)})
    assert count(db, Delivery, Delivery.key.startswith("gharchive-")) == want["imported"]


def test_a_second_import_changes_nothing(cli, db, hour, hour_records, imported):
    import_the_hour(cli, db, hour, imported)
    before = snapshot(db)
    [again] = json.loads(cli(str(hour), "--json").stdout)
    assert again["already"] and again["imported"] == expected(hour_records)["imported"]  # the first run's report
    [reread] = json.loads(cli(str(hour), "--again", "--json").stdout)
    assert (reread["imported"], reread["events"]) == (0, 0)
    assert reread["duplicates"] == expected(hour_records)["imported"]
    assert snapshot(db) == before
    assert count(db, Delivery) == expected(hour_records)["imported"]


def test_history_is_quiet_yet_first_timers_and_badges_are_recorded(cli, db, hour, hour_records, settings, imported):
    import_the_hour(cli, db, hour, imported)
    assert count(db, OutboxAction) == 0
    opened = [record for record in hour_records if kinds_of(record) in (["issue.opened"], ["pr.opened"])]
    with db.reading() as conn:
        reached = {(row.person, row.scope, row.kind) for row in conn.execute(select(Milestone))}
        badges = {(row.person, row.badge) for row in conn.execute(select(BadgeAward))}
    assert reached == first_timers(hour_records, settings)
    assert len(reached) > len(opened)  # repo and community scopes, first merges too
    issue_openers = {settings.person_for("github", record["payload"]["issue"]["user"]["login"])
                     for record in hour_records if kinds_of(record) == ["issue.opened"]}
    merged_authors = {settings.person_for("github", record["payload"]["pull_request"]["user"]["login"])
                      for record in hour_records if kinds_of(record) == ["pr.merged"]}
    assert issue_openers <= {person for person, badge in badges if badge == "first-issue"}
    assert merged_authors <= {person for person, badge in badges if badge == "first-pr-merged"}


def first_timers(rows: list[dict[str, Any]], settings: Any) -> set[tuple[str, str, str]]:
    """The milestones the hour holds, replayed in file order: an issue (PR) opened by someone with no issue (PR)
    created before it among the threads seen so far, in the repo and anywhere; and every merge's first."""
    seen: dict[tuple[str, bool, int], tuple[str, datetime]] = {}  # (repo, is PR, number) → (author, created)
    reached: set[tuple[str, str, str]] = set()
    for record in rows:
        payload, repo = record["payload"], record["repo"]["name"]
        item = payload.get("pull_request") or payload.get("issue")
        if record["type"] not in ("IssuesEvent", "PullRequestEvent", "IssueCommentEvent",
                                  "PullRequestReviewCommentEvent") or item is None:
            continue
        is_pr = "pull_request" in payload or "pull_request" in item
        created = datetime.fromisoformat(item["created_at"].replace("Z", "+00:00"))
        author = settings.person_for("github", item["user"]["login"])
        key = (repo, is_pr, item["number"])
        seen[key] = (seen.get(key, (author, created))[0], min(created, seen.get(key, (author, created))[1]))
        author, created = seen[key]
        scopes = {"repo": f"repo:github:{repo.lower()}", "community": "community"}
        kind = kinds_of(record)
        if item["user"]["login"].lower().endswith("[bot]"):  # tracked, never a newcomer
            continue
        if kind in (["issue.opened"], ["pr.opened"]):
            earlier = [other for other, (who, when) in seen.items()
                       if other != key and who == author and other[1] == is_pr and when < created]
            first = "first_pr" if is_pr else "first_issue"
            if not earlier:
                reached.add((author, scopes["community"], first))
            if not [other for other in earlier if other[0] == repo]:
                reached.add((author, scopes["repo"], first))
        elif kind == ["pr.merged"]:
            reached |= {(author, scope, "first_merge") for scope in scopes.values()}
    return reached


# -- filtering ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("orgs", "repos"), [
    ({"rust-lang"}, set()),
    (set(), {"scikit-learn/scikit-learn"}),
    ({"rust-lang", "cachethq"}, {"scikit-learn/scikit-learn"}),
])
def test_filtering_by_org_and_repo_keeps_their_records_only(db, settings, hour, hour_records, orgs, repos):
    kept = in_scope(hour_records, orgs, repos)
    assert kept  # they are in the file
    report = GHArchiveImport(db, settings, orgs=[org.upper() for org in orgs], repos=repos).run(hour)
    want = expected(kept)
    assert (report.read, report.kept, report.stored.imported) == (len(hour_records), len(kept), want["imported"])
    assert report.stored.kinds == want["kinds"] and report.skipped == want["skipped"]
    assert activity_kinds(db) == want["kinds"]
    with db.reading() as conn:
        stored_repos = set(conn.execute(select(Activity.repo).distinct()).scalars())
    assert stored_repos == {record["repo"]["name"] for record in kept if kinds_of(record)}


def test_an_import_in_another_scope_is_another_import(db, settings, hour, hour_records):
    rust = GHArchiveImport(db, settings, orgs=["rust-lang"]).run(hour)
    everything = GHArchiveImport(db, settings).run(hour)
    assert not everything.already
    assert everything.stored.duplicates == rust.stored.imported
    assert everything.stored.imported + rust.stored.imported == expected(hour_records)["imported"]
    assert activity_kinds(db) == expected(hour_records)["kinds"]
    with db.reading() as conn:
        assert len(conn.execute(select(ImportState)).all()) == 2


# -- interrupted, resumed ----------------------------------------------------------------------------------------


class Interrupted(Exception):
    pass


def test_an_interrupted_import_resumes_to_the_same_store(db, settings, hour, hour_records):
    size = 1000
    GHArchiveImport(db, settings, batch_size=size).run(hour)
    whole = snapshot(db)
    empty(db)

    def stop_at_third(batch: int) -> None:
        if batch == 3:
            raise Interrupted

    with pytest.raises(Interrupted):
        GHArchiveImport(db, settings, batch_size=size, before_commit=stop_at_third).run(hour)
    translated = [(line, record) for line, record in enumerate(hour_records, start=1) if kinds_of(record)]
    two_batches = translated[:2 * size]
    with db.reading() as conn:
        [state] = conn.execute(select(ImportState)).all()
    assert not state.done and state.cursor["line"] == two_batches[-1][0]
    assert activity_kinds(db) == Counter(kind for _, record in two_batches for kind in kinds_of(record))

    resumed = GHArchiveImport(db, settings, batch_size=size).run(hour)
    assert resumed.resumed_from == two_batches[-1][0] and resumed.done
    assert resumed.read_now == len(hour_records) - two_batches[-1][0]
    assert (resumed.read, resumed.stored.imported) == (len(hour_records), expected(hour_records)["imported"])
    assert resumed.stored.kinds == expected(hour_records)["kinds"]
    assert snapshot(db) == whole


# -- what webhooks stored already --------------------------------------------------------------------------------


def test_events_webhooks_stored_already_are_not_counted_twice(harness, hour, hour_records):
    opened = next(record for record in hour_records if record["repo"]["name"] == "rust-lang/rust"
                  and kinds_of(record) == ["issue.opened"])
    payload = {"action": "opened", "issue": opened["payload"]["issue"], "sender": opened["actor"],
               "repository": {"full_name": "rust-lang/rust", "html_url": "https://github.com/rust-lang/rust"}}
    harness.deliver("issues", payload)
    report = GHArchiveImport(harness.db, harness.settings, repos=["rust-lang/rust"]).run(hour)
    want = expected(in_scope(hour_records, set(), {"rust-lang/rust"}))
    assert report.stored.overlapping == 1 and report.stored.duplicates == 1
    assert report.stored.imported == want["imported"] - 1
    assert activity_kinds(harness.db) == want["kinds"]


# -- a handler that fails ----------------------------------------------------------------------------------------


def refusing(login: str | None) -> Router:
    """A handler, run after the others, that cannot store `login`'s issues (anyone's, given None)."""
    flaky = Router("flaky")

    @flaky.on("issue.opened")
    def refuse(event: Event, ctx: Any) -> None:
        if login is None or event.actor.login == login:
            raise RuntimeError(f"{event.actor.login}'s issue cannot be stored today")
    return flaky


def opened_items(rows: list[dict[str, Any]], how_many: int) -> list[Item]:
    opened = [record for record in rows if kinds_of(record) == ["issue.opened"]][:how_many]
    return [Item(f"gharchive-{record['id']}", record["type"], "opened", tuple(translate(record)))
            for record in opened]


def test_a_record_a_handler_fails_on_leaves_nothing_behind(db, make_settings, hour_records):
    settings = make_settings(badges={"auto_award": True})  # whose handler logs the event's activity at once
    items = opened_items(hour_records, 4)
    refused = items[1].events[0].actor.login
    ingest = Ingest(db, settings, prefix="gharchive-", routers=(*ROUTERS, refusing(refused)))
    tally = ingest.store(items, Checkpoint("test", {"at": 4}))
    assert (tally.imported, tally.failed) == (3, 1) and f"{refused}'s issue cannot be stored" in tally.errors[0]
    with db.reading() as conn:
        logged = set(conn.execute(select(Activity.actor)).scalars())
        people = set(conn.execute(select(Milestone.person)).scalars()) | set(
            conn.execute(select(BadgeAward.person)).scalars())
    assert logged == {item.events[0].actor.login for item in items} - {refused}
    assert settings.person_for("github", refused) not in people
    assert ingest.checkpoint("test") == Checkpoint("test", {"at": 4})
    again = Ingest(db, settings, prefix="gharchive-").store(items)  # the next import offers it again
    assert (again.imported, again.duplicates) == (1, 3)


def test_a_batch_every_record_of_which_fails_is_not_committed(db, settings, hour_records):
    ingest = Ingest(db, settings, prefix="gharchive-", routers=(*ROUTERS, refusing(None)))
    with pytest.raises(HandlerFailed, match="cannot be stored today"):
        ingest.store(opened_items(hour_records, 3), Checkpoint("test", {"at": 3}))
    assert count(db, Activity) == count(db, Thread) == 0
    assert ingest.checkpoint("test") is None


# -- records as the Events API wrote them ------------------------------------------------------------------------


def first(rows: list[dict[str, Any]], kind: str, test: Any = lambda record: True) -> dict[str, Any]:
    return next(record for record in rows if record["type"] == kind and test(record))


def test_records_translate_with_their_repo_and_actor(hour_records):
    merged = first(hour_records, "PullRequestEvent", lambda record: record["payload"]["pull_request"]["merged"])
    [event] = translate(merged)
    pull = merged["payload"]["pull_request"]
    assert (event.kind, event.repo.full_name, event.actor.login) == (
        "pr.merged", merged["repo"]["name"], merged["actor"]["login"])
    assert event.repo.url == f"https://github.com/{merged['repo']['name']}"
    assert event.thread is not None and event.thread.state == "merged" and event.thread.is_pr
    assert event.occurred_at == datetime.fromisoformat(pull["merged_at"].replace("Z", "+00:00"))

    on_pr = first(hour_records, "IssueCommentEvent", lambda record: "pull_request" in record["payload"]["issue"])
    [comment] = translate(on_pr)
    assert comment.thread is not None and comment.thread.is_pr and comment.comment is not None
    assert (comment.kind, comment.comment.place, comment.thread.number) == (
        "comment.created", "thread", str(on_pr["payload"]["issue"]["number"]))

    [diff] = translate(first(hour_records, "PullRequestReviewCommentEvent"))
    assert diff.comment is not None and diff.comment.place == "diff" and diff.thread is not None and diff.thread.is_pr

    push = first(hour_records, "PushEvent", lambda record: record["payload"]["size"] > 20)
    [pushed] = translate(push)
    assert pushed.push is not None and pushed.push.commit_count == push["payload"]["size"] > 20
    assert pushed.push.after == push["payload"]["head"]

    tag = first(hour_records, "CreateEvent", lambda record: record["payload"]["ref_type"] == "tag")
    [created] = translate(tag)
    assert created.push is not None and (created.kind, created.push.ref) == (
        "tag.created", f"refs/tags/{tag['payload']['ref']}")
    assert translate(first(hour_records, "CreateEvent", lambda record: record["payload"]["ref_type"] == "branch")) == []

    fork = first(hour_records, "ForkEvent")
    assert translate(fork)[0].detail == {"fork": fork["payload"]["forkee"]["full_name"]}
    release = first(hour_records, "ReleaseEvent")
    assert translate(release)[0].detail == {"tag": release["payload"]["release"]["tag_name"]}
    member = first(hour_records, "MemberEvent")
    assert translate(member)[0].detail == {"member": member["payload"]["member"]["login"]}
    assert translate(first(hour_records, "GollumEvent")) == []


def modern_review(body: str) -> dict[str, Any]:
    """A PullRequestReviewEvent as the Events API writes it since 2020 (the hour of 2015 has none)."""
    user = {"login": "reviewer-rita", "id": 7, "type": "User"}
    return {"id": "31000000001", "type": "PullRequestReviewEvent", "public": True,
            "created_at": "2023-05-01T10:00:05Z", "actor": {"id": 7, "login": "reviewer-rita"},
            "repo": {"id": 1, "name": "acme/rocket", "url": "https://api.github.com/repos/acme/rocket"},
            "payload": {"action": "created",
                        "review": {"id": 99, "user": user, "body": body, "state": "approved",
                                   "submitted_at": "2023-05-01T10:00:04Z"},
                        "pull_request": {"number": 12, "title": "Faster", "state": "open",
                                         "user": {"login": "author-al", "id": 8, "type": "User"},
                                         "created_at": "2023-04-30T09:00:00Z",
                                         "updated_at": "2023-05-01T10:00:04Z"}}}


def test_a_review_with_a_body_is_a_review_and_a_comment():
    review, said = translate(modern_review("Looks good"))
    assert (review.kind, review.actor.login, review.thread.number if review.thread else None) == (
        "review.submitted", "reviewer-rita", "12")
    assert said.comment is not None and said.comment.place == "review"
    assert [event.kind for event in translate(modern_review(""))] == ["review.submitted"]


def test_events_cross_to_the_reader_and_back_unchanged(hour_records):
    events: list[Event] = [event for record in hour_records for event in translate(record)]
    events += translate(modern_review("Nice"))
    assert [EVENT.decode(EVENT.encode(event)) for event in events] == events


def test_lines_orjson_refuses_are_read_as_json_reads_them():
    assert loads(b'{"id": "7", "payload": {"body": "a \\ud83d b"}}') == {"id": "7", "payload": {"body": "a \ud83d b"}}
    assert loads('{"body": "été ✓"}'.encode("utf-16")) == {"body": "été ✓"}
    assert loads(b'{"n": 1e400}') == {"n": float("inf")}
    with pytest.raises(ValueError):
        loads(b'{"id": "1", "type": "PushEvent", "actor": ')


def test_the_reader_writes_the_ledger_of_each_batch_it_sends(db, hour, hour_records):
    """The ledger written in the reader process (a big import's): each batch comes with its items' deliveries,
    the inbox's ids; read again, the same ids, none new."""
    when = datetime.fromisoformat("2026-11-02T09:00:00+00:00")
    ledger = DeliveryLedger(db.inbox, platform="github", prefix=PREFIX, clock=lambda: when)

    def sent() -> list[tuple[Any, ...]]:
        out = io.BytesIO()
        read(hour, 0, Scope.of(), 400, out, ledger=lambda: ledger)
        return [message[1:] for message in frames(io.BytesIO(out.getvalue()))]

    first = sent()
    assert sum(len(message[6]) for message in first) == expected(hour_records)["imported"]
    for *_, packed, _done, (ids, all_new) in first:
        assert set(ids) == {key for key, *_ in packed} and all_new
    with db.inbox.reading() as conn:
        stored = dict(conn.execute(select(Delivery.key, Delivery.id)).all())
        assert set(conn.execute(select(Delivery.status, Delivery.received_at)).all()) == {("processed", when)}
    assert stored == {key: id_ for *_, (ids, _) in first for key, id_ in ids.items()}
    again = sent()
    assert [written for *_, written in again] == [(ids, False) for *_, (ids, _) in first]
    assert count(db.inbox, Delivery) == len(stored)


def test_unreadable_and_unknown_records_are_counted_and_the_rest_imported(tmp_path, db, settings, hour_records):
    star = first(hour_records, "WatchEvent")
    path = tmp_path / "2023-05-01-10.json.gz"
    with gzip.open(path, "wt", encoding="utf-8") as out:
        out.write(json.dumps(star) + "\n")
        out.write('{"id": "1", "type": "PushEvent", "actor": \n')  # cut short
        out.write(json.dumps({"id": "2", "type": "IssuesEvent", "payload": {"action": "opened"}}) + "\n")  # no repo
        out.write(json.dumps({**star, "id": "3", "type": "SponsorshipEvent", "payload": {"action": "created"}}) + "\n")
        out.write("\n")
        out.write(json.dumps(modern_review("Nice")) + "\n")
    report = GHArchiveImport(db, settings).run(path)
    assert (report.read, report.kept, report.stored.imported, report.stored.events) == (5, 3, 2, 3)
    assert report.skipped == {"(unreadable)": 2, "SponsorshipEvent/created": 1}
    assert [problem.split(":")[0] for problem in report.problems] == ["line 2", "line 3"]
    assert activity_kinds(db) == {"star.created": 1, "review.submitted": 1, "comment.review": 1}


def test_files_are_imported_hour_by_hour():
    names = ["2015-01-01-10.json.gz", "notes.json.gz", "2015-01-01-9.json.gz", "2014-12-31-23.json.gz"]
    assert [path.name for path in in_hour_order(Path(name) for name in names)] == [
        "2014-12-31-23.json.gz", "2015-01-01-9.json.gz", "2015-01-01-10.json.gz", "notes.json.gz"]


def test_a_repo_that_is_not_owner_slash_name_is_refused(cli, hour):
    result = cli(str(hour), "--repo", "rust-lang", code=2)
    assert "is not OWNER/REPO" in result.output


def test_the_command_reports_a_table(cli, hour, hour_records):
    output = cli(str(hour), "--org", "rust-lang").stdout
    want = expected(in_scope(hour_records, {"rust-lang"}, set()))
    assert "2015-01-01-12" in output and f"issue.opened {want['kinds']['issue.opened']}" in " ".join(output.split())
    assert "imported before" in cli(str(hour), "--org", "rust-lang").stdout


def test_imported_history_cannot_be_replayed_and_says_why(make_harness):
    from bot.history.ingest import Ingest, Item
    from bot.pipeline.processor import NotReplayable
    from bot.store.tables import Delivery
    from tests.payloads import issue_event

    harness = make_harness()
    [event] = harness.platforms["github"].translate("issues", issue_event(
        "opened", 1, "alice", created="2026-11-01T10:00:00Z"), harness.clock())
    Ingest(harness.db, harness.settings, harness.clock, prefix="gharchive-").store(
        [Item("gharchive-1", "IssuesEvent", "opened", [event])], None)
    [delivery] = harness.rows(Delivery)
    with pytest.raises(NotReplayable, match="imported history"):
        harness.pipeline.replay(delivery.id)
