"""Area per component in mm^2: per-node constants with their sources, node scaling, and the
one set of building blocks every model's area function uses (``AreaModel``).

A model makes one ``AreaModel(node_nm)`` per area estimate, asks it for the area of each
building block (a MAC unit, a register, an SRAM level, a crossbar, ...), and turns the
components it summed into an ``AreaReport`` with ``AreaModel.report``. Like ``Pricing`` for
energy, the ``AreaModel`` records every constant it was asked for, so that the report's
``provenance`` lists each constant the estimate used, its value at the node and its source::

    am = AreaModel(spec.technology_nm)
    parts = {"pe_array.mac": n_pe * am.mac_um2(16, 24),
             "glb": am.level_um2(spec.level("glb"))}
    report = am.report(parts, method="...")      # mm2 per component + total, provenance

Constants (``docs/area.md`` lists every value and what is weak about it):

* logic (adders, multipliers) at 45 nm: the area column of Horowitz's ISSCC 2014 table
  (``LOGIC_45NM_UM2``); widths between the published ones by power-law interpolation, the
  same rule the energy tables use;
* storage (register files, scratchpads, SRAM banks) at 65 nm: area per byte of one storage
  instance against its size, from the Eyeriss ISCA 2016 analysis framework
  (``STORAGE_65NM_UM2_PER_BYTE``), log-log interpolated between its points so that a larger
  instance is never smaller;
* multi-ported cells: area x ports^2 (Rixner et al., HPCA 2000);
* crossbars: SCNN's 16 x 32 scatter crossbar per crosspoint and bit (SCNN Table 4, 16 nm);
* node scaling: area ~ (feature size)^2 (Dennard's constant-field scaling), from each
  constant's own node to the model's node.

A model whose own paper publishes its unit areas (SCNN's Table 4) may use those instead
(``SCNN_TABLE4_16NM``) and says so in its ``method``.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator, Mapping
from types import MappingProxyType
from typing import Literal, Protocol

from accelscope.energy.tables import DENNARD_1974
from accelscope.errors import AccelscopeError

Number = Literal["int", "fp"]

HOROWITZ_2014_AREA = (
    'M. Horowitz, "Computing\'s energy problem (and what we can do about it)", ISSCC 2014, '
    "Fig. 1.1.9, area column (45 nm)"
)
ISCA16_FRAMEWORK = (
    "the analysis framework of Chen, Emer, Sze, ISCA 2016 (public MATLAB copy "
    "ominux/eyeriss-dataflow)"
)
ISCA16_STORAGE = (
    f"{ISCA16_FRAMEWORK}, helpers/get_storage_area_from_size.m: area per byte of one storage "
    "instance against its size, 2 B .. 4 KB, flat beyond (65 nm, um^2 as in get_pe_area.m)"
)
ISCA16_PE = (
    f"{ISCA16_FRAMEWORK}, get_pe_area.m: 20,000 um^2 per PE (the logic of one 16-bit PE, "
    "storage excluded; 65 nm)"
)
SCNN_TABLE4 = (
    "Parashar et al., 'SCNN', ISCA 2017, Table 4 as summarised in "
    "shared/references/spots_scnn_eyeriss.md Sec. 2.2 (16 nm): PE 0.123 mm2, chip 7.9 mm2, "
    "multiplier array 0.008 mm2 (16 multipliers), scatter crossbar 0.026 mm2 (16 x 32), "
    "memories 57 % [S]; the per-memory split (IARAM+OARAM 20 KB 0.031 mm2, weight FIFO 0.5 KB "
    "0.004 mm2, accumulators 6 KB 0.036 mm2, other 0.018 mm2) is recalled [M], consistent "
    "with those totals"
)
RIXNER_2000 = (
    "S. Rixner, W. J. Dally, B. Khailany, P. Mattson, U. J. Kapasi, J. D. Owens, 'Register "
    "Organization for Media Processing', HPCA 2000: each port adds a word line and a bit line "
    "to every cell, so the area of a multi-ported array grows as the square of its ports"
)

#: Node (nm) of the logic constants and of the storage constants.
LOGIC_NODE_NM = 45
STORAGE_NODE_NM = 65

#: Area of one adder or multiplier at 45 nm [um^2], keyed (number, op, bits): the published
#: values of Horowitz's table; other widths are interpolated (``_logic_45nm_um2``).
LOGIC_45NM_UM2: Mapping[tuple[str, str, int], float] = MappingProxyType({
    ("int", "add", 8): 36.0,
    ("int", "add", 32): 137.0,
    ("int", "mult", 8): 282.0,
    ("int", "mult", 32): 3495.0,
    ("fp", "add", 16): 1360.0,
    ("fp", "add", 32): 4184.0,
    ("fp", "mult", 16): 1640.0,
    ("fp", "mult", 32): 7700.0,
})

#: (instance size [bytes], area per byte [um^2/byte]) at 65 nm: small register files cost
#: about 8x more area per byte than a >= 4 KB SRAM. Beyond 4 KB the framework keeps the
#: 4 KB value (area linear in size).
STORAGE_65NM_UM2_PER_BYTE: tuple[tuple[int, float], ...] = (
    (2, 103.47), (4, 172.07), (8, 177.07), (16, 169.89), (32, 96.06), (64, 59.15),
    (128, 39.94), (256, 27.48), (512, 20.87), (1024, 16.14), (2048, 13.89), (4096, 12.70))

#: Logic of one PE of the ISCA 2016 framework, storage excluded, 65 nm [um^2].
ISCA16_PE_65NM_UM2 = 20_000.0

#: SCNN Table 4 unit areas at 16 nm [um^2] (per KiB for memories).
SCNN_TABLE4_16NM: Mapping[str, float] = MappingProxyType({
    "activation_sram_per_kib": 0.031e6 / 20,     # IARAM + OARAM, 20 KB
    "weight_fifo_per_kib": 0.004e6 / 0.5,        # 500 B = 50 entries x 4 x (16 + 4) bits
    "accumulator_per_kib": 0.036e6 / 6,          # 2 halves x 32 banks x 32 x 24 bits = 6 KiB
    "multiplier_16b": 0.008e6 / 16,              # 16-bit multiplier of the 4 x 4 array
    "crosspoint_24b": 0.026e6 / (16 * 32),       # one crosspoint of the 16 x 32 crossbar
    "pe_other": 0.018e6,                         # PPU, control, halo links
})
SCNN_NODE_NM = 16
#: Width of what one SCNN crosspoint carries (a product at the accumulator width, 24 bits);
#: an assumption: Table 4 gives the crossbar's area, not its width.
SCNN_CROSSPOINT_BITS = 24

UM2_PER_MM2 = 1e6


class AreaModelError(AccelscopeError):
    """Bad input to the area model (non-positive node, size, width, bank or port count)."""


def node_area_factor(from_nm: float, to_nm: float) -> float:
    """Multiplier that takes an area from ``from_nm`` to ``to_nm``: ``(to_nm / from_nm)**2``
    (constant-field scaling shrinks every dimension with the feature size)."""
    for nm in (from_nm, to_nm):
        if not nm > 0:
            raise AreaModelError(f"a technology node must be positive, got {nm!r} nm")
    return (to_nm / from_nm) ** 2


def _power_law(x0: float, y0: float, x1: float, y1: float, x: float) -> float:
    """log y linear in log x through (x0, y0) and (x1, y1)."""
    k = math.log(y1 / y0) / math.log(x1 / x0)
    return float(y0 * (x / x0) ** k)


def logic_45nm_um2(op: str, bits: int, number: Number = "int") -> tuple[float, str]:
    """Area of one ``bits``-wide adder (``op="add"``) or multiplier (``"mult"``) at 45 nm
    [um^2], and how it was obtained: a published value, or the power law through the two
    published widths (extrapolated outside them)."""
    if op not in ("add", "mult") or number not in ("int", "fp"):
        raise AreaModelError(f"no area for a {number} {op!r}; ops are 'add' and 'mult', "
                             "numbers 'int' and 'fp'")
    if not bits >= 1:
        raise AreaModelError(f"operand width must be at least 1 bit, got {bits!r}")
    published = LOGIC_45NM_UM2.get((number, op, bits))
    if published is not None:
        return published, "published"
    widths = sorted(b for (n, o, b) in LOGIC_45NM_UM2 if n == number and o == op)
    lo, hi = widths[0], widths[-1]
    y = _power_law(lo, LOGIC_45NM_UM2[(number, op, lo)], hi, LOGIC_45NM_UM2[(number, op, hi)],
                   bits)
    how = ("power-law interpolation between the " if lo < bits < hi else
           "power-law EXTRAPOLATION beyond the ") + f"{lo}- and {hi}-bit values"
    return y, how


def storage_65nm_um2(size_bytes: float) -> float:
    """Area of one storage instance of ``size_bytes`` at 65 nm [um^2] (0 for none): the
    per-byte area log-log interpolated between the framework's sizes, the 2-byte value below
    them and the 4 KB value beyond. Every segment's per-byte exponent is above -1, so the area
    grows with the size."""
    if size_bytes <= 0:
        return 0.0
    pts = STORAGE_65NM_UM2_PER_BYTE
    if size_bytes <= pts[0][0]:
        return pts[0][1] * size_bytes
    if size_bytes >= pts[-1][0]:
        return pts[-1][1] * size_bytes
    for (s0, a0), (s1, a1) in itertools.pairwise(pts):
        if s0 <= size_bytes <= s1:
            return _power_law(s0, a0, s1, a1, size_bytes) * size_bytes
    raise AssertionError("unreachable: size inside the table")  # pragma: no cover


def isca16_storage_um2(size_bytes: float) -> float:
    """Area of one storage instance [um^2] by the framework's own rule (per-byte area
    linearly interpolated, as ``get_storage_area_from_size.m`` does; 65 nm). Only for
    reproducing that framework's equal-area allocations (``models/eyeriss/dataflows``): its
    linear rule makes a 24 B instance larger than a 32 B one; models use
    ``AreaModel.storage_um2``."""
    if size_bytes <= 0:
        return 0.0
    pts = STORAGE_65NM_UM2_PER_BYTE
    if size_bytes >= pts[-1][0]:
        return pts[-1][1] * size_bytes
    if size_bytes <= pts[0][0]:
        return pts[0][1] * size_bytes
    for (s0, a0), (s1, a1) in itertools.pairwise(pts):
        if s0 <= size_bytes <= s1:
            return (a0 + (a1 - a0) * (size_bytes - s0) / (s1 - s0)) * size_bytes
    raise AssertionError("unreachable: size inside the table")  # pragma: no cover


class _Level(Protocol):
    """What the area model reads of a memory level (``arch.spec.MemoryLevel``)."""

    @property
    def name(self) -> str: ...
    @property
    def size_bytes(self) -> int: ...
    @property
    def word_bits(self) -> int: ...
    @property
    def banks(self) -> int: ...
    @property
    def read_bw_bits_per_cycle(self) -> float: ...
    @property
    def write_bw_bits_per_cycle(self) -> float: ...
    @property
    def double_buffered(self) -> bool: ...


class AreaReport(Mapping[str, float]):
    """Area per component of one design [mm^2], read as a mapping of the components and
    ``"total"`` (their sum). ``provenance`` says how (``area``: the method; ``area.<name>``:
    every constant used, its value at the node and its source); ``details()`` is what a
    result's ``details["area_mm2"]`` holds."""

    __slots__ = ("_components", "method", "node_nm", "provenance")

    def __init__(self, components_mm2: Mapping[str, float], *, node_nm: float, method: str,
                 provenance: Mapping[str, str]):
        bad = {k: v for k, v in components_mm2.items()
               if not isinstance(v, int | float) or not math.isfinite(v) or v < 0}
        if bad or "total" in components_mm2:
            raise AreaModelError(f"area components must be finite, non-negative mm2 and not "
                                 f"named 'total'; got {bad or components_mm2}")
        self._components: Mapping[str, float] = MappingProxyType(
            {k: float(v) for k, v in components_mm2.items()})
        self.node_nm = node_nm
        self.method = method
        self.provenance: Mapping[str, str] = MappingProxyType(dict(provenance))

    @property
    def components(self) -> Mapping[str, float]:
        return self._components

    @property
    def total_mm2(self) -> float:
        return math.fsum(self._components.values())

    def details(self) -> dict[str, float]:
        """The components and ``total`` [mm^2], for a result's ``details["area_mm2"]``."""
        return {**self._components, "total": self.total_mm2}

    def __getitem__(self, key: str) -> float:
        if key == "total":
            return self.total_mm2
        return self._components[key]

    def __iter__(self) -> Iterator[str]:
        yield from self._components
        yield "total"

    def __len__(self) -> int:
        return len(self._components) + 1

    def __repr__(self) -> str:
        parts = ", ".join(f"{k}={v:.4g}" for k, v in self._components.items())
        return f"AreaReport({self.total_mm2:.4g} mm2 at {self.node_nm:g} nm: {parts})"

    def __reduce__(self) -> tuple[object, tuple[object, ...]]:
        # picklable across process pools (a mapping proxy is not)
        return (_rebuild, (dict(self._components), self.node_nm, self.method,
                           dict(self.provenance)))


