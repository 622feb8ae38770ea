"""Comparisons of evaluated networks: one row per architecture (or architecture and strategy)
with its totals and its ratios to a baseline, the same rows for the CSV, a table and Python;
and the writer of a comparison's files."""

from __future__ import annotations

import dataclasses
import html
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from accelscope.output import RunOutput
from accelscope.report.writer import write_result
from accelscope.results import NetworkResult

if TYPE_CHECKING:
    import pandas as pd


def _ratio(a: float, b: float) -> float | None:
    return a / b if b else None


def compare_rows(results: Sequence[NetworkResult], baseline: int = 0) -> list[dict[str, Any]]:
    """Per result: totals and speed-up / energy efficiency against ``results[baseline]``."""
    base = results[baseline]
    return [{"arch": r.arch, "model": r.model, "cycles": r.cycles, "seconds": r.seconds,
             "energy_pj": r.total_energy_pj, "dram_bits": r.level_bits("dram"),
             "utilization": r.utilization, "speedup_vs_baseline": base.seconds / r.seconds,
             "energy_efficiency_vs_baseline": _ratio(base.total_energy_pj, r.total_energy_pj),
             "baseline": base.arch} for r in results]


def reference_strategy(strategies: Sequence[str]) -> str:
    """The strategy ratios are taken against: host-fallback when it was run, else the first."""
    return "host-fallback" if "host-fallback" in strategies else strategies[0]


def strategy_rows(results: Mapping[tuple[str, str], NetworkResult], reference: str,
                  baseline: str | None = None) -> list[dict[str, Any]]:
    """Per (arch, strategy): totals, the share of time outside conv layers, DRAM saved by
    fusion, and ratios against ``reference`` of the same arch (or of arch ``baseline``)."""
    rows = []
    for (arch, s), r in results.items():
        base = results[(baseline or arch, reference)]
        rows.append({"arch": arch, "strategy": s, "model": r.model, "cycles": r.cycles,
                     "seconds": r.seconds, "energy_pj": r.total_energy_pj,
                     "dram_bits": r.level_bits("dram"),
                     "nonconv_time_share": r.details["nonconv_time_share"],
                     "fusion_dram_bits_saved": (r.details.get("fusion") or {}).get(
                         "dram_bits_saved", 0),
                     "speedup_vs_reference": base.seconds / r.seconds,
                     "energy_efficiency_vs_reference":
                         _ratio(base.total_energy_pj, r.total_energy_pj),
                     "reference": f"{base.arch} {reference}"})
    return rows


def _x(v: float | None) -> str:
    return "-" if v is None else f"{v:.3g}x"


def compare_table_rows(rows: Sequence[Mapping[str, Any]]) -> tuple[list[str], list[list[str]]]:
    """Columns and formatted cells of ``compare_rows``."""
    cols = ["arch", "model", "cycles", "latency ms", "energy mJ", "DRAM MB", "util",
            "speed-up", "energy eff."]
    return cols, [[r["arch"], r["model"], f"{r['cycles']:,}", f"{r['seconds'] * 1e3:.4g}",
                   f"{r['energy_pj'] * 1e-9:.4g}",
                   f"{r['dram_bits'] / 8e6:.4g}" if r["dram_bits"] else "-",
                   f"{r['utilization']:.1%}", _x(r["speedup_vs_baseline"]),
                   _x(r["energy_efficiency_vs_baseline"])] for r in rows]


def strategy_table_rows(rows: Sequence[Mapping[str, Any]]
                        ) -> tuple[list[str], list[list[str]]]:
    """Columns and formatted cells of ``strategy_rows``."""
    cols = ["arch", "strategy", "ms", "mJ", "DRAM MB", "non-conv", "speed-up", "energy"]
    return cols, [[r["arch"], r["strategy"], f"{r['seconds'] * 1e3:.4g}",
                   f"{r['energy_pj'] * 1e-9:.4g}", f"{r['dram_bits'] / 8e6:.4g}",
                   f"{r['nonconv_time_share']:.1%}", _x(r["speedup_vs_reference"]),
                   _x(r["energy_efficiency_vs_reference"])] for r in rows]


