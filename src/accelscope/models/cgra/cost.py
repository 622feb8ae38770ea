"""Pricing a mapping run: the host CPU's share of the time line, the naive CPU convolution,
and energy (cells by operation, SRAM accesses, host CPU).

Time line of a mapping (one clock for the CGRA and the host, as on X-HEEP):

* ``wp``, ``oc``: host clears the output (``wp``), then per launch writes the parameter block,
  pays the flat launch overhead and waits for the CGRA;
* ``im2col-ic``: per launch the host builds the next patch while the CGRA runs, so a launch
  takes max(CGRA, im2col) plus parameters and overhead; the first patch is not hidden;
* ``im2col-oc``: the host builds each patch, then launches (nothing overlapped);
* ``im2col-general`` (the im2col-ic kernel over any GConv's host-built patches): as
  ``im2col-ic``; an input-channel tile after the first then has the host add the earlier
  tiles' partial outputs to its outputs (two loads, an add and a store per output word,
  after the launches).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import cast

from accelscope.models.cgra.isa import BRANCH_OPS, Kernel
from accelscope.models.cgra.layout import ConvShape, Im2colShape
from accelscope.models.cgra.mappings import MappingRun
from accelscope.models.cgra.sim import CgraRunError, RunStats
from accelscope.models.cgra.spec import CgraHostParams, CgraSpec

_CLASS = {"SLL": "SHIFT_LOGIC", "SRL": "SHIFT_LOGIC", "SRA": "SHIFT_LOGIC",
          "LAND": "SHIFT_LOGIC", "LOR": "SHIFT_LOGIC", "LXOR": "SHIFT_LOGIC",
          "JUMP": "BRANCH", "EXIT": "NOP", **{b: "BRANCH" for b in BRANCH_OPS}}


def naive_conv_cycles(shape: ConvShape, h: CgraHostParams, images: int = 1) -> int:
    """Cycles of the naive 7-deep loop (N, K, Ho, Wo, C, R, S) on the host CPU: per MAC two
    loads, a multiply, an add and ``conv_index_alu`` ALU instructions; per iteration of each
    outer loop ``conv_loop_overhead_alu`` ALU instructions; every loop ends its iterations
    with a branch taken except the last; per output an initialisation and a store."""
    trips = [images, shape.K, shape.Ho, shape.Wo, shape.C, shape.R, shape.S]
    macs = shape.macs * images
    cyc = macs * (2 * h.load_cycles + h.mul_cycles + (1 + h.conv_index_alu) * h.alu_cycles)
    entries = 1
    for level, t in enumerate(trips):
        iters = entries * t
        cyc += (iters - entries) * h.branch_taken_cycles + entries * h.branch_not_taken_cycles
        if level < len(trips) - 1:
            cyc += iters * h.conv_loop_overhead_alu * h.alu_cycles
        entries = iters
    outputs = images * shape.K * shape.Ho * shape.Wo
    cyc += outputs * (h.alu_cycles + h.store_cycles)
    return cyc


def naive_conv_accesses(shape: ConvShape, images: int = 1) -> int:
    """Word accesses of the naive loop to the SRAM banks: two loads per MAC, one store per
    output."""
    return images * (2 * shape.macs + shape.K * shape.Ho * shape.Wo)


def im2col_patch_cycles(shape: ConvShape | Im2colShape, h: CgraHostParams) -> int:
    """Host cycles to build one im2col patch: a load, a store and ``im2col_alu_per_word``
    ALU instructions per word."""
    return shape.patch_words * (h.load_cycles + h.store_cycles +
                                h.im2col_alu_per_word * h.alu_cycles)


def partial_add_cycles(words: int, h: CgraHostParams) -> int:
    """Host cycles to add partial outputs into ``words`` output words: two loads, an add and
    a store per word."""
    return words * (2 * h.load_cycles + h.alu_cycles + h.store_cycles)


@dataclass(frozen=True)
class Priced:
    """A mapping run (or the CPU baseline) in cycles and energy."""

    cycles: int  # wall-clock cycles of the layer, host and CGRA together
    cgra_cycles: int  # cycles the CGRA array was running
    host_active_cycles: int  # cycles the host CPU executed instructions
    host_cycles: dict[str, int]  # host cycles by cause
    energy_pj: dict[str, float]  # by component
    sram_accesses: int

    @property
    def total_energy_pj(self) -> float:
        return float(sum(self.energy_pj.values()))


@dataclass
class Tally:
    """Priced runs summed over the tiles of a layer, each run counted as often as its tile
    shape occurs."""

    energy_pj: dict[str, float] = field(default_factory=dict)
    cycles: int = 0
    cgra_cycles: int = 0
    host_active_cycles: int = 0
    sram_accesses: int = 0
    host_cycles: dict[str, int] = field(default_factory=dict)
    launches: int = 0
    simulated_launches: int = 0  # launches run instruction by instruction (once per shape)
    tiles: int = 0

    def add(self, run: MappingRun, p: Priced, count: int) -> None:
        self.cycles += count * p.cycles
        self.cgra_cycles += count * p.cgra_cycles
        self.host_active_cycles += count * p.host_active_cycles
        self.sram_accesses += count * p.sram_accesses
        for k, v in p.energy_pj.items():
            self.energy_pj[k] = self.energy_pj.get(k, 0.0) + count * v
        for k, v in p.host_cycles.items():
            self.host_cycles[k] = self.host_cycles.get(k, 0) + count * v
        self.launches += count * run.launches
        # a run that is not complete has its sampled_launches set
        self.simulated_launches += (run.launches if run.complete
                                    else cast(int, run.sampled_launches))
        self.tiles += count


def sram_pj_per_access(spec: CgraSpec) -> tuple[float, str]:
    e = spec.cgra.energy
    if e.sram_pj_per_access is not None:
        return e.sram_pj_per_access, "cgra.energy.sram_pj_per_access"
    from accelscope.energy import get_table

    t = get_table(spec.energy_table)
    a = spec.cgra.array
    pj = t.sram_pj_per_bit(a.bank_bytes, 32) * 32
    return pj, (f"{spec.energy_table} SRAM model: {pj:.4g} pJ per 32-bit access to a "
                f"{a.bank_bytes} B bank")


def cell_energy_pj(kernel: Kernel, stats: RunStats, spec: CgraSpec) -> dict[str, float]:
    """Energy of the cells by operation class, exact from the per-row counts and cycles.

    A memory operation is active for its whole instruction; an ALU operation or branch for
    its own latency and idle (NOP power) for the rest of the instruction; a NOP is idle
    throughout. Every busy cell adds the active clock-tree power, every idle one the idle
    clock power, for the whole instruction."""
    e, a = spec.cgra.energy, spec.cgra.array
    T = e.characterisation_clock_s * 1e12  # W x s -> pJ
    p = e.op_power_w
    out: dict[str, float] = {}
    for row, n, cyc in zip(kernel.rows, stats.row_count, stats.row_cycles, strict=True):
        if not n:
            continue
        for op in row:
            oc = op.opcode
            cls = _CLASS.get(oc, oc)
            if oc in ("NOP", "EXIT"):
                out["cells.idle"] = out.get("cells.idle", 0.0) + p.NOP * T * cyc
                out["cells.clock"] = out.get("cells.clock", 0.0) + e.clock_idle_w * T * cyc
                continue
            if op.is_mem:
                active = cyc
            else:
                own = a.smul_cycles if oc == "SMUL" else a.alu_cycles
                active = own * n
                out["cells.idle"] = out.get("cells.idle", 0.0) + p.NOP * T * (cyc - active)
            key = f"cells.{cls.lower()}"
            out[key] = out.get(key, 0.0) + getattr(p, cls) * T * active
            out["cells.clock"] = out.get("cells.clock", 0.0) + e.clock_active_w * T * cyc
    return out


def cgra_mem_accesses(kernel: Kernel, stats: RunStats) -> int:
    return sum(n * sum(op.is_mem for op in row)
               for row, n in zip(kernel.rows, stats.row_count, strict=True))


def full_stats(run: MappingRun) -> tuple[RunStats, list[int] | tuple[int, int]]:
    """The CGRA counts of all ``run.launches``: the run's own when complete; for a sampled
    run, the sampled launches' counts scaled to all launches, which needs the sampled
    launches to be identical (checked). The second item is the per-launch cycle list, or
    (cycles of one launch, launches) for a sampled run."""
    if run.complete:
        return run.stats, run.launch_cycles
    n, total = run.sampled_launches, run.launches
    st = run.stats
    if not n or len(set(run.launch_cycles)) != 1 or any(
            c % n for c in (*st.row_count, *st.row_cycles, st.mem_stall_cycles)):
        raise CgraRunError(
            f"mapping {run.mapping} on {run.shape}: the {n} simulated launches differ (address-"
            "dependent bank contention?), so their counts cannot be scaled to all "
            f"{total}; set cgra.sample_launches: 0 to simulate every launch")

    def scale(v: int) -> int:
        return v // n * total

    full = RunStats(cycles=scale(st.cycles), instructions=scale(st.instructions),
                    mem_stall_cycles=scale(st.mem_stall_cycles),
                    row_count=[scale(c) for c in st.row_count],
                    row_cycles=[scale(c) for c in st.row_cycles])
    return full, (run.launch_cycles[0], total)


def price_run(run: MappingRun, spec: CgraSpec) -> Priced:
    """Cycles and energy of a mapping run on ``spec`` (see the module docstring); a sampled
    run is priced for all its launches (``full_stats``)."""
    stats, per_launch = full_stats(run)
    h = spec.cgra.host
    param = run.host_param_words * (h.store_cycles + h.param_alu_per_word * h.alu_cycles)
    zero = run.host_zero_words * (h.store_cycles + h.alu_cycles)
    launch = run.launches * h.launch_overhead_cycles
    patch = im2col_patch_cycles(run.shape, h) if run.im2col_patches else 0
    im2col_total = run.im2col_patches * patch
    if run.im2col_overlapped:
        # the first patch is built before the first launch; each later one is built while
        # the launch before it runs, so the host waits only for what the CGRA takes longer
        if isinstance(per_launch, tuple):
            one, n = per_launch
            waiting = (n - 1) * max(one - patch, 0) + one
        else:
            waiting = sum(max(c - patch, 0) for c in per_launch[:-1]) + \
                (per_launch[-1] if per_launch else 0)
    else:
        waiting = stats.cycles
    host_cycles = {"launch": launch, "parameters": param, "output_clear": zero,
                   "im2col": im2col_total}
    active = launch + param + zero + im2col_total
    if run.host_add_words:
        host_cycles["partial_sums"] = partial_add_cycles(run.host_add_words, h)
        active += host_cycles["partial_sums"]
    cycles = active + waiting  # the host is either busy or waiting for the CGRA
    # host accesses to the banks: parameter and clearing stores, im2col loads and stores,
    # partial sums (two loads and a store per word)
    host_acc = run.host_param_words + run.host_zero_words + \
        run.im2col_patches * 2 * run.shape.patch_words + 3 * run.host_add_words
    sram = cgra_mem_accesses(run.kernel, stats) + host_acc
    pj_acc, _ = sram_pj_per_access(spec)
    energy = cell_energy_pj(run.kernel, stats, spec)
    energy["sram"] = sram * pj_acc
    energy["host.active"] = active * h.active_pj_per_cycle
    energy["host.idle"] = waiting * h.idle_pj_per_cycle
    return Priced(cycles=cycles, cgra_cycles=stats.cycles, host_active_cycles=active,
                  host_cycles=host_cycles, energy_pj=energy, sram_accesses=sram)


def price_cpu(shape: ConvShape, spec: CgraSpec) -> Priced:
    """The naive convolution on the host CPU alone."""
    h = spec.cgra.host
    cyc = naive_conv_cycles(shape, h)
    acc = naive_conv_accesses(shape)
    pj_acc, _ = sram_pj_per_access(spec)
    return Priced(cycles=cyc, cgra_cycles=0, host_active_cycles=cyc,
                  host_cycles={"naive_conv": cyc},
                  energy_pj={"sram": acc * pj_acc, "host.active": cyc * h.active_pj_per_cycle},
                  sram_accesses=acc)


__all__ = ["Priced", "Tally", "cell_energy_pj", "naive_conv_cycles", "partial_add_cycles",
           "price_cpu", "price_run", "sram_pj_per_access"]
