"""SCNN's published results (Parashar et al., ISCA 2017) next to ours. docs/scnn.md explains
the set-up and every gap.

Set-up (what the paper fixes we follow, what it does not we chose and wrote down):

* specs: the ``scnn``, ``dcnn`` and ``dcnn-opt`` presets with ``inter_layer: on_chip`` (as in
  the paper, activations stay in the IARAM/OARAM between layers; DRAM carries weights, the
  network input and tiles that do not fit);
* networks: the zoo's ``alexnet-caffe`` (227x227), ``googlenet`` and ``vgg16`` (224x224),
  batch 1, seeded random weights and the seeded random input (docs/zoo.md); weights pruned
  by per-layer magnitude to the conv densities of Han et al. (NIPS 2015, Tables 4-5, recalled)
  for AlexNet and VGG-16, and to 37 % for every GoogLeNet layer (Han et al. did not prune
  GoogLeNet; 37 % is their AlexNet conv2-5 level). Activations are whatever the random-weight
  networks produce after ReLU (about half zeros), not trained ones;
* network numbers sum the convolution layers (the paper's 72 conv layers): GConvs that come
  from a Conv2d;
* the density sweep re-draws every GoogLeNet convolution with i.i.d. random weights and
  activations at densities 0.1 ... 1.0 (``report.density_sweep``).
"""

from __future__ import annotations

import functools
import statistics
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, cast

from accelscope.validate import Target, register

if TYPE_CHECKING:
    import pandas as pd

    from accelscope.arch import ArchSpec
    from accelscope.models.contract import LayerWorkload
    from accelscope.models.scnn.spec import ScnnSpec

PAPER = ("Parashar et al., 'SCNN: An Accelerator for Compressed-sparse Convolutional Neural "
         "Networks', ISCA 2017 (arXiv 1708.04485)")
SUMMARY = (f"{PAPER}; numbers as summarised in shared/references/spots_scnn_eyeriss.md "
           "Sec. 2.7 ('Observations on the CNN Acceleration Paper Set' summary [S])")

_HAN_ALEXNET = ("magnitude:0.37,features_0=0.84,features_4=0.38,features_8=0.35,"
                "features_10=0.37,features_12=0.37,classifier_1=0.09,classifier_4=0.09,"
                "classifier_6=0.25,features_2_den=dense,features_6_den=dense")
_HAN_VGG = ("magnitude:0.35,features_0=0.58,features_2=0.22,features_5=0.34,features_7=0.36,"
            "features_10=0.53,features_12=0.24,features_14=0.42,features_17=0.32,"
            "features_19=0.27,features_21=0.34,features_24=0.35,features_26=0.29,"
            "features_28=0.36,classifier_0=0.04,classifier_3=0.04,classifier_6=0.23")
NETWORKS = {"alexnet": ("alexnet-caffe", _HAN_ALEXNET),
            "googlenet": ("googlenet", "magnitude:0.37"),
            "vggnet": ("vgg16", _HAN_VGG)}
SWEEP_DENSITIES = tuple(round(0.1 * i, 1) for i in range(1, 11))


def paper_spec(name: str, **scnn_updates: Any) -> ArchSpec:
    """A preset as the paper evaluates it: activations kept on chip between layers."""
    from accelscope.arch import load_arch

    d = load_arch(name).model_dump()
    d["scnn"].update({"inter_layer": "on_chip", **scnn_updates})
    return load_arch(d)


@functools.cache
def _workloads(net: str) -> tuple[LayerWorkload, ...]:
    from accelscope.pipeline import build_workloads
    from accelscope.sparsity import prune_chain
    from accelscope.workload import zoo
    from accelscope.workload.lower import lower

    zoo_name, prune = NETWORKS[net]
    zm = zoo.get(zoo_name)
    chain = prune_chain(lower(zm), prune)
    return tuple(w for w in build_workloads(chain, zm.example_input())
                 if w.gconv.origin_op.startswith("Conv2d"))


