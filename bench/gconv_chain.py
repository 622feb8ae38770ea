"""GCONV Chain end to end: seven CNNs on each accelerator under the four execution strategies
(gconv: non-conv GConvs on the array in their GConv form; dedicated: on the unit beside the
array; host-fallback; matrix), with chain fusion; the average gain of gconv (and of dedicated)
over host-fallback next to the published 3.4x (performance) and 3.2x (energy efficiency).

Writes ``OUT/gconv_chain.csv`` (one row per network, arch and strategy; appended as each
network finishes, so a long run keeps what it has), ``OUT/gconv_chain.md`` (the markdown table
for docs/gconv.md) and ``OUT/gconv_chain.png`` (speed-up and energy efficiency against
host-fallback). Prints numbers; asserts nothing.

The host of host-fallback is the cpu preset measured with one PyTorch thread by default
(``--host-threads``; ``accelscope.passes.strategies.DEFAULT_HOST_THREADS`` says why).

Usage: python bench/gconv_chain.py [--networks a,b] [--archs spots,eyeriss,scnn]
       [--size 224] [--out docs/gconv] [--no-fuse] [--host-threads 1] [--from-csv]
"""

from __future__ import annotations

import argparse
import csv
import math
import statistics
import time
from pathlib import Path

NETWORKS = ("alexnet", "vgg16", "resnet50", "mobilenet_v2", "googlenet", "squeezenet1_0",
            "densenet121")
ARCHS = ("spots", "eyeriss", "scnn")
STRATEGIES = ("gconv", "dedicated", "host-fallback", "matrix")
HEADLINE = ("gconv", "dedicated")  # the strategies summarised against host-fallback
FIELDS = ("network", "size", "arch", "strategy", "seconds", "energy_pj", "dram_bits",
          "macs", "nonconv_time_share", "host_seconds", "transfer_seconds", "transfers",
          "transfer_bits", "im2col_layers", "fused", "fusion_dram_bits_saved",
          "fusion_capacity_bytes", "gconvs", "eval_s", "host_threads", "load_avg")
PUBLISHED = {"speedup": 3.4, "energy": 3.2}


def _size_for(net: str, size: int) -> int:
    # AlexNet and VGG-16 end in adaptive pooling to 6x6 / 7x7: only 224 gives equal windows
    return 224 if net in ("alexnet", "vgg16") else size


def run(networks, archs, size: int, fuse: bool, out: Path, threads: int | None = 1
        ) -> list[dict]:
    import os

    from accelscope import lower, zoo
    from accelscope.arch import load_arch
    from accelscope.passes import evaluate_strategies
    from accelscope.pipeline import build_workloads


    out.mkdir(parents=True, exist_ok=True)
    path = out / "gconv_chain.csv"
    rows = []
    new = not path.exists()
    with path.open("a", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=FIELDS)
        if new:
            w.writeheader()
        for net in networks:
            s = _size_for(net, size)
            zm = zoo.get(net, input_shape=(1, 3, s, s))
            chain = lower(zm)
            workloads = build_workloads(chain, zm.example_input())
            cache: dict = {}  # one host measurement per layer, shared by every arch
            for arch in archs:
                t0 = time.perf_counter()
                res = evaluate_strategies(workloads, load_arch(arch), STRATEGIES,
                                          chain=chain, fuse=fuse, cache=cache,
                                          host_threads=threads)
                dt = time.perf_counter() - t0
                for strat, r in res.items():
                    d = r.details
                    f = d.get("fusion") or {}
                    row = {"network": net, "size": s, "arch": arch, "strategy": strat,
                           "seconds": r.seconds, "energy_pj": r.total_energy_pj,
                           "dram_bits": r.level_bits("dram"), "macs": r.macs,
                           "nonconv_time_share": d["nonconv_time_share"],
                           "host_seconds": d["host_seconds"],
                           "transfer_seconds": d["transfer_seconds"],
                           "transfers": d.get("transfers", 0),
                           "transfer_bits": d.get("transfer_bits", 0),
                           "im2col_layers": d.get("im2col_layers", 0),
                           "fused": f.get("fused", 0),
                           "fusion_dram_bits_saved": f.get("dram_bits_saved", 0),
                           "fusion_capacity_bytes": f.get("capacity_bytes", 0),
                           "gconvs": len(chain.gconvs), "eval_s": dt,
                           "host_threads": threads or 0, "load_avg": os.getloadavg()[0]}
                    w.writerow(row)
                    rows.append(row)
                fh.flush()
                print(f"{net:<14} {arch:<8} evaluated {len(STRATEGIES)} strategies in "
                      f"{dt:6.1f} s", flush=True)
    return rows


def load(path: Path) -> list[dict]:
    with path.open() as fh:
        rows = list(csv.DictReader(fh))
    for r in rows:
        for k in FIELDS:
            if k not in ("network", "arch", "strategy"):
                r[k] = float(r[k])
    latest: dict[tuple, dict] = {}  # a network re-run replaces its earlier rows
    for r in rows:
        latest[(r["network"], r["arch"], r["strategy"])] = r
    return list(latest.values())


def gains(rows: list[dict]) -> dict[tuple[str, str, str], tuple[float, float]]:
    """(network, arch, strategy) -> (speed-up, energy-efficiency gain) over host-fallback."""
    by = {(r["network"], r["arch"], r["strategy"]): r for r in rows}
    out = {}
    for (net, arch, strat), r in by.items():
        base = by.get((net, arch, "host-fallback"))
        if base is None:
            continue
        out[(net, arch, strat)] = (base["seconds"] / r["seconds"],
                                   base["energy_pj"] / r["energy_pj"])
    return out


