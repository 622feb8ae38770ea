"""The one writer of a result's files: ``results.json``, ``results.csv`` and ``layers.png``
into a run's output directory (``accelscope.output.RunOutput``)."""

from __future__ import annotations

from accelscope.output import RunOutput
from accelscope.results import NetworkResult


def write_result(result: NetworkResult, out: RunOutput, sub: str = "", plot: bool = True) -> None:
    """results.json, results.csv and layers.png of one result, under ``sub`` of ``out``."""
    from accelscope.report import plot_network

    prefix = f"{sub}/" if sub else ""
    out.write_text(f"{prefix}results.json", result.to_json())
    out.write_text(f"{prefix}results.csv", result.to_csv())
    if plot:
        plot_network(result, out.path(f"{prefix}layers.png"))
