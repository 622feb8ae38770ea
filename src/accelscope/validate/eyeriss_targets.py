"""Eyeriss's measured AlexNet numbers (JSSC 2017 Table V) next to ours. docs/eyeriss.md
explains the set-up and every gap.

Set-up:

* spec: the ``eyeriss`` preset (200 MHz core, 60 MHz 64-bit DRAM link);
* network: the zoo's ``alexnet-caffe`` (the original grouped AlexNet, 227 x 227), batch 4,
  CONV1-5 only (the chip's Table V); seeded random weights pruned per layer by magnitude to
  Sparseloop's Eyeriss weight densities (0.710 / 0.385 / 0.346 / 0.372 / 0.369), seeded
  random input;
* two sparsity modes: **actual** (the activations those weights produce, about half zeros
  after ReLU) and **statistical** with the per-layer input / output densities of Sparseloop's
  Eyeriss set-up (inputs 0.999 / 0.6 / 0.275 / 0.207 / 0.23, outputs 0.378 / 0.169 / 0.303 /
  0.304 / 0.1), which stand in for the trained network's maps.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Literal, cast

from accelscope.validate import PublishedTable, Target, register, register_published_table

if TYPE_CHECKING:
    from accelscope.models.eyeriss.comparison import DataflowComparison
    from accelscope.results import LayerResult, NetworkResult
    from accelscope.workload.gconv import GConv

JSSC = ("Chen, Krishna, Emer, Sze, 'Eyeriss: An Energy-Efficient Reconfigurable Accelerator "
        "for Deep CNNs', IEEE JSSC 52(1) 2017, Table V (AlexNet CONV1-5, batch 4, 1 V, 200 MHz "
        "core); per-layer values as encoded in nn_dataflow's test_eyeriss_isscc16 "
        "(shared/references/spots_scnn_eyeriss.md Sec. 3.4)")
JSSC_TOTAL = ("Chen et al., JSSC 2017, Sec. VI and Table V totals (34.7 frames/s, 278 mW, "
              "115.3 ms total / 103.5 ms processing latency, 15.4 MB DRAM per batch)")
JSSC_RLC = ("Chen et al., JSSC 2017, Sec. V-B / Fig. 9: RLC reduces feature-map DRAM traffic "
            "by nearly 30 % (CONV1) to nearly 75 % (CONV5)")
SPARSELOOP = ("Sparseloop artifact (MICRO 2022) table7_eyeriss_setup workload densities, "
              "shared/references/spots_scnn_eyeriss.md Sec. 3.6")

CONVS = ("features_0", "features_4", "features_8", "features_10", "features_12")
WEIGHT_DENSITY = (0.710166, 0.385306, 0.346133, 0.372449, 0.368811)
INPUT_DENSITY = (0.999, 0.6, 0.275, 0.207, 0.23)
OUTPUT_DENSITY = (0.378, 0.169, 0.303, 0.304, 0.1)
PUBLISHED = {  # layer: (active PEs, MACs [M], processing ms, power mW)
    "conv1": (154, 421.66, 16.5, 332),
    "conv2": (135, 895.79, 39.2, 288),
    "conv3": (156, 598.1, 21.8, 266),
    "conv4": (156, 448.6, 16.0, 235),
    "conv5": (156, 299.0, 10.0, 236),
}
_UNIT = {"conv1": 0.01, "conv2": 0.01, "conv3": 0.1, "conv4": 0.1, "conv5": 0.1}  # printed digits
PRUNE = "magnitude:0.4," + ",".join(f"{n}={d}" for n, d in zip(CONVS, WEIGHT_DENSITY,
                                                                 strict=True))
_SETUP = ("eyeriss preset; alexnet-caffe batch 4, seeded weights pruned to Sparseloop's "
          "Eyeriss densities")


@functools.cache
def _results(mode: str) -> dict[str, LayerResult]:
    from accelscope.arch import load_arch
    from accelscope.models.registry import get_model
    from accelscope.pipeline import build_workloads
    from accelscope.sparsity import prune_chain
    from accelscope.workload import zoo
    from accelscope.workload.lower import lower

    zm = zoo.get("alexnet-caffe", batch=4)
    chain = lower(zm)
    chain = prune_chain(chain, PRUNE)
    dens: dict[str, float] | None = None
    if mode == "statistical":
        dens = {}
        for n, a, b in zip(CONVS, INPUT_DENSITY, OUTPUT_DENSITY, strict=True):
            g = cast("GConv", chain.node(n))  # CONVS are convolutions
            dens[g.input], dens[g.output] = a, b
    works = {w.gconv.name: w for w in build_workloads(
        chain, zm.example_input(), mode=cast(Literal["actual", "statistical"], mode),
        densities=dens)}
    spec = load_arch("eyeriss")
    ev = get_model("eyeriss").evaluate
    return {f"conv{i + 1}": ev(works[n], spec) for i, n in enumerate(CONVS)}


def _layer(mode: str, layer: str, what: str) -> float:
    r = _results(mode)[layer]
    if what == "active_pes":
        return cast(float, r.details["active_pes"])
    if what == "macs_m":
        return r.macs / 1e6
    if what == "processing_ms":
        return cast(float, r.details["processing_cycles"] / r.clock_hz * 1e3)
    if what == "power_mw":
        return cast(float, r.details["power_w"] * 1e3)
    if what == "rlc_fmap_reduction":
        dense = r.details["dram_fmap_dense_bits"]
        coded = sum(a.bits for a in r.accesses if a.level == "dram" and a.tensor != "weight")
        return cast(float, 1.0 - coded / dense)
    raise KeyError(what)


def _total(mode: str, what: str) -> float:
    rs = list(_results(mode).values())
    seconds = sum(r.seconds for r in rs)
    if what == "processing_ms":
        return cast(float, sum(r.details["processing_cycles"] / r.clock_hz for r in rs) * 1e3)
    if what == "latency_ms":
        return seconds * 1e3
    if what == "fps":
        return 4 / seconds
    if what == "dram_mb":
        return sum(r.level_bits("dram") for r in rs) / 8e6
    if what == "dram_access_per_mac":
        return sum(r.level_bits("dram") / 16 for r in rs) / sum(r.macs for r in rs)
    if what == "power_mw":
        return sum(r.total_energy_pj for r in rs) * 1e-12 / seconds * 1e3
    raise KeyError(what)


for _layer_name, (_pes, _macs, _ms, _mw) in PUBLISHED.items():
    register(Target(
        name=f"eyeriss.alexnet.{_layer_name}.active_pes", published=_pes, unit="PEs",
        source=JSSC, tolerance=0.0, level="must_hold",
        compute=functools.partial(_layer, "actual", _layer_name, "active_pes"),
        note="row-stationary PE sets R x E, strip-mined only when they do not fit (CONV1 "
             "11 x 7 x 2 sets, CONV2 5 x 27 in two segments, CONV3-5 3 x 13 x 4 sets)"))
    register(Target(
        name=f"eyeriss.alexnet.{_layer_name}.macs", published=_macs, unit="M MACs",
        source=JSSC, tolerance=_UNIT[_layer_name] / _macs, level="must_hold",
        compute=functools.partial(_layer, "actual", _layer_name, "macs_m"),
        note="batch 4; tolerance one unit of the last printed digit (the published values "
             "are truncated: 895,795,200 is printed 895.79)"))
    for _mode in ("actual", "statistical"):
        register(Target(
            name=f"eyeriss.alexnet.{_layer_name}.processing_ms.{_mode}", published=_ms,
            unit="ms", source=JSSC, tolerance=0.10,
            level="must_hold" if _mode == "actual" else "informative",
            compute=functools.partial(_layer, _mode, _layer_name, "processing_ms"),
            note=f"{_SETUP}; {_mode} mode; the issue's aim is 10 %; the mapping the energy "
                 "search picks moves with the densities (statistical CONV5 picks p = 22)"))
    register(Target(
        name=f"eyeriss.alexnet.{_layer_name}.power_mw", published=_mw, unit="mW",
        source=JSSC, tolerance=0.15, level="informative",
        compute=functools.partial(_layer, "statistical", _layer_name, "power_mw"),
        note=f"{_SETUP}; statistical mode; eyeriss-65nm costs + 30 mW static: no clock "
             "network, no NoC wires beyond the 2x array cost"))

for _mode, _lvl in (("actual", "must_hold"), ("statistical", "must_hold")):
    register(Target(
        name=f"eyeriss.alexnet.total.processing_ms.{_mode}", published=103.5, unit="ms",
        source=JSSC_TOTAL, tolerance=0.10, level=cast(Literal["must_hold", "informative"], _lvl),
        compute=functools.partial(_total, _mode, "processing_ms"), note=f"{_SETUP}; {_mode}"))
    register(Target(
        name=f"eyeriss.alexnet.total.latency_ms.{_mode}", published=115.3, unit="ms",
        source=JSSC_TOTAL, tolerance=0.10, level=cast(Literal["must_hold", "informative"], _lvl),
        compute=functools.partial(_total, _mode, "latency_ms"),
        note=f"{_SETUP}; {_mode}; feature-map DRAM transfers not overlapped with processing"))
    register(Target(
        name=f"eyeriss.alexnet.total.fps.{_mode}", published=34.7, unit="frames/s",
        source=JSSC_TOTAL, tolerance=0.10, level=cast(Literal["must_hold", "informative"], _lvl),
        compute=functools.partial(_total, _mode, "fps"), note=f"{_SETUP}; {_mode}"))
register(Target(
    name="eyeriss.alexnet.total.dram_mb.statistical", published=15.4, unit="MB",
    source=JSSC_TOTAL, tolerance=0.20, level="must_hold",
    compute=functools.partial(_total, "statistical", "dram_mb"),
    note=f"{_SETUP}; statistical mode with Sparseloop's trained-network densities ({SPARSELOOP})"))
register(Target(
    name="eyeriss.alexnet.total.dram_mb.actual", published=15.4, unit="MB",
    source=JSSC_TOTAL, tolerance=0.20, level="informative",
    compute=functools.partial(_total, "actual", "dram_mb"),
    note=f"{_SETUP}; actual mode: random-weight activations are about half zeros in every "
         "layer, the trained network's deep layers are 70-80 % zeros, so RLC saves less"))
register(Target(
    name="eyeriss.alexnet.total.dram_access_per_mac.statistical", published=0.0029,
    unit="accesses/MAC", source=JSSC_TOTAL, tolerance=0.20, level="informative",
    compute=functools.partial(_total, "statistical", "dram_access_per_mac"),
    note="16-bit accesses per MAC"))
register(Target(
    name="eyeriss.alexnet.total.power_mw.statistical", published=278, unit="mW",
    source=JSSC_TOTAL, tolerance=0.15, level="informative",
    compute=functools.partial(_total, "statistical", "power_mw"), note=_SETUP))
for _layer_name, _red in (("conv1", 0.30), ("conv5", 0.75)):
    register(Target(
        name=f"eyeriss.alexnet.{_layer_name}.rlc_fmap_reduction.statistical", published=_red,
        unit="fraction", source=JSSC_RLC, tolerance=0.15, level="informative",
        compute=functools.partial(_layer, "statistical", _layer_name, "rlc_fmap_reduction"),
        note="1 - RLC-coded / dense feature-map DRAM bits (input + output) of the layer; "
             "CONV1's input is the raw image, sent uncoded"))


JSSC_VGG = ("Chen et al., JSSC 2017, abstract: VGG-16 convolutional layers at 0.7 frames/s and "
            "0.0035 DRAM access/MAC at 236 mW (N = 3)")


@functools.cache
def _vgg16() -> list[LayerResult]:
    from accelscope.arch import load_arch
    from accelscope.models.registry import get_model
    from accelscope.pipeline import build_workloads
    from accelscope.workload import zoo
    from accelscope.workload.lower import lower

    zm = zoo.get("vgg16", batch=3)
    works = build_workloads(lower(zm), zm.example_input())
    spec = load_arch("eyeriss")
    ev = get_model("eyeriss").evaluate
    return [ev(w, spec) for w in works if w.gconv.kind == "conv"]


def _vgg(what: str) -> float:
    rs = _vgg16()
    seconds = sum(r.seconds for r in rs)
    if what == "fps":
        return 3 / seconds
    if what == "dram_access_per_mac":
        return sum(r.level_bits("dram") / 16 for r in rs) / sum(r.macs for r in rs)
    return sum(r.total_energy_pj for r in rs) * 1e-12 / seconds * 1e3


_VGG_NOTE = ("eyeriss preset; torchvision VGG-16 at 224 x 224, batch 3, its 13 convolutions, "
             "seeded random (unpruned) weights and input, actual mode. nn_dataflow's authors "
             "also could not reproduce the VGG-16 figures from published information "
             "(nn_dataflow issue #8)")
for _what, _pub, _unit, _tol in (("fps", 0.7, "frames/s", 0.10),
                                 ("dram_access_per_mac", 0.0035, "accesses/MAC", 0.20),
                                 ("power_mw", 236, "mW", 0.15)):
    register(Target(
        name=f"eyeriss.vgg16.{_what}", published=_pub, unit=_unit, source=JSSC_VGG,
        tolerance=_tol, level="informative", compute=functools.partial(_vgg, _what),
        note=_VGG_NOTE))

# JSSC Table V columns recalled in the reference notes ([M]); they reproduce the sourced totals
_TOTAL_MS = {"conv1": 20.9, "conv2": 41.9, "conv3": 23.6, "conv4": 18.4, "conv5": 10.5}
_DRAM_MB = {"conv1": 5.0, "conv2": 4.0, "conv3": 3.0, "conv4": 2.1, "conv5": 1.3}


@register_published_table
def _table_v(result: NetworkResult) -> PublishedTable | None:
    """`accelscope run alexnet-caffe --arch eyeriss --batch 4`: our CONV1-5 next to Table V."""
    if result.model != "eyeriss" or not result.network.startswith("alexnet-caffe"):
        return None
    by = {r.layer: r for r in result.layers}
    if not all(n in by for n in CONVS) or by[CONVS[0]].details.get("mapping") is None:
        return None
    if next(r for r in result.layers).macs != 421_660_800:  # batch 4 at 227 x 227 only
        return None
    rows: list[list[str]] = []
    for i, n in enumerate(CONVS):
        r, key = by[n], f"conv{i + 1}"
        pes, _, ms, mw = PUBLISHED[key]
        power = r.details.get("power_w")
        rows.append([key, f"{r.details['active_pes']} / {pes}",
                     f"{r.details['processing_cycles'] / r.clock_hz * 1e3:.1f} / {ms}",
                     f"{r.seconds * 1e3:.1f} / {_TOTAL_MS[key]}",
                     f"{power * 1e3:.0f} / {mw}" if power else f"- / {mw}",
                     f"{r.level_bits('dram') / 8e6:.2f} / {_DRAM_MB[key]}"])
    return ("AlexNet CONV1-5 on Eyeriss, ours / published (JSSC 2017 Table V; total latency "
            "and DRAM columns recalled [M])",
            ["layer", "active PEs", "processing ms", "total ms", "power mW", "DRAM MB"], rows)


# -- ISCA 2016: row stationary against the other dataflows, equal area ----------------------------
ISCA16 = ("Chen, Emer, Sze, 'Eyeriss: A Spatial Architecture for Energy-Efficient Dataflow for "
          "CNNs', ISCA 2016 (and JSSC 2017 Sec. IV-A): on AlexNet's CONV layers, 256 PEs, the "
          "same storage area, batch 16, RS is 1.4x-2.5x more energy-efficient than the other "
          "dataflows (WS, OS_A/B/C, NLR); shared/references/spots_scnn_eyeriss.md Sec. 3.5")
_ISCA_SETUP = ("presets eyeriss-256 (rs), eyeriss-256-ws / -os-a / -os-b / -os-c / -nlr (RF per "
               "PE from the ISCA 2016 framework, GLB = the storage area left, docs/eyeriss.md); "
               "alexnet-caffe CONV1-5, batch 16, dense; every mapping an exhaustive energy "
               "search with the same counting rules; `accelscope eyeriss-dataflows`")
_ISCA_LOW, _ISCA_HIGH = 1.4, 2.5


@functools.cache
def _isca16() -> DataflowComparison:
    from accelscope.models.eyeriss.comparison import compare

    return compare(batch=16)


def _advantage(dataflow: str | None, which: str = "") -> float:
    """RS's energy efficiency over ``dataflow`` on CONV1-5 (or the smallest / largest over
    all dataflows)."""
    cmp = _isca16()
    if dataflow is not None:
        return cmp.advantage(dataflow)
    values = [cmp.advantage(df) for df in cmp.dataflows if df != "rs"]
    return min(values) if which == "min" else max(values)


for _df in ("ws", "os_a", "os_b", "os_c", "nlr"):
    register(Target(
        name=f"eyeriss.isca16.rs_vs_{_df}.direction", published=1.0, unit="x (> 1)",
        source=ISCA16, tolerance=0.0, level="must_hold", criterion="above", bound=1.0,
        compute=functools.partial(_advantage, _df),
        note=f"{_ISCA_SETUP}; passes when RS spends less energy than {_df} on CONV1-5 "
             "together (ours > 1): the published claim holds in direction"))
    register(Target(
        name=f"eyeriss.isca16.rs_vs_{_df}.size", published=(_ISCA_LOW + _ISCA_HIGH) / 2,
        unit="x", source=ISCA16,
        tolerance=(_ISCA_HIGH - _ISCA_LOW) / (_ISCA_LOW + _ISCA_HIGH), level="informative",
        compute=functools.partial(_advantage, _df),
        note=f"{_ISCA_SETUP}; the published 1.4x-2.5x range written as 1.95x +- 28.2 % "
             "(exactly the range); the paper does not give the value per dataflow"))
for _which, _pub in (("min", _ISCA_LOW), ("max", _ISCA_HIGH)):
    register(Target(
        name=f"eyeriss.isca16.rs_advantage.{_which}", published=_pub, unit="x",
        source=ISCA16, tolerance=0.05 / _pub, level="informative",
        compute=functools.partial(_advantage, None, _which),
        note=f"{_ISCA_SETUP}; the {_which}imum of RS's advantage over the five dataflows "
             "against the published end of the range (half a unit of its last digit)"))

# RS on the comparison platform: ISCA 2016 Fig. 10 breakdown (batch 16) as nn_dataflow's
# test_eyeriss_isca16 encodes it, units of 1e9 MAC energies: (DRAM, RF) per layer; the ALU
# column is the MAC count itself (16 x per-image MACs)
ISCA16_FIG10 = ("Chen, Emer, Sze, ISCA 2016, Fig. 10 (RS, AlexNet, batch 16, 256 PEs), as "
                "encoded in nn_dataflow's tests/dataflow_test/test_nn_dataflow.py::"
                "test_eyeriss_isca16 (shared/references/spots_scnn_eyeriss.md Sec. 3.5)")
FIG10 = {"conv1": (2.46, 6.75), "conv2": (2.27, 14.33), "conv3": (2.02, 9.57),
         "conv4": (1.57, 7.18), "conv5": (1.05, 4.78), "fc6": (7.78, 2.42),
         "fc7": (3.39, 1.07), "fc8": (0.84, 0.26)}


@functools.cache
def _isca16_fc_rs() -> DataflowComparison:
    from accelscope.models.eyeriss.comparison import ALEXNET_FCS, compare

    return compare(batch=16, layers=ALEXNET_FCS, dataflows=("rs",))


def _fig10(layer: str, component: str) -> float:
    cmp = _isca16_fc_rs() if layer.startswith("fc") else _isca16()
    return cmp.energy[(layer, "rs")][component] / 1e9


for _layer_name, (_dram, _rf) in FIG10.items():
    for _comp, _pub, _tol in (("DRAM", _dram, 0.15), ("RF", _rf, 0.05)):
        register(Target(
            name=f"eyeriss.isca16.fig10.{_layer_name}.{_comp.lower()}", published=_pub,
            unit="1e9 MAC energies", source=ISCA16_FIG10, tolerance=_tol, level="informative",
            compute=functools.partial(_fig10, _layer_name, _comp),
            note="eyeriss-256 preset (RS), dense, batch 16; RF = 4 accesses per MAC + spad "
                 "fills; DRAM: our GLB split and mapping search, the paper's mapping table "
                 "is not public"))