def _rebuild(components: dict[str, float], node_nm: float, method: str,
             provenance: dict[str, str]) -> AreaReport:
    return AreaReport(components, node_nm=node_nm, method=method, provenance=provenance)


class AreaModel:
    """The building blocks' areas at one node [um^2], recording every constant used.

    Make one per estimate (``AreaModel(spec.technology_nm)``), ask it for each block, then
    ``report(components_um2, method)``."""

    def __init__(self, node_nm: float):
        node_area_factor(LOGIC_NODE_NM, node_nm)  # refuses a non-positive node
        self.node_nm = node_nm
        self._used: dict[str, str] = {}

    # -- logic ---------------------------------------------------------------------------
    def _logic(self, op: str, bits: int, number: Number) -> float:
        um2, how = logic_45nm_um2(op, bits, number)
        f = node_area_factor(LOGIC_NODE_NM, self.node_nm)
        self._used[f"area.{number}_{op}_{bits}b"] = (
            f"{um2 * f:.4g} um2 = {um2:.4g} um2 at {LOGIC_NODE_NM} nm ({how}; "
            f"{HOROWITZ_2014_AREA}) x {f:.4g} (node scaling)")
        return um2 * f

    def multiplier_um2(self, bits: int, number: Number = "int") -> float:
        """One ``bits`` x ``bits`` multiplier."""
        return self._logic("mult", bits, number)

    def adder_um2(self, bits: int, number: Number = "int") -> float:
        """One ``bits``-wide adder."""
        return self._logic("add", bits, number)

    def mac_um2(self, operand_bits: int, accumulator_bits: int, number: Number = "int"
                ) -> float:
        """One MAC unit: a multiplier at the operand width and an adder at the accumulator
        width (floating point: at the operand width, as the energy tables price a MAC)."""
        acc = operand_bits if number == "fp" else accumulator_bits
        return self.multiplier_um2(operand_bits, number) + self.adder_um2(acc, number)

    # -- storage -------------------------------------------------------------------------
    def storage_um2(self, size_bytes: float) -> float:
        """One storage instance (register file, FIFO, scratchpad or SRAM bank) of
        ``size_bytes``, single-ported."""
        if size_bytes < 0:
            raise AreaModelError(f"storage size must be >= 0 bytes, got {size_bytes!r}")
        f = node_area_factor(STORAGE_NODE_NM, self.node_nm)
        self._used["area.storage"] = (
            f"um2 per byte of one instance at {STORAGE_NODE_NM} nm: "
            + ", ".join(f"{s} B {a:g}" for s, a in STORAGE_65NM_UM2_PER_BYTE)
            + f" (log-log interpolated; flat beyond 4 KB), x {f:.4g} (node scaling); "
            + ISCA16_STORAGE)
        return storage_65nm_um2(size_bytes) * f

    def register_um2(self, bits: float) -> float:
        """A register (or a few, side by side) of ``bits`` bits: a storage instance of that
        size."""
        return self.storage_um2(bits / 8)

    def sram_um2(self, capacity_bytes: float, banks: int = 1, ports: int = 1) -> float:
        """An array of ``capacity_bytes`` in ``banks`` equal banks (instances) with
        ``ports`` ports each: ``banks x storage(capacity / banks) x ports**2``."""
        if not banks >= 1 or not ports >= 1:
            raise AreaModelError(f"an SRAM needs at least one bank and one port, got "
                                 f"banks={banks!r}, ports={ports!r}")
        if ports > 1:
            self._used["area.ports"] = f"area x ports^2 ({RIXNER_2000})"
        return banks * self.storage_um2(capacity_bytes / banks) * ports**2

    def level_instances(self, level: _Level) -> int:
        """Instances a memory level is built from: its banks (doubled when double-buffered),
        or more when its peak bandwidth needs more words per cycle than its banks give (one
        word per instance per cycle: parallel sub-arrays, not multi-ported cells)."""
        words = max(level.read_bw_bits_per_cycle, level.write_bw_bits_per_cycle) \
            / level.word_bits
        n = max(level.banks, math.ceil(words - 1e-9))
        return n * (2 if level.double_buffered else 1)

    def level_um2(self, level: _Level) -> float:
        """A spec's memory level: ``level_instances`` single-ported instances of equal
        size."""
        n = self.level_instances(level)
        self._used[f"area.level.{level.name}"] = (
            f"{level.size_bytes:,} B in {n} single-ported instance(s) of "
            f"{level.size_bytes / n:,.0f} B (banks {level.banks}"
            + (", double-buffered halves" if level.double_buffered else "")
            + f", {max(level.read_bw_bits_per_cycle, level.write_bw_bits_per_cycle):g} "
              f"bits/cycle of {level.word_bits}-bit words)")
        return self.sram_um2(level.size_bytes, banks=n)

    # -- interconnect ----------------------------------------------------------------------
    def crossbar_um2(self, inputs: int, outputs: int, bits: int) -> float:
        """An ``inputs`` x ``outputs`` crossbar of ``bits``-wide paths: SCNN's area per
        crosspoint scaled by width and node."""
        if min(inputs, outputs, bits) < 1:
            raise AreaModelError(f"a crossbar needs inputs, outputs and bits >= 1, got "
                                 f"{inputs}, {outputs}, {bits}")
        per = SCNN_TABLE4_16NM["crosspoint_24b"]
        f = node_area_factor(SCNN_NODE_NM, self.node_nm)
        self._used["area.crosspoint"] = (
            f"{per * bits / SCNN_CROSSPOINT_BITS * f:.4g} um2 per {bits}-bit crosspoint = "
            f"{per:.4g} um2 per {SCNN_CROSSPOINT_BITS}-bit crosspoint at {SCNN_NODE_NM} nm "
            f"(0.026 mm2 / (16 x 32); the 24-bit width is our assumption; {SCNN_TABLE4}) x "
            f"{bits}/{SCNN_CROSSPOINT_BITS} x {f:.4g} (node scaling)")
        return inputs * outputs * per * bits / SCNN_CROSSPOINT_BITS * f

    # -- constants of one source ----------------------------------------------------------
    def constant_um2(self, name: str, value_um2: float, at_nm: float, citation: str) -> float:
        """A published area ``value_um2`` at node ``at_nm``, scaled to this node and
        recorded as ``area.<name>``."""
        f = node_area_factor(at_nm, self.node_nm)
        self._used[f"area.{name}"] = (f"{value_um2 * f:.4g} um2 = {value_um2:.4g} um2 at "
                                      f"{at_nm:g} nm x {f:.4g} (node scaling); {citation}")
        return value_um2 * f

    # -- the report ------------------------------------------------------------------------
    @property
    def provenance(self) -> dict[str, str]:
        """Every constant asked for so far, and the scaling rule."""
        out = dict(sorted(self._used.items()))
        out["area.node_scaling"] = (
            f"area ~ (feature size)^2 ({DENNARD_1974}), from each constant's node to "
            f"{self.node_nm:g} nm")
        return out

    def report(self, components_um2: Mapping[str, float], method: str) -> AreaReport:
        """The components [um^2] as an ``AreaReport`` [mm^2] with this model's provenance;
        ``method`` says in one line what the estimate covers and what it leaves out."""
        return AreaReport({k: v / UM2_PER_MM2 for k, v in components_um2.items()},
                          node_nm=self.node_nm, method=method,
                          provenance={"area": method, **self.provenance})


def no_area_provenance(reason: str) -> dict[str, str]:
    """What a result of a model without an area model records instead."""
    return {"area": f"not modelled: {reason}"}
