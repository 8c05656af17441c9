"""Configuration: the example starts as is, bad values name their key, environment variables override."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.config import ConfigError, load_settings

EXAMPLE = Path(__file__).resolve().parents[1] / "config.toml"


def test_the_example_config_is_valid():
    settings = load_settings(str(EXAMPLE), env={})
    assert settings.database.url == "sqlite:///cobot.db"
    assert settings.welcome.scope == "repo"


@pytest.mark.parametrize(("text", "key"), [
    ('[welcome]\nscope = "galaxy"', "welcome.scope"),
    ('[server]\nport = 70000', "server.port"),
    ('[database]\nurl = "mysql://x"', "database.url"),
    ('[[community.repos]]\nplatform = "gitlab"\nname = "a/b"', "community.repos.0.platform"),
    ('[[community.repos]]\nplatform = "github"\nname = "no-slash"', "community.repos.0.name"),
    ('[community]\nlanguage = "fr"', "community.language"),
    ('[welcome]\ngreeting = "hi"', "welcome.greeting"),
    ('[inbox]\nmax_attempts = 0', "inbox.max_attempts"),
    ('[commands.require]\ndance = "maintainer"', "commands.require"),
    ('[commands.require]\nclose = "admin"', "commands.require.close"),
    ('[[commands.roles]]\nwhere = "gitlab:acme"', "commands.roles.0.where"),
    ('[[commands.roles]]\nwhere = "a/b/c"', "commands.roles.0.where"),
    ('[commands]\nleaderboard_size = 0', "commands.leaderboard_size"),
    ('[[slack.users]]\nid = "alice"', "slack.users.0.id"),
    ('[[slack.users]]\nid = "U024BE7LH"\nrole = "owner"', "slack.users.0.role"),
    ('[slack]\nanswer_within_seconds = 5', "slack.answer_within_seconds"),
    ('[[badges.custom]]\nid = "Docs Hero"\nname = "x"', "badges.custom.0.id"),
    ('[[badges.custom]]\nid = "docs-hero"\nname = "x"', "badges.custom"),
    ('[dashboard]\nslow_reads = "fork"', "dashboard.slow_reads"),
])
def test_a_bad_value_stops_start_up_naming_the_key(tmp_path, text, key):
    path = tmp_path / "config.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as error:
        load_settings(str(path), env={})
    assert key in str(error.value)
    assert str(path) in str(error.value)


def test_not_toml_is_reported(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text("[server\nport = 1")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings(str(path), env={})


def test_missing_file_is_reported(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        load_settings(str(tmp_path / "nope.toml"), env={})


def test_environment_overrides_the_file(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text('[github]\nwebhook_secret = "from-file"\n[database]\nurl = "sqlite:///a.db"')
    env = {"COBOT_GITHUB_WEBHOOK_SECRET": "from-env", "COBOT_DATABASE_URL": "postgresql://x/y",
           "COBOT_GITEE_WEBHOOK_SECRET": "g", "COBOT_GITHUB_TOKEN": "t1", "COBOT_GITEE_TOKEN": "t2"}
    settings = load_settings(str(path), env=env)
    assert settings.github.webhook_secret == "from-env"
    assert settings.database.url == "postgresql://x/y"
    assert (settings.gitee.webhook_secret, settings.github.token, settings.gitee.token) == ("g", "t1", "t2")


def test_secrets_are_not_in_the_settings_repr():
    settings = load_settings(str(EXAMPLE), env={"COBOT_GITHUB_TOKEN": "ghp_secret", "COBOT_GITEE_WEBHOOK_SECRET": "s3"})
    assert "ghp_secret" not in repr(settings) and "s3" not in repr(settings)


def test_config_path_from_the_environment(tmp_path, monkeypatch):
    path = tmp_path / "other.toml"
    path.write_text('[community]\nname = "From env"')
    monkeypatch.setenv("COBOT_CONFIG", str(path))
    assert load_settings(None, env={}).community.name == "From env"


# -- campaigns -------------------------------------------------------------------------------------------------------

REPOS = """
[[community.repos]]
platform = "github"
name = "acme/rocket"

