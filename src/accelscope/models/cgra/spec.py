"""The ``cgra`` architecture spec: OpenEdgeCGRA's array, bus timing, host CPU and energy."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from accelscope.arch.spec import ArchSpec, SpecSection
from accelscope.models.cgra.sim import CgraTiming


class CgraArrayParams(SpecSection):
    """The reconfigurable-cell array and its memory bus."""

    alu_cycles: int = Field(ge=1, description="Latency of a non-multiply ALU operation, of "
                                              "NOP and of a branch [cycles]")
    smul_cycles: int = Field(ge=1, description="Latency of SMUL [cycles]")
    mem_overhead_cycles: int = Field(
        ge=0, description="Fixed latency of an instruction's memory access on top of the "
                          "serialised accesses [cycles]")
    bus: Literal["one_to_m", "n_to_m", "interleaved"] = Field(
        description="Bus between the cells and the banks: one_to_m (one port, every access "
                    "of an instruction serialised), n_to_m (contiguous banks in parallel, "
                    "accesses to one bank serialised), interleaved (word-interleaved banks) "
                    "[choice]")
    loads_stores_add: bool = Field(
        description="Whether the loads and the stores of one instruction are separate "
                    "accesses whose latencies add (the OpenEdgeCGRA README's rule) [flag]")
    bank_bytes: int = Field(gt=0, description="Capacity of one SRAM bank [bytes]")
    n_banks: int = Field(ge=1, description="SRAM banks the CGRA and the host share [count]")
    imm_bits: int = Field(ge=2, le=32, description="Width of an instruction's signed "
                                                    "immediate [bits]")
    max_instructions: int = Field(ge=1, description="Instructions one kernel may hold per "
                                                    "cell [count]")

    def timing(self) -> CgraTiming:
        return CgraTiming(alu_cycles=self.alu_cycles, smul_cycles=self.smul_cycles,
                          mem_overhead_cycles=self.mem_overhead_cycles, bus=self.bus,
                          loads_stores_add=self.loads_stores_add, bank_bytes=self.bank_bytes,
                          n_banks=self.n_banks)


class CgraHostParams(SpecSection):
    """The host CPU (a cv32e20-like in-order RV32IM core): its instruction timing, the
    naive convolution loop, im2col, launches and power."""

    load_cycles: int = Field(ge=1, description="Cycles of a word load [cycles]")
    store_cycles: int = Field(ge=1, description="Cycles of a word store [cycles]")
    alu_cycles: int = Field(ge=1, description="Cycles of an integer ALU instruction "
                                              "[cycles]")
    mul_cycles: int = Field(ge=1, description="Cycles of a 32-bit MUL [cycles]")
    branch_taken_cycles: int = Field(ge=1, description="Cycles of a taken branch [cycles]")
    branch_not_taken_cycles: int = Field(ge=1, description="Cycles of a branch that falls "
                                                           "through [cycles]")
    conv_index_alu: int = Field(
        ge=0, description="ALU instructions per MAC of the naive convolution's innermost "
                          "loop beside the accumulate (pointer increments, loop counter) "
                          "[instructions]")
    conv_loop_overhead_alu: int = Field(
        ge=0, description="ALU instructions per iteration of each outer loop of the naive "
                          "convolution (pointer fix-ups, counter) besides its branch "
                          "[instructions]")
    im2col_alu_per_word: int = Field(
        ge=0, description="ALU instructions per word the im2col copies besides its load and "
                          "store (address arithmetic of the unrolled -Os code) "
                          "[instructions]")
    param_alu_per_word: int = Field(
        ge=0, description="ALU instructions per word the host writes into a launch's "
                          "parameter block besides the store [instructions]")
    launch_overhead_cycles: int = Field(
        ge=0, description="Flat host cost of one CGRA launch: set the column pointers, start "
                          "the kernel, take the end-of-kernel interrupt [cycles]")
    active_pj_per_cycle: float = Field(gt=0, description="Host CPU energy per active cycle "
                                                         "[pJ/cycle]")
    idle_pj_per_cycle: float = Field(
        ge=0, description="Host CPU energy per cycle while it waits for the CGRA (clock-gated "
                          "wait for interrupt) [pJ/cycle]")


class CgraOpPower(SpecSection):
    """Average power of one cell executing each operation class (ESL-CGRA characterisation)."""

    NOP: float = Field(ge=0, description="An idle cell (NOP, EXIT, the idle part of a longer "
                                         "instruction) [W]")
    SADD: float = Field(ge=0, description="Power of a cell executing SADD [W]")
    SSUB: float = Field(ge=0, description="Power of a cell executing SSUB [W]")
    SMUL: float = Field(ge=0, description="Power of a cell executing SMUL [W]")
    SHIFT_LOGIC: float = Field(ge=0, description="Power of a cell executing SLL, SRL, SRA, "
                                                  "LAND, LOR or LXOR [W]")
    LWD: float = Field(ge=0, description="Power of a cell executing LWD [W]")
    LWI: float = Field(ge=0, description="Power of a cell executing LWI [W]")
    SWD: float = Field(ge=0, description="Power of a cell executing SWD [W]")
    SWI: float = Field(ge=0, description="Power of a cell executing SWI [W]")
    BRANCH: float = Field(ge=0, description="Power of a cell executing BEQ, BNE, BLT, BGE "
                                             "or JUMP [W]")


class CgraEnergyParams(SpecSection):
    """Per-cell power by operation (ESL-CGRA-simulator characterisation) and the SRAM."""

    characterisation_clock_s: float = Field(
        gt=0, description="Clock period at which the per-cell powers were characterised; "
                          "energy per cycle = power x this period [s]")
    op_power_w: CgraOpPower = Field(description="Cell power per operation class [section]")
    clock_active_w: float = Field(ge=0, description="Clock-tree power of a busy cell [W]")
    clock_idle_w: float = Field(ge=0, description="Clock-tree power of an idle (NOP) cell "
                                                  "[W]")
    sram_pj_per_access: float | None = Field(
        description="Energy of one 32-bit access to a bank; null = the energy table's SRAM "
                    "model for one bank of bank_bytes [pJ]")


class CgraParams(SpecSection):
    """OpenEdgeCGRA and its X-HEEP host."""

    array: CgraArrayParams = Field(description="Cells, bus and banks [section]")
    host: CgraHostParams = Field(description="Host CPU model [section]")
    energy: CgraEnergyParams = Field(description="Energy model [section]")
    mappings: tuple[Literal["wp", "oc", "im2col-ic", "im2col-oc"], ...] = Field(
        min_length=1, description="Mappings the GConv model may choose from (the fastest "
                                  "that can run the layer is used) [choice]")
    sample_launches: int = Field(
        ge=0, description="GConv model: simulate at most this many launches of a layer "
                          "instruction by instruction and scale the counts to the rest "
                          "(kernels without data-dependent control flow on the one_to_m bus "
                          "give identical launches); 0 = simulate every launch [count]")


class CgraSpec(ArchSpec):
    """OpenEdgeCGRA (4x4 cells) with its host CPU and shared SRAM banks."""

    model: Literal["cgra"] = Field(description="Always 'cgra' for this spec class [name]")
    cgra: CgraParams = Field(description="CGRA parameters [section]")

    @model_validator(mode="after")
    def _consistent(self) -> CgraSpec:
        c, a = self.compute, self.cgra.array
        if len(c.array) != 2:
            raise ValueError(f"compute.array must be [rows, cols], got {list(c.array)}")
        if c.cycles_per_op != a.smul_cycles:
            raise ValueError(f"compute.cycles_per_op ({c.cycles_per_op}) must equal "
                             f"cgra.array.smul_cycles ({a.smul_cycles})")
        sram = sum(m.size_bytes for m in self.memory)
        if sram != a.bank_bytes * a.n_banks:
            raise ValueError(f"memory: the levels hold {sram} B but cgra.array has "
                             f"{a.n_banks} banks of {a.bank_bytes} B; make them agree")
        return self
