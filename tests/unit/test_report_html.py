"""The HTML report (report/html.py): self-contained pages with nothing linked outside, user
text escaped, the four kinds of input told apart and bad input refused by name. The pages in
a real browser: tests/browser."""

from __future__ import annotations

import dataclasses
import json
import re
from html.parser import HTMLParser
from pathlib import Path

import markupsafe
import pytest

import accelscope
from accelscope.cli import main
from accelscope.errors import InputFileError
from accelscope.output import RunOutput
from accelscope.report import html
from accelscope.report.writer import write_result
from accelscope.validate import Target, TargetResult
from accelscope.validate import report as validate_report

EVIL = '<img src=x onerror="alert(1)">conv</td><script>alert(2)</script>'


class _Links(HTMLParser):
    """Every src= / href= of the markup (scripts' contents are data to the parser)."""

    def __init__(self) -> None:
        super().__init__()
        self.links: list[tuple[str, str, str]] = []
        self.tags: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        for k, v in attrs:
            if k in ("src", "href", "srcset", "action", "poster", "data"):
                self.links.append((tag, k, v or ""))


def _parse(page: str) -> _Links:
    p = _Links()
    p.feed(page)
    return p


def validate_doc() -> dict[str, object]:
    def t(name: str, published: float, tol: float, level: str = "must_hold",
          **kw: object) -> Target:
        return Target(name, published, "ms", "Someone et al., <i>Journal</i> 2020", tol,
                      level, lambda: 0.0, **kw)  # type: ignore[arg-type]

    results = [TargetResult(t("spots.latency", 10.0, 0.1), 10.5, 0.0),
               TargetResult(t("spots.energy", 4.0, 0.05), 5.0, 0.0),
               TargetResult(t("scnn.speedup", 2.7, 0.2, "informative",
                              note="a note <b>not bold</b>"), 3.5, 0.0),
               TargetResult(t("scnn.ratio", 1.0, 0.0, criterion="above", bound=1.0), 1.2, 0.0),
               TargetResult(t("eyeriss.broken", 1.0, 0.1), None, 0.0, "ValueError: boom")]
    return validate_report(results)


@pytest.fixture(scope="module")
def run_result() -> accelscope.NetworkResult:
    return accelscope.evaluate("tiny", "ideal")


@pytest.fixture(scope="module")
def evil_result(run_result: accelscope.NetworkResult) -> accelscope.NetworkResult:
    layers = (dataclasses.replace(run_result.layers[0], layer=EVIL), *run_result.layers[1:])
    spec = {**run_result.spec, "description": "<script>alert(3)</script> & more"}
    return dataclasses.replace(run_result, layers=layers, spec=spec,
                               warnings=("<b>warned</b>",))


@pytest.fixture(scope="module")
def comparison() -> accelscope.Comparison:
    return accelscope.compare("tiny", ["ideal", "spots"])


def test_every_page_links_nothing_outside_itself(run_result, comparison) -> None:
    pages = [html.run_page(run_result), html.compare_page(comparison),
             html.validate_page(validate_doc())]
    for page in pages:
        p = _parse(page)
        assert p.links == [] or all(not re.match(r"\s*(https?:)?//", v, re.I)
                                    for _, _, v in p.links), p.links
        assert not re.search(r"<(link|iframe|img|object|embed)\b", page.split("<script")[0])
        # the Plotly bundle is inline, not fetched
        assert "<script src" not in page and "plotly.js v" in page


def test_a_link_outside_is_detected() -> None:
    p = _parse('<p><img src="https://example.org/x.png"><a href="//cdn.example">x</a></p>')
    assert [(t, k) for t, k, _ in p.links] == [("img", "src"), ("a", "href")]


