"""The HTML report: one self-contained page per result (docs/report.md).

Four kinds of page, each one file that opens with no network (Plotly's JavaScript, the data
and the styles are inlined; Jinja2 templates under ``report/templates/`` lay it out):

* ``run``: one ``NetworkResult`` (a run directory's ``results.json``);
* ``compare``: a ``Comparison`` (a compare directory: ``compare.csv`` and one folder of
  results per label);
* ``validate``: the document of ``accelscope validate --json`` (``validate.json``);
* ``sweep``: the rows of a sweep's results store with their Pareto fronts (``SweepData``;
  ``accelscope.report`` reads the store, since this layer sits below ``dse``).

Every text that comes from a result (layer and spec names, descriptions, notes) is escaped:
by Jinja2's autoescape in the page, and with ``_t`` before it goes into a plot, whose labels
Plotly reads as a small subset of HTML.
"""

from __future__ import annotations

import csv
import datetime
import functools
import html as _html
import json
import math
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from accelscope.errors import InputFileError
from accelscope.output import is_name, write_file
from accelscope.report.compare import Comparison, reference_strategy
from accelscope.results import (
    LayerResult,
    NetworkResult,
    ResultFormatError,
    accelscope_version,
)

if TYPE_CHECKING:
    import pandas as pd

    from accelscope.workload.gconv import Chain

PathArg = str | os.PathLike[str]

PAGE_KINDS = ("run", "compare", "validate", "sweep")
"""The kinds of page, in the order ``page_kind`` tries them."""

EXPECTED = ("a run directory (with results.json), a compare directory (with compare.csv and "
            "one results folder per architecture), a validate result (validate.json, or the "
            "output of 'accelscope validate --json') or a sweep store (its directory or "
            "store.sqlite)")
"""What ``accelscope report PATH`` reads, for error messages."""

REPORT_FILE = "report.html"
"""The name ``--report`` writes in an output directory."""

# Okabe & Ito's colour-blind-safe palette (2008); the first is the "busy" / main series
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442",
           "#000000", "#999999")
LOG_SPAN = 20.0
"""A bar chart uses a log axis when its largest positive value is more than this many times
its smallest: next to a measured CPU the accelerators' bars stay visible."""
TOP_LAYERS = 12
"""Layers shown in the compare page's per-layer charts (the slowest anywhere)."""
MAX_TABLE_ROWS = 5000
"""Rows of the sweep page's table of points; more are left out (and said so)."""


class Report(str):
    """A page: the HTML text itself (a ``str``), its ``kind`` and ``page_title``. In Jupyter it
    shows inline (``_repr_html_``, in an isolated frame); ``save(path)`` writes it."""

    kind: str
    page_title: str

    def __new__(cls, text: str, kind: str, page_title: str) -> Report:
        self = super().__new__(cls, text)
        self.kind = kind
        self.page_title = page_title
        return self

    def __repr__(self) -> str:
        return (f"<Report {self.kind}: {self.page_title!r}, "
                f"{len(self.encode()) / 1024:,.0f} KiB>")

    def _repr_html_(self) -> str:
        # the whole page in a frame: its styles and scripts stay out of the notebook's
        return (f'<iframe title="{_html.escape(self.page_title)}" srcdoc="{_html.escape(self)}" '
                'style="width:100%;height:720px;border:1px solid #ccc" '
                'sandbox="allow-scripts allow-modals"></iframe>')

    def save(self, path: PathArg, flag: str = "path") -> Path:
        """Write the page to ``path`` atomically (``flag`` names the option in errors)."""
        return write_file(Path(path), str(self), flag)


# -- reading the four kinds of input ------------------------------------------------------
@dataclass(frozen=True)
class FileInfo:
    """What a results file says about itself, beyond the result."""

    written_utc: str | None = None
    command: str | None = None
    accelscope_version: str | None = None
    source: str | None = None
    """The path the page was made from (None: from memory)."""


def _not_a_report_input(path: Path, why: str) -> InputFileError:
    return InputFileError(f"{path}: {why}; 'accelscope report' reads {EXPECTED}")


def page_kind(path: PathArg) -> str:
    """The kind of page (``PAGE_KINDS``) the file or directory ``path`` makes; an
    ``InputFileError`` naming the path and what was expected when it is none of them."""
    p = Path(path)
    if not p.exists():
        raise _not_a_report_input(p, "no such file or directory")
    if p.is_dir():
        for name, kind in (("compare.csv", "compare"), ("results.json", "run"),
                           ("validate.json", "validate"), ("store.sqlite", "sweep")):
            if (p / name).is_file():
                return kind
        raise _not_a_report_input(p, "a directory with none of results.json, compare.csv, "
                                     "validate.json or store.sqlite in it")
    with p.open("rb") as f:
        head = f.read(16)
    if head.startswith(b"SQLite format 3\x00"):
        return "sweep"
    if p.name == "compare.csv":
        return "compare"
    doc = _read_json(p)
    if isinstance(doc, dict) and doc.get("kind") == "accelscope-validate":
        return "validate"
    if isinstance(doc, dict) and "layers" in doc and "network" in doc:
        return "run"
    raise _not_a_report_input(p, "a file that is neither a results.json, a validate result "
                                 "nor a sweep store")


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise _not_a_report_input(path, f"a file that is not JSON ({exc})") from None


def read_run(path: PathArg) -> tuple[NetworkResult, FileInfo]:
    """The result of a run directory (or of its ``results.json``) and what the file says
    about itself."""
    p = Path(path)
    f = p / "results.json" if p.is_dir() else p
    if not f.is_file():
        raise _not_a_report_input(p, "no results.json here")
    doc = _read_json(f)
    try:
        result = NetworkResult.from_dict(doc)
    except ResultFormatError as exc:
        raise ResultFormatError(f"{f}: {exc}") from None
    return result, FileInfo(doc.get("written_utc"), doc.get("command"),
                            doc.get("accelscope_version"), str(p))


