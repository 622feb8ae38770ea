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

from accelscope.arch.spec import ArchSpec
from accelscope.energy import get_table
from accelscope.energy import provenance as energy_provenance
from accelscope.models.common import footprint_elems, spec_provenance, useful_macs
from accelscope.models.contract import LayerWorkload, ModelInfo, UnsupportedLayerError
from accelscope.results import Access, LayerResult

_WRITTEN = ("output",)  # tensors a layer writes; the others it reads


def evaluate(layer: LayerWorkload, spec) -> LayerResult:
    g = layer.gconv
    c = spec.compute
    table = get_table(spec.energy_table)
    if table.normalized:
        raise UnsupportedLayerError("ideal", g, f"energy table {table.name!r} is normalized "
                                    "(MAC = 1); the ideal model needs absolute pJ")
    bits = int(c.operand_bits)
    fp = c.number == "fp"
    foot = {t: n * bits for t, n in footprint_elems(layer).items()}
    warnings: list[str] = []
    prov = {**spec_provenance(spec), **energy_provenance(table)}

    compute_cycles = math.ceil(g.macs / c.macs_per_cycle) * c.cycles_per_op + c.pipeline_depth
    bound = {"compute": compute_cycles}
    accesses: list[Access] = []
    energy: dict[str, float] = {}

    # Per-op energy: a MAC for multiply GConvs, one add (or compare) at the accumulator width
    # otherwise.
    if g.map_op == "mul":
        op_pj = table.mac_pj(bits, fp=fp, acc_bits=None if fp else c.accumulator_bits)
        prov["energy.op"] = f"mac_pj({bits}, fp={fp}, acc_bits={c.accumulator_bits})"
    else:
        acc = bits if fp else c.accumulator_bits
        action = f"{'fp' if fp else 'int'}_add_{acc}b"
        op_pj = table.lookup(action).value
        prov["energy.op"] = action
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
        e_rd = level.energy_pj_per_bit_read
        e_wr = level.energy_pj_per_bit_write
        if e_rd is None or e_wr is None:
            per_bit = table.sram_pj_per_bit(level.size_bytes, level.word_bits)
            prov[f"energy.{level.name}"] = (f"SRAM model: {per_bit:.4g} pJ/bit for "
                                            f"{level.size_bytes} B x {level.word_bits}-bit")
            e_rd = per_bit if e_rd is None else e_rd
            e_wr = per_bit if e_wr is None else e_wr
        energy[level.name] = rd * e_rd + wr * e_wr

    d = spec.dram
    dram_rd = sum(v for t, v in foot.items() if t not in _WRITTEN)
    dram_wr = sum(v for t, v in foot.items() if t in _WRITTEN)
    for t, v in foot.items():
        w = t in _WRITTEN
        accesses.append(Access("dram", t, reads=0 if w else math.ceil(v / d.word_bits),
                               writes=math.ceil(v / d.word_bits) if w else 0,
                               read_bits=0 if w else v, write_bits=v if w else 0))
    bound["dram"] = math.ceil((dram_rd + dram_wr) / d.bandwidth_bits_per_cycle)
    dram_pj = d.energy_pj_per_bit
    if dram_pj is None:
        dram_pj = table.dram_pj_per_bit
        prov["energy.dram"] = f"{dram_pj:.4g} pJ/bit from {table.name}"
    energy["dram"] = (dram_rd + dram_wr) * dram_pj

    cycles = max(bound.values())
    limiter = max(bound, key=bound.get)
    stalls = {} if limiter == "compute" else {f"{limiter}_bandwidth": cycles - compute_cycles}
    return LayerResult(
        layer=g.name, kind=g.kind, model="ideal", arch=spec.name, clock_hz=float(spec.clock_hz),
        peak_macs_per_cycle=int(c.macs_per_cycle), cycles=cycles, macs=g.macs,
        macs_issued=g.macs, macs_useful=useful_macs(layer), accesses=tuple(accesses),
        energy_pj=energy, stall_cycles=stalls,
        details={"bound_by": limiter, "bound_cycles": bound},
        provenance=prov, warnings=tuple(warnings))


def _holds(holds, tensor: str) -> bool:
    """A second activation operand lives where inputs live."""
    return (tensor if tensor != "operand" else "input") in holds


MODEL = ModelInfo(
    name="ideal", spec_class=ArchSpec, evaluate=evaluate,
    description="roofline upper bound: peak compute, per-level "
                "bandwidth, compulsory traffic only, perfect overlap", uses_data=True,
)
