"""The ideal model: a roofline over peak compute and every level's bandwidth.

It is an upper bound, not an accelerator: every map-reduce operation of a GConv (MACs,
pooling compares, element-wise adds) issues at the array's peak rate with no mapping loss;
each tensor crosses each memory level that may hold it exactly once (perfect reuse); compute
and every transfer overlap perfectly, so a layer takes the longest of its compute time and
its per-level transfer times. Layers run one after another with their tensors in DRAM in
between. Nothing is skipped: ``macs_useful`` (from the real operands) shows what a
zero-skipping design could save.
"""

from __future__ import annotations

import math
from collections.abc import Collection

from accelscope.arch.spec import ArchSpec
from accelscope.energy import NormalizedTableError, Pricing, dram_accesses
from accelscope.energy.area import AreaModel, AreaReport
from accelscope.models.common import footprint_elems, spec_provenance, useful_macs, with_area
from accelscope.models.contract import LayerWorkload, ModelInfo, UnsupportedLayerError
from accelscope.results import Access, LayerResult

_WRITTEN = ("output",)  # tensors a layer writes; the others it reads


def evaluate(layer: LayerWorkload, spec: ArchSpec) -> LayerResult:
    g = layer.gconv
    c = spec.compute
    try:
        pricing = Pricing.of(spec)
    except NormalizedTableError as exc:
        raise UnsupportedLayerError("ideal", g, str(exc)) from None
    bits = int(c.operand_bits)
    foot = {t: n * bits for t, n in footprint_elems(layer).items()}
    warnings: list[str] = []
    prov = spec_provenance(spec)

    compute_cycles = math.ceil(g.macs / c.macs_per_cycle) * c.cycles_per_op + c.pipeline_depth
    bound = {"compute": compute_cycles}
    accesses: list[Access] = []
    energy: dict[str, float] = {}

    # Per-op energy: a MAC for multiply GConvs, one add (or compare) at the accumulator width
    # otherwise.
    op_pj, prov["energy.op"] = pricing.op_pj(g)
    energy["compute"] = g.macs * op_pj

    for level in spec.memory:
        held = [t for t in foot if _holds(level.holds, t)]
        if not held:
            continue
        rd = wr = 0
        for t in held:
            # Each held tensor is written into the level once and read out of it once.
            accesses.append(Access(level.name, t, reads=math.ceil(foot[t] / level.word_bits),
                                   writes=math.ceil(foot[t] / level.word_bits),
                                   read_bits=foot[t], write_bits=foot[t]))
            rd += foot[t]
            wr += foot[t]
        bound[level.name] = max(math.ceil(rd / level.read_bw_bits_per_cycle),
                                math.ceil(wr / level.write_bw_bits_per_cycle))
        energy[level.name] = pricing.level_pj(level, rd, wr)

    d = spec.dram
    rd_bits = {t: v for t, v in foot.items() if t not in _WRITTEN}
    wr_bits = {t: v for t, v in foot.items() if t in _WRITTEN}
    dram_rd, dram_wr = sum(rd_bits.values()), sum(wr_bits.values())
    accesses.extend(dram_accesses(rd_bits, wr_bits, d.word_bits))
    bound["dram"] = math.ceil((dram_rd + dram_wr) / d.bandwidth_bits_per_cycle)
    energy["dram"] = (dram_rd + dram_wr) * pricing.dram_pj_per_bit()

    cycles = max(bound.values())
    limiter = max(bound, key=bound.__getitem__)
    stalls = {} if limiter == "compute" else {f"{limiter}_bandwidth": cycles - compute_cycles}
    return with_area(LayerResult(
        layer=g.name, kind=g.kind, model="ideal", arch=spec.name, clock_hz=float(spec.clock_hz),
        peak_macs_per_cycle=int(c.macs_per_cycle), cycles=cycles, macs=g.macs,
        macs_issued=g.macs, macs_useful=useful_macs(layer), accesses=tuple(accesses),
        energy_pj=energy, stall_cycles=stalls,
        details={"bound_by": limiter, "bound_cycles": bound},
        provenance={**prov, **pricing.provenance}, warnings=tuple(warnings)), area, spec)


def area(spec: ArchSpec) -> AreaReport:
    """A roofline reference, not a chip: the MAC units of the peak rate and the memory
    levels, nothing else [mm2]."""
    c = spec.compute
    am = AreaModel(spec.technology_nm)
    parts = {"mac_array": c.macs_per_cycle * am.mac_um2(int(c.operand_bits),
                                                        int(c.accumulator_bits), c.number)}
    for level in spec.memory:
        parts[f"sram.{level.name}"] = am.level_um2(level)
    return am.report(parts, method=(
        f"roofline reference, not a chip: {c.macs_per_cycle} MAC units "
        f"({c.operand_bits}-bit {c.number}, {c.accumulator_bits}-bit accumulators) and the "
        "memory levels only; no registers, interconnect, control or I/O"))


def _holds(holds: Collection[str], tensor: str) -> bool:
    """A second activation operand lives where inputs live."""
    return (tensor if tensor != "operand" else "input") in holds


MODEL = ModelInfo(
    name="ideal", spec_class=ArchSpec, evaluate=evaluate,
    description="roofline upper bound: peak compute, per-level "
                "bandwidth, compulsory traffic only, perfect overlap", uses_data=True,
    area=area,
)
