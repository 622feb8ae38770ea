"""Every console and python block of the README and docs/*.md runs, and the output a page
shows is what the tool prints today (tests/docs/mdblocks.py says how blocks are found and
marked). ``pytest -m slow tests/docs`` runs the heavy ones."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap

import pytest

from tests.docs.conftest import SKIPPED, STATS, Runner
from tests.docs.mdblocks import (
    QUIET_LANGS,
    ROOT,
    RUN_LANGS,
    Block,
    NumbersCheck,
    all_pages,
    match,
)

PAGES = all_pages()
BLOCKS = [b for p in PAGES for b in p.blocks if b.lang in RUN_LANGS]
CHECKS = [c for p in PAGES for c in p.checks]


def _param(item: Block | NumbersCheck) -> object:
    d = item.directives
    marks = []
    if d.skip:
        SKIPPED.append(f"{item.id}: {d.skip}")
        marks.append(pytest.mark.skip(reason=f"marked skip in the page: {d.skip}"))
    if d.slow:
        marks.append(pytest.mark.slow)
    return pytest.param(item, id=item.id, marks=marks)


def test_every_fence_has_a_language() -> None:
    """A fence without a language could hide a command from these tests."""
    bad = [f"{p.path}:{line}" for p in PAGES for line in p.unlabelled]
    known = RUN_LANGS | QUIET_LANGS
    bad += [f"{b.id} ({b.lang})" for p in PAGES for b in p.blocks if b.lang not in known]
    assert not bad, ("fences with no or an unknown language (console: commands with their "
                     f"output; python: snippets; text, yaml, ...: not run): {', '.join(bad)}")


def test_no_command_outside_console_blocks() -> None:
    """Commands are shown in console blocks (run) and never as '$ ' lines elsewhere."""
    bad = [b.id for p in PAGES for b in p.blocks if b.lang != "console" and any(
        line.startswith("$ ") for line in b.text.splitlines())]
    assert not bad, f"'$ ' command lines outside a console block: {', '.join(bad)}"


@pytest.mark.parametrize("block", [_param(b) for b in BLOCKS])
def test_block(block: Block, runner: Runner) -> None:
    for cmd in block.directives.setup:
        rc, out = runner.run(block.page, cmd)
        assert rc == 0, f"{block.id}: setup {cmd!r} exited {rc}:\n{out}"
    if block.lang == "console":
        _console(block, runner)
    else:
        _python(block, runner)


def _console(block: Block, runner: Runner) -> None:
    commands = block.commands()
    assert commands, f"{block.id}: a console block without a '$ ' command"
    for cmd, shown in commands:
        rc, out = runner.run(block.page, cmd)
        STATS["commands"] += 1
        assert rc == block.directives.exit, (f"{block.id}: {cmd!r} exited {rc}, the page "
                                             f"expects {block.directives.exit}:\n{out}")
        compared, why = match(shown, out, block.directives.volatile)
        if why is not None:
            pytest.fail(f"{block.id}: {cmd}\n{why}\n--- printed ---\n{out}", pytrace=False)
        STATS["numbers"] += compared


def _python(block: Block, runner: Runner) -> None:
    cwd = runner.scratch(block.page)
    env = {**os.environ, "MPLBACKEND": "Agg"}
    code = textwrap.dedent(block.text)
    p = subprocess.run([sys.executable, "-c", code], cwd=cwd, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True, timeout=1800, env=env)
    STATS["python"] += 1
    assert p.returncode == 0, f"{block.id}: the snippet failed:\n{p.stdout}"
    if block.expected_output is not None:
        shown = block.expected_output.text.splitlines()
        compared, why = match(shown, p.stdout, block.directives.volatile)
        if why is not None:
            pytest.fail(f"{block.id}: printed output\n{why}\n--- printed ---\n{p.stdout}",
                        pytrace=False)
        STATS["numbers"] += compared


def _present(item: str, text: str) -> bool:
    return re.search(rf"(?<![\w.,]){re.escape(item)}(?![\w]|[.,]\d)", text) is not None


@pytest.mark.parametrize("check", [_param(c) for c in CHECKS])
def test_prose_numbers(check: NumbersCheck, runner: Runner) -> None:
    cmd = check.directives.cmd
    assert cmd is not None
    rc, out = runner.run(check.page, cmd)
    assert rc == 0, f"{check.id}: {cmd!r} exited {rc}:\n{out}"
    flat = " ".join(out.split())
    para = " ".join(check.paragraph.split())
    for item in check.directives.expect:
        assert _present(item, para), (f"{check.id}: {item!r} is not in the paragraph after "
                                      "the doctest-numbers comment")
        assert _present(item, flat), (f"{check.id}: the page says {item!r} but {cmd!r} "
                                      f"does not print it:\n{out}")
        STATS["prose"] += 1


def test_pages_found() -> None:
    """The README and every docs page are read (a renamed folder would test nothing)."""
    names = {p.path for p in PAGES}
    assert "README.md" in names and "docs/api.md" in names
    assert len(BLOCKS) >= 20
    assert ROOT.joinpath("docs").is_dir()
