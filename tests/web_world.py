"""What the dashboard's tests share (test_web_api, test_web_pages and the tests built on them): the small
community's configuration, its campaigns as of `now`, and a Gitee issue as its webhook tells it."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from bot.settings.campaigns import WEEKDAYS

MAINTAINER = "maintainer-max"
DAY = timedelta(days=1)


def stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def sections(now: datetime, token: str, notify: dict[str, Any], **dashboard: Any) -> dict[str, Any]:
    """Rocket's configuration: acme/rocket, alice linked to ali on Gitee, no welcome, `notify`, the dashboard public,
    with `token` and nothing kept (unless `dashboard` says otherwise), and a campaign of each kind running (the digest's
    first one due in two days)."""
    return {
        "community": {"name": "Rocket", "maintainers": [f"github:{MAINTAINER}", f"gitee:{MAINTAINER}"],
                      "repos": [{"platform": "github", "name": "acme/rocket"}],
                      "identities": [{"name": "Alice", "github": "alice", "gitee": "ali"}]},
        "welcome": {"enabled": False},
        "notify": notify,
        # public: these tests read pages and the API as a visitor would (the private default has tests of its own)
        "dashboard": {"token": token, "cache_seconds": 0, "public": True, **dashboard},
        "campaigns": [
            {"name": "hack", "kind": "hackathon", "title": "Rocket Hackathon", "start": stamp(now - 3 * DAY),
             "end": stamp(now + 4 * DAY), "repos": ["github:acme/rocket"]},
            {"name": "camp", "kind": "training_camp", "title": "Rocket Camp", "start": stamp(now - 3 * DAY),
             "end": stamp(now + 20 * DAY), "repos": ["acme/rocket"], "participants": ["github:bob"],
             "nudge_weekday": WEEKDAYS[(now.weekday() + 2) % 7],
             "milestones": [{"id": "first-pr", "title": "Open a pull request", "due": stamp(now + 5 * DAY),
                             "criteria": [{"event": "pr.opened"}]},
                            {"id": "helper", "title": "Answer two issues", "due": stamp(now + 15 * DAY),
                             "criteria": [{"event": "issue.answered", "count": 2}]}]},
            {"name": "board", "kind": "leaderboard", "title": "Most active", "period": "campaign",
             "start": stamp(now - 3 * DAY), "end": stamp(now + 4 * DAY)},
            {"name": "weekly", "kind": "digest", "title": "Rocket weekly", "start": stamp(now - DAY),
             "weekday": WEEKDAYS[(now.weekday() + 2) % 7]},  # none due yet
        ],
    }


def gitee_issue(number: str, login: str, name: str, at: datetime) -> dict[str, Any]:
    """A Gitee Issue Hook (open), with just the fields cobot reads."""
    user = {"login": login, "id": 4242, "name": name}
    return {"action": "open", "sender": user, "user": user,
            "repository": {"full_name": "acme/rocket-cn", "html_url": "https://gitee.com/acme/rocket-cn"},
            "issue": {"number": number, "title": "Translate the guide", "state": "open", "user": user, "labels": [],
                      "html_url": f"https://gitee.com/acme/rocket-cn/issues/{number}", "body": "",
                      "created_at": at.isoformat(), "updated_at": at.isoformat()}}
