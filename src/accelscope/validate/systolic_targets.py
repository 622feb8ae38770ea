"""The systolic engine against SCALE-Sim v3 runs made by the peer-tool study.

``references/peers_handson.md`` §2 ran SCALE-Sim 3.0.0 on ResNet-18's 20 convolutions on a
32x32 array with 64 kB SRAMs in CALC mode and reported the network totals per dataflow. Ours
evaluates the same topology (the padded sizes the windows use) with the closed-form compute
engine and the SCALE-Sim memory model; SCALE-Sim is deterministic, so the tolerance is 0.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

from accelscope.validate import Target, register

if TYPE_CHECKING:
    from accelscope.workload.gconv import GConv

STUDY = ("SCALE-Sim 3.0.0 run by the peer-tool study, references/peers_handson.md §2 "
         "(ResNet-18 conv layers, 32x32, 64 kB SRAMs, CALC; table 'Results: ResNet-18 conv "
         "layers')")
PUBLISHED = {  # dataflow: (total incl. prefetch, total cycles)
    "os": (2_189_103, 2_114_948),
    "ws": (2_885_328, 2_806_392),
    "is": (3_456_575, 3_382_652),
}


@functools.cache
def _convs() -> list[GConv]:
    from accelscope.workload import zoo
    from accelscope.workload.lower import lower

    chain = lower(zoo.get("resnet18"))
    return [g for g in chain.gconvs if g.kind == "conv"]


@functools.cache
def _totals(dataflow: str) -> tuple[int, int]:
    from accelscope.models.systolic.memory import scalesim_memory

    incl = total = 0
    for g in _convs():
        rep = scalesim_memory(
            dataflow=dataflow, array_rows=32, array_cols=32,
            ifmap_h=(g.P - 1) * g.stride[0] + g.R, ifmap_w=(g.Q - 1) * g.stride[1] + g.S,
            filter_h=g.R, filter_w=g.S, channels=g.C, num_filter=g.K, stride=g.stride[0],
            ifmap_sram_kb=64, filter_sram_kb=64, ofmap_sram_kb=64, bandwidth_mode="calc")
        incl += rep.total_cycles_incl_prefetch
        total += rep.total_cycles
    return incl, total


for _df, (_incl, _total) in PUBLISHED.items():
    register(Target(
        name=f"systolic.scalesim.resnet18_32x32_{_df}.cycles_incl_prefetch", published=_incl,
        unit="cycles", source=STUDY, tolerance=0.0, level="must_hold",
        compute=functools.partial(lambda df: _totals(df)[0], _df)))
    register(Target(
        name=f"systolic.scalesim.resnet18_32x32_{_df}.total_cycles", published=_total,
        unit="cycles", source=STUDY, tolerance=0.0, level="must_hold",
        compute=functools.partial(lambda df: _totals(df)[1], _df)))
