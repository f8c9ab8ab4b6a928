"""Docs are tested: every CLI command and every exit code appears in README.md or docs/*.md."""

from __future__ import annotations

import re

import dataclasses

import click

from conftest import ROOT
from pipeline.cli import cli
from pipeline.errors import EXIT_CODES
from pipeline.config import Config


def _docs() -> str:
    files = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    return "\n".join(f.read_text(encoding="utf-8") for f in files if f.is_file())


def _commands(group: click.Group, prefix: str = "iceberg") -> list[str]:
    names = []
    for name, command in sorted(group.commands.items()):
        path = f"{prefix} {name}"
        names.append(path)
        if isinstance(command, click.Group):
            names += _commands(command, path)
    return names


def test_every_command_is_documented():
    docs = _docs()
    commands = _commands(cli)
    assert {"iceberg run", "iceberg show", "iceberg diff", "iceberg runs list", "iceberg runs show"} <= set(commands)
    missing = [c for c in commands if c not in docs]
    assert not missing, f"undocumented commands: {missing}"


def test_every_run_option_is_documented():
    docs = _docs()
    options = [opt for p in cli.commands["run"].params for opt in p.opts if opt.startswith("--")]
    missing = [o for o in options if o not in docs]
    assert not missing, f"undocumented `iceberg run` options: {missing}"


def test_every_exit_code_is_documented():
    docs = _docs()
    missing = [code for code in EXIT_CODES if not re.search(rf"^\|\s*`?{code}`?\s*\|", docs, re.M)]
    assert not missing, f"exit codes without a row in a docs table: {missing}"


def test_every_setting_is_documented():
    docs = _docs()
    settings = [f"{section.name}.{key.name}" for section in dataclasses.fields(Config)
                for key in dataclasses.fields(section.type if isinstance(section.type, type)
                                              else type(getattr(Config(), section.name)))]
    missing = [s for s in settings if f"`{s}`" not in docs]
    assert not missing, f"settings missing from README.md/docs: {missing}"