@functools.cache
def _totals(net: str, arch: str) -> tuple[float, float, float]:
    """(seconds, energy pJ, multiplier utilization) over the network's convolutions."""
    from accelscope.models.registry import get_model

    spec = _granular_spec() if arch == "scnn-4x256" else paper_spec(arch)
    rs = [get_model("scnn").evaluate(w, spec) for w in _workloads(net)]
    cycles = sum(r.cycles for r in rs)
    useful = sum(r.macs_useful for r in rs)
    return (sum(r.seconds for r in rs), sum(r.total_energy_pj for r in rs),
            useful / (cycles * spec.compute.macs_per_cycle))


def _speedup(net: str) -> float:
    return _totals(net, "dcnn")[0] / _totals(net, "scnn")[0]


def _energy_gain(arch: str) -> float:
    return statistics.mean(_totals(n, "dcnn")[1] / _totals(n, arch)[1] for n in NETWORKS)


@functools.cache
def _sweep() -> pd.DataFrame:
    from accelscope.report.density_sweep import density_sweep

    specs = [paper_spec(n) for n in ("scnn", "dcnn", "dcnn-opt")]
    return density_sweep("googlenet", specs, SWEEP_DENSITIES, None)


def _sweep_at(density: float, column: str, arch: str = "scnn") -> float:
    df = _sweep()
    row = df[(df["arch"] == arch) & ((df["density"] - density).abs() < 1e-9)]
    return float(row[column].iloc[0])


def _crossing(column: str, baseline: str = "dcnn") -> float:
    return crossing(_sweep(), column, baseline)


def crossing(df: pd.DataFrame, column: str, baseline: str = "dcnn", arch: str = "scnn") -> float:
    """Density where ``arch``'s ``column`` of a density sweep (``speedup`` or ``energy_rel``,
    relative to ``baseline``) crosses 1, by linear interpolation between swept densities
    (the highest crossing)."""
    s = df[df["arch"] == arch].sort_values("density")
    dens: list[float] = list(s["density"])
    vals: list[float]
    if baseline == "dcnn":
        vals = list(s[column])
    else:  # energy relative to another arch of the sweep
        b = df[df["arch"] == baseline].sort_values("density")
        vals = [a / c for a, c in zip(s["energy_pj"], b["energy_pj"], strict=True)]
    better: Callable[[float], bool] = ((lambda v: v > 1.0) if column == "speedup"
                                       else (lambda v: v < 1.0))
    for i in range(len(dens) - 1, 0, -1):
        if better(vals[i - 1]) and not better(vals[i]):
            d0, d1, v0, v1 = dens[i - 1], dens[i], vals[i - 1], vals[i]
            return d0 + (1.0 - v0) * (d1 - d0) / (v1 - v0)
    return dens[-1] if better(vals[-1]) else dens[0]


def _granular_spec() -> ArchSpec:
    """SCNN with 4 PEs of 16x16 multipliers (same 1,024 multipliers, accumulator and
    activation SRAM in all), the paper's coarse-grained design point."""
    from accelscope.arch import load_arch

    d = load_arch("scnn").model_dump()
    d["name"] = "scnn-4x256"
    d["compute"].update({"array": [2, 2], "macs_per_pe": 256})
    for m in d["memory"]:
        m["banks"] = 4
        m["word_bits"] = m["word_bits"] * 4 if m["name"] != "accumulator" else m["word_bits"]
    d["scnn"].update({"weight_vector": 16, "activation_vector": 16, "accumulator_banks": 512,
                      "inter_layer": "on_chip"})
    return load_arch(d)


def _fc_utilization() -> float:
    """A dense 4096 -> 1024 FC layer on SCNN: useful MACs over the array's cycles (without
    the DRAM stall of streaming 4 M weights at batch 1) x peak."""
    from accelscope.models.registry import get_model
    from accelscope.report.density_sweep import synthetic_workload
    from accelscope.workload.gconv import GConv

    g = GConv(name="fc", N=1, G=1, K=1024, C=4096, H=1, W=1, P=1, Q=1, R=1, S=1, input="x",
              output="y", operand="w", operand_kind="weight")
    r = get_model("scnn").evaluate(synthetic_workload(g, 1.0, 0), paper_spec("scnn"))
    return cast(float, r.details["multiplier_utilization_compute"])


