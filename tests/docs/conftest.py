"""Fixtures of the docs tests: a scratch checkout root per page, the commands of the pages run
once each (in-process for ``accelscope``, a subprocess for ``python``), and the summary of
what was checked and skipped."""

from __future__ import annotations

import contextlib
import io
import os
import shlex
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.docs.mdblocks import ROOT

LINKED = ("examples", "bench")
"""What the scratch checkout root holds: the docs' commands use these paths."""

STATS: dict[str, int] = {"commands": 0, "python": 0, "numbers": 0, "prose": 0}
SKIPPED: list[str] = []


class Runner:
    def __init__(self, base: Path) -> None:
        self.base = base
        self.dirs: dict[str, Path] = {}
        self.cache: dict[tuple[str, str], tuple[int, str]] = {}
        """(page, command without its comment) -> (exit status, output)."""

    def scratch(self, page: str) -> Path:
        """A directory standing for the checkout root, one per page (its outputs stay)."""
        if page not in self.dirs:
            d = self.base / page.replace("/", "_")
            d.mkdir()
            for name in LINKED:
                (d / name).symlink_to(ROOT / name)
            self.dirs[page] = d
        return self.dirs[page]

    def run(self, page: str, command: str, timeout: float = 1800) -> tuple[int, str]:
        """Exit status and everything printed (stdout and stderr in order) of ``command``,
        run from the page's scratch root; each command runs once per page."""
        cwd = self.scratch(page)
        key = (page, shlex.join(shlex.split(command, comments=True)))
        if key not in self.cache:
            self.cache[key] = self._run(command, cwd, timeout)
        return self.cache[key]

    def _run(self, command: str, cwd: Path, timeout: float) -> tuple[int, str]:
        argv = shlex.split(command, comments=True)
        if argv[0] == "accelscope":
            return _in_process(argv[1:], cwd)
        if argv[0] in ("python", "python3", ".venv/bin/python"):
            argv[0] = sys.executable
            env = {**os.environ, "MPLBACKEND": "Agg", "PYTHONPATH": str(ROOT)}
            p = subprocess.run(argv, cwd=cwd, capture_output=False, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True, timeout=timeout, env=env)
            return p.returncode, p.stdout
        raise AssertionError(f"{command!r}: the docs tests run accelscope and python "
                             "commands; mark the block skip=\"why\"")


def _in_process(args: list[str], cwd: Path) -> tuple[int, str]:
    from accelscope.cli import main

    buf = io.StringIO()
    old = Path.cwd()
    rc = 0
    try:
        os.chdir(cwd)
        with contextlib.redirect_stdout(buf), contextlib.redirect_stderr(buf):
            try:
                main(args)
            except SystemExit as e:
                rc = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    finally:
        os.chdir(old)
    return rc, buf.getvalue()


@pytest.fixture(scope="session")
def runner(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runner]:
    yield Runner(tmp_path_factory.mktemp("docs"))


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    if not any(STATS.values()) and not SKIPPED:
        return
    tr = terminalreporter
    tr.write_sep("-", "docs as tests")
    tr.write_line(f"{STATS['commands']} commands and {STATS['python']} python blocks run; "
                  f"{STATS['numbers']} shown numbers and {STATS['prose']} prose numbers "
                  "compared with what the tool printed")
    if SKIPPED:
        tr.write_line(f"{len(SKIPPED)} blocks marked skip:")
        for s in SKIPPED:
            tr.write_line(f"  {s}")
