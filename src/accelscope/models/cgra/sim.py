"""Instruction-level simulator of the OpenEdgeCGRA array.

The array executes one instruction row at a time, all cells in lock step. Each row is
compiled once into a Python function that reads every source, computes, then writes every
result (so a row of neighbour copies is a shift) and returns the next instruction index and
the row's latency in cycles. Running a kernel is then one function call per executed row;
the simulator counts, per row, how often it ran and how many cycles it took, from which the
per-opcode event counts and the energy follow exactly.

Latency of one instruction row (all parameters of ``CgraTiming``):

* ALU part: the slowest operation of the row (``smul_cycles`` for SMUL, ``alu_cycles``
  otherwise; NOP and branches take ``alu_cycles``);
* memory part, for the row's loads and stores: ``mem_overhead_cycles`` plus the accesses
  serialised by the bus. ``one_to_m``: one port for the whole array, every access of the row
  waits for the previous one (overhead + n). ``n_to_m`` / ``interleaved``: the banks work in
  parallel and only accesses to the same bank serialise (overhead + the largest number of
  accesses to one bank); banks are contiguous ``bank_bytes`` blocks (``n_to_m``) or
  word-interleaved (``interleaved``). With ``loads_stores_add`` the loads and the stores of a
  row are two separate accesses whose latencies add (the OpenEdgeCGRA README's rule);
* the row takes the longer of the two; the difference is counted as memory stall cycles.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, NoReturn, cast

from accelscope.errors import AccelscopeError
from accelscope.models.cgra.isa import ALU_OPS, BRANCH_OPS, Kernel, Op

Bus = Literal["one_to_m", "n_to_m", "interleaved"]
# a compiled instruction row: f(R, O, M, Pi, Po, bad, bank) -> (next index, latency)
BadFn = Callable[[int, int, int | list[int]], NoReturn]
RowFn = Callable[[list[int], list[int], list[int], list[int], list[int], BadFn,
                  Callable[[int], int]], tuple[int, int]]


class CgraRunError(AccelscopeError):
    """A kernel failed while running: bad address, conflicting branches, runaway loop."""


@dataclass(frozen=True)
class CgraTiming:
    """Cycle costs of the array and its memory bus."""

    alu_cycles: int = 1
    smul_cycles: int = 3
    mem_overhead_cycles: int = 1
    bus: Bus = "one_to_m"
    loads_stores_add: bool = False
    bank_bytes: int = 32768
    n_banks: int = 4

    def __post_init__(self) -> None:
        if self.bus not in ("one_to_m", "n_to_m", "interleaved"):
            raise AccelscopeError(f"CGRA bus {self.bus!r} is unknown; use one_to_m, n_to_m or "
                                  "interleaved")
        for name in ("alu_cycles", "smul_cycles", "bank_bytes", "n_banks"):
            if getattr(self, name) < 1:
                raise AccelscopeError(f"CGRA timing {name} must be >= 1, got "
                                      f"{getattr(self, name)}")
        if self.mem_overhead_cycles < 0:
            raise AccelscopeError("CGRA timing mem_overhead_cycles must be >= 0")

    @property
    def memory_bytes(self) -> int:
        return self.bank_bytes * self.n_banks


@dataclass
class RunStats:
    """What one kernel run counted."""

    cycles: int = 0
    instructions: int = 0  # executed instruction rows
    mem_stall_cycles: int = 0  # cycles a row waited for memory beyond its ALU latency
    row_count: list[int] = field(default_factory=list)  # executions per instruction row
    row_cycles: list[int] = field(default_factory=list)  # cycles spent per instruction row

    def add(self, other: RunStats) -> None:
        self.cycles += other.cycles
        self.instructions += other.instructions
        self.mem_stall_cycles += other.mem_stall_cycles
        if not self.row_count:
            self.row_count = [0] * len(other.row_count)
            self.row_cycles = [0] * len(other.row_cycles)
        for i, (n, c) in enumerate(zip(other.row_count, other.row_cycles, strict=True)):
            self.row_count[i] += n
            self.row_cycles[i] += c


_WRAP = "(({v}) + 2147483648 & 4294967295) - 2147483648"


def _expr(op: Op, a: str, b: str) -> str:
    code = {
        "SADD": f"{a} + {b}", "SSUB": f"{a} - {b}", "SMUL": f"{a} * {b}",
        "SLL": f"{a} << ({b} & 31)", "SRL": f"({a} & 4294967295) >> ({b} & 31)",
        "SRA": f"{a} >> ({b} & 31)", "LAND": f"{a} & {b}", "LOR": f"{a} | {b}",
        "LXOR": f"{a} ^ {b}",
    }[op.opcode]
    return _WRAP.format(v=code)


class Cgra:
    """A CGRA with a word memory. ``mem`` is a list of signed 32-bit words (address / 4)."""

    def __init__(self, timing: CgraTiming, n_rows: int = 4, n_cols: int = 4):
        self.timing, self.n_rows, self.n_cols = timing, n_rows, n_cols
        self.mem: list[int] = [0] * (timing.memory_bytes // 4)
        n = n_rows * n_cols
        self.regs = [0] * (4 * n)
        self.rout = [0] * n
        self._compiled: dict[int, tuple[Kernel, list[tuple[RowFn, int]]]] = {}

    # -- memory helpers -------------------------------------------------------------------
    def write_words(self, addr: int, values: Sequence[int]) -> None:
        self._check_range(addr, len(values))
        w = addr >> 2
        self.mem[w:w + len(values)] = [int(v) for v in values]

    def read_words(self, addr: int, n: int) -> list[int]:
        self._check_range(addr, n)
        return self.mem[addr >> 2:(addr >> 2) + n]

    def _check_range(self, addr: int, n: int) -> None:
        if addr < 0 or addr % 4 or addr + 4 * n > self.timing.memory_bytes:
            raise CgraRunError(f"memory block at {addr} of {n} words is outside the "
                               f"{self.timing.memory_bytes} B memory or not word aligned")

    def bank_of(self, addr: int) -> int:
        t = self.timing
        if t.bus == "interleaved":
            return (addr >> 2) % t.n_banks
        return addr // t.bank_bytes

    # -- compilation ------------------------------------------------------------------------
    def _src(self, s: str | int, cell: int) -> str:
        if isinstance(s, int):
            return str(s)
        r, c = divmod(cell, self.n_cols)
        R, C = self.n_rows, self.n_cols
        if s == "ZERO":
            return "0"
        if s == "SELF":
            return f"O[{cell}]"
        if s in ("R0", "R1", "R2", "R3"):
            return f"R[{4 * cell + int(s[1])}]"
        nb = {"RCL": (r, (c - 1) % C), "RCR": (r, (c + 1) % C),
              "RCT": ((r - 1) % R, c), "RCB": ((r + 1) % R, c)}[s]
        return f"O[{nb[0] * C + nb[1]}]"

    def _dst(self, d: str | None, cell: int) -> str:
        # d is set for every op that writes a register (ALU, LWD, LWI)
        return f"O[{cell}]" if d == "ROUT" else f"R[{4 * cell + int(cast(str, d)[1])}]"

    def _compile_row(self, kernel: Kernel, i: int) -> tuple[RowFn, int]:
        t = self.timing
        ops = kernel.rows[i]
        pre: list[str] = []  # reads and computations into temporaries
        post: list[str] = []  # register, memory and pointer writes
        loads: list[str] = []
        stores: list[str] = []
        alu_lat = t.alu_cycles
        nxt = str(i + 1)
        branches: list[tuple[str, int]] = []
        exits = False
        for cell, op in enumerate(ops):
            oc = op.opcode
            col = cell % self.n_cols
            tv = f"v{cell}"
            if oc == "NOP":
                continue
            if oc in ALU_OPS:
                a, b = (self._src(s, cell) for s in op.srcs)
                pre.append(f"{tv} = {_expr(op, a, b)}")
                post.append(f"{self._dst(op.dst, cell)} = {tv}")
                if oc == "SMUL":
                    alu_lat = max(alu_lat, t.smul_cycles)
            elif oc == "LWD":
                pre.append(f"a{cell} = Pi[{col}]")
                pre.append(f"if a{cell} < 0 or a{cell} & 3: bad({i}, {cell}, a{cell})")
                pre.append(f"{tv} = M[a{cell} >> 2]")
                post.append(f"{self._dst(op.dst, cell)} = {tv}")
                post.append(f"Pi[{col}] += {op.inc}")
                loads.append(f"a{cell}")
            elif oc == "LWI":
                pre.append(f"a{cell} = {self._src(op.srcs[0], cell)}")
                pre.append(f"if a{cell} < 0 or a{cell} & 3: bad({i}, {cell}, a{cell})")
                pre.append(f"{tv} = M[a{cell} >> 2]")
                post.append(f"{self._dst(op.dst, cell)} = {tv}")
                loads.append(f"a{cell}")
            elif oc == "SWD":
                pre.append(f"a{cell} = Po[{col}]")
                pre.append(f"if a{cell} < 0 or a{cell} & 3: bad({i}, {cell}, a{cell})")
                pre.append(f"{tv} = {self._src(op.srcs[0], cell)}")
                post.append(f"M[a{cell} >> 2] = {tv}")
                post.append(f"Po[{col}] += {op.inc}")
                stores.append(f"a{cell}")
            elif oc == "SWI":
                pre.append(f"{tv} = {self._src(op.srcs[0], cell)}")
                pre.append(f"a{cell} = {self._src(op.srcs[1], cell)}")
                pre.append(f"if a{cell} < 0 or a{cell} & 3: bad({i}, {cell}, a{cell})")
                post.append(f"M[a{cell} >> 2] = {tv}")
                stores.append(f"a{cell}")
            elif oc in BRANCH_OPS:
                a, b = (self._src(s, cell) for s in op.srcs)
                cmp = {"BEQ": "==", "BNE": "!=", "BLT": "<", "BGE": ">="}[oc]
                branches.append((f"{a} {cmp} {b}", kernel.target(cast(str, op.target))))
            elif oc == "JUMP":
                branches.append(("True", kernel.target(cast(str, op.target))))
            elif oc == "EXIT":
                exits = True
        body = ["def f(R, O, M, Pi, Po, bad, bank):"]
        body += ["    " + s for s in pre]
        if len(branches) == 1:
            cond, tgt = branches[0]
            body.append(f"    nxt = {tgt} if {cond} else {nxt}")
        elif branches:
            body.append("    taken = set()")
            for cond, tgt in branches:
                body.append(f"    if {cond}: taken.add({tgt})")
            body.append("    if len(taken) > 1: bad(" + str(i) + ", -1, sorted(taken))")
            body.append(f"    nxt = taken.pop() if taken else {nxt}")
        else:
            body.append(f"    nxt = {nxt}")
        if exits:
            body.append("    nxt = -1")
        body += ["    " + s for s in post]
        body.append(f"    return nxt, {self._latency_expr(alu_lat, loads, stores)}")
        scope: dict[str, Any] = {"_maxcount": _maxcount}
        exec(compile("\n".join(body), f"<cgra {kernel.name} row {i}>", "exec"), scope)
        return scope["f"], alu_lat

    def _latency_expr(self, alu_lat: int, loads: list[str], stores: list[str]) -> str:
        t = self.timing
        if not loads and not stores:
            return str(alu_lat)
        groups = [loads, stores] if t.loads_stores_add else [loads + stores]
        parts = []
        for g in groups:
            if not g:
                continue
            if t.bus == "one_to_m" or len(g) == 1:
                parts.append(str(t.mem_overhead_cycles + len(g)))
            else:
                banks = ", ".join(f"bank({a})" for a in g)
                parts.append(f"{t.mem_overhead_cycles} + _maxcount(({banks},))")
        mem = " + ".join(parts)
        return f"max({alu_lat}, {mem})"

    def compile(self, kernel: Kernel) -> list[tuple[RowFn, int]]:
        got = self._compiled.get(id(kernel))
        if got is not None and got[0] is kernel:
            return got[1]
        if (kernel.n_rows, kernel.n_cols) != (self.n_rows, self.n_cols):
            raise CgraRunError(f"kernel {kernel.name!r} is for a {kernel.n_rows}x"
                               f"{kernel.n_cols} array, this CGRA is {self.n_rows}x"
                               f"{self.n_cols}")
        funcs: list[tuple[RowFn, int]] = []
        for i in range(kernel.n_instructions):
            funcs.append(self._compile_row(kernel, i))
        self._compiled[id(kernel)] = (kernel, funcs)
        return funcs

    # -- running ------------------------------------------------------------------------------
    def run(self, kernel: Kernel, in_ptrs: Sequence[int], out_ptrs: Sequence[int] = (),
            *, max_instructions: int = 50_000_000) -> RunStats:
        """Run ``kernel`` from instruction 0 until EXIT with the columns' input and output
        pointers set to ``in_ptrs`` / ``out_ptrs`` (bytes). Registers keep their values from
        the previous run (the hardware does not clear them); kernels initialise what they
        use."""
        funcs = self.compile(kernel)
        n = len(funcs)
        pi = list(in_ptrs) + [0] * (self.n_cols - len(in_ptrs))
        po = list(out_ptrs) + [0] * (self.n_cols - len(out_ptrs))
        cnt = [0] * n
        cyc = [0] * n
        stall = 0
        regs, rout, mem = self.regs, self.rout, self.mem
        fs = [f for f, _ in funcs]
        alu = [a for _, a in funcs]
        bank = self.bank_of
        name = kernel.name

        def bad(row: int, cell: int, addr: int | list[int]) -> NoReturn:
            if cell < 0:
                raise CgraRunError(f"kernel {name!r} instruction {row}: cells branch to "
                                   f"different targets {addr}; a taken branch redirects the "
                                   "whole array, so only one target may be taken")
            raise CgraRunError(f"kernel {name!r} instruction {row} cell "
                               f"{divmod(cell, self.n_cols)}: address {addr} is negative or "
                               "not word aligned")

        pc = 0
        steps = 0
        try:
            while pc >= 0:
                if pc >= n:
                    raise CgraRunError(f"kernel {name!r} ran past its last instruction "
                                       f"({n - 1}) without EXIT")
                nxt, lat = fs[pc](regs, rout, mem, pi, po, bad, bank)
                cnt[pc] += 1
                cyc[pc] += lat
                stall += lat - alu[pc]
                pc = nxt
                steps += 1
                if steps > max_instructions:
                    raise CgraRunError(f"kernel {name!r} executed {max_instructions} "
                                       "instructions without EXIT (a loop that never ends?)")
        except IndexError:
            raise CgraRunError(f"kernel {name!r} instruction {pc}: an access beyond the "
                               f"{self.timing.memory_bytes} B memory") from None
        return RunStats(cycles=sum(cyc), instructions=steps, mem_stall_cycles=stall,
                        row_count=cnt, row_cycles=cyc)


def _maxcount(banks: tuple[int, ...]) -> int:
    best = 0
    for b in set(banks):
        best = max(best, banks.count(b))
    return best


def op_counts(kernel: Kernel, stats: RunStats) -> dict[str, int]:
    """Executed operations per opcode (NOP included: idle cell-instructions)."""
    out: dict[str, int] = {}
    for row, n in zip(kernel.rows, stats.row_count, strict=True):
        if not n:
            continue
        for op in row:
            out[op.opcode] = out.get(op.opcode, 0) + n
    return out
