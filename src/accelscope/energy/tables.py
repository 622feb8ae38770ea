"""Per-action energy tables per technology node, and scaling between nodes.

Every value is an ``EnergyEntry`` carrying its own citation. A table is either published
(``horowitz-45nm``, ``eyeriss-normalized``) or derived from a published one by a stated rule
(``eyeriss-65nm``, ``derived-65nm``, ``derived-28nm``, ``derived-16nm``); a derived table says how
in ``derived_from``. Units: ``"pJ"`` per action, or ``"normalized (MAC = 1)"``.

Action names are ``<kind>_<width>b`` with the width of one access or operand in bits, for
example ``int_mult_8b``, ``fp_add_32b``, ``sram_32kb_64b`` (a 64-bit access to a 32 KB array),
``dram_64b``, ``glb_16b``.

Technology scaling rule (see ``NODE_VDD_V`` and ``node_energy_factor``): dynamic energy
``E ~ C * Vdd**2`` with switched capacitance proportional to the feature size (classical
constant-field scaling) and the nominal core supply of each node. DRAM energy is a property
of the DRAM device and its interface, so it is never scaled with the logic node.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import cast

from accelscope.energy.sram import (
    HOROWITZ_2014,
    SRAM_FIT,
    SRAM_FIT_NODE_NM,
    SRAM_FIT_POINTS,
    sram_access_pj_45nm,
)
from accelscope.errors import AccelscopeError

PJ = "pJ"
NORMALIZED = "normalized (MAC = 1)"

EYERISS_ISCA16 = (
    'Y.-H. Chen, J. Emer, V. Sze, "Eyeriss: A Spatial Architecture for Energy-Efficient '
    'Dataflow for Convolutional Neural Networks", ISCA 2016, Table IV (65 nm, normalized to '
    "one 16-bit MAC); the same ratios in Y.-H. Chen et al., JSSC 52(1) 2017"
)
DENNARD_1974 = (
    'R. H. Dennard et al., "Design of ion-implanted MOSFETs with very small physical '
    'dimensions", IEEE JSSC 9(5) 1974 (constant-field scaling: capacitance ~ feature size)'
)

#: Nominal core supply (V) per node used by the scaling rule, with the reason for each.
NODE_VDD_V: Mapping[int, float] = MappingProxyType({65: 1.0, 45: 0.9, 28: 0.9, 16: 0.8})
NODE_VDD_SOURCE: Mapping[int, str] = MappingProxyType(
    {
        65: "1.0 V: the supply at which the 65 nm Eyeriss chip was measured (JSSC 2017)",
        45: "0.9 V: the operating point of the Horowitz ISSCC 2014 45 nm table",
        28: "0.9 V: assumed typical nominal core supply of planar 28 nm processes",
        16: "0.8 V: assumed typical nominal core supply of 16 nm FinFET processes",
    }
)


class EnergyTableError(AccelscopeError):
    """Unknown energy table, action or technology node, or a request a table cannot price."""


@dataclass(frozen=True)
class EnergyEntry:
    """Energy of one action: ``value`` in ``unit`` (pJ or normalized), with its source."""

    value: float
    unit: str
    citation: str
    note: str = ""
    derived: bool = False


@dataclass(frozen=True)
class EnergyTable:
    """Energies per action at one technology node.

    ``entries`` maps an action name to its ``EnergyEntry``; ``derived_from`` is empty for a
    published table and otherwise states the source table and the rule applied to it.
    """

    name: str
    node_nm: int
    unit: str
    source: str
    entries: Mapping[str, EnergyEntry] = field(hash=False)
    derived_from: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "entries", MappingProxyType(dict(self.entries)))
        for action, entry in self.entries.items():
            if entry.unit != self.unit:
                raise EnergyTableError(
                    f"energy table {self.name!r}: action {action!r} is in {entry.unit!r} but "
                    f"the table is in {self.unit!r}; give every entry the table's unit"
                )

    @property
    def normalized(self) -> bool:
        return self.unit == NORMALIZED

    def actions(self) -> tuple[str, ...]:
        return tuple(sorted(self.entries))

    def lookup(self, action: str) -> EnergyEntry:
        """The entry for ``action``; an unknown action raises ``EnergyTableError``."""
        try:
            return self.entries[action]
        except KeyError:
            raise EnergyTableError(
                f"energy table {self.name!r} has no action {action!r}; "
                f"its actions are: {', '.join(self.actions())}"
            ) from None

    def mac_pj(self, bits: int, fp: bool = False, acc_bits: int | None = None) -> float:
        """Energy of one multiply-accumulate with ``bits``-wide operands.

        Convention: one multiply at the operand width plus one add at the accumulator width.
        The accumulator defaults to ``min(2 * bits, 32)`` bits for integers (the full product,
        capped at the widest adder in the tables) and to ``bits`` for floating point. A table
        with a measured or anchored ``mac_<bits>b`` entry (``eyeriss-65nm``) returns that entry
        when ``fp`` and ``acc_bits`` are left at their defaults. For the normalized table this
        is 1.0 by definition (the unit *is* one MAC), whatever the width.
        """
        if self.normalized:
            return 1.0
        anchored = f"mac_{bits}b"
        if anchored in self.entries and not fp and acc_bits is None:
            return self.entries[anchored].value
        kind = "fp" if fp else "int"
        acc = acc_bits if acc_bits is not None else (bits if fp else min(2 * bits, 32))
        mult, add = f"{kind}_mult_{bits}b", f"{kind}_add_{acc}b"
        missing = [a for a in (mult, add) if a not in self.entries]
        if missing:
            raise EnergyTableError(
                f"energy table {self.name!r} cannot price a MAC with {bits}-bit {kind} operands "
                f"and a {acc}-bit accumulator: it has no {', '.join(missing)}; widths it can "
                f"price: {kind} {self._widths(kind)}, anchored MAC {self._widths('mac')}"
            )
        return self.entries[mult].value + self.entries[add].value

    @property
    def dram_pj_per_bit(self) -> float:
        """DRAM energy per bit moved (pJ/bit), from the table's ``dram_<width>b`` entry."""
        self._require_absolute("DRAM energy per bit")
        for action, entry in self.entries.items():
            m = re.fullmatch(r"dram_(\d+)b", action)
            if m:
                return entry.value / int(m.group(1))
        raise EnergyTableError(
            f"energy table {self.name!r} has no dram_<width>b entry; "
            f"its actions are: {', '.join(self.actions())}"
        )

    def sram_pj_per_bit(self, capacity_bytes: float, width_bits: int) -> float:
        """SRAM energy per bit (pJ/bit) of a ``width_bits`` access to a ``capacity_bytes`` array,
        from the fitted SRAM model scaled to this table's node."""
        self._require_absolute("SRAM energy per bit")
        return sram_access_pj(capacity_bytes, width_bits, self.node_nm) / width_bits

    def describe(self) -> dict[str, str]:
        """One row for a listing: name, node, unit, source (and the derivation, if any)."""
        return {
            "name": self.name,
            "node": f"{self.node_nm} nm",
            "unit": self.unit,
            "source": self.source,
            "derived_from": self.derived_from,
        }

    def _require_absolute(self, what: str) -> None:
        if self.normalized:
            raise EnergyTableError(
                f"energy table {self.name!r} is normalized (MAC = 1) and has no {what} in pJ; "
                "use an absolute table such as 'eyeriss-65nm'"
            )

    def _widths(self, kind: str) -> str:
        widths = sorted(
            {
                int(m.group(1))
                for a in self.entries
                if (m := re.fullmatch(kind + r"(?:_[a-z]+)?_(\d+)b", a))
            }
        )
        return ", ".join(f"{w}" for w in widths) or "none"


