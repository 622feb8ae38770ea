"""The ISCA 2016 dataflow comparison on the equal-area Eyeriss platform: AlexNet's CONV layers
on row stationary and the five comparison dataflows, energy by component (ALU / RF / array /
buffer / DRAM), RS's advantage, and a stacked-bar plot. ``accelscope eyeriss-dataflows``
prints and plots it; ``validate/eyeriss_targets.py`` checks RS's advantage."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

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
    mappings: dict[tuple[str, str], dict]

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
    from accelscope import lower, zoo
    from accelscope.arch import load_arch
    from accelscope.models.contract import LayerWorkload
    from accelscope.models.registry import get_model

    layers = dict(ALEXNET_CONVS if layers is None else layers)
    chain = lower(zoo.get(network, batch=batch))
    ev = get_model("eyeriss").evaluate
    energy, mappings, macs = {}, {}, {}
    for df in dataflows:
        spec = load_arch(PRESETS[df])
        for label, node in layers.items():
            g = chain.node(node)
            r = ev(LayerWorkload(gconv=g, network=network, mode="statistical"), spec)
            mac = r.energy_pj["compute"] / r.macs  # one MAC's energy (no gating here)
            energy[(label, df)] = {COMPONENTS[k]: v / mac for k, v in r.energy_pj.items()
                                   if k in COMPONENTS}
            mappings[(label, df)] = dict(r.details["mapping"])
            macs[label] = r.macs
    return DataflowComparison(network, batch, tuple(layers), tuple(dataflows), energy, macs,
                              mappings)


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


def plot(cmp: DataflowComparison, path: str | Path) -> Path:
    """Stacked bars (ALU / RF / array / buffer / DRAM) per layer and dataflow, in units of
    1e9 MAC energies, as the ISCA 2016 paper draws its comparison."""
    import numpy as np

    from accelscope.report.plots import _plt

    plt = _plt()
    path = Path(path)
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
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=150)
    plt.close(fig)
    return path