def _cell(text: str) -> Any:
    if text == "":
        return None
    if text in ("True", "False"):
        return text == "True"
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def read_compare(path: PathArg) -> tuple[Comparison, FileInfo]:
    """The comparison of a compare directory: the rows of its ``compare.csv`` and the result
    in each label's folder (``arch`` or ``arch-strategy``)."""
    p = Path(path)
    root = p.parent if p.is_file() else p
    f = root / "compare.csv"
    if not f.is_file():
        raise _not_a_report_input(p, "no compare.csv here")
    with f.open(encoding="utf-8", newline="") as fh:
        rows = [{k: _cell(v) for k, v in r.items()} for r in csv.DictReader(fh)]
    if not rows or "arch" not in rows[0]:
        raise _not_a_report_input(f, "a compare.csv without rows or without an 'arch' column")
    strategies = "strategy" in rows[0]
    results = []
    for r in rows:
        label = f"{r['arch']}-{r['strategy']}" if strategies else str(r["arch"])
        if not is_name(label):
            raise _not_a_report_input(f, f"a row names {label!r}, which is not a results "
                                         "folder name")
        sub = root / label
        if not (sub / "results.json").is_file():
            raise _not_a_report_input(root, f"compare.csv lists {label!r} but {label}/"
                                            "results.json is missing")
        results.append((label, read_run(sub)[0]))
    first = json.loads((root / results[0][0] / "results.json").read_text(encoding="utf-8"))
    strats = tuple(dict.fromkeys(str(r["strategy"]) for r in rows)) if strategies else ()
    opts = results[0][1].options
    if strats:
        ref = reference_strategy(strats)
        base_arch = str(opts.get("baseline") or rows[0]["arch"])
        baseline = f"{base_arch}-{ref}"
    else:
        baseline = str(rows[0].get("baseline") or results[0][1].arch)
    c = Comparison(results[0][1].network, tuple(results), tuple(rows), baseline, strats)
    return c, FileInfo(first.get("written_utc"), first.get("command"),
                       first.get("accelscope_version"), str(root))


def read_validate(path: PathArg) -> dict[str, Any]:
    """The document of ``accelscope validate --json`` (or ``validate.json`` in a
    directory)."""
    p = Path(path)
    f = p / "validate.json" if p.is_dir() else p
    if not f.is_file():
        raise _not_a_report_input(p, "no validate.json here")
    doc = _read_json(f)
    if not isinstance(doc, dict) or doc.get("kind") != "accelscope-validate" or not \
            isinstance(doc.get("targets"), list):
        raise _not_a_report_input(f, "not a validate result (no kind 'accelscope-validate' "
                                     "with a list of targets)")
    return doc


@dataclass(frozen=True)
class SweepData:
    """What the sweep page shows, computed by the caller from a store (``accelscope.report``
    uses ``accelscope.dse.pareto``)."""

    rows: pd.DataFrame
    """Every row of the store (``Store.to_dataframe``)."""
    front_keys: frozenset[str]
    """``row_key`` of the rows on their network's Pareto front."""
    objectives: tuple[tuple[str, str, bool], ...]
    """(name, column, maximise) of each objective."""
    parameters: tuple[str, ...]
    """The swept parameter columns."""
    best: pd.DataFrame
    """The best row per network and objective (``best_points``)."""
    spaces: tuple[str, ...] = ()
    source: str | None = None
    influence: pd.DataFrame | None = None
    """Which axis moves which objective (``influence``), when computed."""


# -- formatting -----------------------------------------------------------------------------
def _t(text: object) -> str:
    """Text for a plot: Plotly reads labels as a subset of HTML, so escape it."""
    return _html.escape(str(text), quote=False)


