"""SPOTS's published averages (informative: the paper's baseline configurations, pruning
levels and Table 1 are not public; docs/spots.md writes our set-up down).

Set-up: AlexNet (torchvision), VGG-16, ResNet-50 and GoogLeNet at 224x224, batch 1, seeded
random weights pruned per layer to 30 % density by magnitude (``--prune 0.7``), the seeded
random input; SPOTS, Gemmini and the CPU as in their presets. The average is the arithmetic
mean of the four per-network ratios.
"""

from __future__ import annotations

import functools
import statistics
from typing import TYPE_CHECKING

from accelscope.validate import Target, register

if TYPE_CHECKING:
    from accelscope.models.contract import LayerWorkload
    from accelscope.results import NetworkResult

NETWORKS = ("alexnet", "vgg16", "resnet50", "googlenet")
PRUNE = "0.7"
TACO = ("Soltaniyeh, Martin, Nagarakatte, 'An Accelerator for Sparse Convolutional Neural "
        "Networks Leveraging Systolic General Matrix-Matrix Multiplication', ACM TACO 19(3) "
        "2022, abstract")


@functools.cache
def _workloads(net: str) -> list[LayerWorkload]:
    from accelscope.pipeline import build_workloads
    from accelscope.sparsity import prune_chain
    from accelscope.workload import zoo
    from accelscope.workload.lower import lower

    zm = zoo.get(net)
    chain = prune_chain(lower(zm), PRUNE)
    return build_workloads(chain, zm.example_input())


@functools.cache
def _result(net: str, arch: str) -> NetworkResult:
    from accelscope.arch import load_arch
    from accelscope.pipeline import evaluate_workloads

    return evaluate_workloads(_workloads(net), load_arch(arch), network=net)


def _mean_speedup(baseline: str) -> float:
    return statistics.mean(_result(n, baseline).seconds / _result(n, "spots").seconds
                           for n in NETWORKS)


def _mean_energy_eff(baseline: str) -> float:
    return statistics.mean(_result(n, baseline).total_energy_pj /
                           _result(n, "spots").total_energy_pj for n in NETWORKS)


register(Target(
    name="spots.speedup_vs_gemmini.mean4", published=2.16, unit="x", source=TACO,
    tolerance=0.10, level="informative", compute=lambda: _mean_speedup("gemmini"),
    note="Gemmini-like 16x16 WS array with software IM2COL through DRAM (gemmini.yaml); the "
         "paper's Gemmini configuration and pruning are not public"))
register(Target(
    name="spots.energy_eff_vs_cpu.mean4", published=78.0, unit="x", source=TACO,
    tolerance=0.25, level="informative", compute=lambda: _mean_energy_eff("cpu"),
    note="CPU energy is measured time x the preset's 16 W TDP share unless RAPL is readable "
         "(docs/host.md); the paper's CPU is not named"))
register(Target(
    name="spots.speedup_vs_eyeriss.mean4", published=1.74, unit="x", source=TACO,
    tolerance=0.10, level="informative", compute=lambda: _mean_speedup("eyeriss"),
    note="the Eyeriss v1 chip as in eyeriss.yaml (168 PEs at 200 MHz, 65 nm) against SPOTS's "
         "512 MACs at 500 MHz; the paper does not say how it scaled Eyeriss (PE count, clock, "
         "node), so the ratio mostly measures the provisioning difference"))
