"""The one writer of a result's files into a run's output directory
(``accelscope.output.RunOutput``); docs/results.md describes every file and column:

* ``results.json``: the whole result (``NetworkResult.to_json``: schema and accelscope
  versions, resolved spec, options, every layer, totals) plus when it was written and the
  command that wrote it; the JSON Schema ``accelscope/schema/results.schema.json`` describes
  it;
* ``results.csv`` / ``results.parquet``: the tidy per-layer table (``to_dataframe``);
* ``accesses.csv`` / ``accesses.parquet``: the traffic in long form
  (``accesses_dataframe``);
* ``layers.png``: per-layer latency and energy (``plot_network``), unless ``plot=False``.
"""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING

from accelscope.output import RunOutput
from accelscope.results import SCHEMA_VERSION, NetworkResult, accelscope_version

if TYPE_CHECKING:
    import pandas as pd

RESULT_FILES = ("results.json", "results.csv", "accesses.csv", "results.parquet",
                "accesses.parquet", "layers.png")
"""The files ``write_result`` writes, in order (``layers.png`` only with ``plot``)."""


def utc_now() -> str:
    """The current time, ISO 8601 in UTC to the second (``2026-01-31T12:00:00Z``)."""
    now = datetime.datetime.now(datetime.UTC).replace(microsecond=0)
    return now.isoformat().replace("+00:00", "Z")


def write_result(result: NetworkResult, out: RunOutput, sub: str = "", plot: bool = True) -> None:
    """The files of one result (``RESULT_FILES``) under ``sub`` of ``out``, inside its
    ``with`` block."""
    prefix = f"{sub}/" if sub else ""
    out.write_text(f"{prefix}results.json", result.to_json(
        written_utc=utc_now(), command=out.command or None,
        started_utc=out.started_utc) + "\n")
    layers, traffic = result.to_dataframe(), result.accesses_dataframe()
    out.write_text(f"{prefix}results.csv", layers.to_csv(index=False, lineterminator="\n"))
    out.write_text(f"{prefix}accesses.csv", traffic.to_csv(index=False, lineterminator="\n"))
    _parquet(layers, out, f"{prefix}results.parquet")
    _parquet(traffic, out, f"{prefix}accesses.parquet")
    if plot:
        from accelscope.report import plots

        fig = plots.plot_network(result)
        plots.save(fig, out.path(f"{prefix}layers.png"))


def _parquet(df: pd.DataFrame, out: RunOutput, rel: str) -> None:
    """``df`` as Parquet (pyarrow), with the results format's version in its ``attrs``
    (``pd.read_parquet(...).attrs``)."""
    df = df.copy(deep=False)
    df.attrs = {"schema_version": SCHEMA_VERSION, "accelscope_version": accelscope_version()}
    df.to_parquet(out.path(rel), index=False, engine="pyarrow")
