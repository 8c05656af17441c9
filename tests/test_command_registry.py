"""The command registry: the README's tables come from it, and every command is described in both languages."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.commands.registry import COMMAND_LIST, COMMANDS, SLACK_LIST, markdown_table, readme_tables
from bot.settings.commands import COMMAND_NAMES, Role

README = Path(__file__).resolve().parents[1] / "README.md"


def test_the_readme_command_tables_are_the_registrys():
    text = README.read_text()
    found = re.search(r"<!-- commands:begin -->\n(.*?)\n<!-- commands:end -->", text, re.S)
    assert found, "README.md must hold the command tables between <!-- commands:begin --> and <!-- commands:end -->"
    assert found.group(1) == readme_tables(), "run `python -m bot.commands.registry` and paste its output"


@pytest.mark.parametrize("spec", [*COMMAND_LIST, *SLACK_LIST], ids=lambda spec: spec.usage)
def test_every_command_says_what_it_does_in_both_languages_with_an_example(spec):
    assert spec.summary["en"] and spec.summary["zh"] and spec.examples
    assert all(example.startswith("/") for example in spec.examples)


def test_the_help_table_in_chinese_and_with_a_role_changed_by_config():
    table = markdown_table(COMMAND_LIST, "zh", {"claim": "maintainer"})
    assert table.splitlines()[0] == "| 命令 | 谁可以使用 | 作用 | 示例 |"
    assert "| `/claim` | 维护者 | 认领这个 Issue（将它分配给你） | `/claim` |" in table


def test_roles_are_ordered():
    assert Role.CONTRIBUTOR < Role.TRIAGER < Role.MAINTAINER
    assert Role.named("triager") is Role.TRIAGER


def test_the_commands_config_may_name_are_the_commands_the_registry_defines():
    assert tuple(COMMANDS) == COMMAND_NAMES