# -- technology scaling ------------------------------------------------------------------------


def node_energy_factor(from_nm: int, to_nm: int) -> float:
    """Multiplier that takes a logic or SRAM energy from ``from_nm`` to ``to_nm``:
    ``(to_nm / from_nm) * (Vdd(to) / Vdd(from)) ** 2``."""
    for nm in (from_nm, to_nm):
        if nm not in NODE_VDD_V:
            raise EnergyTableError(
                f"no supply voltage known for a {nm} nm node; supported nodes: "
                f"{', '.join(str(n) for n in sorted(NODE_VDD_V))} nm. Add the node's nominal "
                "Vdd (with its source) to NODE_VDD_V to scale to it"
            )
    return (to_nm / from_nm) * (NODE_VDD_V[to_nm] / NODE_VDD_V[from_nm]) ** 2


def _scaling_rule_text(from_nm: int, to_nm: int) -> str:
    f = node_energy_factor(from_nm, to_nm)
    return (
        f"E ~ C * Vdd^2 with C ~ feature size ({DENNARD_1974}): factor "
        f"({to_nm}/{from_nm}) x ({NODE_VDD_V[to_nm]}/{NODE_VDD_V[from_nm]})^2 = {f:.4f}; "
        f"Vdd {NODE_VDD_SOURCE[from_nm]}; Vdd {NODE_VDD_SOURCE[to_nm]}"
    )


