"""The ISCA 2016 dataflow comparison (``models/eyeriss/comparison.py``) as a table and a
stacked-bar plot, for ``accelscope eyeriss-dataflows``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from accelscope.models.eyeriss.comparison import (
    ALEXNET_CONVS,
    ALEXNET_FCS,
    COMPONENTS,
    DataflowComparison,
    compare,
)

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def table_rows(cmp: DataflowComparison) -> list[list[str]]:
    """Rows: layer, dataflow, each component and the total per MAC, total [1e9 MAC energies],
    RS's advantage on that layer."""
    rows = []
    for layer in cmp.layers:
        for df in cmp.dataflows:
            e = cmp.energy[(layer, df)]
            per = [e[c] / cmp.macs[layer] for c in COMPONENTS.values()]
            rows.append([layer, df, *(f"{v:.2f}" for v in per), f"{sum(per):.2f}",
                         f"{sum(e.values()) / 1e9:.2f}",
                         "-" if df == "rs" else f"{cmp.advantage(df, layer):.2f}x"])
    return rows


def frame(cmp: DataflowComparison) -> Any:
    """A tidy DataFrame: one row per (layer, dataflow) with the layer's MACs, the energy of
    each component and the total in MAC energies [units of one MAC's energy], and RS's
    advantage on that layer (``eyeriss_dataflows.csv``)."""
    import pandas as pd

    rows = []
    for layer in cmp.layers:
        for df in cmp.dataflows:
            e = cmp.energy[(layer, df)]
            rows.append({"network": cmp.network, "batch": cmp.batch, "layer": layer,
                         "dataflow": df, "macs": cmp.macs[layer],
                         **{f"{comp}_mac_energies": e[comp] for comp in COMPONENTS.values()},
                         "total_mac_energies": sum(e.values()),
                         "rs_advantage": cmp.advantage(df, layer)})
    return pd.DataFrame(rows)


def plot(cmp: DataflowComparison, path: str | Path | None = None) -> Figure:
    """Stacked bars (ALU / RF / array / buffer / DRAM) per layer and dataflow, in units of
    1e9 MAC energies, as the ISCA 2016 paper draws its comparison; a Figure of its own,
    saved when ``path`` is given."""
    import numpy as np

    from accelscope.report.plots import _plt

    plt = _plt()
    fig, ax = plt.subplots(figsize=(max(8.0, 1.6 * len(cmp.layers) * len(cmp.dataflows) / 4),
                                    4.8))
    n = len(cmp.dataflows)
    width = 0.8 / n
    x = np.arange(len(cmp.layers))
    colors = {"ALU": "#4c72b0", "RF": "#55a868", "array": "#c44e52", "buffer": "#8172b2",
              "DRAM": "#ccb974"}
    for j, df in enumerate(cmp.dataflows):
        bottom = np.zeros(len(cmp.layers))
        pos = x - 0.4 + width * (j + 0.5)
        for comp in COMPONENTS.values():
            vals = np.array([cmp.energy[(lay, df)][comp] / 1e9 for lay in cmp.layers])
            ax.bar(pos, vals, width * 0.92, bottom=bottom, color=colors[comp],
                   label=comp if j == 0 else None, edgecolor="white", linewidth=0.3)
            bottom += vals
        for xi, top in zip(pos, bottom, strict=True):
            ax.text(xi, top, df.upper().replace("_", ""), ha="center", va="bottom",
                    fontsize=5, rotation=90)
    ax.set_xticks(x)
    ax.set_xticklabels(cmp.layers)
    ax.set_ylabel("energy [1e9 x one MAC's energy]")
    ax.set_title(f"{cmp.network}, batch {cmp.batch}: energy by component per dataflow "
                 "(256 PEs, equal storage area)", fontsize=9)
    ax.legend(fontsize=7, ncol=5, loc="upper right")
    ax.margins(y=0.12)
    fig.tight_layout()
    if path is not None:
        fig.savefig(Path(path), dpi=150)
    return fig


__all__ = ["ALEXNET_CONVS", "ALEXNET_FCS", "DataflowComparison", "compare", "plot",
           "table_rows"]