def _area(part: str, arch: str = "scnn") -> float:
    from accelscope.arch import load_arch
    from accelscope.models.scnn.spec import area_mm2

    return area_mm2(cast("ScnnSpec", load_arch(arch)))[part]


_SETUP = ("pruned as in Han et al. (AlexNet, VGG-16) / 37 % (GoogLeNet), random-weight "
          "activations, conv layers, activations on chip")
for _net, _pub in (("alexnet", 2.37), ("googlenet", 2.19), ("vggnet", 3.52)):
    register(Target(
        name=f"scnn.speedup_vs_dcnn.{_net}", published=_pub, unit="x", source=SUMMARY,
        tolerance=0.10, level="informative",
        compute=functools.partial(_speedup, _net),
        note=f"{_SETUP}; the paper's trained networks have sparser activations in deep "
             "layers than random-weight ones"))
register(Target(
    name="scnn.speedup_vs_dcnn.mean3", published=2.7, unit="x", source=f"{PAPER}, abstract",
    tolerance=0.10, level="informative",
    compute=lambda: statistics.mean(_speedup(n) for n in NETWORKS), note=_SETUP))
register(Target(
    name="scnn.energy_gain_vs_dcnn.mean3", published=2.3, unit="x",
    source=f"{PAPER}, abstract", tolerance=0.10, level="informative",
    compute=lambda: _energy_gain("scnn"),
    note=f"{_SETUP}; DCNN energy / SCNN energy, mean of the three networks; our 16 nm "
         "energies are scaled 45 nm values (no leakage)"))
register(Target(
    name="scnn.dcnn_opt_energy_gain_vs_dcnn.mean3", published=2.0, unit="x", source=SUMMARY,
    tolerance=0.10, level="informative", compute=lambda: _energy_gain("dcnn-opt"),
    note=f"{_SETUP}; DCNN-opt's gating and compression details are partly recalled [M]"))

# -- density sweep (synthetic GoogLeNet) --------------------------------------------------------
_SWEEP = ("GoogLeNet convolutions re-drawn with i.i.d. random weights and activations at "
          "each density (0.1 ... 1.0), activations on chip")
register(Target(
    name="scnn.sweep.perf_vs_dcnn_at_1.0", published=0.79, unit="x", source=SUMMARY,
    tolerance=0.05, level="informative", compute=lambda: _sweep_at(1.0, "speedup"),
    note=f"{_SWEEP}; our DCNN runs SCNN's loop nest on dense vectors, so at full density the "
         "two differ only by bank conflicts (none for dense output-channel-fastest vectors "
         "except where Kc < F) and the index bits: the paper's DCNN must be faster on the "
         "layers where PT-IS-CP fragments"))
register(Target(
    name="scnn.sweep.energy_vs_dcnn_at_1.0", published=1.33, unit="x", source=SUMMARY,
    tolerance=0.05, level="must_hold", compute=lambda: _sweep_at(1.0, "energy_rel"),
    note=f"{_SWEEP}; SCNN pays the crossbar, the zero-run indices and a busier accumulator; "
         "tolerance 5 %: the crossbar energy is an estimate (docs/scnn.md)"))
register(Target(
    name="scnn.sweep.perf_break_even_density", published=0.85, unit="density",
    source=SUMMARY, tolerance=0.059, level="must_hold",
    compute=lambda: _crossing("speedup"),
    note=f"{_SWEEP}; linear interpolation between swept densities; tolerance +-0.05 density "
         "(half the sweep step: the paper reads 'about 0.85' off a sweep)"))
