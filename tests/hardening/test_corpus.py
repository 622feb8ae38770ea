"""Run the bad-input corpus (``corpus.py``): every case must give exit code 2 with a located
``error:`` message matching its pattern (the Python API: an ``AccelscopeError``), nothing
written outside the case's output directory. Prints the count line of issue 23."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from accelscope import cli
from accelscope.errors import AccelscopeError
from tests.hardening.corpus import CASES, KNOWN_OPEN, Case

REPO = Path(__file__).parents[2]


def _tree(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")}


def _setup(c: Case, d: Path) -> list[str]:
    d.mkdir(parents=True)
    (d / "cwd").mkdir()
    for name, content in c.files.items():
        p = d / name
        p.parent.mkdir(parents=True, exist_ok=True)
        if callable(content):
            content(p)
        elif isinstance(content, bytes):
            p.write_bytes(content)
        else:
            p.write_text(content, encoding="utf-8")
    return [a.replace("{d}", str(d)) for a in c.args]


def _run_cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int | str, str]:
    try:
        cli.main(args)
    except SystemExit as exc:
        _, err = capsys.readouterr()
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        return code, err
    except BaseException as exc:
        capsys.readouterr()
        return f"uncaught {type(exc).__name__}: {exc}", ""
    capsys.readouterr()
    return 0, ""


def _classify(c: Case, d: Path, capsys: pytest.CaptureFixture[str],
              monkeypatch: pytest.MonkeyPatch) -> tuple[str, str]:
    """(outcome, detail): outcome is located, mismatch, traceback or silent."""
    args = _setup(c, d)
    monkeypatch.chdir(d / "cwd")  # a default out/ lands in the case's own directory
    if c.call is not None:
        try:
            c.call(d)
        except AccelscopeError as exc:
            msg = str(exc)
            return ("located" if re.search(c.pattern, msg, re.S) else "mismatch"), msg
        except Exception as exc:
            return "traceback", f"{type(exc).__name__}: {exc}"
        return "silent", "no error raised"
    if c.subprocess:
        env = {**os.environ, "COLUMNS": "200"}
        r = subprocess.run([sys.executable, "-m", "accelscope", *args], capture_output=True,
                           text=True, timeout=120, cwd=d / "cwd", env=env)
        code, err = r.returncode, r.stderr
    else:
        code, err = _run_cli(args, capsys)
    if isinstance(code, str) or code == 3:
        return "traceback", f"{code}: {err.strip()[:400]}"
    if code == 0:
        return "silent", "exit 0"
    flat = " ".join(err.split())
    ok = flat.startswith("error:") or "Usage:" in flat
    if code == c.code and ok and re.search(c.pattern, flat, re.S):
        return "located", flat
    return "mismatch", f"exit {code}: {flat[:400]}"


def test_bad_input_corpus(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                          capsys: pytest.CaptureFixture[str]) -> None:
    counts: Counter[str] = Counter()
    by_cat: dict[str, Counter[str]] = {}
    problems = []
    repo_before = set(os.listdir(REPO))
    for i, c in enumerate(CASES):
        d = tmp_path / f"c{i:03d}"
        before = _tree(tmp_path)
        try:
            outcome, detail = _classify(c, d, capsys, monkeypatch)
        finally:
            monkeypatch.chdir(tmp_path)
        # an escape: a path written anywhere but the case's output directories
        allowed = {d.name, f"{d.name}/cwd"}
        for name in c.files:
            parts = Path(name).parts
            allowed |= {"/".join((d.name, *parts[:k])) for k in range(1, len(parts) + 1)}
        outs = (f"{d.name}/out", f"{d.name}/cwd/out", f"{d.name}/cwd/.out",
                f"{d.name}/.out")
        new = {p for p in _tree(tmp_path) - before
               if p not in allowed and not p.startswith(outs)}
        new |= {"<checkout>/" + x for x in set(os.listdir(REPO)) ^ repo_before}
        if new:
            outcome, detail = "escape", f"wrote {sorted(new)[:5]}"
        counts[outcome] += 1
        by_cat.setdefault(c.category, Counter())[outcome] += 1
        if outcome != "located":
            problems.append(f"[{c.category}] {c.id}: {outcome}: {detail}")
    open_lines = []
    for j, c in enumerate(KNOWN_OPEN):  # reported, not counted (see corpus.KNOWN_OPEN)
        try:
            outcome, _ = _classify(c, tmp_path / f"open{j:02d}", capsys, monkeypatch)
        finally:
            monkeypatch.chdir(tmp_path)
        open_lines.append(f"  known open, not counted: [{c.category}] {c.id}: {outcome}")
    n = len(CASES)
    for cat, k in by_cat.items():
        print(f"  {cat}: {sum(k.values())} bad inputs: {k['located']} located, "
              f"{k['traceback']} tracebacks, {k['silent']} silent, {k['escape']} escapes"
              + (f", {k['mismatch']} with a wrong message" if k["mismatch"] else ""))
    for p in problems:
        print("  " + p)
    for line in open_lines:
        print(line)
    print(f"{n} bad inputs: {counts['located']} located, {counts['traceback']} tracebacks, "
          f"{counts['silent']} silent, {counts['escape']} escapes")
    assert n >= 200
    assert counts["traceback"] == counts["silent"] == counts["escape"] == 0, problems
    assert counts["located"] == n, problems
