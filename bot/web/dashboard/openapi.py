"""The OpenAPI 3.1 description of the dashboard's API (`GET /api/openapi.json`): every operation, its parameters,
request bodies and answers, and the two ways to log in (the session cookie with its CSRF header, or the bearer
token). Built from the settings: while the dashboard is public, reads need no login. Objects are closed
(`additionalProperties: false`), so an answer that grows a field must grow it here too (tests/test_web_openapi.py
holds the running server to this document)."""

from __future__ import annotations

from typing import Any, get_args

from bot.config import Settings
from bot.events import ActionKind
from bot.store.tables import DELIVERY_STATUSES, OUTBOX_STATUSES
from bot.web import auth
from bot.web.access import COOKIE
from bot.web.dashboard import data, params
from campaigns.digest import CHART_GROUPS

Schema = dict[str, Any]

STRING: Schema = {"type": "string"}
INTEGER: Schema = {"type": "integer"}
NUMBER: Schema = {"type": "number"}
BOOLEAN: Schema = {"type": "boolean"}
MOMENT: Schema = {"type": "string", "format": "date-time"}
DAY: Schema = {"type": "string", "format": "date"}
STATUS: Schema = {"type": "string", "enum": ["scheduled", "running", "ended"]}
KINDS = ("hackathon", "training_camp", "leaderboard", "digest")
LANGUAGE: Schema = {"type": "string", "enum": list(params.LANGUAGES)}


def nullable(schema: Schema) -> Schema:
    """`schema` or null."""
    if set(schema) <= {"type", "format"} and isinstance(schema["type"], str):
        return {**schema, "type": [schema["type"], "null"]}
    if "enum" in schema:
        return {**schema, "type": [schema["type"], "null"], "enum": [*schema["enum"], None]}
    return {"anyOf": [schema, {"type": "null"}]}


def closed(properties: dict[str, Schema], optional: tuple[str, ...] = ()) -> Schema:
    """An object with exactly these properties, all required but the `optional` ones."""
    return {"type": "object", "properties": properties,
            "required": [name for name in properties if name not in optional], "additionalProperties": False}


def array(items: Schema) -> Schema:
    return {"type": "array", "items": items}


def ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def enum(values: tuple[str, ...] | list[str]) -> Schema:
    return {"type": "string", "enum": list(values)}


def const(value: str) -> Schema:
    return {"type": "string", "const": value}


ACCOUNT = {"platform": STRING, "login": STRING, "url": nullable(STRING)}
PERSON = {"id": STRING, "name": STRING, "accounts": array(ref("Account"))}
PAGE = {"total": INTEGER, "limit": INTEGER, "offset": INTEGER}
HEALTH = {"first_response_median_hours": nullable(NUMBER), "first_response_within_24h": nullable(NUMBER),
          "issue_resolution_median_hours": nullable(NUMBER), "pr_resolution_median_hours": nullable(NUMBER),
          "pr_acceptance_ratio": nullable(NUMBER), "new_contributors": INTEGER, "returning_contributors": INTEGER,
          "drive_by_contributors": INTEGER, "inactive_contributors": INTEGER, "absence_factor": INTEGER,
          "bot_activity_share": nullable(NUMBER)}
CAMPAIGN_HEAD = {"name": STRING, "title": STRING, "status": STATUS, "start": MOMENT}
SUBMISSION = {"task": STRING, "pr": STRING, "person": STRING, "login": STRING,
              "status": enum(("submitted", "scored", "late", "closed")), "points": INTEGER, "submitted_at": MOMENT,
              "merged_at": nullable(MOMENT)}