[[community.repos]]
platform = "gitee"
name = "acme/engine"
"""


MILESTONE = """[[campaigns.milestones]]
id = "first-pr"
due = 2026-11-10T00:00:00Z
[[campaigns.milestones.criteria]]
event = "pr.opened"
"""
WINDOWS = {"hackathon": {"start": "2026-11-01T00:00:00Z", "end": "2026-11-15T00:00:00Z",
                         "repos": '["github:acme/rocket"]', "milestones": ""},
           "training_camp": {"start": "2026-11-01T00:00:00Z", "end": "2026-11-15T00:00:00Z",
                             "milestones": MILESTONE},
           "leaderboard": {"start": "2026-11-01T00:00:00Z", "milestones": ""}}


def campaign(kind: str, name: str = "spring", **values: str | int) -> str:
    """One [[campaigns]] table: a hackathon on github:acme/rocket, a camp with one milestone, or a leaderboard,
    from 2026-11-01 to 2026-11-15 (UTC); `values` (TOML text: `'"x"'`, `-1`) are added or replace those."""
    settings = {**WINDOWS[kind], **values}
    milestones = settings.pop("milestones")
    lines = [f'name = "{name}"', f'kind = "{kind}"', *(f"{key} = {value}" for key, value in settings.items())]
    return "\n[[campaigns]]\n" + "\n".join(lines) + f"\n{milestones}"


def milestone(id_: str, due: str) -> str:
    return MILESTONE.replace('"first-pr"', f'"{id_}"').replace("2026-11-10T00:00:00Z", due)


@pytest.mark.parametrize(("text", "key", "problem"), [
    (campaign("hackathon", end="2026-10-25T00:00:00Z"), "end", "must be after start"),
    (campaign("hackathon", end="2026-11-01T00:00:00Z"), "end", "must be after start"),
    (campaign("training_camp", start="2026-11-01T00:00:00", end="2026-10-31T00:00:00", timezone='"Asia/Shanghai"'),
     "end", "must be after start"),
    (campaign("hackathon", name="a") + campaign("hackathon", name="b", start="2026-11-14T00:00:00Z",
                                                end="2026-11-20T00:00:00Z"),
     "campaigns[1].start", "'b' overlaps 'a' on the same repos"),
    (campaign("hackathon", name="a", repos="[]") + campaign("hackathon", name="b"),  # no repos: every repo
     "campaigns[1].start", "'b' overlaps 'a'"),
    (campaign("hackathon", repos='["acme/nope"]'), "campaigns[0].repos", "'acme/nope' is not in [[community.repos]]"),
    (campaign("hackathon", repos='["gitee:acme/rocket"]'), "campaigns[0].repos", "'gitee:acme/rocket' is not in"),
    (campaign("training_camp", repos='["acme/rocket", "acme/nope"]'), "campaigns[0].repos", "'acme/nope'"),
    (campaign("hackathon", points="{ easy = 10, hard = -5 }"), "points", "'hard': points cannot be negative"),
    (campaign("hackathon", default_points=-1), "default_points", "greater than or equal to 0"),
    (campaign("hackathon", tasks='[{ issue = "github:acme/rocket#1", points = -3 }]'), "tasks.0.points",
     "greater than or equal to 0"),
    (campaign("hackathon", tasks='[{ issue = "github:acme/rocket#1" }, { issue = "gitee:acme/engine#I4CYEO" }]'),
     "campaigns[0].tasks[1].issue", "acme/engine is not one of the campaign's repos"),
    (campaign("hackathon", tasks='[{ issue = "acme/rocket#1" }]'), "tasks.0.issue", "github:owner/repo#NUMBER"),
    (campaign("hackathon", task_label='""'), "tasks", "needs a task_label or a task table"),
    (campaign("training_camp", milestones=milestone("late", "2026-11-16T00:00:00Z")), "milestones[0].due",
     "must be after start and no later than end"),
    (campaign("training_camp", milestones=milestone("early", "2026-11-01T00:00:00Z")), "milestones[0].due",
     "must be after start"),
    (campaign("training_camp",
              milestones=milestone("m", "2026-11-05T00:00:00Z") + milestone("m", "2026-11-09T00:00:00Z")),
     "milestones[1].id", "'m' is used twice"),
    (campaign("training_camp", milestones=""), "milestones", "Field required"),
    (campaign("training_camp", milestones="milestones = []\n"), "milestones", "at least 1 item"),
    (campaign("training_camp", badge='"gold-star"'), "campaigns[0].badge", "unknown badge 'gold-star'"),
    (campaign("training_camp", participants='["github:alice", "bob"]'), "participants",
     "'bob': a participant is github:LOGIN or gitee:LOGIN"),
    (campaign("training_camp", participants='["gitlab:carol"]'), "participants", "'gitlab:carol'"),
    (campaign("hackathon", timezone='"Mars/Olympus"'), "timezone", "unknown time zone 'Mars/Olympus'"),
    (campaign("training_camp", timezone='"Asia/Beijing"'), "timezone", "unknown time zone 'Asia/Beijing'"),
    (campaign("hackathon", timezone='"Europe"'), "timezone", "unknown time zone 'Europe'"),
    (campaign("leaderboard", by='"points"', points_from='"nope"'), "campaigns[0].points_from",
     "no hackathon named 'nope'"),
    (campaign("training_camp", name="camp") + campaign("leaderboard", by='"points"', points_from='"camp"'),
     "campaigns[1].points_from", "no hackathon named 'camp'"),
    (campaign("leaderboard", by='"points"'), "points_from", "ranking by points needs the name of a hackathon"),
    (campaign("leaderboard", period='"campaign"'), "end", "a campaign-long leaderboard needs an end"),
    (campaign("leaderboard", name="Spring Board"), "name", "lower-case letters, digits and dashes"),
    (campaign("leaderboard", name="twice") + campaign("leaderboard", name="twice"), "campaigns[1].name",
     "'twice' is already campaigns[0]"),
    (campaign("leaderboard", kind_of='"x"'), "kind_of", "Extra inputs are not permitted"),
], ids=["end before start", "end at start", "local end before start", "overlapping hackathons",
        "overlapping, one on every repo", "repo not in community", "repo on another forge", "camp repo",
        "negative points", "negative default points", "negative task points", "task on a repo not covered",
        "task not a thread", "no tasks at all", "milestone after the end", "milestone at the start",
        "milestone id twice", "no milestones", "empty milestones", "unknown badge", "participant without a forge",
        "participant on an unknown forge", "unknown time zone", "unknown camp time zone", "time zone directory",
        "points from nothing", "points from a camp", "points without a hackathon", "campaign-long without end",
        "name not a slug", "name twice", "unknown key"])
def test_a_bad_campaign_stops_start_up_naming_the_key(tmp_path, text, key, problem):
    path = tmp_path / "config.toml"
    path.write_text(REPOS + text)
    with pytest.raises(ConfigError) as error:
        load_settings(str(path), env={})
    message = str(error.value)
    assert str(path) in message
    [line] = [line for line in message.splitlines()[1:] if problem in line]
    assert key in line.split(problem)[0], message


def test_campaigns_that_fit_together_load(tmp_path):
    """Back-to-back hackathons on one repo, and overlapping ones on different repos; a camp's milestone due at its
    end; a window read in the campaign's time zone; a leaderboard counting a hackathon's points."""
    path = tmp_path / "config.toml"
    path.write_text(REPOS
                    + campaign("hackathon", name="first")
                    + campaign("hackathon", name="second", start="2026-11-15T00:00:00Z", end="2026-11-29T00:00:00Z")
                    + campaign("hackathon", name="gitee-hack", repos='["gitee:acme/engine"]',
                               tasks='[{ issue = "gitee:acme/engine#I4CYEO", points = 30 }]')
                    + campaign("training_camp", name="camp", start="2026-11-01T09:00:00", end="2026-11-15T09:00:00",
                               timezone='"Asia/Shanghai"', participants='["github:alice", "gitee:bob"]',
                               milestones=milestone("last", "2026-11-15T09:00:00"))
                    + campaign("leaderboard", name="points", by='"points"', points_from='"first"'))
    settings = load_settings(str(path), env={})
    assert [(c.name, c.kind) for c in settings.campaigns] == [
        ("first", "hackathon"), ("second", "hackathon"), ("gitee-hack", "hackathon"), ("camp", "training_camp"),
        ("points", "leaderboard")]
    camp = settings.campaign("camp")
    assert camp.start == datetime(2026, 11, 1, 1, tzinfo=UTC)  # 09:00 in Shanghai (UTC+8)
    assert camp.milestones[0].due == camp.end == datetime(2026, 11, 15, 1, tzinfo=UTC)
    assert settings.campaign("gitee-hack").tasks[0].points == 30


# -- include ---------------------------------------------------------------------------------------------------------

def test_campaigns_are_pulled_from_included_files(tmp_path, monkeypatch):
    """Patterns are read beside the config file (not the working directory), their files in name order, after the
    config's own campaigns."""
    (tmp_path / "campaigns").mkdir()
    (tmp_path / "campaigns" / "b-camp.toml").write_text(campaign("training_camp", name="camp"))
    (tmp_path / "campaigns" / "a-hack.toml").write_text(campaign("hackathon", name="hack"))
    (tmp_path / "campaigns" / "notes.txt").write_text("not a config")
    (tmp_path / "boards.toml").write_text(campaign("leaderboard", name="board", by='"points"', points_from='"hack"'))
    path = tmp_path / "config.toml"
    path.write_text('include = ["campaigns/*.toml", "boards.toml"]\n' + REPOS
                    + campaign("leaderboard", name="weekly"))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    settings = load_settings(str(path), env={})
    assert [(c.name, c.kind) for c in settings.campaigns] == [
        ("weekly", "leaderboard"), ("hack", "hackathon"), ("camp", "training_camp"), ("board", "leaderboard")]


