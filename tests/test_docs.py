"""Docs are tested: every command, option, setting and exit code appears in README.md or docs/*.md.

Matching is exact: ``iceberg run`` is not found in "iceberg runs", ``--out`` not in
"--output". The commands are walked from the click tree, so a new command or option is
checked without touching this file.
"""

from __future__ import annotations

import re

import click
import pytest

from conftest import ROOT
from pipeline.cli import cli, main
from pipeline.config import settings
from pipeline.errors import EXIT_CODES


def _docs() -> str:
    files = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    return "\n".join(f.read_text(encoding="utf-8") for f in files if f.is_file())


DOCS = _docs()


def _commands(group: click.Group, path: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], click.Command]]:
    """(path, command) for the root and every command and sub-command below it."""
    found = [(path, group)] if not path else []
    for name, command in sorted(group.commands.items()):
        found.append(((*path, name), command))
        if isinstance(command, click.Group):
            found += _commands(command, (*path, name))
    return found


COMMANDS = _commands(cli)
OPTIONS = [(path, opt) for path, command in COMMANDS for param in command.params
           if isinstance(param, click.Option) for opt in (*param.opts, *param.secondary_opts)]
HELP_OPTIONS = cli.context_settings["help_option_names"]


def _name(path: tuple[str, ...]) -> str:
    return " ".join(("iceberg", *path))


def _exactly(text: str) -> re.Pattern[str]:
    """``text`` as a whole word: not followed or preceded by a letter, digit, "_" or "-"."""
    return re.compile(rf"(?<![\w-]){re.escape(text)}(?![\w-])")


@pytest.mark.parametrize("text, found, not_found", [
    ("iceberg run", ["`iceberg run --input x`", "iceberg run …", "(iceberg run)"],
     ["iceberg runs list", "iceberg run-x"]),
    ("--out", ["[--out DIR]", "--out=x", "`--out`"], ["--output", "--out-dir", "x--out"]),
    ("-q", ["`-q`", "[--quiet, -q]"], ["-quiet", "--q"]),
])
def test_exact_matching(text, found, not_found):
    assert all(_exactly(text).search(t) for t in found)
    assert not any(_exactly(text).search(t) for t in not_found)


def test_the_walk_finds_every_command():
    names = {_name(path) for path, _ in COMMANDS}
    assert {"iceberg", "iceberg run", "iceberg show", "iceberg diff", "iceberg runs", "iceberg runs list",
            "iceberg runs show"} <= names
    assert ((), "--version") in OPTIONS and (("runs", "list"), "--limit") in OPTIONS


@pytest.mark.parametrize("path", [p for p, _ in COMMANDS if p], ids=_name)
def test_every_command_is_documented(path):
    assert _exactly(_name(path)).search(DOCS), f"`{_name(path)}` is in no doc"


@pytest.mark.parametrize("path, option", OPTIONS, ids=lambda v: v if isinstance(v, str) else _name(v))
def test_every_option_is_documented_with_its_command(path, option):
    """The option appears on a line (a table row, a command line) that names its command."""
    command, flag = _exactly(_name(path)), _exactly(option)
    lines = [line for line in DOCS.splitlines() if command.search(line) and flag.search(line)]
    assert lines, f"no line of the docs shows `{_name(path)}` with `{option}`"


@pytest.mark.parametrize("option", HELP_OPTIONS)
def test_the_help_options_are_documented(option):
    assert _exactly(option).search(DOCS)


@pytest.mark.parametrize("path", [p for p, _ in COMMANDS], ids=_name)
def test_every_help_has_an_example_of_its_own_command(path, capsys):
    """``--help`` has an ``Examples:`` block with at least one line running that very command."""
    assert main([*path, "--help"]) == 0
    help_text = capsys.readouterr().out
    assert "Examples:" in help_text, f"`{_name(path)} --help` has no Examples: block"
    block = help_text.split("Examples:", 1)[1].split("\n\n", 1)[0]
    examples = [line.strip() for line in block.splitlines() if line.strip()]
    own = re.compile(rf"{re.escape(_name(path))}(\s|$)")
    assert any(own.match(line) for line in examples), f"no example starts with `{_name(path)}`: {examples}"


@pytest.mark.parametrize("code", list(EXIT_CODES))
def test_every_exit_code_is_in_a_table_row(code):
    assert re.search(rf"^\|\s*`?{code}`?\s*\|", DOCS, re.M), f"exit code {code} has no row in a docs table"


@pytest.mark.parametrize("dotted", [d for d, _ in settings()])
def test_every_setting_is_documented(dotted):
    assert f"`{dotted}`" in DOCS, f"setting `{dotted}` is missing from README.md/docs"


def _console_examples() -> list[tuple[str, str]]:
    """($ command, the error line it prints) from the docs' console blocks."""
    lines = DOCS.splitlines()
    return [(line[2:], following) for line, following in zip(lines, lines[1:])
            if line.startswith("$ ") and following.startswith("iceberg: error: setting ")]


@pytest.mark.parametrize("command, printed", [e for e in _console_examples() if "--config" not in e[0]])
def test_the_documented_error_messages_are_what_the_cli_prints(command, printed, tmp_path, monkeypatch,
                                                               capsys):
    import shlex

    words = shlex.split(command)
    while "=" in words[0]:
        name, _, value = words.pop(0).partition("=")
        monkeypatch.setenv(name, value)
    assert words[0] == "iceberg"
    monkeypatch.chdir(tmp_path)
    assert main(words[1:]) == 5
    assert capsys.readouterr().err.strip() == printed


def test_the_docs_show_error_messages():
    assert len([e for e in _console_examples() if "--config" not in e[0]]) >= 2
