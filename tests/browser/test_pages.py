"""Each kind of report page in headless Chromium (tests/browser/conftest.py): it loads from a
file:// URL with every request outside the file refused, the console stays free of errors,
every plot draws as many traces (and bars or points) as its data has, a table sorts, a hover
shows the expected values of a known point, a phone-width window needs no horizontal scroll,
and a screenshot is saved under the test's tmp dir."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from accelscope.report import html
from tests.browser.conftest import Page
from tests.unit.test_report_html import EVIL

ALL_RENDERED = ("Array.from(document.querySelectorAll('div.plot'))"
                ".every(d => d.hasAttribute('data-rendered'))")


@dataclasses.dataclass
class Opened:
    page: Any
    errors: list[str]
    outside: list[str]
    dialogs: list[str]


def open_page(browser: Any, path: Path, width: int = 1280) -> Iterator[Opened]:
    ctx = browser.new_context(viewport={"width": width, "height": 900}, offline=True)
    page = ctx.new_page()
    got = Opened(page, [], [], [])

    def route(r: Any) -> None:
        if r.request.url.startswith("file://"):
            r.continue_()
        else:
            got.outside.append(r.request.url)
            r.abort()

    page.route("**/*", route)
    page.on("console", lambda m: got.errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: got.errors.append(str(e)))
    page.on("dialog", lambda d: (got.dialogs.append(d.message), d.dismiss()))
    page.goto(path.as_uri())
    page.wait_for_function(ALL_RENDERED, timeout=30_000)
    try:
        yield got
    finally:
        ctx.close()


@pytest.fixture
def opened(request: pytest.FixtureRequest, browser: Any, pages: dict[str, Page]
           ) -> Iterator[tuple[Opened, Page]]:
    p = pages[request.param]
    for o in open_page(browser, p.path):
        yield o, p


def drawn(page: Any, plot_id: str) -> dict[str, Any]:
    """What Plotly drew in figure ``plot_id``: traces in its data, trace groups in the SVG,
    bars and scatter points, parallel-coordinates axes."""
    return page.evaluate("""id => {
        const d = document.querySelector('#fig-' + id + ' div.plot');
        return {data: d._fullData.length,
                groups: d.querySelectorAll('g.trace').length,
                bars: d.querySelectorAll('g.trace.bars g.point').length,
                points: d.querySelectorAll('g.trace.scatter path.point').length,
                axes: d.querySelectorAll('.parcoords .y-axis').length,
                ytype: d._fullLayout.yaxis ? d._fullLayout.yaxis.type : null};
    }""", plot_id)


def expected_plots(p: Page) -> dict[str, dict[str, int]]:
    """Per plot: traces and bars (or points, or axes) the data calls for."""
    if p.kind == "run":
        r = p.data
        n = len(r.layers)
        stalls = {k for x in r.layers for k in x.stall_cycles}
        comps = {k for x in r.layers for k in x.energy_pj}
        return {"cycles": {"data": 1 + len(stalls), "bars": n * (1 + len(stalls))},
                "energy": {"data": len(comps), "bars": n * len(comps)},
                "dram": {"data": 2}}
    if p.kind == "compare":
        c = p.data
        k = len(c.results)
        top = min(html.TOP_LAYERS, len(c.results[0][1].layers))
        return {"latency": {"data": 1, "bars": k}, "energy": {"data": 1, "bars": k},
                "dram": {"data": 1, "bars": k}, "layers-latency": {"data": k, "bars": k * top},
                "layers-energy": {"data": k, "bars": k * top}}
    if p.kind == "validate":
        out = {}
        groups = list(dict.fromkeys(t["group"] for t in p.data["targets"]))
        for i, g in enumerate(groups):
            rel = [t for t in p.data["targets"] if t["group"] == g
                   and t["criterion"] == "relative" and t["rel_error"] is not None]
            if rel:
                out[f"errors-{i}"] = {"data": len({t["verdict"] for t in rel}) + 1,
                                      "points": 2 * len(rel)}
        return out
    rows = p.data
    ok = rows[(rows["status"] == "ok") & (rows["feasible"] == 1)]
    nets = ok["network"].nunique()
    return {"scatter": {"data": 2 * nets},
            "parallel": {"data": 1, "axes": 2 + 2}}  # 2 swept axes + 2 objectives


KINDS = ["run", "compare", "validate", "sweep"]


@pytest.mark.parametrize("opened", KINDS, indirect=True)
def test_page_loads_offline_and_draws_every_plot(opened, tmp_path) -> None:
    o, p = opened
    page = o.page
    assert o.outside == [], f"requests outside the file: {o.outside}"
    assert o.errors == [], o.errors
    want = expected_plots(p)
    ids = page.evaluate("Array.from(document.querySelectorAll('figure.plot-box'))"
                        ".map(f => f.id.slice(4))")
    assert set(want) <= set(ids), (want, ids)
    for pid, counts in want.items():
        got = drawn(page, pid)
        for key, n in counts.items():
            assert got[key] == n, (pid, key, got)
        if "axes" not in counts:  # every cartesian trace has its group in the SVG
            assert got["groups"] == got["data"], (pid, got)
    shot = tmp_path / f"{p.kind}.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 20_000


SORTS = {"run": ("layers", "cycles"), "compare": ("totals", "energy mJ"),
         "validate": ("group-0", "error"), "sweep": ("points", "seconds")}


@pytest.mark.parametrize("opened", KINDS, indirect=True)
def test_a_table_sorts_by_a_column(opened) -> None:
    o, p = opened
    table, column = SORTS[p.kind]
    head = o.page.locator(f"#{table} thead th", has_text=re.compile(f"^{re.escape(column)}"))
    col = int(head.locator("button").get_attribute("data-col"))

    def values() -> list[float]:
        return o.page.evaluate(
            """([t, c]) => Array.from(document.querySelectorAll('#' + t + ' tbody tr'))
                 .map(r => r.children[c].getAttribute('data-v'))
                 .filter(v => v !== null).map(Number)""", [table, col])

    before = values()
    assert len(before) >= 2
    head.locator("button").click()
    assert head.get_attribute("aria-sort") == "ascending"
    assert values() == sorted(before)
    head.locator("button").click()
    assert head.get_attribute("aria-sort") == "descending"
    assert values() == sorted(before, reverse=True)


def hover_text(page: Any, plot_id: str, selector: str, index: int) -> str:
    # near the top of the element: a bar on a log axis reaches far below the plot area, so
    # its middle may be outside it
    target = page.locator(f"#fig-{plot_id} {selector}").nth(index)
    target.scroll_into_view_if_needed()
    box = target.bounding_box()
    assert box is not None
    target.hover(force=True, position={"x": box["width"] / 2, "y": min(3.0, box["height"] / 2)})
    hover = page.locator(f"#fig-{plot_id} .hoverlayer .hovertext")
    hover.first.wait_for(timeout=5_000)
    return str(hover.first.text_content())


@pytest.mark.parametrize("opened", KINDS, indirect=True)
def test_hover_shows_the_values_of_a_known_point(opened) -> None:
    o, p = opened
    page = o.page
    if p.kind == "run":
        r = p.data
        i = max(range(len(r.layers)), key=lambda j: r.layers[j].cycles)
        x = r.layers[i]
        text = hover_text(page, "cycles", "g.trace.bars:nth-of-type(1) g.point path", i)
        for want in (x.layer, f"kind {x.kind}", f"MACs {html.si(x.macs, 'MAC')}",
                     f"utilization {x.utilization:.1%}",
                     f"busy {x.cycles - x.total_stall_cycles:,} cycles"):
            assert want in text, (want, text)
        assert re.search(r"shape N\d+ G\d+ K\d+ C\d+", text), text
    elif p.kind == "compare":
        c = p.data
        i = c.labels.index("cpu")
        text = hover_text(page, "latency", "g.point path", i)
        row = c.rows[i]
        assert "cpu" in text and "model host" in text
        assert f"speed-up vs {c.baseline}: {row['speedup_vs_baseline']:.3g}x" in text, text
    elif p.kind == "validate":
        # the first group's figure: its 'ok' trace holds spots.latency (10 published, 10.5 ours)
        text = hover_text(page, "errors-0", "g.trace.scatter:nth-of-type(1) path.point", 0)
        for want in ("spots.latency", "published 10 ms", "ours 10.5 ms", "error 5%",
                     "tolerance 10%", "result ok"):
            assert want in text, (want, text)
    else:
        rows = p.data
        # the first point of the front (sorted by latency) is the fastest row
        x = page.evaluate("document.querySelector('#fig-scatter div.plot')._fullData[1].x[0]")
        assert x == pytest.approx(rows["seconds"].min())
        text = hover_text(page, "scatter", "g.trace.scatter:nth-of-type(2) path.point", 0)
        params = ["dram.bandwidth_bits_per_cycle", "clock_hz"]
        fastest = rows[rows["seconds"] == rows["seconds"].min()]
        assert any(all(f"{q} {html._fmt(row[q])}" in text for q in params)
                   for _, row in fastest.iterrows()), text
        assert "latency" in text and "energy" in text


@pytest.mark.parametrize("kind", KINDS)
def test_phone_width_needs_no_horizontal_scroll(browser, pages, kind) -> None:
    for o in open_page(browser, pages[kind].path, width=390):
        assert o.errors == []
        width = o.page.evaluate("document.documentElement.scrollWidth")
        assert width <= 392, f"{kind}: the page is {width} px wide at 390 px"


def test_user_text_shows_as_text_in_the_browser(browser, pages, tmp_path) -> None:
    r = pages["run"].data
    evil = dataclasses.replace(r, layers=(dataclasses.replace(r.layers[0], layer=EVIL),
                                          *r.layers[1:]))
    path = tmp_path / "evil.html"
    html.run_page(evil).save(path)
    for o in open_page(browser, path):
        assert o.dialogs == [] and o.errors == []
        assert o.page.locator("#layers img").count() == 0
        assert o.page.locator("#layers tbody tr").first.locator("td").nth(1).text_content() \
            == EVIL
        ticks = o.page.evaluate("Array.from(document.querySelectorAll('#fig-cycles .xtick'))"
                                ".map(t => t.textContent)")
        assert EVIL in ticks


@pytest.mark.slow
@pytest.mark.parametrize("kind", KINDS)
def test_page_prints_to_pdf(browser, pages, kind, tmp_path) -> None:
    for o in open_page(browser, pages[kind].path):
        o.page.emulate_media(media="print")
        assert o.page.locator("nav").is_hidden()
        pdf = o.page.pdf(path=str(tmp_path / f"{kind}.pdf"), format="A4",
                         print_background=True)
        assert pdf[:5] == b"%PDF-" and pdf.count(b"/Type /Page") >= 2