def test_an_include_that_matches_no_file_is_an_error(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text('include = ["campaigns/*.toml"]\n' + REPOS)
    with pytest.raises(ConfigError) as error:
        load_settings(str(path), env={})
    assert "include: 'campaigns/*.toml' matches no file" in str(error.value) and str(path) in str(error.value)


@pytest.mark.parametrize(("text", "key"), [
    ('[server]\nport = 8081\n', "server"),
    (REPOS, "community"),
    ('include = ["more/*.toml"]\n', "include"),
    ('title = "loose"\n' + campaign("hackathon", name="hack"), "title"),
])
def test_an_included_file_holds_campaigns_only(tmp_path, text, key):
    (tmp_path / "extra.toml").write_text(text)
    path = tmp_path / "config.toml"
    path.write_text('include = ["extra.toml"]\n' + REPOS)
    with pytest.raises(ConfigError) as error:
        load_settings(str(path), env={})
    assert f"{key}: an included file holds [[campaigns]] only" in str(error.value)
    assert str(tmp_path / "extra.toml") in str(error.value)


def test_a_bad_campaign_in_an_included_file_names_its_key(tmp_path):
    (tmp_path / "extra.toml").write_text(campaign("hackathon", name="hack", repos='["acme/nope"]'))
    path = tmp_path / "config.toml"
    path.write_text('include = ["extra.toml"]\n' + REPOS + campaign("leaderboard", name="weekly"))
    with pytest.raises(ConfigError, match=r"campaigns\[1\]\.repos: 'acme/nope' is not in \[\[community\.repos\]\]"):
        load_settings(str(path), env={})
    (tmp_path / "extra.toml").write_text("[[campaigns]\n")
    with pytest.raises(ConfigError, match="extra.toml is not valid TOML"):
        load_settings(str(path), env={})


def test_an_absolute_include_pattern(tmp_path):
    (tmp_path / "extra.toml").write_text(campaign("leaderboard", name="board"))
    path = tmp_path / "config.toml"
    path.write_text(f'include = ["{tmp_path}/*.toml"]\n' + REPOS)
    assert [c.name for c in load_settings(str(path), env={}).campaigns] == ["board"]


@pytest.mark.parametrize("include", ['"campaigns/*.toml"', "[1]"])
def test_include_must_be_a_list_of_patterns(tmp_path, include):
    path = tmp_path / "config.toml"
    path.write_text(f"include = {include}\n")
    with pytest.raises(ConfigError, match="include: must be a list of file patterns"):
        load_settings(str(path), env={})
