"""The ISCA 2016 dataflow comparison on the equal-area Eyeriss platform: AlexNet's CONV layers
on row stationary and the five comparison dataflows (``dataflows``), energy by component (ALU /
RF / array / buffer / DRAM) in units of one MAC's energy, and RS's advantage.
``accelscope eyeriss-dataflows`` prints and plots it (``report/eyeriss_dataflows.py``);
``validate/eyeriss_targets.py`` checks RS's advantage."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

from accelscope.models.contract import LayerWorkload
from accelscope.workload.gconv import GConv

# dataflow -> preset (same storage area, each with its own RF / GLB split)
PRESETS = {"rs": "eyeriss-256", "ws": "eyeriss-256-ws", "os_a": "eyeriss-256-os-a",
           "os_b": "eyeriss-256-os-b", "os_c": "eyeriss-256-os-c", "nlr": "eyeriss-256-nlr"}
# energy_pj key -> component name of the ISCA 2016 breakdown
COMPONENTS = {"compute": "ALU", "spad": "RF", "array": "array", "glb": "buffer",
              "dram": "DRAM"}
ALEXNET_CONVS = {"conv1": "features_0", "conv2": "features_4", "conv3": "features_8",
                 "conv4": "features_10", "conv5": "features_12"}
ALEXNET_FCS = {"fc6": "classifier_1", "fc7": "classifier_4", "fc8": "classifier_6"}


@dataclass(frozen=True)
class DataflowComparison:
    """Energy by component in units of one MAC's energy, per (layer, dataflow), plus the
    chosen mappings."""

    network: str
    batch: int
    layers: tuple[str, ...]
    dataflows: tuple[str, ...]
    energy: dict[tuple[str, str], dict[str, float]]  # (layer, dataflow) -> component -> MACs
    macs: dict[str, int]
    mappings: dict[tuple[str, str], dict[str, Any]]

    def total(self, dataflow: str, layer: str | tuple[str, ...] | None = None) -> float:
        """Energy of one layer, of several, or of all on ``dataflow`` [MAC energies]."""
        layers = self.layers if layer is None else (layer,) if isinstance(layer, str) \
            else layer
        return float(sum(sum(self.energy[(lay, dataflow)].values()) for lay in layers))

    def advantage(self, dataflow: str, layer: str | tuple[str, ...] | None = None) -> float:
        """RS's energy efficiency over ``dataflow`` on ``layer`` (one, several, all): its
        energy / RS's energy (> 1: RS better)."""
        return self.total(dataflow, layer) / self.total("rs", layer)


def compare(batch: int = 16, network: str = "alexnet-caffe",
            layers: dict[str, str] | None = None,
            dataflows: tuple[str, ...] = tuple(PRESETS)) -> DataflowComparison:
    """Run ``layers`` (label -> GConv name; AlexNet CONV1-5 by default) of ``network`` at
    ``batch`` on every dataflow's equal-area preset. Dense (no gating, no RLC): the ISCA
    2016 comparison counts every MAC and word."""
    from accelscope.arch import load_arch
    from accelscope.models.eyeriss.model import evaluate as ev
    from accelscope.models.eyeriss.spec import EyerissSpec
    from accelscope.workload import zoo
    from accelscope.workload.lower import lower

    layers = dict(ALEXNET_CONVS if layers is None else layers)
    chain = lower(zoo.get(network, batch=batch))
    energy, mappings, macs = {}, {}, {}
    for df in dataflows:
        spec = cast(EyerissSpec, load_arch(PRESETS[df]))
        for label, node in layers.items():
            g = cast(GConv, chain.node(node))
            r = ev(LayerWorkload(gconv=g, network=network, mode="statistical"), spec)
            mac = r.energy_pj["compute"] / r.macs  # one MAC's energy (no gating here)
            energy[(label, df)] = {COMPONENTS[k]: v / mac for k, v in r.energy_pj.items()
                                   if k in COMPONENTS}
            mappings[(label, df)] = dict(r.details["mapping"])
            macs[label] = r.macs
    return DataflowComparison(network, batch, tuple(layers), tuple(dataflows), energy, macs,
                              mappings)