def _digest(days: Schema) -> Schema:
    """campaigns.digest.Digest as `as_dict` writes it, its days as `days` describes them."""
    thread = {"platform": STRING, "repo": STRING, "number": STRING, "title": STRING, "url": nullable(STRING),
              "author": STRING}
    return closed({
        "title": STRING, "scope": STRING, "community": STRING, "since": MOMENT, "until": MOMENT,
        "numbers": array(ref("Number")),
        "newcomers": array(closed({"login": STRING, "platform": STRING, "repo": STRING, "number": STRING,
                                   "is_pr": BOOLEAN, "title": STRING, "url": STRING})),
        "merged": array(closed(thread)), "top": array(closed({"rank": INTEGER, "name": STRING, "score": NUMBER})),
        "waiting": array(closed({**thread, "is_pr": BOOLEAN, "created_at": MOMENT, "hours": INTEGER})),
        "stale": array(closed({**thread, "snapshot_at": MOMENT, "days": INTEGER})),
        "campaigns": array(closed({"title": STRING, "kind": enum(KINDS), "people": INTEGER, "lines": array(closed(
            {"rank": nullable(INTEGER), "name": STRING, "score": nullable(NUMBER)}))})),
        "badges": array(closed({"login": STRING, "badge": STRING})), "health": closed(HEALTH), "days": array(days),
        "more_merged": INTEGER, "chart_url": nullable(STRING), "response_hours": NUMBER, "stale_days": INTEGER,
        "extra": {"type": "object"}})