def test_user_text_is_text_never_markup(evil_result) -> None:
    page = html.run_page(evil_result)
    p = _parse(page)
    assert "img" not in p.tags
    body = page.split("<body", 1)[1]
    assert EVIL not in body and "<script>alert" not in body and "<b>warned" not in body
    assert f"<td>{markupsafe.escape(EVIL)}</td>" in body  # shown as text in the table
    assert "&lt;script&gt;alert(3)&lt;/script&gt; &amp; more" in body
    # in the figures' JSON: escaped for Plotly's labels, and no '<' to end the script early
    data = re.search(r'<script type="application/json" id="data-cycles">(.*?)</script>', page,
                     re.S)
    assert data is not None and "<" not in data.group(1)
    fig = json.loads(data.group(1))
    assert fig["data"][0]["x"][0] == html._t(EVIL)


def test_run_page_holds_the_numbers(run_result) -> None:
    page = html.run_page(run_result, chain=accelscope.prepare("tiny").chain)
    assert page.kind == "run" and "tiny on ideal" in page
    for x in run_result.layers:
        assert f"<td>{x.layer}</td>" in page
    assert f"{run_result.cycles:,}" in page
    assert "N1 G1 K" in page  # the shapes of the layers
    assert "Clock frequency of the compute array" in page  # spec field descriptions
    frame = page._repr_html_()
    assert frame.startswith("<iframe") and "&lt;!DOCTYPE html&gt;" in frame


def test_validate_page_says_each_result_in_words() -> None:
    page = html.validate_page(validate_doc())
    body = page.split("<body", 1)[1]
    for verdict, cls in (("ok", "pass"), ("FAIL", "fail"), ("outside", "warn")):
        assert f'<td class="verdict {cls}" data-v="{verdict}">{verdict}</td>' in body
    assert "ValueError: boom" in body and "&lt;b&gt;not bold&lt;/b&gt;" in body
    assert "Someone et al., &lt;i&gt;Journal&lt;/i&gt; 2020" in body
    assert "above 1" in body  # a direction-only target shows its bound


def test_page_kinds_and_round_trip_through_files(tmp_path, run_result, comparison) -> None:
    with RunOutput(tmp_path / "run") as o:
        write_result(run_result, o, plot=False)
    with RunOutput(tmp_path / "cmp") as o:
        comparison.write(o, plot=False)
    (tmp_path / "v.json").write_text(json.dumps(validate_doc()))
    assert html.page_kind(tmp_path / "run") == "run"
    assert html.page_kind(tmp_path / "run" / "results.json") == "run"
    assert html.page_kind(tmp_path / "cmp") == "compare"
    assert html.page_kind(tmp_path / "v.json") == "validate"
    page = accelscope.report(tmp_path / "cmp", tmp_path / "c.html")
    assert page.kind == "compare" and (tmp_path / "c.html").read_text() == page
    assert "ideal" in page and "spots" in page
    with pytest.raises(SystemExit) as done:
        main(["report", str(tmp_path / "run"), "--no-shapes", "-q"])
    assert done.value.code == 0
    assert (tmp_path / "run" / "report.html").read_text().count("<td>stem_0</td>") == 1


@pytest.mark.parametrize(("make", "says"), [
    (lambda d: d / "missing", "no such file or directory"),
    (lambda d: d, "a directory with none of results.json"),
    (lambda d: _write(d / "s.yaml", "name: x\n"), "a file that is not JSON"),
    (lambda d: _write(d / "o.json", '{"kind": "other"}'), "neither a results.json"),
    (lambda d: _write(d / "validate.json", '{"kind": "accelscope-validate"}'),
     "not a validate result"),
])
def test_bad_input_names_the_path_and_what_was_expected(tmp_path, make, says) -> None:
    path = make(tmp_path)
    with pytest.raises(InputFileError) as err:
        accelscope.report(path)
    text = str(err.value)
    assert str(path) in text and says in text
    if "not a validate result" not in says:
        assert "a run directory (with results.json)" in text and "sweep store" in text


def _write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_log_axis_when_values_span_orders_of_magnitude() -> None:
    assert html._needs_log([0.03, 0.05, 452.0]) and not html._needs_log([1.0, 3.0])
    assert html._decades([0.03, 452.0]) == [-2, 3]
    assert html._decades([0.3, 0.5]) == [-1, 0]  # at least one decade: two ticks
