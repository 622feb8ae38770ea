"""Headless Chromium for the report's browser tests, and one page of each kind.

The rule for a missing browser: under CI (the environment variable ``CI`` set, as ``.ci/run``
does, which also installs Debian's ``chromium``) the tests fail; elsewhere they skip, saying
why. The browser is found as ``$ACCELSCOPE_CHROMIUM``, ``chromium`` on the PATH or
``/usr/bin/chromium``, and driven by Playwright's Python API (no browser download)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

import accelscope
from tests.unit.test_report_html import validate_doc

ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]


def chromium() -> str | None:
    for c in (os.environ.get("ACCELSCOPE_CHROMIUM"), shutil.which("chromium"),
              shutil.which("chromium-browser"), "/usr/bin/chromium"):
        if c and Path(c).is_file():
            return c
    return None


def _missing(why: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"{why}; CI runs the browser tests (.ci/run installs chromium)")
    pytest.skip(f"{why} (apt-get install -y chromium, or set ACCELSCOPE_CHROMIUM; under CI "
                "this fails instead)")


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("the playwright package is not installed (pip install -e '.[dev]')")
    exe = chromium()
    if exe is None:
        _missing("no Chromium found")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=exe, args=ARGS)
        yield b
        b.close()


@dataclass
class Page:
    kind: str
    path: Path
    data: Any


@pytest.fixture(scope="session")
def pages(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Page]:
    """One page of each kind, with what it was made of."""
    d = tmp_path_factory.mktemp("pages")
    net = accelscope.prepare("tiny", prune="0.7")
    run = accelscope.evaluate(net, "spots")
    accelscope.report(run, d / "run.html", chain=net)
    cmp = accelscope.compare(net, ["ideal", "spots", "eyeriss", "cpu"])
    accelscope.report(cmp, d / "compare.html", chain=net)
    doc = validate_doc()
    accelscope.report(doc, d / "validate.html")
    space = {"name": "tiny-bw", "base": "ideal",
             "workload": {"networks": ["tiny"], "mode": "statistical"},
             "axes": {"dram.bandwidth_bits_per_cycle": [16, 32, 64, 128],
                      "clock_hz": [2.5e8, 1e9]},
             "objectives": ["latency", "energy"]}
    accelscope.sweep(space, out=d / "sweep", workers=1)
    with accelscope.open_store(d / "sweep") as st:
        rows = st.to_dataframe()
    accelscope.report(d / "sweep", d / "sweep.html")
    return {"run": Page("run", d / "run.html", run),
            "compare": Page("compare", d / "compare.html", cmp),
            "validate": Page("validate", d / "validate.html", doc),
            "sweep": Page("sweep", d / "sweep.html", rows)}
