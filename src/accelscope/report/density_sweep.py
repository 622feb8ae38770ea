"""Speed-up and energy of accelerators against operand density, as in SCNN's Fig. 10
(Parashar et al., ISCA 2017): every layer of a network re-drawn with uniformly random weights
and activations at one density, for densities from sparse to dense.

``density_sweep("googlenet", ["scnn", "dcnn", "dcnn-opt"], [0.1, 0.2, ..., 1.0], "out/")``
returns one row per (density, arch) and writes ``density_sweep.csv`` and
``density_sweep.png`` into ``out_dir``.

What a point is: the network's GConvs that multiply by a weight (convolutions; FC layers too
with ``include_fc=True``), each evaluated alone on synthetic tensors of its own shapes: the
input activations, the weights and the output activations are each non-zero independently
with probability ``density`` (weights ~ N(0, 1), activations ~ U(0, 1) where non-zero),
seeded, so that every arch sees the same tensors. The weight and activation densities are
equal (the paper's x/x axis). Pooling and element-wise layers are left out: they do not
depend on the weight density.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, cast

import torch

from accelscope.errors import AccelscopeError
from accelscope.models.contract import LayerWorkload
from accelscope.models.registry import get_model
from accelscope.workload.gconv import Chain, GConv


def _chain(model: str | Chain) -> Chain:
    if isinstance(model, Chain):
        return model
    from accelscope.workload import zoo
    from accelscope.workload.lower import lower

    return lower(zoo.get(model))


def _layers(chain: Chain, include_fc: bool) -> list[GConv]:
    out = []
    for g in chain.gconvs:
        if g.map_op != "mul" or g.reduce_op != "sum" or g.operand_kind != "weight":
            continue
        if g.C * g.R * g.S == 1 and g.K == 1:
            continue  # a per-channel scale, not a convolution
        if g.kind == "fc" and not include_fc:
            continue
        out.append(g)
    if not out:
        raise AccelscopeError(f"chain {chain.name!r} has no convolution to sweep "
                              f"(include_fc={include_fc})")
    return out


def synthetic_workload(g: GConv, density: float, seed: int, network: str = "sweep"
                       ) -> LayerWorkload:
    """One GConv with i.i.d. random weights and activations at ``density`` (actual mode)."""
    gen = torch.Generator().manual_seed(seed)
    x_shape = (g.N, g.G * g.C, g.H, g.W)
    w_shape = (g.G * g.K, g.C, g.R, g.S)
    y_shape = (g.N, g.G * g.K, g.P, g.Q)
    x = torch.rand(x_shape, generator=gen) * (torch.rand(x_shape, generator=gen) < density)
    w = torch.randn(w_shape, generator=gen) * (torch.rand(w_shape, generator=gen) < density)
    y = torch.rand(y_shape, generator=gen) * (torch.rand(y_shape, generator=gen) < density)

    def dens(t: torch.Tensor) -> float:
        return float(torch.count_nonzero(t)) / max(t.numel(), 1)

    return LayerWorkload(gconv=g, network=network, mode="actual", input=x, operand=w, output=y,
                         params={cast(str, g.operand): w}, input_density=dens(x),
                         operand_density=dens(w), output_density=dens(y))


def density_sweep(model_name_or_chain: str | Chain, archs: Sequence[Any],
                  densities: Sequence[float], out_dir: str | Path | None, *,
                  include_fc: bool = False, seed: int = 0) -> Any:
    """Sweep weight = activation density over ``densities`` for each arch (preset name,
    YAML path or a loaded spec, named by its ``name``) on the convolutions of
    ``model_name_or_chain`` (a zoo name or a lowered ``Chain``).

    Returns a pandas DataFrame, one row per (density, arch): ``cycles``, ``seconds``,
    ``energy_pj`` (``dram_energy_pj`` of it in DRAM), ``macs``, ``macs_useful``, ``layers``,
    and ``speedup`` / ``energy_rel`` relative to the ``baseline`` arch of the same density
    (``dcnn`` when swept, else the first arch): speed-up = baseline time / arch time,
    energy_rel = arch energy / baseline energy. With an ``out_dir``, also writes
    ``density_sweep.csv`` and ``density_sweep.png`` (speed-up and relative energy against
    density).
    """
    import pandas as pd

    from accelscope.arch import load_arch

    if not archs:
        raise AccelscopeError("density_sweep needs at least one arch")
    for d in densities:
        if not 0.0 < float(d) <= 1.0:
            raise AccelscopeError(f"density {d} is outside (0, 1]; give densities such as "
                                  "0.1, 0.2, ..., 1.0")
    chain = _chain(model_name_or_chain)
    layers = _layers(chain, include_fc)
    loaded = [load_arch(a) if isinstance(a, str | Path) else a for a in archs]
    specs = {s.name: s for s in loaded}
    if len(specs) != len(loaded):
        raise AccelscopeError(f"density_sweep: arch names repeat: {[s.name for s in loaded]}")
    names = list(specs)
    base = "dcnn" if "dcnn" in specs else names[0]
    rows = []
    for di, d in enumerate(densities):
        acc = {a: {"cycles": 0, "seconds": 0.0, "energy_pj": 0.0, "dram_energy_pj": 0.0,
                   "macs": 0, "macs_useful": 0} for a in names}
        for li, g in enumerate(layers):
            w = synthetic_workload(g, float(d), seed * 1_000_003 + di * 10_007 + li,
                                   chain.name)
            for a, spec in specs.items():
                r = get_model(spec.model).evaluate(w, spec)
                acc[a]["cycles"] += r.cycles
                acc[a]["seconds"] += r.seconds
                acc[a]["energy_pj"] += r.total_energy_pj
                acc[a]["dram_energy_pj"] += r.energy_pj.get("dram", 0.0)
                acc[a]["macs"] += r.macs
                acc[a]["macs_useful"] += r.macs_useful
        for a in names:
            rows.append({"network": chain.name, "density": float(d), "arch": a,
                         "baseline": base, "layers": len(layers), **acc[a],
                         "speedup": acc[base]["seconds"] / acc[a]["seconds"],
                         "energy_rel": acc[a]["energy_pj"] / acc[base]["energy_pj"]})
    df = pd.DataFrame(rows)
    if out_dir is not None:
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        df.to_csv(out / "density_sweep.csv", index=False)
        plot_density_sweep(df, out / "density_sweep.png")
    return df


def plot_density_sweep(df: Any, path: str | Path) -> Path:
    """Two panels against density: speed-up over the baseline (log scale) and energy
    relative to it."""
    from accelscope.report.plots import _plt

    plt = _plt()
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(11, 4.2))
    base = df["baseline"].iloc[0]
    for arch, sub in df.groupby("arch", sort=False):
        sub = sub.sort_values("density")
        a1.plot(sub["density"], sub["speedup"], marker="o", label=arch)
        a2.plot(sub["density"], sub["energy_rel"], marker="o", label=arch)
    for ax, title, ylabel in ((a1, "performance", f"speed-up over {base}"),
                              (a2, "energy", f"energy relative to {base}")):
        ax.set_yscale("log")
        ax.axhline(1.0, color="grey", lw=0.8)
        ax.set_xlabel("weight = activation density")
        ax.set_ylabel(ylabel)
        ax.set_title(f"{df['network'].iloc[0]}: {title}", fontsize=10)
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