def schemas() -> dict[str, Schema]:
    groups = {group: INTEGER for group in CHART_GROUPS}
    milestone_progress = closed({"id": STRING, "title": STRING, "due": MOMENT, "met_at": nullable(MOMENT),
                                 "criteria": array(closed({"event": STRING, "reached": INTEGER,
                                                           "needed": INTEGER}))})
    return {
        "Error": closed({"error": STRING}),
        "Account": closed(ACCOUNT),
        "Person": closed(PERSON),
        "Number": closed({"name": enum(data.NUMBERS), "value": INTEGER, "previous": INTEGER, "change": INTEGER}),
        "Overview": closed({
            "community": STRING, "generated_at": MOMENT, "since": MOMENT, "until": MOMENT,
            "numbers": array(ref("Number")),
            "activity": closed({"days": INTEGER, "groups": array(enum(tuple(CHART_GROUPS))),
                                "series": array(closed({"day": DAY, **groups}))}),
            "health": closed({"since": MOMENT, "until": MOMENT, **HEALTH}),
            "newcomers": array(closed({**PERSON, "first_contribution": MOMENT}))}),
        "ContributorPage": closed({**PAGE, "recent_days": INTEGER, "items": array(closed({
            **PERSON, "first_seen": MOMENT, "last_seen": MOMENT,
            "recent": closed(dict.fromkeys(("contributions", "issues", "prs", "comments", "reviews"), INTEGER))}))}),
        "Profile": closed({
            "id": STRING, "name": STRING, "accounts": array(closed({**ACCOUNT, "display_name": nullable(STRING)})),
            "stats": closed({
                "first_seen": nullable(MOMENT), "last_seen": nullable(MOMENT), "first_contribution": nullable(MOMENT),
                "last_contribution": nullable(MOMENT), "contributions": INTEGER, "issues_opened": INTEGER,
                "prs_opened": INTEGER, "prs_merged": INTEGER, "reviews": INTEGER, "comments": INTEGER,
                "repos": array(STRING), "window_days": INTEGER, "window_score": NUMBER}),
            "timeline": array(closed({"kind": STRING, "platform": STRING, "repo": STRING, "number": nullable(STRING),
                                      "login": STRING, "occurred_at": MOMENT, "is_pr": nullable(BOOLEAN),
                                      "title": nullable(STRING), "url": nullable(STRING)})),
            "badges": array(closed({"badge": STRING, "name": STRING, "platform": nullable(STRING), "login": STRING,
                                    "awarded_by": STRING, "reason": nullable(STRING), "awarded_at": MOMENT,
                                    "image": STRING, "assertion": nullable(STRING)})),
            "campaigns": array({"oneOf": [ref("HackathonHistory"), ref("CampHistory")]})}),
        "HackathonHistory": closed({
            "campaign": STRING, "kind": const("hackathon"), "title": nullable(STRING), "status": nullable(STATUS),
            "points": INTEGER, "rank": nullable(INTEGER),
            "claims": array(closed({"platform": STRING, "repo": STRING, "number": STRING, "claimed_at": MOMENT,
                                    "expires_at": MOMENT, "released_at": nullable(MOMENT),
                                    "release_reason": nullable(STRING)})),
            "submissions": array(closed({key: SUBMISSION[key] for key in ("task", "pr", "status", "points",
                                                                          "submitted_at", "merged_at")}))}),
        "CampHistory": closed({
            "campaign": STRING, "kind": const("training_camp"), "title": nullable(STRING), "status": nullable(STATUS),
            "participant_status": enum(("enrolled", "waiting", "left", "graduated")), "joined_at": MOMENT,
            "graduated_at": nullable(MOMENT), "milestones_met": INTEGER, "milestones": INTEGER,
            "progress": array(milestone_progress)}),
        "Leaderboard": closed({
            "generated_at": MOMENT, "days": INTEGER, "since": MOMENT, "until": MOMENT, "items": array(closed({
                "rank": INTEGER, **PERSON, "score": NUMBER, "prs": INTEGER, "merged": INTEGER, "issues": INTEGER,
                "reviews": INTEGER, "comments": INTEGER}))}),
        "CampaignList": closed({"items": array(closed({
            "name": STRING, "kind": enum(KINDS), "title": STRING, "status": STATUS, "start": MOMENT,
            "end": nullable(MOMENT), "closed_early": BOOLEAN}))}),
        "Campaign": {"oneOf": [ref("HackathonView"), ref("CampView"), ref("LeaderboardView"), ref("DigestView")],
                     "discriminator": {"propertyName": "kind", "mapping": {
                         "hackathon": "#/components/schemas/HackathonView",
                         "training_camp": "#/components/schemas/CampView",
                         "leaderboard": "#/components/schemas/LeaderboardView",
                         "digest": "#/components/schemas/DigestView"}}},
        "HackathonView": closed({
            **CAMPAIGN_HEAD, "kind": const("hackathon"), "end": MOMENT, "closed_early": BOOLEAN,
            "claim_limit": INTEGER,
            "tasks": array(closed({"platform": STRING, "repo": STRING, "number": STRING, "title": STRING,
                                   "points": INTEGER, "state": enum(("open", "claimed", "submitted", "done")),
                                   "claimed_by": nullable(STRING), "expires_at": nullable(MOMENT),
                                   "submitted_by": nullable(STRING), "pr": nullable(STRING)})),
            "standings": array(closed({"rank": INTEGER, "person": STRING, "name": STRING, "points": INTEGER,
                                       "tasks": INTEGER})),
            "late_merges": array(closed(SUBMISSION))}),
        "CampView": closed({
            **CAMPAIGN_HEAD, "kind": const("training_camp"), "end": MOMENT, "capacity": nullable(INTEGER),
            "open_enrolment": BOOLEAN, "home": nullable(STRING),
            "milestones": array(closed({"id": STRING, "title": STRING, "due": MOMENT, "criteria": array(closed(
                {"event": STRING, "count": INTEGER}))})),
            "participants": array(closed({
                "person": STRING, "login": STRING, "platform": STRING,
                "status": enum(("enrolled", "left", "graduated")), "source": enum(("config", "command")),
                "milestones_met": STRING, "behind": BOOLEAN, "joined_at": MOMENT, "graduated_at": nullable(MOMENT)})),
            "waiting": array(closed({"position": INTEGER, "person": STRING, "login": STRING, "platform": STRING,
                                     "joined_at": MOMENT}))}),
        "LeaderboardView": closed({
            **CAMPAIGN_HEAD, "kind": const("leaderboard"), "end": nullable(MOMENT),
            "period": enum(("weekly", "monthly", "campaign")), "by": enum(("activity", "points")), "since": MOMENT,
            "posts": array(STRING),
            "standings": array(closed({"rank": INTEGER, "person": STRING, "name": STRING, "score": NUMBER,
                                       "previous": nullable(INTEGER)}))}),
        "DigestView": closed({
            **CAMPAIGN_HEAD, "kind": const("digest"), "end": nullable(MOMENT), "scope": STRING, "weeks": array(STRING),
            "preview": _digest({"type": "array", "prefixItems": [DAY, closed(groups)], "minItems": 2,
                                "maxItems": 2}),
            "markdown": STRING}),
        "DigestPreview": closed({
            "since": MOMENT, "until": MOMENT, "language": LANGUAGE, "campaign": nullable(STRING),
            "markdown": STRING, "html": STRING, "digest": _digest(closed({"day": DAY, **groups}))}),
        "Delivery": closed({
            "id": INTEGER, "platform": STRING, "event": STRING, "action": nullable(STRING),
            "status": enum(DELIVERY_STATUSES), "error": nullable(STRING), "attempts": INTEGER, "key": STRING,
            "received_at": MOMENT, "next_attempt_at": nullable(MOMENT), "processed_at": nullable(MOMENT)}),
        "DeliveryPage": closed({**PAGE, "items": array(ref("Delivery"))}),
        "OutboxAction": closed({
            "id": INTEGER, "kind": enum(get_args(ActionKind)), "where": nullable(STRING), "channel": nullable(STRING),
            "platform": nullable(STRING), "repo": nullable(STRING), "number": nullable(STRING),
            "status": enum(OUTBOX_STATUSES), "attempts": INTEGER, "key": STRING, "result": nullable(STRING),
            "error": nullable(STRING), "delivery_id": nullable(INTEGER), "created_at": MOMENT,
            "next_attempt_at": MOMENT, "done_at": nullable(MOMENT)}),
        "OutboxPage": closed({**PAGE, "items": array(ref("OutboxAction"))}),
        "Badges": closed({
            "badges": array(closed({"id": STRING, "name": STRING, "description": STRING, "criteria": STRING,
                                    "rule": enum(("event", "streak", "hackathon", "camp", "hand")),
                                    "holders": INTEGER, "image": STRING, "badge_class": STRING})),
            "recent": array(closed({"badge": STRING, "person": ref("Person"), "login": STRING,
                                    "platform": nullable(STRING), "awarded_by": STRING, "reason": nullable(STRING),
                                    "awarded_at": MOMENT, "assertion": nullable(STRING)}))}),
        "Session": closed({"logged_in": BOOLEAN, "via": nullable(enum(("cookie", "bearer"))),
                           "expires_at": nullable(MOMENT), "csrf_token": nullable(STRING), "public": BOOLEAN,
                           "warning": STRING}, optional=("warning",)),  # a login whose cookie will be dropped
        "Award": closed({"new": BOOLEAN, "badge": STRING, "person": ref("Person"), "login": STRING,
                         "platform": nullable(STRING), "awarded_by": STRING, "awarded_at": MOMENT,
                         "reason": nullable(STRING), "assertion": nullable(STRING)}),
        "Closed": closed({"campaign": STRING, "dry_run": BOOLEAN, "status": STATUS, "actions": array(closed({
            "kind": enum(get_args(ActionKind)), "key": STRING, "channel": nullable(STRING),
            "platform": nullable(STRING), "repo": nullable(STRING), "number": nullable(STRING),
            "description": STRING}))}),
        "AwardRequest": closed({"badge": {**STRING, "minLength": 1, "maxLength": params.MAX_TEXT},
                                "user": {**STRING, "minLength": 1, "maxLength": params.MAX_TEXT},
                                "reason": nullable({**STRING, "minLength": 1, "maxLength": params.MAX_TEXT})},
                               optional=("reason",)),
        "CloseRequest": closed({"dry_run": BOOLEAN}, optional=("dry_run",)),
        "Revoked": closed({"revoked": INTEGER}),
    }


