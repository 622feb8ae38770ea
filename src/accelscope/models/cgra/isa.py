"""The OpenEdgeCGRA instruction subset: parsing and checking of one kernel.

A kernel is a list of *instruction rows*: one instruction for every reconfigurable cell (RC)
of the array, all executed in lock step. A row is written as a mapping ``(row, col) -> text``;
cells left out execute ``NOP``. Text syntax (one operation per cell)::

    SADD  dst, a, b        dst = a + b        (SSUB, SMUL, SLL, SRL, SRA, LAND, LOR, LXOR)
    LWD   dst [, inc]      dst = M[in_ptr[col]];  in_ptr[col] += inc   (inc default 4)
    SWD   src [, inc]      M[out_ptr[col]] = src; out_ptr[col] += inc  (inc default 4)
    LWI   dst, addr        dst = M[addr]
    SWI   src, addr        M[addr] = src
    BEQ / BNE / BLT / BGE  a, b, label      branch of the whole array when the test holds
    JUMP  label
    EXIT / NOP

``dst`` is one of R0-R3 or ROUT; a source is ZERO, SELF (the cell's own ROUT), RCL / RCR /
RCT / RCB (the output register of the left / right / top / bottom neighbour on the torus),
R0-R3, or a signed immediate of ``imm_bits`` bits. All sources are read at the start of the
instruction and all results written at its end, so a row of neighbour copies is a shift.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from accelscope.errors import AccelscopeError

ALU_OPS = ("SADD", "SSUB", "SMUL", "SLL", "SRL", "SRA", "LAND", "LOR", "LXOR")
BRANCH_OPS = ("BEQ", "BNE", "BLT", "BGE")
MEM_OPS = ("LWD", "SWD", "LWI", "SWI")
OTHER_OPS = ("JUMP", "EXIT", "NOP")
OPCODES = ALU_OPS + BRANCH_OPS + MEM_OPS + OTHER_OPS
DESTS = ("R0", "R1", "R2", "R3", "ROUT")
NEIGHBOURS = ("RCL", "RCR", "RCT", "RCB")
SOURCES = ("ZERO", "SELF") + NEIGHBOURS + ("R0", "R1", "R2", "R3")
_INT = re.compile(r"^[+-]?(0x[0-9a-fA-F]+|\d+)$")


class CgraProgramError(AccelscopeError):
    """A CGRA kernel is malformed: bad instruction text, operands, labels or size."""


@dataclass(frozen=True)
class Op:
    """One cell's operation in one instruction row."""

    opcode: str
    dst: str | None = None  # register written (ALU, LWD, LWI)
    srcs: tuple[str | int, ...] = ()  # sources (operand names or immediates)
    inc: int = 4  # pointer increment of LWD / SWD [bytes]
    target: str | None = None  # branch label

    @property
    def is_mem(self) -> bool:
        return self.opcode in MEM_OPS


NOP = Op("NOP")


@dataclass(frozen=True)
class Kernel:
    """A checked kernel: ``rows[i][cell]`` is the ``Op`` of cell ``cell = r * cols + c`` in
    instruction ``i``; ``labels`` maps a label to its instruction index."""

    name: str
    n_rows: int
    n_cols: int
    rows: tuple[tuple[Op, ...], ...]
    labels: Mapping[str, int]

    @property
    def n_instructions(self) -> int:
        return len(self.rows)

    def target(self, label: str) -> int:
        return self.labels[label]