def write_compare(out: RunOutput, results: Mapping[str, NetworkResult],
                  rows: Sequence[Mapping[str, Any]], baseline: str,
                  shown_as: Mapping[str, str] | None = None, plot: bool = True) -> None:
    """``compare.csv`` (``rows``), ``compare.png`` (unless ``plot`` is false) and each
    result's files in a folder named by its key (``arch`` or ``arch-strategy``) into ``out``
    (inside its ``with`` block); ``shown_as`` names the results in the plot (default: their
    arch)."""
    import pandas as pd

    from accelscope.report.plots import plot_compare

    for label, r in results.items():
        write_result(r, out, label, plot=False)
    pd.DataFrame(list(rows)).to_csv(out.path("compare.csv"), index=False)
    if not plot:
        return
    shown = [dataclasses.replace(r, arch=shown_as[label]) if shown_as else r
             for label, r in results.items()]
    plot_compare(shown, out.path("compare.png"), baseline=list(results).index(baseline))


@dataclass(frozen=True)
class Comparison:
    """One network on several architectures (or architectures x strategies): every result by
    its label (``arch`` or ``arch-strategy``) and one row per result with its totals and its
    ratios to the baseline (``compare_rows`` / ``strategy_rows``)."""

    network: str
    results: tuple[tuple[str, NetworkResult], ...]
    rows: tuple[dict[str, Any], ...]
    baseline: str
    """The label of the result the ratios are relative to."""
    strategies: tuple[str, ...] = ()
    """The strategies compared ((): plain evaluation)."""

    def __getitem__(self, label: str) -> NetworkResult:
        for k, r in self.results:
            if k == label:
                return r
        raise KeyError(f"{label!r}: no such result; labels: "
                       f"{', '.join(k for k, _ in self.results)}")

    @property
    def labels(self) -> list[str]:
        return [k for k, _ in self.results]

    def to_dataframe(self) -> pd.DataFrame:
        """One row per result, one scalar per cell (the rows of ``compare.csv``)."""
        import pandas as pd

        return pd.DataFrame([{"label": k, **row} for (k, _), row in
                             zip(self.results, self.rows, strict=True)])

    def to_dict(self) -> dict[str, Any]:
        return {"network": self.network, "baseline": self.baseline,
                "strategies": list(self.strategies),
                "rows": [{"label": k, **row} for (k, _), row in
                         zip(self.results, self.rows, strict=True)],
                "results": {k: r.to_dict() for k, r in self.results}}

    def to_json(self, indent: int | None = 1) -> str:
        return json.dumps(self.to_dict(), indent=indent)

    def write(self, out: RunOutput, plot: bool = True) -> None:
        """compare.csv, compare.png (unless ``plot`` is false) and each result's files into
        ``out`` (inside its ``with`` block)."""
        shown = ({k: f"{r.arch}/{r.details['strategy']}" for k, r in self.results}
                 if self.strategies else None)
        write_compare(out, dict(self.results), self.rows, self.baseline, shown, plot)

    def __repr__(self) -> str:
        return (f"Comparison({self.network!r}: {', '.join(self.labels)}; ratios vs "
                f"{self.baseline})")

    def _repr_html_(self) -> str:
        cols, cells = (strategy_table_rows(self.rows) if self.strategies
                       else compare_table_rows(self.rows))
        head = "".join(f"<th>{html.escape(c)}</th>" for c in cols)
        body = "".join("<tr>" + "".join(f"<td>{html.escape(v)}</td>" for v in row) + "</tr>"
                       for row in cells)
        return (f"<p><b>{html.escape(self.network)}</b>: ratios vs "
                f"{html.escape(self.baseline)}</p><table><thead><tr>{head}</tr></thead>"
                f"<tbody>{body}</tbody></table>")
