"""Chain fusion: keep each intermediate tensor between two consecutive accelerator GConvs on
chip when it fits the accelerator's fusion buffer (``fusion_capacity``), removing its DRAM
write and read and reporting the bits saved."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from accelscope.arch import load_arch
from accelscope.energy import rescale_dram
from accelscope.models.contract import LayerWorkload
from accelscope.passes.common import ON_ACCEL, StrategyError, base_tensors, reads
from accelscope.results import NetworkResult
from accelscope.workload.gconv import Chain


def fusion_capacity(spec: Any) -> tuple[int, str]:
    """Bytes of on-chip feature-map storage an intermediate tensor may occupy between two
    fused GConvs, and how that was derived.

    The rule (the same for every preset): the largest on-chip level that holds outputs,
    halved when it is double-buffered or also holds inputs (the other half keeps streaming the
    layers' own input and output tiles). SPOTS and systolic presets: the output SRAM; Eyeriss:
    the global buffer; SCNN / DCNN: the OARAM (per-PE tiles, summed over the PEs); ideal: the
    global buffer.
    """
    holders = [m for m in spec.memory if "output" in m.holds]
    if not holders:
        raise StrategyError(f"arch {spec.name!r} has no on-chip level that holds outputs; "
                            "chain fusion needs one (add output to a level's holds)")
    level = max(holders, key=lambda m: (m.size_bytes, m.name))
    halved = level.double_buffered or "input" in level.holds
    cap = level.size_bytes // 2 if halved else level.size_bytes
    why = ("double-buffered" if level.double_buffered else "shared with input tiles")
    how = (f"{level.name} ({level.size_bytes:,} B" + (f", halved: {why})" if halved else ")"))
    return cap, how


@dataclass(frozen=True)
class FusedTensor:
    tensor: str
    producer: int  # workload index
    consumer: int
    bytes: int


def fusion_plan(workloads: Sequence[LayerWorkload], where: Sequence[str], capacity: int,
                bits: int, chain: Chain | None = None,
                expanded: Sequence[bool] | None = None) -> list[FusedTensor]:
    """The intermediates kept on chip, greedily in chain order.

    A tensor qualifies when its producer and the next GConv both run on the accelerator, that
    next GConv reads it as its main input (directly or through reshape views) and is its only
    reader, it is not a chain output, and the next GConv does not read it through an im2col
    expansion (matrix strategy). It is kept when it fits, together with the kept tensors live
    during the same GConvs (a GConv's kept input and kept output are on chip at once), into
    ``capacity`` bytes.
    """
    expanded = expanded or [False] * len(workloads)
    outputs = set(chain.outputs) if chain is not None else set()
    readers: dict[str, int] = {}
    for w in workloads:
        for t in reads(w.gconv):
            for b in base_tensors(chain, t):
                readers[b] = readers.get(b, 0) + 1
    if chain is not None:  # a view other than a reshape also reads its input
        for v in chain.views:
            if v.op != "reshape":
                for t in v.inputs:
                    for b in base_tensors(chain, t):
                        readers[b] = readers.get(b, 0) + 1
    load = [0] * len(workloads)
    plan: list[FusedTensor] = []
    for i in range(len(workloads) - 1):
        g, nxt = workloads[i].gconv, workloads[i + 1].gconv
        t = g.output
        if where[i] != ON_ACCEL or where[i + 1] != ON_ACCEL or expanded[i + 1]:
            continue
        if t in outputs or readers.get(t, 0) != 1 or base_tensors(chain, nxt.input) != (t,):
            continue
        size = math.ceil(g.output_elems * bits / 8)
        if load[i] + size <= capacity and load[i + 1] + size <= capacity:
            load[i] += size
            load[i + 1] += size
            plan.append(FusedTensor(t, i, i + 1, size))
    return plan


def fuse_chain(result: NetworkResult, workloads: Sequence[LayerWorkload], spec: Any, *,
               where: Sequence[str] | None = None, chain: Chain | None = None,
               expanded: Sequence[bool] | None = None,
               rows: Sequence[int] | None = None) -> NetworkResult:
    """Keep the intermediates of ``fusion_plan`` on chip: the producer's DRAM write and the
    consumer's DRAM read of each are removed (DRAM energy follows the bits). Cycles are not
    recomputed (a DRAM-bound layer would get faster: the saving shown is a lower bound on
    time). ``rows`` maps each workload to its row in ``result`` (default: one row each)."""
    spec = load_arch(spec)
    where = list(where) if where is not None else [ON_ACCEL] * len(workloads)
    rows = list(rows) if rows is not None else list(range(len(workloads)))
    if len(rows) != len(workloads):
        raise StrategyError(f"fuse_chain: {len(rows)} rows for {len(workloads)} workloads")
    capacity, how = fusion_capacity(spec)
    bits = int(spec.compute.operand_bits)
    plan = fusion_plan(workloads, where, capacity, bits, chain, expanded)
    layers = list(result.layers)
    roles: dict[int, dict[str, float]] = {}
    for f in plan:
        roles.setdefault(rows[f.producer], {})["output"] = 1.0
        g = workloads[f.consumer].gconv
        share = 1.0
        if g.operand_kind == "tensor" and not any(
                a.level == "dram" and a.tensor == "operand"
                for a in layers[rows[f.consumer]].accesses):
            # the model counts both activation operands as "input": drop the fused one only
            share = g.input_elems / (g.input_elems + workloads[f.consumer].operand_elems)
        roles.setdefault(rows[f.consumer], {})["input"] = share
    saved = 0
    for row, rs in roles.items():
        old = layers[row]
        r = rescale_dram(old, {t: 1.0 - share for t, share in rs.items()}, rounding="round")
        s = old.level_bits("dram") - r.level_bits("dram")
        kept = sorted(rs)
        layers[row] = dataclasses.replace(r, details={**r.details, "fused_on_chip": kept,
                                                      "fusion_saved_dram_bits": s})
        saved += s
    before = result.level_bits("dram")
    out = dataclasses.replace(
        result, layers=tuple(layers),
        provenance={**result.provenance, "fusion": (
            f"intermediates between consecutive accelerator GConvs kept on chip when they fit "
            f"{capacity:,} B of {how} with the other kept tensors live at the same time; "
            "cycles not recomputed")},
        details={**result.details, "fusion": {
            "capacity_bytes": capacity, "capacity_from": how, "fused": len(plan),
            "tensors": [f.tensor for f in plan], "peak_bytes": _peak(plan, len(workloads)),
            "dram_bits_before": before, "dram_bits_saved": saved}})
    return out


def _peak(plan: Sequence[FusedTensor], n: int) -> int:
    load = [0] * max(n, 1)
    for f in plan:
        load[f.producer] += f.bytes
        load[f.consumer] += f.bytes
    return max(load)