def scale_table(table: EnergyTable, to_nm: int, name: str | None = None) -> EnergyTable:
    """``table`` moved to the ``to_nm`` node by the C * Vdd**2 rule; DRAM entries kept as they
    are. Normalized tables cannot be scaled (their ratios have no node dependence to apply)."""
    if table.normalized:
        raise EnergyTableError(
            f"energy table {table.name!r} is normalized (MAC = 1); only absolute (pJ) tables "
            "can be scaled between nodes"
        )
    factor = node_energy_factor(table.node_nm, to_nm)
    rule = f"scaled {table.node_nm} nm -> {to_nm} nm by x{factor:.4f}"
    entries = {}
    for action, e in table.entries.items():
        if action.startswith("dram"):
            note = (e.note + "; " if e.note else "") + (
                "not scaled: DRAM energy is set by the DRAM device and interface, not the "
                "logic node"
            )
            entries[action] = EnergyEntry(e.value, e.unit, e.citation, note, e.derived)
        else:
            note = (e.note + "; " if e.note else "") + rule
            entries[action] = EnergyEntry(e.value * factor, e.unit, e.citation, note, True)
    return EnergyTable(
        name=name or f"{table.name}@{to_nm}nm",
        node_nm=to_nm,
        unit=table.unit,
        source=table.source,
        entries=entries,
        derived_from=(
            f"{table.name}: {_scaling_rule_text(table.node_nm, to_nm)}; DRAM entries are not scaled"
        ),
    )


def sram_access_pj(capacity_bytes: float, width_bits: float, node_nm: int = 45) -> float:
    """Energy (pJ) of one ``width_bits`` access to an SRAM of ``capacity_bytes`` at ``node_nm``:
    the 45 nm fit (``energy.sram``) times ``node_energy_factor(45, node_nm)``."""
    return sram_access_pj_45nm(capacity_bytes, width_bits) * node_energy_factor(
        SRAM_FIT_NODE_NM, node_nm
    )


# -- the tables --------------------------------------------------------------------------------


def _h(value: float, note: str = "", derived: bool = False) -> EnergyEntry:
    return EnergyEntry(value, PJ, HOROWITZ_2014, note, derived)


def _geo_mid(lo: float, hi: float) -> float:
    # 16 bits is the geometric midpoint of 8 and 32 bits, so straight-line interpolation in
    # log(energy) vs log(bits) between the 8- and 32-bit values gives sqrt(e8 * e32).
    return math.sqrt(lo * hi)


def _power_law(e8: float, e32: float, bits: int) -> float:
    # log energy linear in log bits through the 8- and 32-bit values
    return cast(float, e8 * (bits / 8) ** (math.log(e32 / e8) / math.log(4)))  # float ** float


_INTERP24_NOTE = (
    "derived: not in the source; power-law interpolation between the 8- and 32-bit values "
    "(log energy linear in log bits), for 24-bit accumulators (SPOTS, SCNN)"
)

_INTERP_NOTE = (
    "derived: not in the source; power-law interpolation between the 8- and 32-bit values "
    "(log energy linear in log bits), i.e. sqrt(e8 * e32)"
)

HOROWITZ_45NM = EnergyTable(
    name="horowitz-45nm",
    node_nm=45,
    unit=PJ,
    source=HOROWITZ_2014,
    entries={
        "int_add_8b": _h(0.03),
        "int_add_16b": _h(_geo_mid(0.03, 0.1), _INTERP_NOTE, derived=True),
        "int_add_24b": _h(_power_law(0.03, 0.1, 24), _INTERP24_NOTE, derived=True),
        "int_add_32b": _h(0.1),
        "int_mult_8b": _h(0.2),
        "int_mult_16b": _h(_geo_mid(0.2, 3.1), _INTERP_NOTE, derived=True),
        "int_mult_32b": _h(3.1),
        "fp_add_16b": _h(0.4),
        "fp_mult_16b": _h(1.1),
        "fp_add_32b": _h(0.9),
        "fp_mult_32b": _h(3.7),
        "sram_8kb_64b": _h(10.0, "64-bit access to an 8 KB cache"),
        "sram_32kb_64b": _h(20.0, "64-bit access to a 32 KB cache"),
        "sram_1mb_64b": _h(100.0, "64-bit access to a 1 MB cache"),
        "dram_64b": _h(
            1300.0,
            "the source gives 1.3-2.6 nJ per 64-bit DRAM access; the low end is used because it "
            "matches the 640 pJ per 32-bit DRAM read quoted from the same talk (~20 pJ/bit) "
            "and is closer to current DRAM; the high end is in dram_64b_high",
        ),
        "dram_64b_high": _h(2600.0, "upper end of the 1.3-2.6 nJ range, for sensitivity runs"),
    },
)