# -- operations --------------------------------------------------------------------------------------------------


def _json(schema: Schema, description: str) -> Schema:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


ERRORS = {
    400: "a parameter or the body is not as described (the message names it)",
    401: "no login, or a wrong bearer token",
    403: "a cookie login without its CSRF token",
    404: "nothing of that name or id",
    409: "not in a state for that",
    429: "too many failed logins from this address (or from everyone): wait the Retry-After header's seconds",
}


def _responses(schema: str, description: str, *errors: int) -> dict[str, Schema]:
    found = {"200": _json(ref(schema), description)}
    for status in errors:
        found[str(status)] = _json(ref("Error"), ERRORS[status])
    return found


def _query(name: str, schema: Schema, description: str) -> Schema:
    return {"name": name, "in": "query", "required": False, "schema": schema, "description": description}


def _path(name: str, schema: Schema, description: str) -> Schema:
    return {"name": name, "in": "path", "required": True, "schema": schema, "description": description}


def _days(default: int, what: str) -> Schema:
    return _query("days", {**INTEGER, "minimum": 1, "maximum": params.MAX_DAYS, "default": default}, what)


PAGING = [_query("limit", {**INTEGER, "minimum": 1, "maximum": params.MAX_LIMIT, "default": params.PAGE}, "page size"),
          _query("offset", {**INTEGER, "minimum": 0, "maximum": params.MAX_OFFSET, "default": 0}, "items skipped")]