def parse_op(text: str, imm_bits: int, where: str) -> Op:
    """Parse one cell's instruction text (see the module docstring)."""
    parts = [p for p in re.split(r"[,\s]+", text.strip()) if p]
    if not parts:
        return NOP
    opc, args = parts[0].upper(), parts[1:]
    if opc not in OPCODES:
        raise CgraProgramError(f"{where}: unknown opcode {parts[0]!r} in {text!r}; known: "
                               f"{', '.join(OPCODES)}")

    def need(n_min: int, n_max: int | None = None) -> None:
        n_max = n_min if n_max is None else n_max
        if not n_min <= len(args) <= n_max:
            want = str(n_min) if n_min == n_max else f"{n_min}-{n_max}"
            raise CgraProgramError(f"{where}: {opc} takes {want} operands, got {len(args)} in "
                                   f"{text!r}")

    def dst(a: str) -> str:
        if a.upper() not in DESTS:
            raise CgraProgramError(f"{where}: {a!r} is not a destination in {text!r}; write "
                                   f"one of {', '.join(DESTS)}")
        return a.upper()

    def src(a: str) -> str | int:
        if _INT.match(a):
            v = int(a, 0)
            lo, hi = -(1 << (imm_bits - 1)), (1 << (imm_bits - 1)) - 1
            if not lo <= v <= hi:
                raise CgraProgramError(f"{where}: immediate {v} in {text!r} does not fit the "
                                       f"{imm_bits}-bit signed field [{lo}, {hi}]; load it "
                                       "from memory (LWD) instead")
            return v
        u = a.upper()
        if u == "ROUT":
            return "SELF"
        if u not in SOURCES:
            raise CgraProgramError(f"{where}: {a!r} is not a source in {text!r}; write one of "
                                   f"{', '.join(SOURCES)} or an immediate")
        return u

    if opc in ALU_OPS:
        need(3)
        return Op(opc, dst(args[0]), (src(args[1]), src(args[2])))
    if opc in ("LWD", "SWD"):
        need(1, 2)
        inc = src(args[1]) if len(args) == 2 else 4
        if not isinstance(inc, int) or inc % 4:
            raise CgraProgramError(f"{where}: the increment of {opc} must be an immediate "
                                   f"multiple of 4 (a word), got {args[1]!r}")
        if opc == "LWD":
            return Op(opc, dst(args[0]), (), inc)
        return Op(opc, None, (src(args[0]),), inc)
    if opc == "LWI":
        need(2)
        return Op(opc, dst(args[0]), (src(args[1]),))
    if opc == "SWI":
        need(2)
        return Op(opc, None, (src(args[0]), src(args[1])))
    if opc in BRANCH_OPS:
        need(3)
        return Op(opc, None, (src(args[0]), src(args[1])), target=args[2])
    if opc == "JUMP":
        need(1)
        return Op(opc, target=args[0])
    need(0)
    return Op(opc)


def assemble(name: str, rows: Sequence[Mapping[tuple[int, int], str]],
             labels: Mapping[str, int] | None = None, *, n_rows: int = 4, n_cols: int = 4,
             imm_bits: int = 13, max_instructions: int = 32) -> Kernel:
    """Check and assemble a kernel. ``labels`` maps label -> instruction index.

    Errors name the kernel, the instruction index and the cell. A kernel may hold at most
    ``max_instructions`` rows (OpenEdgeCGRA: 32 per cell); at most one LWD and one SWD per
    column per instruction (each column has one input and one output pointer).
    """
    labels = dict(labels or {})
    if not rows:
        raise CgraProgramError(f"kernel {name!r} has no instruction")
    if len(rows) > max_instructions:
        raise CgraProgramError(f"kernel {name!r} has {len(rows)} instructions; the array holds "
                               f"at most {max_instructions} per cell (restructure the loop "
                               "or split the kernel)")
    for lab, idx in labels.items():
        if not 0 <= idx < len(rows):
            raise CgraProgramError(f"kernel {name!r}: label {lab!r} points at instruction "
                                   f"{idx}, outside 0..{len(rows) - 1}")
    out = []
    for i, row in enumerate(rows):
        ops = [NOP] * (n_rows * n_cols)
        per_col: dict[tuple[int, str], int] = {}
        for (r, c), text in row.items():
            where = f"kernel {name!r} instruction {i} cell ({r},{c})"
            if not (0 <= r < n_rows and 0 <= c < n_cols):
                raise CgraProgramError(f"{where}: no such cell in a {n_rows}x{n_cols} array")
            op = parse_op(text, imm_bits, where)
            if op.target is not None and op.target not in labels:
                raise CgraProgramError(f"{where}: branch to unknown label {op.target!r}; "
                                       f"labels: {', '.join(sorted(labels)) or 'none'}")
            if op.opcode in ("LWD", "SWD"):
                key = (c, op.opcode)
                if key in per_col:
                    raise CgraProgramError(
                        f"{where}: a second {op.opcode} in column {c} (row {per_col[key]} has "
                        "one); a column has one pointer, so issue them in separate "
                        "instructions")
                per_col[key] = r
            ops[r * n_cols + c] = op
        out.append(tuple(ops))
    return Kernel(name, n_rows, n_cols, tuple(out), labels)


class KernelBuilder:
    """Write a kernel row by row: ``k.row({(0, 0): "LWD R0"}, label="start")``."""

    def __init__(self, name: str):
        self.name = name
        self.rows: list[dict[tuple[int, int], str]] = []
        self.labels: dict[str, int] = {}

    def row(self, cells: Mapping[tuple[int, int], str] | None = None,
            label: str | None = None) -> int:
        if label is not None:
            if label in self.labels:
                raise CgraProgramError(f"kernel {self.name!r}: label {label!r} defined twice")
            self.labels[label] = len(self.rows)
        self.rows.append(dict(cells or {}))
        return len(self.rows) - 1

    def build(self, **kw: int) -> Kernel:
        return assemble(self.name, self.rows, self.labels, **kw)
