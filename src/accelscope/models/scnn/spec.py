"""The SCNN / DCNN spec (PE grid, multiplier array, crossbar, accumulator banks, IARAM /
OARAM, compressed formats) and its area (SCNN's Table 4 unit areas through ``energy.area``)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from accelscope.arch.spec import ArchSpec, SpecSection
from accelscope.energy.area import (
    SCNN_NODE_NM,
    SCNN_TABLE4,
    SCNN_TABLE4_16NM,
    AreaModel,
    AreaReport,
)

PAPER = ("Parashar et al., 'SCNN: An Accelerator for Compressed-sparse Convolutional Neural "
         "Networks', ISCA 2017 (arXiv 1708.04485)")
LEVELS = ("accumulator", "weight_fifo", "iaram", "oaram")


class ScnnParams(SpecSection):
    """SCNN / DCNN parameters (per PE unless said otherwise)."""

    weight_vector: int = Field(ge=1, description="F: weight entries one PE multiplies per "
                                                 "cycle (a power of two) [count]")
    activation_vector: int = Field(ge=1, description="I: activation entries one PE "
                                                     "multiplies per cycle [count]")
    accumulator_banks: int = Field(ge=1, description="A: accumulator banks per PE, a power of "
                                                     "two and a multiple of 4F [count]")
    accumulator_bank_entries: int = Field(ge=1, description="Partial sums one bank holds in "
                                                            "one buffer half [elements]")
    accumulator_double_buffered: bool = Field(
        description="Two accumulator halves: the PPU drains one output group while the "
                    "multipliers fill the other [flag]")
    weight_fifo_entries: int = Field(ge=1, description="Weight FIFO depth in vectors of F "
                                                       "weights; a weight block larger than "
                                                       "the FIFO is re-streamed [count]")
    skip_zeros: bool = Field(description="Multiply only the entries of the compressed streams "
                                         "(SCNN); false: every element (DCNN) [flag]")
    scatter_crossbar: bool = Field(
        description="Products reach hashed accumulator banks through a crossbar: bank "
                    "conflicts stall and the crossbar costs energy (SCNN); false: the dense "
                    "dataflow's fixed, conflict-free routing (DCNN) [flag]")
    gate_zero_products: bool = Field(description="Clock-gate the multiplier and accumulation "
                                                 "of a product with a zero operand "
                                                 "(DCNN-opt) [flag]")
    onchip_activation_format: Literal["zrl", "dense"] = Field(
        description="How IARAM/OARAM store activations: 'zrl' (values + 4-bit zero runs) or "
                    "'dense' [choice]")
    dram_activation_format: Literal["zrl", "dense"] = Field(
        description="How activations travel to and from DRAM [choice]")
    weight_format: Literal["zrl", "dense"] = Field(description="How weights are stored and "
                                                               "streamed [choice]")
    run_bits: int = Field(ge=1, le=8, description="Zero-run index width of the 'zrl' "
                                                  "format [bits]")
    inter_layer: Literal["dram", "on_chip"] = Field(
        description="'dram': each layer reads its input from and writes its output to DRAM "
                    "(docs/assumptions.md item 11, what the conformance kit checks); "
                    "'on_chip': activations stay in IARAM/OARAM between layers, DRAM only "
                    "for the network input and for tiles that do not fit (the paper) "
                    "[choice]")
    ppu_ops_per_cycle: int = Field(ge=1, description="Outputs (or pooling / element-wise "
                                                     "operations) one PPU processes per "
                                                     "cycle [ops/cycle]")
    nonconv_on: Literal["ppu", "array"] = Field(
        default="ppu",
        description="Where GConvs that are not convolutions run: 'ppu', the per-PE "
                    "post-processing units at ppu_ops_per_cycle; 'array', the Cartesian-product "
                    "array in their GConv form (models.systolic.array_form: constant, scale or "
                    "operand weights) with the same PT-IS-CP counting; default 'ppu', "
                    "reported by defaults_used() [choice]")
    halo_psums_per_cycle: int = Field(ge=1, description="Partial sums one PE sends to a "
                                                        "neighbour per cycle "
                                                        "[elements/cycle]")
    crossbar_pj_per_bit: float = Field(ge=0, description="Energy of one bit of a product "
                                                         "crossing the scatter crossbar "
                                                         "[pJ/bit]")
    crossbar_queue_depth: int = Field(
        default=0, ge=0,
        description="Products each accumulator bank's input queue holds behind the one it "
                    "retires: a step issues while every bank's backlog is at most this; 0 is "
                    "DNNsim's rule (a step takes as many cycles as its busiest bank); default "
                    "0, reported by defaults_used() [count]")
    conflict_exact_max_steps: int = Field(
        ge=0,
        description="Count bank conflicts exactly, cycle by cycle, when a layer has at most "
                    "this many multiplier steps; above it, estimate them from samples "
                    "[count]")
    conflict_samples: int = Field(
        ge=1, le=65_536,
        description="Steps sampled per layer for the bank-conflict estimate, shared among "
                    "the (weight fill, activation fill) classes by their step counts, at "
                    "least 32 each; at most 65,536 (the sampler holds samples x weight "
                    "vectors in memory) [count]")
    sample_seed: int = Field(ge=0, description="Seed of the bank-conflict sampler and of the "
                                               "synthetic activations of statistical mode "
                                               "[unitless]")


class ScnnSpec(ArchSpec):
    """SCNN (sparse) or DCNN / DCNN-opt (dense twins): PT-IS-CP dataflow on a PE grid."""

    model: Literal["scnn"] = Field(description="Always 'scnn' for this spec class [name]")
    scnn: ScnnParams = Field(description="SCNN parameters [section]")

    @model_validator(mode="after")
    def _consistent(self) -> ScnnSpec:
        p, c = self.scnn, self.compute
        if len(c.array) != 2:
            raise ValueError(f"compute.array must be [pe_rows, pe_cols], got {list(c.array)}")
        if c.macs_per_pe != p.weight_vector * p.activation_vector:
            raise ValueError(f"compute.macs_per_pe {c.macs_per_pe} must be F x I = "
                             f"{p.weight_vector} x {p.activation_vector}")
        f, a = p.weight_vector, p.accumulator_banks
        if f & (f - 1) or a & (a - 1) or a % (4 * f):
            raise ValueError(f"scnn: the bank hash needs F ({f}) and A ({a}) powers of two "
                             "with A a multiple of 4F")
        if p.skip_zeros and (p.onchip_activation_format, p.weight_format) != ("zrl", "zrl"):
            raise ValueError("scnn.skip_zeros walks the compressed streams: it needs "
                             "onchip_activation_format and weight_format 'zrl'")
        if p.scatter_crossbar and not p.skip_zeros:
            # the conflict counters route the streams' non-zero entries through the
            # crossbar; a dense array with a scatter crossbar is not modelled (make fuzz found
            # it raising an IndexError)
            raise ValueError("scnn.scatter_crossbar: true needs skip_zeros: true (the bank "
                             "conflicts are counted over the non-zero entries); a dense array "
                             "routes products without a crossbar: set scatter_crossbar: false "
                             "as the dcnn preset does")
        names = [m.name for m in self.memory]
        if sorted(names) != sorted(LEVELS):
            raise ValueError(f"memory: an SCNN spec has exactly the levels {', '.join(LEVELS)}"
                             f" (private per PE, banks = PEs); found {', '.join(names)}")
        n_pe = c.array[0] * c.array[1]
        for m in self.memory:
            if m.banks != n_pe:
                raise ValueError(f"memory {m.name}: banks must be the PE count {n_pe} (one "
                                 f"private instance per PE), got {m.banks}")
        acc = self.level("accumulator")
        halves = 2 if p.accumulator_double_buffered else 1
        want = n_pe * halves * a * p.accumulator_bank_entries * c.accumulator_bits // 8
        if acc.size_bytes != want:
            raise ValueError(f"memory accumulator: size_bytes must be PEs x halves x banks x "
                             f"entries x accumulator_bits / 8 = {want}, got {acc.size_bytes}")
        return self

    @property
    def n_pe(self) -> int:
        return int(self.compute.array[0] * self.compute.array[1])

    def per_pe_bytes(self, level: str) -> int:
        m = self.level(level)
        return m.size_bytes // m.banks


# -- area: SCNN's own Table 4 unit areas (16 nm), scaled to the spec's node -------------------
AREA_SOURCE = SCNN_TABLE4
_PE_PARTS = ("activation_sram", "weight_fifo", "multipliers", "scatter_crossbar",
             "accumulators", "other")


def area(spec: ScnnSpec) -> AreaReport:
    """Area of the PE array [mm2]: per PE component (``pe_array.<part>``, all PEs together)
    from SCNN's Table 4 unit areas at 16 nm scaled by this spec's sizes and node
    (``energy.area``). Global wiring, the DRAM interface and the chip's I/O are not
    modelled (the paper's chip area is 64 PEs' worth too)."""
    p = spec.scnn
    am = AreaModel(spec.technology_nm)
    t = SCNN_TABLE4_16NM

    def unit(name: str) -> float:
        return am.constant_um2(f"scnn.{name}", t[name], SCNN_NODE_NM, SCNN_TABLE4)

    kib = {m: spec.per_pe_bytes(m) / 1024 for m in LEVELS}
    mults = p.weight_vector * p.activation_vector
    pe = {
        "activation_sram": (kib["iaram"] + kib["oaram"]) * unit("activation_sram_per_kib"),
        "weight_fifo": kib["weight_fifo"] * unit("weight_fifo_per_kib"),
        "multipliers": mults * unit("multiplier_16b"),
        "scatter_crossbar": (am.crossbar_um2(mults, p.accumulator_banks,
                                             spec.compute.accumulator_bits)
                             if p.scatter_crossbar else 0.0),
        "accumulators": kib["accumulator"] * unit("accumulator_per_kib"),
        "other": unit("pe_other"),
    }
    return am.report(
        {f"pe_array.{k}": v * spec.n_pe for k, v in pe.items()},
        method=(f"{spec.n_pe} PEs x (IARAM+OARAM, weight FIFO, {mults} multipliers, "
                + ("scatter crossbar, " if p.scatter_crossbar else "")
                + "accumulator banks, PPU/control) from SCNN's Table 4 unit areas at 16 nm, "
                f"scaled to {spec.technology_nm} nm; global wiring, DRAM interface and I/O "
                "are not modelled"))


def area_mm2(spec: ScnnSpec) -> dict[str, float]:
    """The same area per PE: ``pe.<part>``, ``pe`` (their sum) and ``chip`` (all PEs)
    [mm2] (what the SCNN validate targets read)."""
    r = area(spec)
    out = {f"pe.{k}": r[f"pe_array.{k}"] / spec.n_pe for k in _PE_PARTS}
    out["pe"] = r.total_mm2 / spec.n_pe
    out["chip"] = r.total_mm2
    return out
