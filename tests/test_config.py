"""Configuration: the example starts as is, bad values name their key, environment variables override."""

from __future__ import annotations

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