WHEN = {**STRING, "pattern": params.MOMENT_PATTERN}
ID = {**INTEGER, "minimum": 1, "maximum": params.MAX_ID}
NAME = {**STRING, "minLength": 1, "maxLength": params.MAX_TEXT}


def operations(settings: Settings) -> dict[str, dict[str, Schema]]:
    reading = [{"bearerToken": []}, {"sessionCookie": []}]
    if settings.dashboard.public:
        reading = [{}, *reading]
    changing = [{"bearerToken": []}, {"sessionCookie": [], "csrfHeader": []}]
    commands = settings.commands

    def read(summary: str, schema: str, parameters: list[Schema], *errors: int) -> dict[str, Schema]:
        return {"get": {"summary": summary, "operationId": summary_id(summary), "security": reading,
                        "parameters": parameters,
                        "responses": _responses(schema, summary, *sorted({*errors, 401, 429}))}}

    def change(summary: str, schema: str, parameters: list[Schema], body: Schema | None, *errors: int
               ) -> dict[str, Schema]:
        operation: Schema = {"summary": summary, "operationId": summary_id(summary), "security": changing,
                             "parameters": parameters,
                             "responses": _responses(schema, summary,
                                                     *sorted({*errors, 400, 401, 403, 404, 429}))}
        if body is not None:
            operation["requestBody"] = {"required": body.get("x-required", False),
                                        "content": {"application/json": {"schema": body["schema"]}}}
        return {"post": operation}

    form = {"type": "object", "properties": {"token": STRING, "next": STRING}, "required": ["token"]}
    session_answer = _json(ref("Session"), "logged in: the session (the cookie is set)")
    redirected = {"description": "a form that named `next`: sent there (or back to /login?failed=1)",
                  "headers": {"Location": {"schema": STRING}}}
    return {
        "/login": {"post": {
            "summary": "log in with the token", "operationId": "login", "security": [{}],
            "requestBody": {"required": True, "content": {"application/x-www-form-urlencoded": {"schema": form},
                                                          "application/json": {"schema": form}}},
            "responses": {"200": session_answer, "303": redirected, "400": _json(ref("Error"), ERRORS[400]),
                          "401": _json(ref("Error"), "a wrong token (or none is configured)"),
                          "429": _json(ref("Error"), ERRORS[429])}}},
        "/logout": {"post": {
            "summary": "log out", "operationId": "logout", "security": [{}],
            "requestBody": {"required": False, "content": {"application/x-www-form-urlencoded": {"schema": {
                "type": "object", "properties": {"csrf_token": STRING, "next": STRING}}}}},
            "responses": {"200": _json(ref("Session"), "logged out: the cookie is dropped"), "303": redirected,
                          "400": _json(ref("Error"), ERRORS[400]), "403": _json(ref("Error"), ERRORS[403])}}},
        "/api/session": {"get": {
            "summary": "the request's login", "operationId": "session", "security": [{}, {"bearerToken": []},
                                                                                   {"sessionCookie": []}],
            "responses": _responses("Session", "whether logged in, how, until when, and the CSRF token", 401,
                                    429)}},
        "/api/openapi.json": {"get": {
            "summary": "this document", "operationId": "openapi", "security": reading,
            "responses": {"200": _json({"type": "object"}, "the OpenAPI document"),
                          "401": _json(ref("Error"), ERRORS[401]), "429": _json(ref("Error"), ERRORS[429])}}},
        "/api/overview": read("overview", "Overview",
                              [_days(params.OVERVIEW_DAYS, "activity per day over this many days")], 400),
        "/api/contributors": read("contributors", "ContributorPage", [
            _query("q", {**STRING, "maxLength": params.MAX_TEXT}, "a part of a login, display name or identity"),
            _query("new", BOOLEAN, "only those whose first contribution is since `since` (default 7d)"),
            _query("since", WHEN, "contributed since: 12h, 7d, 4w, a date or a moment"),
            _query("platform", enum(data.PLATFORMS), "with an account there"), *PAGING], 400),
        "/api/contributors/{who}": read("contributor", "Profile", [
            _path("who", NAME, "github:LOGIN, gitee:LOGIN, person:NAME, an identity's name or a login"),
            _days(params.PROFILE_DAYS, "the activity score over this many days")], 400, 404),
        "/api/leaderboard": read("leaderboard", "Leaderboard", [
            _days(commands.leaderboard_days, "over this many days"),
            _query("limit", {**INTEGER, "minimum": 1, "maximum": params.MAX_LIMIT,
                             "default": commands.leaderboard_size}, "how many")], 400),
        "/api/campaigns": read("campaigns", "CampaignList", []),
        "/api/campaigns/{name}": read("campaign", "Campaign", [_path("name", NAME, "the campaign's name")], 404),
        "/api/digest/preview": read("digest preview", "DigestPreview", [
            _query("since", WHEN, "the start (default: 7 days before `until`)"),
            _query("until", WHEN, "the end (default: now)"), _query("language", LANGUAGE, "en or zh"),
            _query("campaign", NAME, "a digest campaign: its scope")], 400, 404),
        "/api/deliveries": read("deliveries", "DeliveryPage", [
            _query("status", enum(DELIVERY_STATUSES), "only these"), *PAGING], 400),
        "/api/outbox": read("outbox", "OutboxPage", [_query("status", enum(OUTBOX_STATUSES), "only these"), *PAGING],
                            400),
        "/api/badges": read("badges", "Badges", [_query("language", LANGUAGE, "the names' language")], 400),
        "/api/deliveries/{delivery_id}/replay": change(
            "replay a delivery", "Delivery", [_path("delivery_id", ID, "the delivery")], None),
        "/api/outbox/{action_id}/retry": change(
            "retry a failed outbox action", "OutboxAction", [_path("action_id", ID, "the action")], None, 409),
        "/api/badges/award": change("award a badge", "Award", [],
                                    {"schema": ref("AwardRequest"), "x-required": True}),
        "/api/campaigns/{name}/close": change(
            "close a campaign now", "Closed", [_path("name", NAME, "the campaign's name")],
            {"schema": ref("CloseRequest")}),
        "/api/sessions/revoke": change("log out everywhere", "Revoked", [], None),
    }


def summary_id(summary: str) -> str:
    words = summary.split()
    return words[0] + "".join(word.capitalize() for word in words[1:])


def document(settings: Settings) -> dict[str, Any]:
    """The OpenAPI 3.1 document of this cobot's dashboard API."""
    return {
        "openapi": "3.1.0",
        "info": {"title": f"{settings.community.name}: cobot dashboard API", "version": "1",
                 "description": "Community numbers, contributors, campaigns and operations; maintainer actions "
                                "need a login (the session cookie with its CSRF token, or the bearer token)."},
        "paths": operations(settings),
        "components": {
            "schemas": schemas(),
            "securitySchemes": {
                "sessionCookie": {"type": "apiKey", "in": "cookie", "name": COOKIE,
                                  "description": "set by POST /login"},
                "csrfHeader": {"type": "apiKey", "in": "header", "name": auth.CSRF_HEADER,
                               "description": "the session's CSRF token (GET /api/session), with the cookie"},
                "bearerToken": {"type": "http", "scheme": "bearer", "description": "the dashboard token"}}},
    }
