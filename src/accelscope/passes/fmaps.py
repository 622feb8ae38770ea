"""Feature maps kept on chip: a unified on-chip SRAM split per layer into the scratchpad the
model's own tiling needs and a feature-map buffer, the maps that fit kept out of DRAM."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass

from accelscope.arch import ArchSpec
from accelscope.energy import rescale_dram
from accelscope.models.contract import LayerWorkload
from accelscope.passes.common import expanded_input
from accelscope.results import LayerResult, NetworkResult


@dataclass(frozen=True)
class Allocation:
    """Per-layer split of a unified on-chip SRAM and which feature maps stay on chip."""

    unified_bytes: int
    scratchpad_bytes: tuple[int, ...]  # per layer, at most unified_bytes
    fmap_buffer_bytes: tuple[int, ...]  # per layer: unified - scratchpad
    on_chip: frozenset[str]  # feature maps that never go to DRAM
    map_bytes: dict[str, int]  # the size each map takes in the buffer (coded or dense)
    scratchpad_source: tuple[str, ...] = ()  # per layer: how its scratchpad was sized
    scratchpad_need_bytes: tuple[int, ...] = ()  # per layer, before the unified-SRAM cap


def _weight_holding_bytes(spec: ArchSpec) -> int:
    return sum(m.size_bytes for m in spec.memory if "weight" in m.holds)


def allocate(workloads: Sequence[LayerWorkload], spec: ArchSpec, map_bytes: dict[str, int], *,
             unified_bytes: int | None = None, results: Sequence[LayerResult] | None = None
             ) -> Allocation:
    """Split a unified SRAM per layer into a scratchpad and a feature-map buffer and choose
    the feature maps that stay on chip, greedily in production order.

    Layer i's scratchpad is what the model's own tiling reports in
    ``results[i].scratchpad_bytes`` (systolic: one fold's operand tiles; SPOTS:
    a filter group's weights, the IM2COL double buffer and a pass's outputs; SCNN / DCNN:
    the accumulator regions and weight FIFOs of the PT-IS-CP tiling; Eyeriss: its psum
    banks, filter GLB and PE spads; each model's ``provenance["scratchpad"]`` says how). A model
    with no tiling (the ``ideal`` roofline, or ``results`` not given) takes the fallback
    rule: the layer's weights at the operand width, capped by the preset's weight-holding
    SRAM. A need above ``unified_bytes`` (default: all of the preset's on-chip SRAM) is
    capped at it: that layer keeps no map. The rest is its feature-map buffer. A map (a
    GConv output another layer reads, sized by ``map_bytes``) is live from its producer to
    its last reader; it stays on chip when, together with the maps already kept, it fits
    every buffer of its live range."""
    unified = int(unified_bytes if unified_bytes is not None else spec.on_chip_bytes)
    bits = int(spec.compute.operand_bits)
    cap = _weight_holding_bytes(spec)
    need, source = [], []
    for i, w in enumerate(workloads):
        r = results[i] if results is not None else None
        rep = r.scratchpad_bytes if r is not None else None
        if rep is not None:
            assert r is not None  # rep comes from r
            need.append(int(rep))
            how = r.provenance.get("scratchpad", "its own mapping (scratchpad_bytes)")
            source.append(f"{r.model}: {how}")
        else:
            need.append(min(math.ceil(w.gconv.weight_elems * bits / 8), cap))
            who = f"the {r.model} model reports no tiling" if r is not None else \
                "no model results given"
            source.append(f"fallback ({who}): weights at {bits} b capped by the "
                          f"weight-holding SRAM {cap} B")
    scratch = tuple(min(n, unified) for n in need)
    fbuf = tuple(max(unified - s, 0) for s in scratch)
    produced = {w.gconv.output: i for i, w in enumerate(workloads)}
    last_read: dict[str, int] = {}
    for i, w in enumerate(workloads):
        ins = [w.gconv.input] + ([w.gconv.operand] if w.gconv.operand_kind == "tensor" else [])
        for t in ins:
            if t in produced:
                last_read[t] = i
    load = [0] * len(workloads)
    kept: set[str] = set()
    for t in sorted(last_read, key=lambda name: produced[name]):
        size = map_bytes.get(t)
        if size is None:
            continue
        lo, hi = produced[t], last_read[t]
        if all(load[j] + size <= fbuf[j] for j in range(lo, hi + 1)):
            for j in range(lo, hi + 1):
                load[j] += size
            kept.add(t)
    return Allocation(unified, scratch, fbuf, frozenset(kept), dict(map_bytes),
                      tuple(source), tuple(need))


def keep_on_chip(result: NetworkResult, workloads: Sequence[LayerWorkload], spec: ArchSpec,
                 alloc: Allocation) -> NetworkResult:
    """The NetworkResult with the DRAM traffic of the maps ``alloc`` keeps on chip removed
    (the producer's write and every read of its consumers). DRAM energy follows the bits;
    cycles are not recomputed (a DRAM-bound layer would get faster): the provenance says so."""
    layers: list[LayerResult] = []
    sources = alloc.scratchpad_source or ("",) * len(workloads)
    needs = alloc.scratchpad_need_bytes or alloc.scratchpad_bytes
    for w, r, src, need in zip(workloads, result.layers, sources, needs, strict=True):
        g = w.gconv
        gone = set()
        if g.output in alloc.on_chip:
            gone.add("output")
        if g.input in alloc.on_chip and not expanded_input(r):
            gone.add("input")
        if g.operand_kind == "tensor" and g.operand in alloc.on_chip:
            gone.add("operand")
        old = r.level_bits("dram")
        kept = rescale_dram(r, dict.fromkeys(gone, 0.0))
        details = {**r.details, "fmaps_on_chip": sorted(gone),
                   "fmap_buffer_bytes": alloc.fmap_buffer_bytes[len(layers)],
                   "dram_bits_before_on_chip": old}
        i = len(layers)
        prov = {**r.provenance, "on_chip_fmaps": (
            f"unified SRAM {alloc.unified_bytes} B split per layer: scratchpad "
            f"{alloc.scratchpad_bytes[i]} B, the rest a feature-map buffer; maps kept on chip "
            "greedily over their live range; cycles not recomputed"),
            "on_chip_fmaps.scratchpad": src}
        if g.input in alloc.on_chip and expanded_input(r):
            prov["on_chip_fmaps"] += ("; the input map stays on chip, but its software IM2COL "
                                      "matrix still goes through DRAM")
        warnings = r.warnings
        if need > alloc.unified_bytes:
            warnings = (*warnings, f"the layer's scratchpad need {need} B exceeds the unified "
                        f"SRAM {alloc.unified_bytes} B: capped, no map kept in this layer "
                        "(its tiling would have to be re-chosen)")
        layers.append(dataclasses.replace(kept, details=details,
                                          scratchpad_bytes=alloc.scratchpad_bytes[i],
                                          provenance=prov, warnings=warnings))
    return dataclasses.replace(
        result, layers=tuple(layers),
                         provenance={**result.provenance, "on_chip_fmaps":
                                     f"{len(alloc.on_chip)} maps kept on chip; scratchpad "
                                     f"per layer: {_source_summary(alloc)}"},
                         details={**result.details, "fmaps_on_chip": len(alloc.on_chip)})


def _source_summary(alloc: Allocation) -> str:
    """'N layers from <model>'s own tiling, M by the fallback rule'."""
    counts: dict[str, int] = {}
    for src in alloc.scratchpad_source:
        key = "the fallback rule" if src.startswith("fallback") else \
            f"{src.split(':', 1)[0]}'s own tiling"
        counts[key] = counts.get(key, 0) + 1
    return ", ".join(f"{n} layers from {k}" for k, n in counts.items()) or "none"
