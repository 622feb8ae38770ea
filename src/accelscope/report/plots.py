"""Matplotlib figures of results, written as PNG files (Agg backend, no display needed)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

from accelscope.results import NetworkResult

if TYPE_CHECKING:
    from matplotlib.axes import Axes


def _plt() -> ModuleType:
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def _stack(ax: Axes, labels: list[str], series: dict[str, list[float]], ylabel: str,
           title: str) -> None:
    import numpy as np

    x = np.arange(len(labels))
    bottom = np.zeros(len(labels))
    for name, values in series.items():
        vals = np.asarray(values, dtype=float)
        ax.bar(x, vals, bottom=bottom, label=name, width=0.85)
        bottom += vals
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=10)
    step = max(1, len(labels) // 40)
    ax.set_xticks(x[::step])
    ax.set_xticklabels(labels[::step], rotation=90, fontsize=6)
    if series:
        ax.legend(fontsize=7, ncol=min(4, len(series)))


def plot_network(result: NetworkResult, path: str | Path) -> Path:
    """Per-layer stacked bars: latency (compute vs. each stall cause) and energy by
    component."""
    plt = _plt()
    layers = result.layers
    labels = [r.layer for r in layers]
    stall_keys = sorted({k for r in layers for k in r.stall_cycles})
    latency = {"busy": [(r.cycles - r.total_stall_cycles) / r.clock_hz * 1e3 for r in layers]}
    for k in stall_keys:
        latency[f"stall: {k}"] = [r.stall_cycles.get(k, 0) / r.clock_hz * 1e3 for r in layers]
    comps = sorted({k for r in layers for k in r.energy_pj})
    energy = {k: [r.energy_pj.get(k, 0.0) * 1e-6 for r in layers] for k in comps}
    width = min(24, max(8, 0.18 * len(layers) + 4))
    fig, (a1, a2) = plt.subplots(2, 1, figsize=(width, 7), sharex=True)
    _stack(a1, labels, latency, "latency (ms)",
           f"{result.network} on {result.arch} ({result.model}): "
           f"{result.seconds * 1e3:.3g} ms, {result.total_energy_pj * 1e-9:.3g} mJ")
    _stack(a2, labels, energy, "energy (uJ)", "energy by component")
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_compare(results: Sequence[NetworkResult], path: str | Path,
                 baseline: int = 0) -> Path:
    """Side-by-side totals: latency, energy by component, and speed-up / efficiency against
    the baseline result."""
    import numpy as np

    plt = _plt()
    names = [r.arch for r in results]
    base = results[baseline]
    fig, axes = plt.subplots(1, 3, figsize=(4 + 2.2 * len(results), 4.2))
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
    path = Path(path)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