def summary(rows: list[dict]) -> dict[tuple[str, str], dict[str, float]]:
    """Per (strategy, arch), arch 'all' too: the means over networks of the strategy's gains
    over host-fallback, for the HEADLINE strategies."""
    g = gains(rows)
    archs = sorted({a for _, a, _ in g})
    out = {}
    for strat in HEADLINE:
        for arch in [*archs, "all"]:
            sel = [v for (_, a, s), v in g.items() if s == strat and arch in (a, "all")]
            if not sel:
                continue
            out[(strat, arch)] = {
                "speedup": statistics.mean(v[0] for v in sel),
                "energy": statistics.mean(v[1] for v in sel),
                "speedup_geo": math.exp(statistics.mean(math.log(v[0]) for v in sel)),
                "energy_geo": math.exp(statistics.mean(math.log(v[1]) for v in sel)),
                "n": len(sel)}
    return out


def markdown(rows: list[dict]) -> str:
    g = gains(rows)
    order = {n: i for i, n in enumerate(NETWORKS)}
    rows = sorted(rows, key=lambda r: (order.get(r["network"], 99), r["network"], r["arch"],
                                       STRATEGIES.index(r["strategy"])))
    lines = ["| network | arch | strategy | latency ms | energy mJ | DRAM MB | non-conv time "
             "| fusion saved MB | speed-up vs host-fallback | energy eff. vs host-fallback |",
             "|---|---|---|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        sp, en = g.get((r["network"], r["arch"], r["strategy"]), (float("nan"),) * 2)
        lines.append(f"| {r['network']} | {r['arch']} | {r['strategy']} | "
                     f"{r['seconds'] * 1e3:.4g} | {r['energy_pj'] * 1e-9:.4g} | "
                     f"{r['dram_bits'] / 8e6:.4g} | {r['nonconv_time_share']:.1%} | "
                     f"{r['fusion_dram_bits_saved'] / 8e6:.3g} | {sp:.3g}x | {en:.3g}x |")
    lines.append("")
    lines.append("| strategy | arch | networks | speed-up vs host-fallback (mean / geo-mean) "
                 "| energy eff. (mean / geo-mean) | published (GCONV Chain, 7 CNNs) |")
    lines.append("|---|---|---:|---:|---:|---|")
    for (strat, arch), s in summary(rows).items():
        lines.append(f"| {strat} | {arch} | {s['n']} | {s['speedup']:.3g}x / "
                     f"{s['speedup_geo']:.3g}x | "
                     f"{s['energy']:.3g}x / {s['energy_geo']:.3g}x | "
                     f"{PUBLISHED['speedup']}x / {PUBLISHED['energy']}x |")
    return "\n".join(lines) + "\n"


def plot(rows: list[dict], path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    g = gains(rows)
    nets = [n for n in NETWORKS if any(k[0] == n for k in g)]
    nets += sorted({k[0] for k in g} - set(nets))
    archs = sorted({k[1] for k in g})
    fig, axes = plt.subplots(2, len(archs), figsize=(4.5 * len(archs), 7), squeeze=False)
    x = np.arange(len(nets))
    for j, arch in enumerate(archs):
        for i, (what, label) in enumerate((("speedup", "speed-up"),
                                           ("energy", "energy efficiency"))):
            ax = axes[i][j]
            for k, strat in enumerate(("gconv", "dedicated", "matrix")):
                vals = [g.get((n, arch, strat), (np.nan, np.nan))[i] for n in nets]
                ax.bar(x + (k - 1) * 0.28, vals, width=0.28, label=strat)
            ax.axhline(1.0, color="k", lw=0.8)
            ax.axhline(PUBLISHED[what], color="tab:red", ls="--", lw=0.8,
                       label=f"published {PUBLISHED[what]}x")
            ax.set_yscale("log")
            ax.set_title(f"{arch}: {label} vs host-fallback", fontsize=9)
            ax.set_xticks(x)
            ax.set_xticklabels(nets, rotation=35, fontsize=7, ha="right")
            ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--networks", default=",".join(NETWORKS))
    ap.add_argument("--archs", default=",".join(ARCHS))
    ap.add_argument("--size", type=int, default=224, help="input size (AlexNet, VGG: 224)")
    ap.add_argument("--out", type=Path, default=Path("out/gconv-chain"))
    ap.add_argument("--no-fuse", action="store_true", help="no chain fusion")
    ap.add_argument("--host-threads", type=int, default=1,
                    help="PyTorch threads of the measured host (0 = the cpu preset's default)")
    ap.add_argument("--from-csv", action="store_true",
                    help="only re-render the table and plot from OUT/gconv_chain.csv")
    a = ap.parse_args()
    if not a.from_csv:
        run([n for n in a.networks.split(",") if n], [x for x in a.archs.split(",") if x],
            a.size, not a.no_fuse, a.out, a.host_threads or None)
    rows = load(a.out / "gconv_chain.csv")
    md = markdown(rows)
    (a.out / "gconv_chain.md").write_text(md)
    print(md)
    print(f"wrote {a.out / 'gconv_chain.csv'}, {a.out / 'gconv_chain.md'}, "
          f"{plot(rows, a.out / 'gconv_chain.png')}")


if __name__ == "__main__":
    main()
