"""The one pricing path of the models: operation energy, per-level read and write energy per
bit, DRAM energy per bit, each recording where its number came from; and the two helpers every
model and pass uses for DRAM traffic (building the accesses, rescaling them).

A model makes one ``Pricing`` per evaluation (``Pricing.of(spec)``), asks it for every energy
it multiplies a count by, and merges ``pricing.provenance`` into its result::

    pricing = Pricing.of(spec)                    # refuses a normalized table
    op_pj, how = pricing.op_pj(gconv)             # MAC, or add at the accumulator width
    rd_pj = pricing.level_pj_per_bit(level, "read")
    wr_pj = pricing.level_pj_per_bit(level, "write")
    dram_pj = pricing.dram_pj_per_bit()
    provenance = {**spec_provenance(spec), **pricing.provenance, "energy.op": how}

Rules (one place each, see ``docs/energy.md``, "The pricing path"):

* operation: a multiply map is one MAC (``EnergyTable.mac_pj``: multiply at the operand width
  plus add at the accumulator width, integer or floating point per ``compute.number``); any
  other map (add, pass-through with a sum or max reduce) is one add at the accumulator width
  (a compare is priced as an add); floating point adds at the operand width, as ``mac_pj`` does;
* a memory level: the spec's ``energy_pj_per_bit_read`` / ``energy_pj_per_bit_write`` when
  given, each for its own direction, else the table's SRAM model at the level's size and word
  width (or the size and width the model passes, e.g. one bank of one PE);
* DRAM: the spec's ``dram.energy_pj_per_bit`` when given, else the table's ``dram_<w>b`` / ``w``.

This module sits beside the tables (it imports ``accelscope.results`` but no model): specs are
read by duck typing (``energy_table``, ``compute``, ``dram``, memory levels).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal, Protocol

from accelscope.energy.tables import EnergyTable, EnergyTableError, get_table
from accelscope.energy.tables import provenance as table_provenance
from accelscope.results import Access, LayerResult

Direction = Literal["read", "write"]


class NormalizedTableError(EnergyTableError):
    """A model that prices in pJ was given a normalized (MAC = 1) energy table."""


class _Level(Protocol):
    """What pricing reads of a memory level (``arch.spec.MemoryLevel``)."""

    @property
    def name(self) -> str: ...
    @property
    def size_bytes(self) -> int: ...
    @property
    def word_bits(self) -> int: ...
    @property
    def energy_pj_per_bit_read(self) -> float | None: ...
    @property
    def energy_pj_per_bit_write(self) -> float | None: ...


class _Gconv(Protocol):
    """What pricing reads of a GConv: its map operator (``mul``, ``add``, ``pass``)."""

    @property
    def map_op(self) -> str: ...


@dataclass(frozen=True)
class Pricing:
    """Energies of one spec's actions in pJ, from its energy table and its own given values.

    Make it with ``Pricing.of(spec)``, once per evaluation. ``provenance`` lists the table
    and every level and DRAM energy asked of it so far (the source of each constant used).
    """

    table: EnergyTable
    operand_bits: int
    accumulator_bits: int
    fp: bool
    dram_given_pj_per_bit: float | None = None
    _used: dict[str, str] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def of(cls, spec: Any) -> Pricing:
        """The pricing of ``spec`` (its ``energy_table``, ``compute`` and ``dram``). A
        normalized table raises ``NormalizedTableError``: these energies are in pJ."""
        table = get_table(spec.energy_table)
        if table.normalized:
            raise NormalizedTableError(
                f"energy table {table.name!r} is normalized (MAC = 1) and prices nothing in "
                "pJ; this model needs absolute pJ: use an absolute table such as "
                "'horowitz-45nm' or 'eyeriss-65nm' (energy_table)")
        c = spec.compute
        return cls(table=table, operand_bits=int(c.operand_bits),
                   accumulator_bits=int(c.accumulator_bits), fp=c.number == "fp",
                   dram_given_pj_per_bit=spec.dram.energy_pj_per_bit)

    # -- operations ------------------------------------------------------------------------
    @property
    def _kind(self) -> str:
        return "fp" if self.fp else "int"

    def mac_pj(self) -> tuple[float, str]:
        """One multiply-accumulate: (pJ, how it was priced)."""
        bits, acc = self.operand_bits, self.accumulator_bits
        pj = self.table.mac_pj(bits, fp=self.fp, acc_bits=None if self.fp else acc)
        return pj, f"mac_pj({bits}, fp={self.fp}, acc_bits={acc})"

    def mult_pj(self) -> tuple[float, str]:
        """One multiply at the operand width: (pJ, table action). With ``add_pj`` it makes
        ``mac_pj`` (for a model that counts multiplies and accumulations apart)."""
        action = f"{self._kind}_mult_{self.operand_bits}b"
        return self.table.lookup(action).value, action

    def add_pj(self) -> tuple[float, str]:
        """One add (or compare) at the accumulator width (the operand width for floating
        point, as in ``mac_pj``): (pJ, table action)."""
        acc = self.operand_bits if self.fp else self.accumulator_bits
        action = f"{self._kind}_add_{acc}b"
        return self.table.lookup(action).value, action

    def op_pj(self, gconv: _Gconv) -> tuple[float, str]:
        """One map-and-reduce operation of ``gconv`` in a PE or vector lane: a MAC for a
        multiply map, an add at the accumulator width otherwise (a max is priced as an
        add). Returns (pJ, how it was priced)."""
        return self.mac_pj() if gconv.map_op == "mul" else self.add_pj()

    # -- memory levels ---------------------------------------------------------------------
    def level_pj_per_bit(self, level: _Level, direction: Direction, *,
                         size_bytes: float | None = None, word_bits: int | None = None,
                         scope: str = "") -> float:
        """Energy of moving one bit into (``write``) or out of (``read``) ``level``: the
        spec's value for that direction when given, else the table's SRAM model for an array
        of ``size_bytes`` (default the level's size) accessed ``word_bits`` at a time
        (default its word). ``scope`` says what the size is (e.g. ``"one bank of one PE"``)
        in the provenance."""
        if direction not in ("read", "write"):
            raise ValueError(f"direction must be 'read' or 'write', got {direction!r}")
        given = (level.energy_pj_per_bit_read if direction == "read"
                 else level.energy_pj_per_bit_write)
        if given is not None:
            self._note(level.name, direction,
                       f"{given:g} pJ/bit (spec: {level.name}.energy_pj_per_bit_{direction})")
            return float(given)
        size = level.size_bytes if size_bytes is None else size_bytes
        word = level.word_bits if word_bits is None else word_bits
        per_bit = self.table.sram_pj_per_bit(size, word)
        self._note(level.name, direction,
                   f"SRAM model: {per_bit:.4g} pJ/bit for {size} B x {word}-bit"
                   + (f" ({scope})" if scope else ""))
        return per_bit

    def level_pj(self, level: _Level, read_bits: float, write_bits: float, **how: Any) -> float:
        """Energy of ``read_bits`` read from and ``write_bits`` written to ``level``, each at
        its own per-bit energy (``level_pj_per_bit``; ``how`` is passed on)."""
        pj = 0.0
        if read_bits:
            pj += read_bits * self.level_pj_per_bit(level, "read", **how)
        if write_bits:
            pj += write_bits * self.level_pj_per_bit(level, "write", **how)
        return pj

    # -- DRAM ------------------------------------------------------------------------------
    def dram_pj_per_bit(self) -> float:
        """DRAM energy per bit moved: the spec's ``dram.energy_pj_per_bit`` when given, else
        the table's."""
        if self.dram_given_pj_per_bit is not None:
            pj = float(self.dram_given_pj_per_bit)
            self._used["energy.dram"] = f"{pj:g} pJ/bit (spec: dram.energy_pj_per_bit)"
        else:
            pj = self.table.dram_pj_per_bit
            self._used["energy.dram"] = f"{pj:.4g} pJ/bit from {self.table.name}"
        return pj

    # -- provenance ------------------------------------------------------------------------
    @property
    def provenance(self) -> dict[str, str]:
        """The table's provenance and the source of every level and DRAM energy asked for
        (``energy.<level>``, ``energy.dram``), for the result's ``provenance``."""
        out = table_provenance(self.table)
        levels: dict[str, dict[str, str]] = {}
        for key, text in self._used.items():
            if key.startswith("level:"):
                _, name, direction = key.split(":")
                levels.setdefault(name, {})[direction] = text
            else:
                out[key] = text
        for name, by_dir in levels.items():
            texts = set(by_dir.values())
            out[f"energy.{name}"] = (texts.pop() if len(texts) == 1 else
                                     "; ".join(f"{d}: {t}" for d, t in sorted(by_dir.items())))
        return out

    def _note(self, level: str, direction: str, text: str) -> None:
        self._used[f"level:{level}:{direction}"] = text


# -- DRAM traffic ------------------------------------------------------------------------------
def dram_accesses(read_bits: Mapping[str, float], write_bits: Mapping[str, float],
                  word_bits: int) -> list[Access]:
    """One DRAM ``Access`` per tensor named in either mapping (in that order, reads first),
    with its bits (a fractional count, an expectation, is rounded up to whole bits) and
    ``ceil(bits / word_bits)`` words each way. A tensor listed with 0 bits still gets its
    (empty) access."""
    if word_bits < 1:
        raise ValueError(f"word_bits must be at least 1, got {word_bits}")
    out = []
    for tensor in dict.fromkeys([*read_bits, *write_bits]):
        rb = math.ceil(read_bits.get(tensor, 0))
        wb = math.ceil(write_bits.get(tensor, 0))
        out.append(Access("dram", tensor, reads=math.ceil(rb / word_bits),
                          writes=math.ceil(wb / word_bits), read_bits=rb, write_bits=wb))
    return out


def rescale_dram(result: LayerResult, factor_by_tensor: Mapping[str, float], *,
                 word_bits: int | None = None,
                 rounding: Literal["ceil", "round"] = "ceil") -> LayerResult:
    """``result`` with the DRAM accesses of the named tensors scaled and the DRAM energy
    prorated to the DRAM bits that remain.

    Each DRAM access of a tensor in ``factor_by_tensor`` gets its read and write bits times
    the factor, rounded (``rounding``: ``ceil``, the default, or to nearest); its words are
    ``ceil(bits / word_bits)`` when ``word_bits`` is given, else its own words scaled the
    same way (which keeps a model's own word size). A factor of 0 or less removes the
    access. Other levels and tensors are untouched; ``energy_pj["dram"]`` is multiplied by
    (DRAM bits after) / (DRAM bits before). The bits removed are
    ``result.level_bits("dram") - rescaled.level_bits("dram")``.
    """
    if rounding not in ("ceil", "round"):
        raise ValueError(f"rounding must be 'ceil' or 'round', got {rounding!r}")
    rnd = math.ceil if rounding == "ceil" else round
    old = result.level_bits("dram")
    accesses = []
    for a in result.accesses:
        f = factor_by_tensor.get(a.tensor) if a.level == "dram" else None
        if f is None:
            accesses.append(a)
            continue
        if f <= 0:
            continue
        rb, wb = rnd(a.read_bits * f), rnd(a.write_bits * f)
        if word_bits is not None:
            reads, writes = math.ceil(rb / word_bits), math.ceil(wb / word_bits)
        else:
            reads, writes = rnd(a.reads * f), rnd(a.writes * f)
        accesses.append(Access(a.level, a.tensor, reads=reads, writes=writes, read_bits=rb,
                               write_bits=wb))
    new = sum(a.bits for a in accesses if a.level == "dram")
    energy = dict(result.energy_pj)
    if "dram" in energy and old:
        energy["dram"] *= new / old
    return replace(result, accesses=tuple(accesses), energy_pj=energy)
