"""Matplotlib figures of results.

Every function draws on its own ``matplotlib.figure.Figure`` and returns it: no pyplot, no
global backend switch, so a notebook keeps its inline figures (a Figure displays itself
there) and a script saves it with ``fig.savefig(path)`` (PNG through Agg, no display
needed). Passing ``path`` saves it as well.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from accelscope.results import NetworkResult

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

DPI = 110
"""Resolution of the PNG files [dots per inch]."""


def figure(figsize: tuple[float, float]) -> Figure:
    """A new Figure of its own (no pyplot state)."""
    from matplotlib.figure import Figure

    return Figure(figsize=figsize)


def save(fig: Figure, path: str | Path) -> Path:
    """Write ``fig`` as a PNG (or the format ``path``'s suffix names)."""
    path = Path(path)
    fig.savefig(path, dpi=DPI)
    return path


class _Figures:
    """The two calls of ``matplotlib.pyplot`` the report modules use (``subplots``,
    ``close``), made on a Figure of its own, so that no module switches pyplot's backend."""

    @staticmethod
    def subplots(nrows: int = 1, ncols: int = 1, *, figsize: tuple[float, float],
                 **kw: Any) -> tuple[Figure, Any]:
        fig = figure(figsize)
        return fig, fig.subplots(nrows, ncols, **kw)

    @staticmethod
    def close(fig: Figure) -> None:
        """Nothing to release: the Figure is not registered anywhere."""


def _plt() -> _Figures:
    return _Figures()


def _stack(ax: Axes, labels: list[str], series: dict[str, list[float]], ylabel: str,
           title: str, ticks: bool = True) -> None:
    """Stacked bars, one polygon collection per series (one artist each, not one per bar:
    drawing a 100-layer network stays cheap); the layer names under the bars if ``ticks``."""
    import numpy as np
    from matplotlib import rcParams
    from matplotlib.collections import PolyCollection
    from matplotlib.patches import Patch

    colors = rcParams["axes.prop_cycle"].by_key()["color"]
    x = np.arange(len(labels), dtype=float)
    left, right = x - 0.425, x + 0.425
    bottom = np.zeros(len(labels))
    handles = []
    for i, (name, values) in enumerate(series.items()):
        top = bottom + np.asarray(values, dtype=float)
        verts = np.stack([np.stack([left, bottom], 1), np.stack([left, top], 1),
                          np.stack([right, top], 1), np.stack([right, bottom], 1)], 1)
        color = colors[i % len(colors)]
        ax.add_collection(PolyCollection(list(verts), facecolors=color, edgecolors="none"))
        handles.append(Patch(color=color, label=name))
        bottom = top
    ax.set_xlim(-0.6, len(labels) - 0.4)
    ax.set_ylim(0, max(float(bottom.max()) if len(labels) else 0.0, 1e-30) * 1.05)
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=10, loc="left")
    if ticks:
        step = max(1, len(labels) // 80)
        ax.set_xticks(x[::step], labels[::step], rotation=90, fontsize=6)
    else:
        ax.set_xticks([])
    if handles:
        # above the axes on the right: no search for the emptiest corner (loc="best" costs
        # a pass over every artist)
        ax.legend(handles=handles, fontsize=7, ncol=min(6, len(handles)), loc="lower right",
                  bbox_to_anchor=(1.0, 1.0), frameon=False)


def plot_network(result: NetworkResult, path: str | Path | None = None) -> Figure:
    """Per-layer stacked bars: latency (compute vs. each stall cause) and energy by
    component. Saved to ``path`` when given."""
    layers = result.layers
    labels = [r.layer for r in layers]
    stall_keys = sorted({k for r in layers for k in r.stall_cycles})
    latency = {"busy": [(r.cycles - r.total_stall_cycles) / r.clock_hz * 1e3 for r in layers]}
    for k in stall_keys:
        latency[f"stall: {k}"] = [r.stall_cycles.get(k, 0) / r.clock_hz * 1e3 for r in layers]
    comps = sorted({k for r in layers for k in r.energy_pj})
    energy = {k: [r.energy_pj.get(k, 0.0) * 1e-6 for r in layers] for k in comps}
    width = min(24.0, max(8.0, 0.18 * len(layers) + 4))
    # fixed margins instead of tight_layout (which lays every label out once more): the
    # bottom one fits the longest rotated layer name at 6 pt
    longest = max((len(s) for s in labels), default=0)
    bottom_in = 0.25 + longest * 6 * 0.56 / 72
    height = 7.0 + bottom_in
    fig = figure((width, height))
    # not sharex: the top axes would build a tick per layer only to hide its label
    a1, a2 = fig.subplots(2, 1)
    fig.subplots_adjust(left=0.9 / width, right=1 - 0.25 / width, top=1 - 0.55 / height,
                        bottom=bottom_in / height, hspace=0.3)
    _stack(a1, labels, latency, "latency (ms)",
           f"{result.network} on {result.arch} ({result.model}): "
           f"{result.seconds * 1e3:.3g} ms, {result.total_energy_pj * 1e-9:.3g} mJ",
           ticks=False)
    _stack(a2, labels, energy, "energy (uJ)", "energy by component")
    if path is not None:
        save(fig, path)
    return fig


def plot_compare(results: Sequence[NetworkResult], path: str | Path | None = None,
                 baseline: int = 0) -> Figure:
    """Side-by-side totals: latency, energy by component, and speed-up / efficiency against
    the baseline result. Saved to ``path`` when given."""
    import numpy as np

    names = [r.arch for r in results]
    base = results[baseline]
    fig = figure((4 + 2.2 * len(results), 4.2))
    axes = fig.subplots(1, 3)
    x = np.arange(len(results))
    axes[0].bar(x, [r.seconds * 1e3 for r in results], color="tab:blue")
    axes[0].set_ylabel("latency (ms)")
    axes[0].set_yscale("log")
    comps = sorted({k for r in results for k in r.energy_pj})
    bottom = np.zeros(len(results))
    for k in comps:
        vals = np.array([r.energy_pj.get(k, 0.0) * 1e-9 for r in results])
        axes[1].bar(x, vals, bottom=bottom, label=k)
        bottom += vals
    axes[1].set_ylabel("energy (mJ)")
    axes[1].legend(fontsize=7)
    speed = [base.seconds / r.seconds if r.seconds else 0.0 for r in results]
    eff = [base.total_energy_pj / r.total_energy_pj if r.total_energy_pj else 0.0
           for r in results]
    axes[2].bar(x - 0.2, speed, width=0.4, label="speed-up")
    axes[2].bar(x + 0.2, eff, width=0.4, label="energy efficiency")
    axes[2].set_yscale("log")
    axes[2].set_ylabel(f"x vs {base.arch}")
    axes[2].legend(fontsize=7)
    for ax in axes:
        ax.set_xticks(x)
        ax.set_xticklabels(names, rotation=30, fontsize=8)
    fig.suptitle(f"{base.network}: {', '.join(names)}", fontsize=10)
    fig.tight_layout()
    if path is not None:
        save(fig, path)
    return fig
