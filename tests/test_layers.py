"""The layout's rules, kept by the suite: the import-linter contracts in pyproject.toml (each layer imports only the
layers below it; no import cycle in any package), every part of cobot placed in a layer, and no module over 400
lines (generated migrations aside)."""

from __future__ import annotations

import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from importlinter.api import read_configuration

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("bot", "handlers", "campaigns")
MAX_LINES = 400


def lint_imports(where: Path) -> subprocess.CompletedProcess[str]:
    command = shutil.which("lint-imports") or str(Path(sys.executable).with_name("lint-imports"))
    return subprocess.run([command, "--no-cache"], cwd=where, capture_output=True, text=True, timeout=120,
                          env={"PATH": str(Path(sys.executable).parent), "PYTHONPATH": str(where)})


def test_the_import_contracts_hold():
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 kept, 0 broken" in result.stdout


def _contract(kind: str) -> dict:
    contracts = read_configuration(str(ROOT / "pyproject.toml"))["contracts_options"]
    return next(contract for contract in contracts if contract["type"] == kind)


def test_every_part_of_cobot_has_a_layer():
    layered = {name.strip() for layer in _contract("layers")["layers"] for name in layer.replace(":", "|").split("|")}
    parts = {"handlers", "campaigns"}
    for child in (ROOT / "bot").iterdir():
        if child.is_dir() and (child / "__init__.py").exists():
            parts.add(f"bot.{child.name}")
        elif child.suffix == ".py" and child.name != "__init__.py":
            parts.add(f"bot.{child.stem}")
    assert parts - layered == set(), "add these to a layer in pyproject.toml"
    assert layered - parts == set(), "these layers name nothing"


def test_every_package_is_kept_free_of_cycles():
    assert set(_contract("acyclic_siblings")["ancestors"]) == set(PACKAGES)


def test_a_broken_layer_or_a_cycle_fails(tmp_path):
    """The contracts are not vacuous: the same two kinds, on a package with an upward import that is a cycle too."""
    package = tmp_path / "shop"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "web.py").write_text("from shop import store\n")
    (package / "store.py").write_text("def read():\n    from shop import web  # upward, and a cycle\n")
    (tmp_path / ".importlinter").write_text(textwrap.dedent("""\
        [importlinter]
        root_package = shop

        [importlinter:contract:layers]
        name = layers
        type = layers
        layers =
            shop.web
            shop.store

        [importlinter:contract:acyclic]
        name = acyclic
        type = acyclic_siblings
        ancestors = shop
        """))
    result = lint_imports(tmp_path)
    assert result.returncode == 1
    assert "0 kept, 2 broken" in result.stdout
    assert "shop.store -> shop.web" in result.stdout


def _modules() -> list[Path]:
    found = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "migrations" not in path.relative_to(ROOT).parts:
                found.append(path)
    return found


@pytest.mark.parametrize("path", _modules(), ids=lambda path: str(path.relative_to(ROOT)))
def test_no_module_is_over_400_lines(path):
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_LINES, f"{path.relative_to(ROOT)} has {lines} lines: split it by what its parts do"
