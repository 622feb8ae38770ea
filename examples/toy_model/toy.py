"""A toy accelerator model in 30 lines: N MAC lanes, every operand from one SRAM, DRAM traffic
at the compulsory footprint. docs/models.md walks through it; tests/unit/test_conformance.py
registers it and runs the conformance kit on it.

    from accelscope.models.registry import register_model
    register_model(toy.MODEL)                  # the one registration line
    load_arch({..., "model": "toy", ...})      # its specs now load as ArchSpec
"""

import math

from accelscope.arch import ArchSpec
from accelscope.energy import Pricing, dram_accesses
from accelscope.models.common import footprint_elems, spec_provenance, useful_macs
from accelscope.models.contract import LayerWorkload, ModelInfo
from accelscope.results import Access, LayerResult


def evaluate(layer: LayerWorkload, spec: ArchSpec) -> LayerResult:
    g, c = layer.gconv, spec.compute
    price = Pricing.of(spec)  # every constant it looks up lands in price.provenance
    bits = {t: n * c.operand_bits for t, n in footprint_elems(layer).items()}
    sram = spec.memory[0]
    reads = {t: b for t, b in bits.items() if t != "output"}
    writes = {"output": bits["output"]}
    dram = dram_accesses(reads, writes, spec.dram.word_bits)
    on_chip = [Access(sram.name, t, reads=math.ceil(b / sram.word_bits), read_bits=b)
               for t, b in reads.items()]
    cycles = max(math.ceil(g.macs / c.macs_per_cycle),
                 math.ceil(sum(bits.values()) / spec.dram.bandwidth_bits_per_cycle), 1)
    energy = {"compute": g.macs * price.op_pj(g)[0],
              sram.name: sum(reads.values()) * price.level_pj_per_bit(sram, "read"),
              "dram": sum(bits.values()) * price.dram_pj_per_bit()}
    return LayerResult(
        layer=g.name, kind=g.kind, model="toy", arch=spec.name, clock_hz=spec.clock_hz,
        peak_macs_per_cycle=c.macs_per_cycle, cycles=cycles, macs=g.macs, macs_issued=g.macs,
        macs_useful=useful_macs(layer), accesses=(*on_chip, *dram), energy_pj=energy,
        provenance={**spec_provenance(spec), **price.provenance})


MODEL = ModelInfo(name="toy", spec_class=ArchSpec, evaluate=evaluate,
                  description="toy: N MAC lanes, one SRAM, compulsory DRAM traffic")