register(Target(
    name="scnn.sweep.speedup_at_0.1", published=24.0, unit="x", source=SUMMARY,
    tolerance=0.10, level="informative", compute=lambda: _sweep_at(0.1, "speedup"),
    note=f"{_SWEEP}; DNNsim's stall-on-conflict rule costs about 0.7 extra cycles per full "
         "step at low density; fragmentation of 4-wide vectors and the PE barrier do the rest; "
         "4-entry crossbar queues give 21.8x but move the dense end to 1.0x "
         "(bench/scnn_sensitivity.py)"))
register(Target(
    name="scnn.sweep.energy_vs_dcnn_at_0.1", published=0.06, unit="x", source=SUMMARY,
    tolerance=0.10, level="informative", compute=lambda: _sweep_at(0.1, "energy_rel"),
    note=f"{_SWEEP}; DRAM weight streaming is 93 % of SCNN's energy here, on-chip energy "
         "alone is 2.2 % of DCNN's (bench/scnn_sensitivity.py)"))
register(Target(
    name="scnn.sweep.energy_break_even_density_vs_dcnn", published=0.83, unit="density",
    source=SUMMARY, tolerance=0.06, level="must_hold",
    compute=lambda: _crossing("energy_rel"),
    note=f"{_SWEEP}; tolerance +-0.05 density as above"))
register(Target(
    name="scnn.sweep.energy_break_even_density_vs_dcnn_opt", published=0.6, unit="density",
    source=SUMMARY, tolerance=0.09, level="informative",
    compute=lambda: _crossing("energy_rel", "dcnn-opt"), note=_SWEEP))

# -- PE granularity, FC efficiency, area -----------------------------------------------------------
register(Target(
    name="scnn.granularity.perf_64x16_over_4x256", published=1.11, unit="x", source=SUMMARY,
    tolerance=0.05, level="informative",
    compute=lambda: _totals("googlenet", "scnn-4x256")[0] / _totals("googlenet", "scnn")[0],
    note="pruned GoogLeNet convolutions; 4x256: 2x2 PEs, F = I = 16, A = 512 banks, same "
         "total SRAM; the paper's network for this study is not in the available text"))
register(Target(
    name="scnn.granularity.utilization_64x16", published=0.59, unit="fraction",
    source=SUMMARY, tolerance=0.10, level="informative",
    compute=lambda: _totals("googlenet", "scnn")[2],
    note="useful products / (cycles x 1,024) on the pruned GoogLeNet convolutions"))
register(Target(
    name="scnn.granularity.utilization_4x256", published=0.35, unit="fraction",
    source=SUMMARY, tolerance=0.10, level="informative",
    compute=lambda: _totals("googlenet", "scnn-4x256")[2],
    note="as above on the 4 x 256 design"))
register(Target(
    name="scnn.fc.fraction_of_peak", published=0.25, unit="fraction", source=SUMMARY,
    tolerance=0.02, level="must_hold", compute=_fc_utilization,
    note="dense 4096 -> 1024 FC: outputs spread over the PEs, one activation meets F = 4 "
         "weights per cycle; tolerance: half a unit of the printed 25 %"))
register(Target(
    name="scnn.area.pe_mm2", published=0.123, unit="mm2", source=f"{SUMMARY}; Table 4",
    tolerance=0.0041, level="must_hold", compute=lambda: _area("pe"),
    note="sum of per-component unit areas taken from the same Table 4 (partly recalled "
         "[M]): a consistency check of the area model, not an independent prediction"))
register(Target(
    name="scnn.area.chip_mm2", published=7.9, unit="mm2", source=f"{SUMMARY}; Table 4",
    tolerance=0.0063, level="must_hold", compute=lambda: _area("chip"),
    note="64 PEs x the PE area (global wiring and the DRAM interface are not modelled)"))
register(Target(
    name="scnn.area.dcnn_chip_mm2", published=5.9, unit="mm2", source=SUMMARY,
    tolerance=0.05, level="informative", compute=lambda: _area("chip", "dcnn"),
    note="DCNN from the same unit areas with 2 MB of dense activation SRAM and no crossbar; "
         "the paper's DCNN PE is not described in the available text"))
