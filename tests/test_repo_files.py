"""The README's set-up commands, .ci/run and the Dockerfile stay in step with what cobot is."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text()
    block = re.match(r"```sh\n(.*?)\n```", text, re.S)
    assert block, "the README must open with the set-up commands"
    return block.group(1).splitlines()


def test_readme_opens_with_exactly_two_commands():
    run, test = readme_commands()
    assert run.endswith("cobot demo")
    assert "pytest" in test


def test_ci_runs_the_readme_test_command():
    assert readme_commands()[1] in (ROOT / ".ci" / "run").read_text().splitlines()


def test_dockerfile_serves_as_a_non_root_user_with_a_healthcheck():
    text = (ROOT / "Dockerfile").read_text()
    assert text.count("FROM python:3.11-slim") == 1
    assert re.search(r"^USER (?!root)\w+", text, re.M)
    assert "HEALTHCHECK" in text and "/healthz" in text
    assert 'ENTRYPOINT ["cobot"]' in text and 'CMD ["serve"]' in text