_PREFIXES = ((1e15, "P"), (1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k"), (1.0, ""),
             (1e-3, "m"), (1e-6, "µ"), (1e-9, "n"), (1e-12, "p"))


def si(x: float | None, unit: str = "", digits: int = 3) -> str:
    """``x`` with ``digits`` significant digits and an SI prefix (``1.23 GMAC``)."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "-"
    if x == 0 or not math.isfinite(x):
        return f"{x:g} {unit}".rstrip()
    for scale, prefix in _PREFIXES:
        if abs(x) >= scale * (1 - 0.5 * 10 ** -digits):
            return f"{x / scale:.{digits}g} {prefix}{unit}".rstrip()
    return f"{x:.{digits}g} {unit}".rstrip()


def _num(x: Any, digits: int = 4) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "-"
    if isinstance(x, bool):
        return str(x)
    if isinstance(x, int):
        return f"{x:,}"
    if isinstance(x, float):
        return f"{x:,.0f}" if abs(x) >= 10 ** digits else f"{x:.{digits}g}"
    return str(x)


def _ratio(x: float | None) -> str:
    return "-" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.3g}x"


def _json_text(value: Any) -> str:
    """A value as compact JSON text for a table cell."""
    if isinstance(value, str):
        return value
    return json.dumps(value, separators=(", ", ": "))


def _cell_of(text: str, value: float | int | str | None = None, cls: str = "") -> dict[str, Any]:
    """One table cell: its text, the value it sorts by (numbers as numbers), a CSS class."""
    if isinstance(value, float) and not math.isfinite(value):
        value = None
    return {"t": text, "v": value, "c": cls}


@dataclass
class Table:
    """A table of the page: sortable by any column (and filterable when ``filter``)."""

    id: str
    caption: str
    columns: list[str]
    rows: list[list[dict[str, Any]]]
    numeric: set[int] = field(default_factory=set)
    """Columns that hold numbers (right-aligned, sorted as numbers)."""
    filter: bool = False
    note: str = ""


def _table(id: str, caption: str, columns: Sequence[str], rows: Iterable[Sequence[Any]],
           numeric: Iterable[str] = (), filter: bool = False, note: str = "") -> Table:
    """Rows of cells (``_cell_of``) or plain values (shown with ``_num``, sorted by value)."""
    out = []
    for row in rows:
        cells = []
        for v in row:
            if isinstance(v, dict):
                cells.append(v)
            elif isinstance(v, (int, float)) and not isinstance(v, bool):
                cells.append(_cell_of(_num(v), v))
            else:
                cells.append(_cell_of("-" if v is None else str(v)))
        out.append(cells)
    num = {i for i, c in enumerate(columns) if c in set(numeric)}
    return Table(id, caption, list(columns), out, num, filter, note)


@dataclass
class Plot:
    """A Plotly figure of the page: its data as JSON, a title and a text alternative."""

    id: str
    title: str
    alt: str
    figure: Any
    traces: int = 0

    @property
    def json(self) -> str:
        # Inside <script type="application/json">: nothing may close the element or start
        # a comment, so <, > and & travel as JSON escapes.
        import plotly.io as pio

        text = str(pio.to_json(self.figure, validate=False, pretty=False))
        return (text.replace("&", "\\u0026").replace("<", "\\u003c")
                .replace(">", "\\u003e").replace("\u2028", "\\u2028")
                .replace("\u2029", "\\u2029"))


def _figure(traces: Sequence[Any], title: str, *, ytitle: str = "", xtitle: str = "",
            barmode: str | None = None, log_y: bool | Sequence[float | None] = False,
            log_x: bool | Sequence[float | None] = False,
            height: int = 420, categories: Sequence[str] | None = None,
            horizontal: bool = False) -> Any:
    import plotly.graph_objects as go

    fig = go.Figure(data=list(traces))
    fig.update_layout(
        title={"text": _t(title), "x": 0, "xanchor": "left", "font": {"size": 15}},
        height=height, margin={"l": 64, "r": 16, "t": 56, "b": 40},
        paper_bgcolor="white", plot_bgcolor="white", font={"family": "system-ui, sans-serif",
                                                          "size": 12},
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.0, "xanchor": "right",
                "x": 1.0},
        hoverlabel={"align": "left"}, colorway=list(PALETTE),
        **({"barmode": barmode} if barmode else {}))
    fig.update_xaxes(title_text=_t(xtitle), showgrid=horizontal, gridcolor="#e5e5e5",
                     automargin=True, **_log_axis(log_x))
    fig.update_yaxes(title_text=_t(ytitle), showgrid=not horizontal, gridcolor="#e5e5e5",
                     automargin=True, **_log_axis(log_y))
    cat_axis = fig.update_yaxes if horizontal else fig.update_xaxes
    if categories is not None:
        cat_axis(type="category", categoryorder="array", categoryarray=list(categories))
    return fig


def _log_axis(log: bool | Sequence[float | None]) -> dict[str, Any]:
    """Axis settings: none (``False``), a log axis with a tick per decade (``True``; Plotly
    labels 2, 3, 5 between them otherwise), over whole decades around the values given."""
    if log is False:
        return {}
    out: dict[str, Any] = {"type": "log", "dtick": 1}
    if not isinstance(log, bool) and any(v is not None and v > 0 for v in log):
        out["range"] = _decades(log)
    return out


def _needs_log(values: Iterable[float | None]) -> bool:
    pos = [v for v in values if v is not None and math.isfinite(v) and v > 0]
    return len(pos) > 1 and max(pos) / min(pos) > LOG_SPAN


def _decades(values: Iterable[float | None]) -> list[float]:
    """The range of a log axis (in log10) over whole decades around the positive values,
    so that the axis has at least two labelled ticks, and room above the highest bar for
    its label."""
    pos = [v for v in values if v is not None and math.isfinite(v) and v > 0]
    lo, hi = math.log10(min(pos)), math.log10(max(pos) * 2)
    return [math.floor(lo), max(math.ceil(hi), math.floor(lo) + 1)]


# -- shapes of the layers --------------------------------------------------------------------
def layer_shapes(chain: Chain | None, *results: NetworkResult) -> dict[str, str]:
    """Each GConv's geometry in a line (``N1 G1 K64 C3 224x224->112x112 R7xS7 /2``), by
    name: from the results' layers (``details['shape']``, recorded since results carry it)
    and, for older results, from ``chain``."""
    out = {g.name: g.geometry for g in chain.gconvs} if chain is not None else {}
    for r in results:
        for x in r.layers:
            shape = x.details.get("shape")
            if isinstance(shape, str):
                out.setdefault(x.layer, shape)
    return out


def zoo_chain(options: Mapping[str, Any]) -> Chain | None:
    """The chain of a run's network lowered again, for its layer shapes: only for a zoo
    network (``options['network_ref']``) at the run's ``input_shape`` (None otherwise, or when
    lowering fails). Lowering is deterministic: the shapes are those the run had."""
    from accelscope.errors import AccelscopeError
    from accelscope.workload import zoo

    ref, shape = options.get("network_ref"), options.get("input_shape")
    if not isinstance(ref, str) or ref not in zoo.names() or not isinstance(shape, list):
        return None
    from accelscope.workload.lower import lower

    try:
        return lower(zoo.get(ref), input_shape=tuple(int(x) for x in shape))
    except (AccelscopeError, RuntimeError, ValueError):
        return None


# -- the architecture: field, value, unit, description --------------------------------------
def _field_docs(model: str) -> dict[str, str]:
    """Dotted field path (``memory[].size_bytes``) -> its description, from the spec class
    registered for ``model`` (empty when there is none)."""
    from accelscope.arch.spec import iter_fields, spec_class

    cls = spec_class(model)
    if cls is None:
        return {}
    return {path: info.description or "" for path, info in iter_fields(cls)}


def _split_unit(description: str) -> tuple[str, str]:
    """('Clock frequency of the compute array', 'Hz') from '... [Hz]'."""
    d = description.rstrip()
    if d.endswith("]") and "[" in d:
        i = d.rindex("[")
        return d[:i].rstrip(), d[i + 1:-1]
    return d, ""


def _human(name: str, value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return ""
    if name.endswith("_bytes") and value >= 1024:
        for unit, scale in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
            if value >= scale:
                return f"{value / scale:g} {unit}"
    if name.endswith("_hz") and value >= 1e3:
        return si(float(value), "Hz")
    return ""


def spec_rows(spec: Mapping[str, Any], defaults: Iterable[str] = ()) -> list[dict[str, Any]]:
    """The resolved spec as rows: dotted path, value, human value, unit, description,
    whether the field took its default (``defaults``: dotted paths)."""
    docs = _field_docs(str(spec.get("model", "")))
    default_set = set(defaults)
    rows: list[dict[str, Any]] = []

    def walk(value: Any, path: str, doc_path: str) -> None:
        if isinstance(value, Mapping):
            for k, v in value.items():
                walk(v, f"{path}.{k}" if path else str(k),
                     f"{doc_path}.{k}" if doc_path else str(k))
            return
        if isinstance(value, list) and value and all(isinstance(v, Mapping) for v in value):
            for i, v in enumerate(value):
                walk(v, f"{path}[{i}]", f"{doc_path}[]")
            return
        desc, unit = _split_unit(docs.get(doc_path, ""))
        name = path.rsplit(".", 1)[-1]
        rows.append({"path": path, "value": _json_text(value) if value is not None else "null",
                     "human": _human(name, value), "unit": unit, "doc": desc,
                     "default": path in default_set})

    walk(dict(spec), "", "")
    return rows


# -- the pages --------------------------------------------------------------------------------
@functools.cache
def _env() -> Any:
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("accelscope.report", "templates"),
        autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=True,
        lstrip_blocks=True)
    env.filters["si"] = si
    env.filters["num"] = _num
    return env


@functools.cache
def _plotly_js() -> str:
    from plotly.offline import get_plotlyjs

    js = str(get_plotlyjs())
    if "</script" in js.lower():  # would end the inline <script> early
        raise RuntimeError("the Plotly bundle contains '</script'; it cannot be inlined")
    return js


def _asset(name: str) -> str:
    from importlib.resources import files

    return files("accelscope.report").joinpath("templates", name).read_text(encoding="utf-8")


def _now() -> str:
    now = datetime.datetime.now(datetime.UTC).replace(microsecond=0)
    return now.isoformat().replace("+00:00", "Z")


def _render(template: str, kind: str, title: str, **context: Any) -> Report:
    import plotly

    page = _env().get_template(template).render(
        title=title, kind=kind, plotly_js=_plotly_js(), css=_asset("report.css"),
        js=_asset("report.js"), accelscope_version=accelscope_version(),
        plotly_version=plotly.__version__, rendered_utc=_now(), log_span=LOG_SPAN,
        **context)
    return Report(page, kind, title)


def _file_meta(info: FileInfo | None) -> list[tuple[str, str]]:
    info = info or FileInfo()
    rows = []
    if info.source:
        rows.append(("read from", info.source))
    if info.written_utc:
        rows.append(("written", info.written_utc))
    if info.command:
        rows.append(("command", info.command))
    if info.accelscope_version:
        rows.append(("written by accelscope", info.accelscope_version))
    return rows


def _stall_keys(results: Iterable[NetworkResult]) -> list[str]:
    return sorted({k for r in results for layer in r.layers for k in layer.stall_cycles})


def _layer_hover(r: NetworkResult, shapes: Mapping[str, str]) -> list[list[str]]:
    return [[_t(x.kind), _t(shapes.get(x.layer, "not recorded")), si(x.macs, "MAC"),
             f"{x.utilization:.1%}", _t(x.arch)] for x in r.layers]


_HOVER_HEAD = ("<b>%{x}</b><br>kind %{customdata[0]}<br>shape %{customdata[1]}<br>"
               "MACs %{customdata[2]}<br>utilization %{customdata[3]}<br>")


def run_page(result: NetworkResult, *, chain: Chain | None = None,
             info: FileInfo | None = None) -> Report:
    """The page of one result: header (network, architecture, options, versions), totals,
    per-layer cycles and energy, the per-layer table, warnings, defaults and provenance,
    and the traffic per tensor."""
    import plotly.graph_objects as go

    r = result
    shapes = layer_shapes(chain, r)
    names = [_t(x.layer) for x in r.layers]
    custom = _layer_hover(r, shapes)
    stalls = _stall_keys([r])
    cyc_traces = [go.Bar(name="busy", x=names, y=[x.cycles - x.total_stall_cycles
                                                  for x in r.layers],
                         customdata=custom, marker_color=PALETTE[0],
                         hovertemplate=_HOVER_HEAD + "busy %{y:,} cycles<extra></extra>")]
    for i, k in enumerate(stalls):
        cyc_traces.append(go.Bar(
            name=f"stall: {_t(k)}", x=names, y=[x.stall_cycles.get(k, 0) for x in r.layers],
            customdata=custom, marker_color=PALETTE[1 + i % (len(PALETTE) - 1)],
            hovertemplate=_HOVER_HEAD + f"stall ({_t(k)}) %{{y:,}} cycles<extra></extra>"))
    comps = sorted({k for x in r.layers for k in x.energy_pj})
    en_traces = [go.Bar(name=_t(k), x=names, y=[x.energy_pj.get(k, 0.0) * 1e-6
                                                 for x in r.layers],
                        customdata=custom, marker_color=PALETTE[i % len(PALETTE)],
                        hovertemplate=_HOVER_HEAD + f"{_t(k)} %{{y:.4g}} µJ<extra></extra>")
                  for i, k in enumerate(comps)]
    n = len(r.layers)
    plots = [
        Plot("cycles", "Cycles per layer: busy and each stall cause",
             f"Stacked bars of the cycles of each of the {n} layers, split into busy cycles "
             f"and {len(stalls)} stall causes; the per-layer table below holds the numbers.",
             _figure(cyc_traces, f"cycles per layer ({r.cycles:,} in all)", ytitle="cycles",
                     barmode="stack", categories=names), len(cyc_traces))]
    if en_traces:
        plots.append(Plot(
            "energy", "Energy per layer by component",
            f"Stacked bars of the energy of each layer by component ({', '.join(comps)}).",
            _figure(en_traces, f"energy per layer by component "
                               f"({si(r.total_energy_pj * 1e-12, 'J')} in all)",
                    ytitle="energy (µJ)", barmode="stack", categories=names),
            len(en_traces)))
    # traffic per tensor
    acc = r.access_totals()
    dram = {t: a for (lvl, t), a in acc.items() if lvl == "dram"}
    if dram:
        tensors = list(dram)
        tr = [go.Bar(name=f"{what}", x=[_t(t) for t in tensors],
                     y=[getattr(dram[t], f"{what}_bits") / 8e6 for t in tensors],
                     marker_color=PALETTE[i],
                     hovertemplate=f"<b>%{{x}}</b><br>{what} %{{y:.4g}} MB<extra></extra>")
              for i, what in enumerate(("read", "write"))]
        plots.append(Plot(
            "dram", "DRAM traffic per tensor",
            "Bars of the megabytes read from and written to DRAM per tensor: "
            + "; ".join(f"{t} {dram[t].bits / 8e6:.4g} MB" for t in tensors) + ".",
            _figure(tr, f"DRAM traffic per tensor ({r.level_bits('dram') / 8e6:.4g} MB)",
                    ytitle="MB", barmode="stack", height=340), len(tr)))
    # tables
    show_arch = any(x.arch != r.arch for x in r.layers)
    cols = ["#", "layer", "kind", *(["ran on"] if show_arch else []), "shape", "MACs",
            "cycles", "stall cycles", "utilization", "time µs", "energy µJ", "DRAM KB",
            "warnings"]
    rows = []
    for i, x in enumerate(r.layers):
        rows.append([i, x.layer, x.kind, *([x.arch] if show_arch else []),
                     shapes.get(x.layer, "-"), _cell_of(si(x.macs), x.macs),
                     x.cycles, x.total_stall_cycles,
                     _cell_of(f"{x.utilization:.1%}", x.utilization),
                     _cell_of(f"{x.seconds * 1e6:.4g}", x.seconds),
                     _cell_of(f"{x.total_energy_pj * 1e-6:.4g}", x.total_energy_pj),
                     _cell_of(f"{x.level_bits('dram') / 8e3:.4g}", x.level_bits("dram")),
                     len(x.warnings)])
    layer_table = _table("layers", "Per-layer results (click a column header to sort)", cols,
                         rows, numeric={"#", "MACs", "cycles", "stall cycles", "utilization",
                                        "time µs", "energy µJ", "DRAM KB", "warnings"},
                         filter=True)
    traffic = _table("traffic", "Traffic per memory level and tensor, whole network",
                     ["level", "tensor", "reads", "writes", "read MB", "write MB"],
                     [[lvl, t, a.reads, a.writes,
                       _cell_of(f"{a.read_bits / 8e6:.4g}", a.read_bits),
                       _cell_of(f"{a.write_bits / 8e6:.4g}", a.write_bits)]
                      for (lvl, t), a in acc.items()],
                     numeric={"reads", "writes", "read MB", "write MB"})
    total_e = r.total_energy_pj
    energy = _table("energy-components", "Energy by component, whole network",
                    ["component", "energy µJ", "share"],
                    [[k, _cell_of(f"{v * 1e-6:.4g}", v),
                      _cell_of(f"{v / total_e:.1%}" if total_e else "-", v)]
                     for k, v in sorted(r.energy_pj.items(), key=lambda kv: -kv[1])],
                    numeric={"energy µJ", "share"})
    prov = r.all_provenance()
    defaults = [d.strip() for d in str(prov.get("arch.defaults_used", "")).split(",")
                if d.strip()]
    totals = [("latency", f"{r.seconds * 1e3:.4g} ms",
               f"{r.cycles:,} cycles at {si(r.clock_hz, 'Hz')}"),
              ("energy", si(total_e * 1e-12, "J"),
               f"{total_e / r.macs:.3g} pJ/MAC" if r.macs else ""),
              ("DRAM traffic", f"{r.level_bits('dram') / 8e6:.4g} MB", ""),
              ("utilization", f"{r.utilization:.1%}",
               f"{si(r.macs_issued, 'MAC')} issued of {si(r.macs, 'MAC')}"),
              ("MACs", si(r.macs, "MAC"), f"useful {si(r.macs_useful)}, skipped "
                                          f"{si(r.macs_skipped)}, gated {si(r.macs_gated)}"),
              ("stall cycles", f"{sum(r.stall_cycles.values()):,}",
               ", ".join(f"{k} {v:,}" for k, v in r.stall_cycles.items() if v))]
    title = f"{r.network} on {r.arch}"
    spec = spec_rows(r.spec, defaults)
    return _render("run.html.j2", "run", title, r=r, totals=totals, plots=plots,
                   tables=[layer_table, energy, traffic], layer_table=layer_table,
                   energy_table=energy, traffic_table=traffic,
                   warnings=r.all_warnings(), defaults=defaults,
                   provenance=sorted(prov.items()), spec=spec,
                   spec_head={k: r.spec.get(k) for k in ("name", "model", "description",
                                                         "source") if r.spec.get(k)},
                   options=[(k, _json_text(v)) for k, v in r.options.items()],
                   details=[(k, _json_text(v)) for k, v in r.details.items()],
                   file_meta=_file_meta(info), shapes_known=bool(shapes))


def compare_page(c: Comparison, *, chain: Chain | None = None,
                 info: FileInfo | None = None, top: int = TOP_LAYERS) -> Report:
    """The page of a comparison: totals side by side with their ratios to the baseline (log
    axes where the values span more than ``LOG_SPAN``), the ``top`` slowest layers side by
    side, and the strategies side by side when there are several."""
    import plotly.graph_objects as go

    labels = c.labels
    results = [r for _, r in c.results]
    shown = [_t(f"{r.arch} / {r.details.get('strategy')}" if c.strategies else lbl)
             for lbl, r in c.results]
    sp_key, en_key = (("speedup_vs_reference", "energy_efficiency_vs_reference")
                      if c.strategies else ("speedup_vs_baseline",
                                            "energy_efficiency_vs_baseline"))
    vs = ("the reference strategy" if c.strategies else c.baseline)
    base_of = [str(row.get("reference") or row.get("baseline") or c.baseline)
               for row in c.rows]
    plots = []
    for pid, what, unit, vals, ratio_key, ratio_word in (
            ("latency", "latency", "ms", [r.seconds * 1e3 for r in results], sp_key,
             "speed-up"),
            ("energy", "energy", "mJ", [r.total_energy_pj * 1e-9 for r in results], en_key,
             "energy efficiency"),
            ("dram", "DRAM traffic", "MB", [r.level_bits("dram") / 8e6 for r in results],
             None, "")):
        log = _needs_log(vals)
        ratios = [row.get(ratio_key) if ratio_key else None for row in c.rows]
        text = [_ratio(x) if ratio_key else f"{v:.3g}" for x, v in zip(ratios, vals,
                                                                           strict=True)]
        custom = [[_ratio(x), _t(b), _t(r.model)] for x, b, r in zip(ratios, base_of, results,
                                                                     strict=True)]
        hover = (f"<b>%{{x}}</b> (model %{{customdata[2]}})<br>{what} %{{y:.4g}} {unit}"
                 + (f"<br>{ratio_word} vs %{{customdata[1]}}: %{{customdata[0]}}"
                    if ratio_key else "") + "<extra></extra>")
        bars = go.Bar(x=shown, y=vals, text=text, textposition="outside", customdata=custom,
                      marker_color=[PALETTE[i % len(PALETTE)] for i in range(len(vals))],
                      hovertemplate=hover, showlegend=False, cliponaxis=False)
        title = f"{what} ({unit}{', log scale' if log else ''})"
        words = f"; each bar's label is its {ratio_word} against {vs}" if ratio_key else ""

        plots.append(Plot(pid, what + words, f"Bars of the {what} of each result: " + "; ".join(
            f"{_html.unescape(s)} {v:.4g} {unit}" for s, v in zip(shown, vals, strict=True))
            + ".", _figure([bars], title, ytitle=unit, log_y=vals if log else False, height=380,
                           categories=shown), 1))
    # per-layer: the slowest layers anywhere
    shapes = layer_shapes(chain, *results)
    names = list(dict.fromkeys(x.layer for r in results for x in r.layers))
    by = [{x.layer: x for x in r.layers} for r in results]
    worst = sorted(names, key=lambda n: -max((b[n].seconds for b in by if n in b),
                                             default=0.0))[:top]
    def layer_us(x: LayerResult) -> float:
        return x.seconds * 1e6

    def layer_uj(x: LayerResult) -> float:
        return x.total_energy_pj * 1e-6

    for pid, what, unit, get in (("layers-latency", "latency", "µs", layer_us),
                                 ("layers-energy", "energy", "µJ", layer_uj)):
        traces = []
        allv = []
        for i, (s, b) in enumerate(zip(shown, by, strict=True)):
            ys = [get(b[n]) if n in b else None for n in worst]
            allv += ys
            traces.append(go.Bar(
                name=s, x=[_t(n) for n in worst], y=ys, marker_color=PALETTE[i % len(PALETTE)],
                customdata=[[_t(b[n].kind) if n in b else "-", _t(shapes.get(n, "not recorded")),
                             si(b[n].macs, "MAC") if n in b else "-",
                             f"{b[n].utilization:.1%}" if n in b else "-"] for n in worst],
                hovertemplate=_HOVER_HEAD + f"{s}: {what} %{{y:.4g}} {unit}<extra></extra>"))
        log = _needs_log(allv)
        plots.append(Plot(
            pid, f"the {len(worst)} slowest layers: {what}",
            f"Grouped bars of the {what} of the {len(worst)} slowest layers on each result.",
            _figure(traces, f"{what} of the {len(worst)} slowest layers ({unit}"
                            f"{', log scale' if log else ''})", ytitle=unit, barmode="group",
                    log_y=allv if log else False, categories=[_t(n) for n in worst],
                    height=440),
            len(traces)))
    if c.strategies:
        archs = list(dict.fromkeys(r.arch for r in results))
        def net_ms(r: NetworkResult) -> float:
            return r.seconds * 1e3

        def net_mj(r: NetworkResult) -> float:
            return r.total_energy_pj * 1e-9

        for pid, what, unit, net_get in (("strategies-latency", "latency", "ms", net_ms),
                                         ("strategies-energy", "energy", "mJ", net_mj)):
            traces = []
            allv = []
            for i, s in enumerate(c.strategies):
                ys = []
                for a in archs:
                    hit = [r for r in results if r.arch == a and r.details.get("strategy") == s]
                    ys.append(net_get(hit[0]) if hit else None)
                allv += ys
                traces.append(go.Bar(name=_t(s), x=[_t(a) for a in archs], y=ys,
                                     marker_color=PALETTE[i % len(PALETTE)],
                                     hovertemplate=f"<b>%{{x}}</b>, {_t(s)}<br>{what} "
                                                   f"%{{y:.4g}} {unit}<extra></extra>"))
            log = _needs_log(allv)
            plots.append(Plot(pid, f"strategies: {what}",
                              f"Grouped bars of the {what} of each strategy on each "
                              "architecture.",
                              _figure(traces, f"{what} per strategy ({unit}"
                                              f"{', log scale' if log else ''})", ytitle=unit,
                                      barmode="group", log_y=allv if log else False,
                                      height=400), len(traces)))
    # the totals table
    cols = ["result", "arch", *(["strategy"] if c.strategies else []), "model", "cycles",
            "latency ms", "energy mJ", "DRAM MB", "utilization", "speed-up", "energy eff.",
            "vs"]
    trows = []
    for (lbl, r), row, versus in zip(c.results, c.rows, base_of, strict=True):
        sp, ee = row.get(sp_key), row.get(en_key)
        trows.append([lbl, r.arch, *([r.details.get("strategy", "")] if c.strategies else []),
                      r.model, r.cycles, _cell_of(f"{r.seconds * 1e3:.4g}", r.seconds),
                      _cell_of(f"{r.total_energy_pj * 1e-9:.4g}", r.total_energy_pj),
                      _cell_of(f"{r.level_bits('dram') / 8e6:.4g}", r.level_bits("dram")),
                      _cell_of(f"{r.utilization:.1%}", r.utilization),
                      _cell_of(_ratio(sp), sp), _cell_of(_ratio(ee), ee), versus])
    totals = _table("totals", f"Totals side by side; ratios against {vs} (above 1: better "
                              "than it)", cols, trows,
                    numeric={"cycles", "latency ms", "energy mJ", "DRAM MB", "utilization",
                             "speed-up", "energy eff."})
    lcols = ["layer", "kind", *(f"{_html.unescape(s)} µs" for s in shown)]
    lrows = [[n, next((b[n].kind for b in by if n in b), "-"),
              *(_cell_of(f"{b[n].seconds * 1e6:.4g}", b[n].seconds) if n in b else None
                for b in by)] for n in worst]
    layers = _table("top-layers", f"The {len(worst)} slowest layers, latency on each result",
                    lcols, lrows, numeric=set(lcols[2:]))
    warn = [(lbl, w) for lbl, r in c.results for w in r.all_warnings()]
    opts = results[0].options
    title = f"{c.network}: {', '.join(labels)}"
    return _render("compare.html.j2", "compare", title, c=c, plots=plots,
                   totals_table=totals, layers_table=layers, tables=[totals, layers],
                   warnings=warn, baseline=c.baseline, vs=vs,
                   options=[(k, _json_text(v)) for k, v in opts.items()
                            if k not in ("arch",)],
                   archs=[(lbl, r.arch, r.model, str(r.spec.get("description", "")),
                           str(r.spec.get("source", ""))) for lbl, r in c.results],
                   file_meta=_file_meta(info))


VERDICTS = {"ok": ("pass", "ok: within tolerance"),
            "FAIL": ("fail", "FAIL: a must-hold target outside its tolerance"),
            "outside": ("warn", "outside: an informative target outside its tolerance")}


def _error_plot(pid: str, group: str, targets: Sequence[Mapping[str, Any]]) -> Plot | None:
    """A dot per target checked against a relative tolerance: its error (log scale, %) with
    the tolerance as a tick; None when the group has no such target."""
    import plotly.graph_objects as go

    rel = [t for t in targets if t.get("criterion", "relative") == "relative"
           and t.get("rel_error") is not None]
    if not rel:
        return None
    floor = 1e-4  # where a 0 % error sits on the log axis [%]
    names = [_t(t["name"]) for t in rel]
    traces = []
    for verdict, (_, words) in VERDICTS.items():
        pts = [t for t in rel if t.get("verdict") == verdict]
        if not pts:
            continue
        traces.append(go.Scatter(
            name=_t(words.split(":")[0]),
            x=[max(100 * float(t["rel_error"]), floor) for t in pts],
            y=[_t(t["name"]) for t in pts], mode="markers",
            marker={"size": 10, "color": VERDICT_COLOURS[verdict],
                    "symbol": {"ok": "circle", "FAIL": "x", "outside": "diamond"}[verdict]},
            customdata=[[_num(t.get("published")), _num(t.get("ours")),
                         _t(t.get("unit", "")), f"{100 * float(t['tolerance']):.3g}%", verdict,
                         f"{100 * float(t['rel_error']):.3g}%"] for t in pts],
            hovertemplate="<b>%{y}</b><br>published %{customdata[0]} %{customdata[2]}<br>"
                          "ours %{customdata[1]} %{customdata[2]}<br>error %{customdata[5]}<br>"
                          "tolerance %{customdata[3]}<br>result %{customdata[4]}"
                          "<extra></extra>"))
    traces.append(go.Scatter(
        name="tolerance", x=[max(100 * float(t["tolerance"]), floor) for t in rel], y=names,
        mode="markers", marker={"symbol": "line-ns-open", "size": 16, "color": "#333",
                                "line": {"width": 2}},
        hovertemplate="<b>%{y}</b><br>tolerance %{x:.3g}%<extra></extra>"))
    fig = _figure(traces, f"{group}: relative error (dots) and tolerance (ticks), %",
                  xtitle="% (log scale)", log_x=True, horizontal=True,
                  height=110 + 22 * len(rel), categories=names[::-1])
    fig.update_xaxes(side="top" if len(rel) > 12 else "bottom", exponentformat="none")
    return Plot(pid, f"{group}: error against tolerance",
                f"Dot plot of the relative error of the {len(rel)} {group} targets checked "
                "against a tolerance (log scale, %), with the tolerance as a tick; the table "
                "below holds the same numbers.", fig, len(traces))


VERDICT_COLOURS = {"ok": PALETTE[2], "FAIL": PALETTE[3], "outside": PALETTE[1]}


def validate_page(doc: Mapping[str, Any], *, info: FileInfo | None = None) -> Report:
    """The page of a validation: the summary, and per group (the model or stage the targets
    check) the error of each target against its tolerance and a table of published value,
    ours, error, tolerance and result (coloured and in words), source and note."""
    targets = list(doc.get("targets", []))
    groups: dict[str, list[Mapping[str, Any]]] = {}
    for t in targets:
        groups.setdefault(str(t.get("group") or str(t.get("name", "")).split(".")[0]),
                          []).append(t)
    sections = []
    plots = []
    for i, (g, ts) in enumerate(groups.items()):
        rows = []
        # each distinct citation once, under the table; the rows name it by number
        sources = list(dict.fromkeys(str(t.get("source", "")) for t in ts))
        for t in ts:
            verdict = str(t.get("verdict", ""))
            cls = VERDICTS.get(verdict, ("", ""))[0]
            err = t.get("rel_error")
            crit = str(t.get("criterion", "relative"))
            tol = (f"{100 * t['tolerance']:.3g}%" if crit == "relative"
                   else f"{crit} {_num(t.get('bound'))}")
            rows.append([
                _cell_of(str(t.get("name", "")), None, "name"),
                _cell_of("must hold" if t.get("level") == "must_hold" else "info", None,
                         "nowrap"),
                _cell_of(_num(t.get("published")), t.get("published")),
                _cell_of("error" if t.get("ours") is None else _num(t.get("ours")),
                         t.get("ours")),
                _cell_of(str(t.get("unit", "")), None, "nowrap"),
                _cell_of("-" if err is None else f"{100 * err:.3g}%", err),
                _cell_of(tol, t.get("tolerance")),
                _cell_of(verdict, verdict, f"verdict {cls}"),
                _cell_of(f"[{sources.index(str(t.get('source', ''))) + 1}]",
                         sources.index(str(t.get("source", ""))), "src"),
                (str(t.get("note") or "") + (f" Error: {t['error']}" if t.get("error")
                                             else "")).strip()])
        passed = sum(1 for t in ts if t.get("verdict") == "ok")
        table = _table(f"group-{i}", f"{g}: {len(ts)} targets, {passed} within tolerance",
                       ["target", "level", "published", "ours", "unit", "error", "tolerance",
                        "result", "source", "note"], rows,
                       numeric={"published", "ours", "error", "tolerance"})
        plot = _error_plot(f"errors-{i}", g, ts)
        if plot is not None:
            plots.append(plot)
        sections.append({"id": f"group-{i}-section", "name": g, "table": table, "plot": plot,
                         "sources": sources,
                         "counts": {v: sum(1 for t in ts if t.get("verdict") == v)
                                    for v in VERDICTS}})
    s = doc.get("summary") or {}
    title = "validation: published vs accelscope" + (f" ({doc['only']}*)" if doc.get("only")
                                                     else "")
    meta = _file_meta(info)
    if doc.get("accelscope_version"):
        meta.append(("computed by accelscope", str(doc["accelscope_version"])))
    return _render("validate.html.j2", "validate", title, summary=s, sections=sections,
                   plots=plots, tables=[sec["table"] for sec in sections], verdicts=VERDICTS,
                   file_meta=meta,
                   errors=[(t["name"], t["error"]) for t in targets if t.get("error")])


def sweep_page(data: SweepData) -> Report:
    """The page of a sweep: for each network the first two objectives of every feasible
    point with its Pareto front (every parameter on hover), the axes in parallel
    coordinates, the best point per network and objective, and a filterable table of every
    point."""
    import pandas as pd
    import plotly.graph_objects as go

    df = data.rows
    objs = list(data.objectives)
    params = list(data.parameters)
    ok = df[(df["status"] == "ok") & (df["feasible"] == 1)] if len(df) else df
    for _, col, _ in objs:
        if col in ok.columns:
            ok = ok[ok[col].notna()]
    on_front = df["row_key"].isin(data.front_keys) if len(df) else pd.Series(dtype=bool)
    plots = []
    if len(objs) >= 2 and len(ok):
        (xn, xc, _), (yn, yc, _) = objs[0], objs[1]
        traces = []
        hover_params = "".join(f"<br>{_t(p)} %{{customdata[{i + 2}]}}"
                               for i, p in enumerate(params))
        template = ("<b>%{customdata[0]}</b> (%{customdata[1]})<br>" + _t(xn) + " %{x:.4g}<br>"
                    + _t(yn) + " %{y:.4g}" + hover_params + "<extra></extra>")
        for i, (net, g) in enumerate(ok.groupby("network", sort=True)):
            colour = PALETTE[i % len(PALETTE)]
            front = g[g["row_key"].isin(data.front_keys)].sort_values(xc)
            for part, sub in (("points", g), ("front", front)):
                custom = [[_t(Path(str(net)).name), _t(row["base"]),
                           *(_t(_fmt(row.get(p))) for p in params)]
                          for _, row in sub.iterrows()]
                traces.append(go.Scatter(
                    name=_t(f"{Path(str(net)).name}: {'Pareto front' if part == 'front' else 'all'}"
                            f" ({len(sub)})"),
                    x=sub[xc].tolist(), y=sub[yc].tolist(), customdata=custom,
                    mode="markers" if part == "points" else "lines+markers",
                    marker={"color": colour, "size": 7 if part == "points" else 10,
                            "opacity": 0.45 if part == "points" else 1.0,
                            **({"line": {"color": "black", "width": 1}} if part == "front"
                               else {})},
                    line={"color": colour, "width": 2}, hovertemplate=template))
        logx = bool((ok[xc] > 0).all()) and _needs_log(ok[xc].tolist())
        logy = bool((ok[yc] > 0).all()) and _needs_log(ok[yc].tolist())
        plots.append(Plot(
            "scatter", f"{xn} against {yn}",
            f"Scatter of {len(ok)} feasible points, {xn} ({xc}) against {yn} ({yc}), with "
            f"each network's Pareto front joined by a line; the table below lists them.",
            _figure(traces, f"{xn} vs {yn}: {len(ok)} feasible points, Pareto front over "
                            f"{', '.join(o[0] for o in objs)}", xtitle=f"{xn} ({xc})",
                    ytitle=f"{yn} ({yc})", log_x=ok[xc].tolist() if logx else False,
                    log_y=ok[yc].tolist() if logy else False, height=480),
            len(traces)))
    if len(ok) and (params or len(objs) > 1):
        dims = []
        labels = [*params, *(f"{o[0]} ({o[1]})" for o in objs)]
        for p, label in zip([*params, *(o[1] for o in objs)], labels, strict=True):
            col = ok[p]
            num = pd.to_numeric(col, errors="coerce")
            if num.notna().all():
                dims.append({"label": _t(label), "values": num.astype(float).tolist()})
            else:
                cats = list(dict.fromkeys(col.astype(str)))
                dims.append({"label": _t(label), "values": [cats.index(v) for v in
                                                             col.astype(str)],
                             "tickvals": list(range(len(cats))),
                             "ticktext": [_t(v) for v in cats]})
        first = objs[0][1]
        pc = go.Parcoords(dimensions=dims, line={
            "color": ok[first].astype(float).tolist(), "colorscale": "Viridis",
            "showscale": True, "colorbar": {"title": {"text": _t(objs[0][0])}}})
        fig = _figure([pc], "parameters and objectives of every feasible point", height=460)
        fig.update_layout(margin={"t": 110, "l": 80, "r": 40})  # room for the axis names
        plots.append(Plot(
            "parallel", "The axes in parallel coordinates",
            f"Parallel coordinates of the {len(params)} swept parameters and the objectives "
            "of every feasible point, coloured by the first objective.",
            fig, 1))
    shown = df.head(MAX_TABLE_ROWS)
    obj_cols = [o[1] for o in objs if o[1] in df.columns]
    cols = ["network", "base", *params, *obj_cols, "on front", "status"]
    rows = []
    for (_, row), front_hit in zip(shown.iterrows(), on_front.head(MAX_TABLE_ROWS),
                                   strict=True):
        rows.append([Path(str(row["network"])).name, row["base"],
                     *(_cell_of(_fmt(row.get(p)), _sortable(row.get(p))) for p in params),
                     *(_cell_of(_fmt(row.get(c)), _sortable(row.get(c))) for c in obj_cols),
                     _cell_of("yes" if front_hit else "no", int(bool(front_hit)),
                              "verdict pass" if front_hit else ""),
                     _cell_of(str(row["status"]) + ("" if row["status"] != "ok" or
                                                    row["feasible"] == 1 else " (infeasible)"),
                              str(row["status"]))])
    points = _table("points", "Every point (type to filter; click a header to sort)", cols,
                    rows, numeric=set(params) | set(obj_cols), filter=True,
                    note=(f"The first {MAX_TABLE_ROWS:,} of {len(df):,} rows are shown."
                          if len(df) > MAX_TABLE_ROWS else ""))
    best_rows = [[Path(str(b["network"])).name, b["objective"],
                  _cell_of(_fmt(b["value"]), _sortable(b["value"])), b["base"],
                  b["parameters"]] for _, b in data.best.iterrows()]
    best = _table("best", "Best point per network and objective",
                  ["network", "objective", "value", "base", "parameters"], best_rows,
                  numeric={"value"})
    tables: list[Table] = [best, points]
    if data.influence is not None and len(data.influence):
        infl = _table("influence", "Which axis moves which objective (eta², 0 to 1: the "
                                   "share of the objective's variance the axis explains; "
                                   "Spearman's rho: the direction)",
                      ["objective", "axis", "eta²", "spearman"],
                      [[r["objective"], r["axis"], _cell_of(_fmt(r["eta2"]), _sortable(r["eta2"])),
                        _cell_of(_fmt(r["spearman"]), _sortable(r["spearman"]))]
                       for _, r in data.influence.iterrows()], numeric={"eta²", "spearman"})
        tables.insert(1, infl)
    counts = df["status"].value_counts().to_dict() if len(df) else {}
    summary = [("rows", f"{len(df):,}"), ("feasible", f"{len(ok):,}"),
               ("on a Pareto front", f"{int(on_front.sum()) if len(df) else 0:,}"),
               ("errors", f"{counts.get('error', 0):,}"),
               ("networks", ", ".join(sorted({Path(str(n)).name for n in df["network"]}))
                if len(df) else "-"),
               ("objectives", ", ".join(f"{n} ({c}{', max' if m else ''})" for n, c, m in objs)),
               ("swept parameters", ", ".join(params) or "-")]
    title = f"sweep: {', '.join(data.spaces) or 'results store'}"
    return _render("sweep.html.j2", "sweep", title, plots=plots, tables=tables,
                   summary=summary,
                   file_meta=_file_meta(FileInfo(source=data.source)),
                   errors=[(str(r["base"]), _fmt(r["point"]), str(r["error"]))
                           for _, r in df[df["status"] == "error"].head(50).iterrows()]
                   if len(df) else [])


def _fmt(v: Any) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "-"
    if isinstance(v, float):
        return f"{v:.4g}"
    return str(v)


def _sortable(v: Any) -> float | str | None:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return None
    if isinstance(v, bool):
        return int(v)
    if isinstance(v, (int, float)):
        return float(v)
    if hasattr(v, "item"):
        return _sortable(v.item())
    return str(v)


def render(obj: Any, *, chain: Chain | None = None, info: FileInfo | None = None) -> Report:
    """The page of a ``NetworkResult``, a ``Comparison``, a validate document or a
    ``SweepData``."""
    if isinstance(obj, NetworkResult):
        return run_page(obj, chain=chain, info=info)
    if isinstance(obj, Comparison):
        return compare_page(obj, chain=chain, info=info)
    if isinstance(obj, SweepData):
        return sweep_page(obj)
    if isinstance(obj, Mapping) and obj.get("kind") == "accelscope-validate":
        return validate_page(obj, info=info)
    raise InputFileError(f"cannot make a report of a {type(obj).__name__}; give a "
                         "NetworkResult, a Comparison, a validate result or a path to "
                         + EXPECTED)


def _has_shapes(result: NetworkResult) -> bool:
    """Whether the result's layers record their geometry (results written since they do):
    then no network needs lowering again."""
    return all(isinstance(x.details.get("shape"), str) for x in result.layers)


def render_path(path: PathArg, *, chain: Chain | None = None,
                shapes: bool = True) -> Report:
    """The page of a run, compare or validate path (a sweep store is read by
    ``accelscope.report``, above the store's layer). ``shapes``: without ``chain``, lower a
    zoo network again for the layer shapes (``zoo_chain``)."""
    kind = page_kind(path)
    if kind == "run":
        result, info = read_run(path)
        if chain is None and shapes and not _has_shapes(result):
            chain = zoo_chain(result.options)
        return run_page(result, chain=chain, info=info)
    if kind == "compare":
        c, info = read_compare(path)
        if chain is None and shapes and not _has_shapes(c.results[0][1]):
            chain = zoo_chain(c.results[0][1].options)
        return compare_page(c, chain=chain, info=info)
    if kind == "validate":
        p = Path(path)
        return validate_page(read_validate(p), info=FileInfo(source=str(p)))
    raise InputFileError(f"{path}: a sweep store; accelscope.report(path) reads it")


__all__ = ["EXPECTED", "PAGE_KINDS", "REPORT_FILE", "FileInfo", "Report", "SweepData",
           "compare_page", "layer_shapes", "page_kind", "read_compare", "read_run",
           "read_validate", "render", "render_path", "run_page", "spec_rows", "sweep_page",
           "validate_page", "zoo_chain"]