EYERISS_NORMALIZED = EnergyTable(
    name="eyeriss-normalized",
    node_nm=65,
    unit=NORMALIZED,
    source=EYERISS_ISCA16,
    entries={
        "mac_16b": EnergyEntry(1.0, NORMALIZED, EYERISS_ISCA16, "one 16-bit MAC (ALU)"),
        "rf_16b": EnergyEntry(1.0, NORMALIZED, EYERISS_ISCA16, "PE register file, 0.5-1.0 kB"),
        "array_16b": EnergyEntry(2.0, NORMALIZED, EYERISS_ISCA16, "PE-to-PE / inter-PE move"),
        "glb_16b": EnergyEntry(6.0, NORMALIZED, EYERISS_ISCA16, "global buffer, >= 100 kB"),
        "dram_16b": EnergyEntry(200.0, NORMALIZED, EYERISS_ISCA16, "off-chip DRAM"),
    },
)

# The absolute Eyeriss table is the normalized one times a 16-bit MAC at 65 nm. Eyeriss keeps
# 16-bit partial sums, so the anchor MAC is a 16-bit multiply plus a 16-bit add from the 45 nm
# table, moved to 65 nm by the scaling rule.
_EYERISS_MAC_45NM_PJ = (
    HOROWITZ_45NM.entries["int_mult_16b"].value + HOROWITZ_45NM.entries["int_add_16b"].value
)
EYERISS_MAC_65NM_PJ = _EYERISS_MAC_45NM_PJ * node_energy_factor(45, 65)

_EYERISS_ANCHOR = (
    f"anchor: 16-bit MAC at 65 nm = (int_mult_16b + int_add_16b of horowitz-45nm = "
    f"{_EYERISS_MAC_45NM_PJ:.4f} pJ) x {node_energy_factor(45, 65):.4f} = "
    f"{EYERISS_MAC_65NM_PJ:.4f} pJ"
)

EYERISS_65NM = EnergyTable(
    name="eyeriss-65nm",
    node_nm=65,
    unit=PJ,
    source=EYERISS_ISCA16,
    entries={
        action: EnergyEntry(
            e.value * EYERISS_MAC_65NM_PJ,
            PJ,
            e.citation,
            f"{e.note}; derived: {e.value:g} x MAC, {_EYERISS_ANCHOR}",
            derived=True,
        )
        for action, e in EYERISS_NORMALIZED.entries.items()
    },
    derived_from=(
        f"eyeriss-normalized ratios x a 16-bit MAC anchored on horowitz-45nm; {_EYERISS_ANCHOR}; "
        + _scaling_rule_text(45, 65)
        + "; DRAM here is 200 x MAC by the Eyeriss ratio, so it follows the anchor"
    ),
)

_BUILTIN: Mapping[str, EnergyTable] = MappingProxyType(
    {
        t.name: t
        for t in (
            HOROWITZ_45NM,
            EYERISS_NORMALIZED,
            EYERISS_65NM,
            scale_table(HOROWITZ_45NM, 65, "derived-65nm"),
            scale_table(HOROWITZ_45NM, 28, "derived-28nm"),
            scale_table(HOROWITZ_45NM, 16, "derived-16nm"),
        )
    }
)


def table_names() -> tuple[str, ...]:
    """Names of the built-in tables, in a fixed order."""
    return tuple(_BUILTIN)


def get_table(name: str) -> EnergyTable:
    """The built-in table called ``name``; an unknown name lists the available ones."""
    try:
        return _BUILTIN[name]
    except KeyError:
        raise EnergyTableError(
            f"unknown energy table {name!r}; available tables: {', '.join(table_names())}"
        ) from None


def describe_tables() -> list[dict[str, str]]:
    """One row per built-in table (name, node, unit, source, derived_from) for a CLI listing."""
    return [t.describe() for t in _BUILTIN.values()]


def provenance(table: EnergyTable) -> dict[str, str]:
    """What a result priced with ``table`` should record about it."""
    fit = SRAM_FIT
    return {
        "energy.table": table.name,
        "energy.node_nm": str(table.node_nm),
        "energy.unit": table.unit,
        "energy.source": table.source,
        "energy.derived_from": table.derived_from or "published values, not derived",
        "energy.sram_model": (
            f"E = width_bits x {fit.a_pj_per_bit:.4g} pJ x (capacity_bytes/1024)^"
            f"{fit.b_exponent:.4g} at {SRAM_FIT_NODE_NM} nm, least-squares fit on "
            f"{len(SRAM_FIT_POINTS)} published points (accelscope.energy.sram), scaled to "
            f"{table.node_nm} nm"
        ),
    }
