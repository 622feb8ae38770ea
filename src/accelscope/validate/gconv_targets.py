"""GCONV Chain's published averages (informative: only the paper's abstract is available; its
accelerators, networks, host and set-up are unknown; docs/gconv.md writes ours down).

Set-up here (kept cheap: ``accelscope validate`` computes it): GoogLeNet and SqueezeNet 1.0
at a reduced 32x32 input (two of the seven networks: AlexNet and VGG-16 need 224x224 for their
adaptive pooling, ResNet-50, MobileNetV2 and DenseNet-121 take minutes on the SPOTS and SCNN
models), batch 1, seeded random weights and input, on the spots, eyeriss and scnn
presets; ``gconv`` (whole chain on the accelerator) against ``host-fallback`` (conv/FC on the
accelerator, the rest measured on this machine's CPU with the cpu preset on one PyTorch
thread (``strategy.DEFAULT_HOST_THREADS``), boundary tensors through DRAM), chain fusion on
in both. The average is the arithmetic mean of the six per-(network, arch) ratios. The
full-size seven-network numbers are in docs/gconv.md (bench/gconv_chain.py).
"""

from __future__ import annotations

import functools
import statistics
from typing import TYPE_CHECKING, Any

from accelscope.validate import Target, register

if TYPE_CHECKING:
    from accelscope.results import LayerResult

NETWORKS = ("googlenet", "squeezenet1_0")
ARCHS = ("spots", "eyeriss", "scnn")
SIZE = 32
GCONV = ("Zhang, Chen, Ray, 'GCONV Chain: Optimizing the Whole-life Cost in End-to-end CNN "
         "Acceleration', IEEE TC 2021 (arXiv 2104.05541), abstract: 3.4x performance and "
         "3.2x energy efficiency on average over seven CNNs")


@functools.cache
def _ratios() -> tuple[tuple[float, float], ...]:
    from accelscope.arch import load_arch
    from accelscope.passes import evaluate_strategies
    from accelscope.pipeline import build_workloads
    from accelscope.workload import zoo
    from accelscope.workload.lower import lower

    out = []
    for net in NETWORKS:
        zm = zoo.get(net, input_shape=(1, 3, SIZE, SIZE))
        chain = lower(zm)
        ws = build_workloads(chain, zm.example_input())
        # one host measurement per layer for every arch
        cache: dict[tuple[Any, ...], LayerResult] = {}
        for arch in ARCHS:
            res = evaluate_strategies(ws, load_arch(arch), ("gconv", "host-fallback"),
                                      chain=chain, fuse=True, cache=cache)
            g, h = res["gconv"], res["host-fallback"]
            out.append((h.seconds / g.seconds, h.total_energy_pj / g.total_energy_pj))
    return tuple(out)


register(Target(
    name="gconv.speedup_vs_host_fallback.mean", published=3.4, unit="x", source=GCONV,
    tolerance=0.25, level="informative",
    compute=lambda: statistics.mean(r[0] for r in _ratios()),
    note="2 of the 7 networks at 32x32 on spots/eyeriss/scnn against this machine's measured "
         "CPU (docs/gconv.md); host times vary with the machine's load, and the paper's "
         "accelerators, host and networks are not public"))
register(Target(
    name="gconv.energy_eff_vs_host_fallback.mean", published=3.2, unit="x", source=GCONV,
    tolerance=0.25, level="informative",
    compute=lambda: statistics.mean(r[1] for r in _ratios()),
    note="host energy is the cpu preset's 16 W TDP share x the measured time unless RAPL is "
         "readable (docs/host.md): a whole-CPU power against accelerator-only energy"))
