"""The dashboard API's OpenAPI document is valid, names every route the app serves, and is true: schemathesis
fuzzes every operation of a running cobot (the real app on 127.0.0.1, in a thread with its own event loop, over a
store filled as tests/test_web_api.py fills it), with the bearer token, valid and invalid inputs alike, and holds
each answer to the document: no server error, a documented status and content type, a body of the documented
schema, invalid input refused, and the maintainer actions refused without credentials."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlencode

import pytest
import schemathesis
from aiohttp import web
from hypothesis import HealthCheck, assume, given, settings
from openapi_spec_validator import validate
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    ignored_auth,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from bot.app.factory import create_app
from bot.clock import FakeClock
from bot.config import settings_from_mapping
from bot.web.dashboard.openapi import document
from tests.conftest import BACKENDS, _empty_tables, _postgres_url
from tests.helpers import GITEE_SECRET, GITHUB_SECRET, Harness
from tests.test_web_api import TOKEN, fill, sections

NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance,
          negative_data_rejection]


def test_the_document_is_valid_and_names_every_api_route(make_settings, clock):
    for public in (True, False):
        built = make_settings(**{**sections(clock.now), "dashboard": {"token": TOKEN, "public": public}})
        found = document(built)
        validate(found)
        reads = found["paths"]["/api/overview"]["get"]["security"]
        assert ({} in reads) is public
    app = create_app(built, clock, run_workers=False)
    served = {(route.method, route.resource.canonical) for route in app.router.routes()
              if route.resource is not None and (
                  (route.method != "HEAD" and route.resource.canonical.startswith("/api/"))
                  or (route.method == "POST" and route.resource.canonical in ("/login", "/logout")))}
    described = {(method.upper(), path) for path, operations in found["paths"].items() for method in operations}
    assert served == described


class Served:
    """An aiohttp application served on 127.0.0.1 (a free port) by a thread running its own event loop."""

    def __init__(self, app: web.Application) -> None:
        self._app = app
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="served-app", daemon=True)
        self.base = ""

    def _serve(self) -> None:
        asyncio.set_event_loop(self._loop)
        runner = web.AppRunner(self._app, access_log=None)
        self._loop.run_until_complete(runner.setup())
        site = web.TCPSite(runner, "127.0.0.1", 0)
        self._loop.run_until_complete(site.start())
        host, port = runner.addresses[0][:2]
        self.base = f"http://{host}:{port}"
        self._ready.set()
        self._loop.run_forever()
        self._loop.run_until_complete(runner.cleanup())
        self._loop.close()

    def __enter__(self) -> Served:
        self._thread.start()
        assert self._ready.wait(30), "the server did not start"
        return self

    def __exit__(self, *_: Any) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(30)


@pytest.fixture(scope="module", params=BACKENDS)
def server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A running cobot over a filled store (one per backend for the whole file): its address."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('fuzz') / 'cobot.db'}"
    else:
        if not _postgres_url():
            pytest.skip("PostgreSQL tests run when COBOT_TEST_POSTGRES_URL is set (.ci/run sets it)")
        url = request.getfixturevalue("postgres_database")
        _empty_tables(url)
    # the fuzzing sends wrong credentials by the hundred, all from 127.0.0.1: not throttled here (it has tests of its
    # own, tests/test_web_login_limits.py), so that every answer is the operation's own
    config = {"database": {"url": url}, "github": {"webhook_secret": GITHUB_SECRET},
              "gitee": {"webhook_secret": GITEE_SECRET},
              **sections(NOW, cache_seconds=60, failed_logins_per_minute=10_000,
                         failed_logins_per_minute_overall=100_000)}
    clock = FakeClock(NOW)
    harness = Harness(settings_from_mapping(config, "test", env={}), clock)
    try:
        fill(harness, NOW)
        with Served(create_app(harness.settings, clock, run_workers=False)) as served:
            yield served.base
    finally:
        harness.close()


def load(server: str, **headers: str) -> Any:
    """The document as the running server serves it, loaded by schemathesis: its requests go there, with
    `headers`."""
    loaded = schemathesis.openapi.from_url(f"{server}/api/openapi.json")
    loaded.config.update(base_url=server, headers=headers)
    return loaded


def _operations(method: str | None = None) -> list[tuple[str, str]]:
    described = document(settings_from_mapping({"dashboard": {"token": TOKEN}, **sections(NOW)}, env={}))
    return [(verb, path) for path, operations in described["paths"].items() for verb in operations
            if method in (None, verb)]


# what the filled store holds, for path parameters to name as well as what chance makes up
KNOWN: dict[str, list[Any]] = {"who": ["Alice", "github:bob", "carol", "person:Alice"],
                               "name": ["hack", "camp", "board", "weekly"], "delivery_id": [1, 10], "action_id": [1, 7]}
BODIES: dict[str, list[Any]] = {"/api/badges/award": [{"badge": "docs-hero", "user": "carol"},
                                                      {"badge": "first-issue", "user": "Alice", "reason": "Welcome"}]}


def fits_a_request_line(case: Any) -> bool:
    """Whether the case's request line is one aiohttp reads: a longer one (over 8,190 bytes) is answered 400 in plain
    text by aiohttp's own parser, before there is a request for cobot to answer (nor any cost to it)."""
    return len(quote(case.formatted_path)) + len(urlencode(case.query or {}, doseq=True)) < 8000


def fuzz(operation: Any, checks: list[Any], negative: bool = True) -> None:
    """Up to 25 requests of valid input (some naming what the store holds) and of invalid input (where there is
    input to get wrong), each answer held to `checks`."""
    positive = GenerationMode.POSITIVE
    strategy = operation.as_strategy(positive)
    for parameter in operation.path_parameters:
        for value in KNOWN[parameter.name]:
            strategy = strategy | operation.as_strategy(positive, path_parameters={parameter.name: value})
    for body in BODIES.get(operation.path, []):
        strategy = strategy | operation.as_strategy(positive, body=body)
    if negative and (operation.path_parameters or operation.query or operation.body):
        strategy = strategy | operation.as_strategy(GenerationMode.NEGATIVE)

    @given(case=strategy)
    @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    def answered_as_described(case: Any) -> None:
        assume(fits_a_request_line(case))
        case.call_and_validate(checks=checks)

    answered_as_described()


@pytest.mark.parametrize(("method", "path"), _operations(), ids=lambda value: value)
def test_every_answer_is_as_the_document_says(server: str, method: str, path: str) -> None:
    fuzz(load(server, Authorization=f"Bearer {TOKEN}")[path][method.upper()], CHECKS)


@pytest.mark.parametrize(("method", "path"), [operation for operation in _operations("post")
                                              if operation[1].startswith("/api/")], ids=lambda value: value)
def test_the_maintainer_actions_refuse_anyone_without_credentials(server: str, method: str, path: str) -> None:
    fuzz(load(server)[path][method.upper()], [ignored_auth, *CHECKS[:4]], negative=False)
