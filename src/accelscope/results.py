"""Results of evaluating a network on an accelerator model: ``LayerResult`` and ``NetworkResult``.

Both are frozen. Units are in the field names. Every number can be traced: ``provenance``
maps each constant or sub-model a result used to its source, and ``warnings`` lists every
default, estimate or approximation that went into it.

MAC accounting (per GConv, ``macs = N*G*K*C*P*Q*R*S``):

* ``macs_issued``: operations the hardware spent a compute slot on (gated ones included);
* ``macs_useful``: operations with no zero operand (when the model sees the data; a model
  without data counts every operation as useful);
* ``macs_skipped``: operations never issued (zero skipping): ``macs_issued + macs_skipped``
  covers the work, ``macs_issued`` may exceed ``macs`` when the mapping pads (idle lanes are
  *not* counted as issued; they show up in ``utilization``);
* ``macs_gated``: issued operations whose datapath was clock-gated (energy saved, cycle not).
"""

from __future__ import annotations

import csv
import functools
import html
import io
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, TypedDict, get_type_hints

from accelscope.errors import AccelscopeError

if TYPE_CHECKING:
    import pandas as pd

SCHEMA_VERSION = 2
"""Version of the results format (``results.json``, the tables, the JSON Schema). Version 1
is what accelscope wrote before the field existed (no ``schema_version`` key); it is read as
well. A change that a reader of the previous version could misread (a field removed,
renamed, retyped or with a new meaning) increments it; docs/results.md keeps the list."""


@functools.cache
def accelscope_version() -> str:
    """The installed accelscope distribution's version (``"unknown"`` when it runs from a tree
    that is not installed)."""
    from importlib import metadata

    try:
        return metadata.version("accelscope")
    except metadata.PackageNotFoundError:
        return "unknown"


class ResultFormatError(AccelscopeError):
    """A results file cannot be read back."""


@dataclass(frozen=True)
class Access:
    """Traffic of one tensor at one memory level: access counts and bits moved."""

    level: str
    """Memory level, as the architecture names it (``dram``, ``glb``, ``spad``, ...)."""
    tensor: str
    """Operand the traffic belongs to (``input``, ``weight``, ``output``, ``psum``, ...)."""
    reads: int = 0
    """Read accesses, each of the level's access width [accesses]."""
    writes: int = 0
    """Write accesses, each of the level's access width [accesses]."""
    read_bits: int = 0
    """Bits read [bits]."""
    write_bits: int = 0
    """Bits written [bits]."""

    @property
    def bits(self) -> int:
        return self.read_bits + self.write_bits


def _frozen_map(m: Mapping[str, Any] | None) -> Mapping[str, Any]:
    return MappingProxyType(dict(m or {}))


def _json_value(v: Any) -> Any:
    """``v`` as the value JSON gives back after a round trip (mappings become dicts with text
    keys, tuples lists, NumPy scalars and arrays Python numbers and lists), so that a result
    read back from its JSON equals the one written, types included."""
    if v is None or isinstance(v, bool):
        return v
    # subclasses (NumPy's float64, enums) as the plain value JSON gives back
    if isinstance(v, str):
        return str.__str__(v)
    if isinstance(v, int):
        return int(v)
    if isinstance(v, float):
        return float(v)
    if isinstance(v, Mapping):
        return {_json_key(k): _json_value(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_json_value(x) for x in v]
    if hasattr(v, "tolist"):  # NumPy scalars and arrays, 0-d tensors
        return _json_value(v.tolist())
    raise TypeError(f"a result holds a {type(v).__name__} ({v!r:.60}), which JSON cannot "
                    "carry; give numbers, text, lists or mappings")


def _json_key(k: Any) -> str:
    # what json.dumps makes of a non-text key
    if isinstance(k, str):
        return k
    if isinstance(k, bool) or k is None:
        return json.dumps(k)
    if isinstance(k, (int, float)):
        return json.dumps(_json_value(k))
    raise TypeError(f"a result's mapping has a {type(k).__name__} key ({k!r:.60}); JSON keys "
                    "are text")


def _json_map(m: Mapping[str, Any] | None) -> Mapping[str, Any]:
    return MappingProxyType(_json_value(dict(m or {})))


def _number(v: Any) -> Any:
    """A NumPy scalar as the Python number it holds (others unchanged)."""
    return v.item() if hasattr(v, "item") and not isinstance(v, (str, bytes)) else v


class _Picklable:
    """Frozen results hold read-only mappings (``MappingProxyType``), which neither pickle nor
    deep-copy: their state travels as plain dicts and is frozen again on arrival, so results
    cross process pools and Dask workers."""

    def __getstate__(self) -> dict[str, Any]:
        return {f.name: dict(v) if isinstance(v := getattr(self, f.name), MappingProxyType)
                else v for f in fields(self)}  # type: ignore[arg-type]

    def __setstate__(self, state: Mapping[str, Any]) -> None:
        for k, v in state.items():
            object.__setattr__(self, k, _frozen_map(v) if isinstance(v, dict) else v)


@dataclass(frozen=True)
class LayerResult(_Picklable):
    """One GConv evaluated on one accelerator model."""

    layer: str
    """Name of the GConv in the chain."""
    kind: str
    """GConv family (``conv``, ``dwconv``, ``fc``, ``maxpool``, ``eltwise-add``, ...)."""
    model: str
    """Accelerator model that evaluated the layer (``spots``, ``eyeriss``, ``host``, ...)."""
    arch: str
    """Name of the architecture spec the layer ran on."""
    clock_hz: float
    """Clock the cycles count [Hz]."""
    peak_macs_per_cycle: int
    """Operations the array can issue per cycle [MACs/cycle]."""
    cycles: int
    """Latency of the layer, stalls included [cycles]."""
    macs: int
    """Operations of the GConv, N*G*K*C*P*Q*R*S [MACs]."""
    macs_issued: int
    """Operations the hardware spent a compute slot on, gated ones included [MACs]."""
    macs_useful: int
    """Operations with no zero operand [MACs]."""
    macs_skipped: int = 0
    """Operations never issued (zero skipping) [MACs]."""
    macs_gated: int = 0
    """Issued operations whose datapath was clock-gated [MACs]."""
    accesses: tuple[Access, ...] = ()
    """Traffic per memory level and tensor."""
    energy_pj: Mapping[str, float] = field(default_factory=dict)
    """Energy by component (compute, each memory level, static, ...) [pJ]."""
    stall_cycles: Mapping[str, int] = field(default_factory=dict)
    """Cycles the compute waited, by cause (part of ``cycles``) [cycles]."""
    details: Mapping[str, Any] = field(default_factory=dict)
    """Model-specific figures (mapping, tiling, per-unit counts); units in the key names."""
    provenance: Mapping[str, str] = field(default_factory=dict)
    """Which constant or sub-model produced a number, and its source."""
    warnings: tuple[str, ...] = ()
    """Every default, estimate or approximation that went into the layer's numbers."""
    scratchpad_bytes: int | None = None
    """On-chip scratchpad the layer's own tiling needs (operand tiles, accumulators, FIFOs),
    or None for a model without a tiling; the maps-on-chip pass sizes its split by it
    [bytes]."""
    software_im2col_elems: int = 0
    """Elements of a software IM2COL matrix the layer reads from DRAM as its ``input`` in
    place of the feature map (0: it reads the map itself) [elements]."""

    def __post_init__(self) -> None:
        for f in _SCALAR_FIELDS:
            object.__setattr__(self, f, _number(getattr(self, f)))
        object.__setattr__(self, "clock_hz", float(self.clock_hz))
        object.__setattr__(self, "energy_pj", MappingProxyType(
            {str(k): float(v) for k, v in self.energy_pj.items()}))
        for name in ("stall_cycles", "details", "provenance"):
            object.__setattr__(self, name, _json_map(getattr(self, name)))
        object.__setattr__(self, "accesses", tuple(self.accesses))
        object.__setattr__(self, "warnings", tuple(self.warnings))

    # -- derived -------------------------------------------------------------------------
    @property
    def seconds(self) -> float:
        return self.cycles / self.clock_hz

    @property
    def total_energy_pj(self) -> float:
        return float(sum(self.energy_pj.values()))

    @property
    def utilization(self) -> float:
        """Issued MACs over the peak the array could issue in ``cycles``."""
        if self.cycles <= 0 or self.peak_macs_per_cycle <= 0:
            return 0.0
        return self.macs_issued / (self.cycles * self.peak_macs_per_cycle)

    @property
    def total_stall_cycles(self) -> int:
        return int(sum(self.stall_cycles.values()))

    def level_bits(self, level: str) -> int:
        return sum(a.bits for a in self.accesses if a.level == level)

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {}
        for f in fields(self):
            v = getattr(self, f.name)
            if f.name == "accesses":
                v = [{a.name: getattr(x, a.name) for a in fields(Access)} for x in v]
            elif isinstance(v, Mapping):
                v = _json_value(v)
            elif isinstance(v, tuple):
                v = list(v)
            d[f.name] = v
        return d

    @staticmethod
    def from_dict(d: Mapping[str, Any]) -> LayerResult:
        known = {f.name for f in fields(LayerResult)}
        unknown = set(d) - known
        if unknown:
            raise ResultFormatError(f"layer result has unknown fields {sorted(unknown)}")
        d = dict(d)
        try:
            d["accesses"] = tuple(Access(**a) for a in d.get("accesses", ()))
            d["warnings"] = tuple(d.get("warnings", ()))
            return LayerResult(**d)
        except (TypeError, ValueError, AttributeError) as exc:
            raise ResultFormatError(f"layer result {d.get('layer', '?')!r}: {exc}") from exc

    def flat(self) -> dict[str, Any]:
        """The layer as one row of scalars (see ``NetworkResult.to_dataframe``): its fields
        that are numbers or text, the derived ``seconds``, ``utilization``,
        ``total_energy_pj`` and ``stall_cycles_total``, ``energy_pj.<component>``,
        ``stall_cycles.<cause>`` and ``details.<key>`` for the details that are scalars."""
        row: dict[str, Any] = {f: getattr(self, f) for f in _SCALAR_FIELDS}
        row.update(seconds=self.seconds, utilization=self.utilization,
                   total_energy_pj=self.total_energy_pj,
                   stall_cycles_total=self.total_stall_cycles)
        for k, v in self.energy_pj.items():
            row[f"energy_pj.{k}"] = v
        for k, v in self.stall_cycles.items():
            row[f"stall_cycles.{k}"] = v
        for k, v in self.details.items():
            if _is_scalar(v):
                row[f"details.{k}"] = v
        return row

    def __repr__(self) -> str:
        return (f"LayerResult({self.layer!r} ({self.kind}) on {self.arch!r} (model "
                f"{self.model}): {_si(self.macs)}MAC, {self.cycles:,} cycles, "
                f"{_si(self.seconds)}s, {_si(self.total_energy_pj * 1e-12)}J)")

    def _repr_html_(self) -> str:
        return _html_table(["layer", "kind", "arch", "model", "MACs", "cycles", "time",
                            "energy", "utilization"], [_html_layer_row(self)])


# The fields of a layer that hold one number or text, in field order: the scalar columns of
# the tidy table and what ``from_csv`` reads back.
_SCALAR_TYPES: tuple[Any, ...] = (int, float, str, bool, int | None, float | None, str | None)
_LAYER_HINTS = get_type_hints(LayerResult)
_SCALAR_FIELDS = tuple(f.name for f in fields(LayerResult)
                       if _LAYER_HINTS[f.name] in _SCALAR_TYPES)
_DERIVED_COLUMNS = ("seconds", "utilization", "total_energy_pj", "stall_cycles_total")
IDENTITY_COLUMNS = ("network", "arch", "model", "layer", "kind", "layer_arch", "layer_model")
"""The first columns of ``results.csv``: the result's network, arch and model, then the
layer's name, GConv family, and the arch and model that evaluated it (they differ from the
result's when a strategy ran the layer elsewhere, e.g. on the host)."""
ACCESS_COLUMNS = ("network", "arch", "layer", "level", "tensor", "reads", "writes",
                  "read_bits", "write_bits")
"""The columns of ``accesses.csv``."""


def _is_scalar(v: Any) -> bool:
    return v is None or isinstance(v, (str, bool, int, float))


def _sum_maps(maps: Iterable[Mapping[str, float]]) -> dict[str, float]:
    out: dict[str, float] = {}
    for m in maps:
        for k, v in m.items():
            out[k] = out.get(k, 0) + v
    return out


class Totals(TypedDict):
    """Network totals, summed over the layers (written for readers; recomputed on reading)."""

    cycles: int
    """Latency of the network, layers one after another [cycles]."""
    seconds: float
    """Latency of the network [s]."""
    macs: int
    """Operations of every GConv [MACs]."""
    macs_issued: int
    """Operations issued [MACs]."""
    macs_useful: int
    """Operations with no zero operand [MACs]."""
    macs_skipped: int
    """Operations never issued [MACs]."""
    macs_gated: int
    """Issued operations that were clock-gated [MACs]."""
    utilization: float
    """Issued MACs over what the arrays could issue in the network's cycles [fraction]."""
    total_energy_pj: float
    """Energy of the network [pJ]."""
    energy_pj: dict[str, float]
    """Energy by component [pJ]."""
    stall_cycles: dict[str, int]
    """Stall cycles by cause [cycles]."""
    dram_bits: int
    """Bits read and written at the ``dram`` level [bits]."""


class Envelope(TypedDict):
    """The keys a result's JSON carries besides its fields."""

    schema_version: int
    """Version of the results format (``SCHEMA_VERSION``)."""
    accelscope_version: str
    """Version of the accelscope that wrote the result."""
    totals: Totals
    """Network totals (derived from the layers)."""


class FileFields(TypedDict, total=False):
    """The keys ``results.json`` carries besides the result (not part of the result: they
    describe the file)."""

    started_utc: str
    """When the command that wrote the file started, ISO 8601 in UTC."""
    written_utc: str
    """When the file was written, ISO 8601 in UTC (``2026-01-31T12:00:00Z``)."""
    command: str
    """The command line that wrote it."""


_FILE_KEYS = frozenset(FileFields.__annotations__)
_ENVELOPE_KEYS = frozenset(Envelope.__annotations__)


@dataclass(frozen=True)
class NetworkResult(_Picklable):
    """A whole chain on one accelerator: the layers in chain order plus network totals.

    Layers run one after another, so network cycles are the sum of layer cycles.
    """

    network: str
    """Name of the network (the chain)."""
    model: str
    """Accelerator model of the architecture."""
    arch: str
    """Name of the architecture spec (``spec`` holds all of it)."""
    clock_hz: float
    """Clock of the architecture [Hz]."""
    layers: tuple[LayerResult, ...]
    """Every GConv's result, in chain order."""
    provenance: Mapping[str, str] = field(default_factory=dict)
    """Which spec and model produced the result, and their sources."""
    warnings: tuple[str, ...] = ()
    """Network-level warnings (the layers carry their own)."""
    details: Mapping[str, Any] = field(default_factory=dict)
    """Network-level figures of the evaluation and its passes (mode, strategy, compress,
    fusion, ...)."""
    spec: Mapping[str, Any] = field(default_factory=dict)
    """The resolved architecture the result was computed on (every field, defaults filled in,
    as JSON values): two runs of differently edited YAMLs with one ``name`` differ here."""
    options: Mapping[str, Any] = field(default_factory=dict)
    """Every option of the run that produced it (network, batch, prune, seed, mode, input,
    strategy, compress, ...), as JSON values."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "layers", tuple(self.layers))
        object.__setattr__(self, "warnings", tuple(self.warnings))
        object.__setattr__(self, "clock_hz", float(_number(self.clock_hz)))
        for name in ("provenance", "details", "spec", "options"):
            object.__setattr__(self, name, _json_map(getattr(self, name)))

    # -- totals --------------------------------------------------------------------------
    @property
    def cycles(self) -> int:
        return sum(r.cycles for r in self.layers)

    @property
    def seconds(self) -> float:
        return sum(r.seconds for r in self.layers)

    @property
    def macs(self) -> int:
        return sum(r.macs for r in self.layers)

    @property
    def macs_issued(self) -> int:
        return sum(r.macs_issued for r in self.layers)

    @property
    def macs_useful(self) -> int:
        return sum(r.macs_useful for r in self.layers)

    @property
    def macs_skipped(self) -> int:
        return sum(r.macs_skipped for r in self.layers)

    @property
    def macs_gated(self) -> int:
        return sum(r.macs_gated for r in self.layers)

    @property
    def energy_pj(self) -> dict[str, float]:
        return _sum_maps(r.energy_pj for r in self.layers)

    @property
    def total_energy_pj(self) -> float:
        return float(sum(r.total_energy_pj for r in self.layers))

    @property
    def stall_cycles(self) -> dict[str, int]:
        return {k: int(v) for k, v in _sum_maps(r.stall_cycles for r in self.layers).items()}

    @property
    def utilization(self) -> float:
        """Issued MACs over what the array could have issued in the network's cycles."""
        cap = sum(r.cycles * r.peak_macs_per_cycle for r in self.layers)
        return self.macs_issued / cap if cap else 0.0

    def access_totals(self) -> dict[tuple[str, str], Access]:
        """Per (level, tensor): reads, writes and bits summed over the layers."""
        out: dict[tuple[str, str], Access] = {}
        for r in self.layers:
            for a in r.accesses:
                prev = out.get((a.level, a.tensor))
                if prev is None:
                    out[(a.level, a.tensor)] = a
                else:
                    out[(a.level, a.tensor)] = Access(
                        a.level, a.tensor, prev.reads + a.reads, prev.writes + a.writes,
                        prev.read_bits + a.read_bits, prev.write_bits + a.write_bits)
        return out

    def level_bits(self, level: str) -> int:
        return sum(r.level_bits(level) for r in self.layers)

    def all_warnings(self) -> list[str]:
        """Network warnings, then each distinct layer warning once with the layers it hit."""
        seen: dict[str, list[str]] = {}
        for r in self.layers:
            for w in r.warnings:
                seen.setdefault(w, []).append(r.layer)
        out = list(self.warnings)
        for w, layers in seen.items():
            where = layers[0] if len(layers) == 1 else f"{len(layers)} layers"
            out.append(f"{w} [{where}]")
        return out

    def all_provenance(self) -> dict[str, str]:
        out = dict(self.provenance)
        for r in self.layers:
            for k, v in r.provenance.items():
                out.setdefault(k, v)
        return out

    def totals(self) -> Totals:
        return {
            "cycles": self.cycles, "seconds": self.seconds, "macs": self.macs,
            "macs_issued": self.macs_issued, "macs_useful": self.macs_useful,
            "macs_skipped": self.macs_skipped, "macs_gated": self.macs_gated,
            "utilization": self.utilization, "total_energy_pj": self.total_energy_pj,
            "energy_pj": self.energy_pj, "stall_cycles": self.stall_cycles,
            "dram_bits": self.level_bits("dram"),
        }

    # -- display -------------------------------------------------------------------------
    def __repr__(self) -> str:
        return (f"NetworkResult({self.network!r} on {self.arch!r} (model {self.model}): "
                f"{len(self.layers)} layers, {_si(self.macs)}MAC, {self.cycles:,} cycles, "
                f"{_si(self.seconds)}s, {_si(self.total_energy_pj * 1e-12)}J)")

    def _repr_html_(self) -> str:
        head = _html_table(
            ["network", "arch", "model", "layers", "MACs", "cycles", "time", "energy",
             "utilization", "DRAM"],
            [[self.network, self.arch, self.model, str(len(self.layers)),
              f"{_si(self.macs)}MAC", f"{self.cycles:,}", f"{_si(self.seconds)}s",
              f"{_si(self.total_energy_pj * 1e-12)}J", f"{self.utilization:.1%}",
              f"{_si(self.level_bits('dram') / 8)}B"]])
        body = _html_table(["layer", "kind", "arch", "model", "MACs", "cycles", "time",
                            "energy", "utilization"],
                           [_html_layer_row(r) for r in self.layers])
        return f"<div>{head}{body}</div>"

    # -- conversion ----------------------------------------------------------------------
    def to_dataframe(self) -> pd.DataFrame:
        """The tidy per-layer table (``results.csv``): one row per layer in chain order, one
        scalar per cell. Columns: ``IDENTITY_COLUMNS``, the layer's scalar fields, the
        derived ``seconds``, ``utilization``, ``total_energy_pj``, ``stall_cycles_total``,
        then ``energy_pj.<component>`` and ``stall_cycles.<cause>`` (0 where a layer has no
        such component or cause) and ``details.<key>`` for each detail that is a number or
        text in every layer that has it (empty where a layer has none; written as text
        where layers disagree on its type). Accesses: ``accesses_dataframe``."""
        rows = []
        for r in self.layers:
            row = r.flat()
            ident = {"network": self.network, "arch": self.arch, "model": self.model,
                     "layer": r.layer, "kind": r.kind, "layer_arch": r.arch,
                     "layer_model": r.model}
            rows.append({**ident, **{k: v for k, v in row.items() if k not in ident
                                     and k not in ("arch", "model")}})
        columns = list(IDENTITY_COLUMNS) + [f for f in _SCALAR_FIELDS if f not in (
            "layer", "kind", "arch", "model")] + list(_DERIVED_COLUMNS)
        nonscalar = {f"details.{k}" for r in self.layers for k, v in r.details.items()
                     if not _is_scalar(v)}
        for prefix in ("energy_pj.", "stall_cycles.", "details."):
            for row in rows:
                columns += [k for k in row if k.startswith(prefix) and k not in columns
                            and k not in nonscalar]
        fill = {c: 0.0 if c.startswith("energy_pj.") else 0 for c in columns
                if c.startswith(("energy_pj.", "stall_cycles."))}
        return _frame({c: [row.get(c, fill.get(c)) for row in rows] for c in columns})

    def accesses_dataframe(self) -> pd.DataFrame:
        """Traffic in long form (``accesses.csv``): one row per layer, memory level and
        tensor; columns ``ACCESS_COLUMNS`` (counts in accesses, sizes in bits)."""
        data: dict[str, list[Any]] = {c: [] for c in ACCESS_COLUMNS}
        for r in self.layers:
            for a in r.accesses:
                for c, v in zip(ACCESS_COLUMNS, (self.network, self.arch, r.layer, a.level,
                                                 a.tensor, a.reads, a.writes, a.read_bits,
                                                 a.write_bits), strict=True):
                    data[c].append(v)
        return _frame(data, {c: "int64" for c in ACCESS_COLUMNS[5:]})

    def to_dict(self) -> dict[str, Any]:
        """The JSON document of the result: ``schema_version``, ``accelscope_version``, every
        field, and the ``totals`` (the shipped JSON Schema describes it)."""
        d: dict[str, Any] = {"schema_version": SCHEMA_VERSION,
                             "accelscope_version": accelscope_version()}
        for f in fields(self):
            v = getattr(self, f.name)
            if f.name == "layers":
                v = [r.to_dict() for r in v]
            elif isinstance(v, Mapping):
                v = _json_value(v)
            elif isinstance(v, tuple):
                v = list(v)
            d[f.name] = v
        d["totals"] = self.totals()
        return d

    def to_json(self, indent: int | None = 1, *, written_utc: str | None = None,
                command: str | None = None, started_utc: str | None = None) -> str:
        """``to_dict`` as JSON text; ``started_utc``, ``written_utc`` and ``command`` describe
        a results file (``FileFields``) and are ignored when it is read back."""
        d = self.to_dict()
        head = {k: d.pop(k) for k in ("schema_version", "accelscope_version")}
        file: FileFields = {}
        if started_utc is not None:
            file["started_utc"] = started_utc
        if written_utc is not None:
            file["written_utc"] = written_utc
        if command is not None:
            file["command"] = command
        return json.dumps({**head, **file, **d}, indent=indent)

    @staticmethod
    def from_dict(d: Mapping[str, Any]) -> NetworkResult:
        """Read a result's document of any version up to ``SCHEMA_VERSION``; a newer one is a
        ``ResultFormatError`` that says to upgrade."""
        if not isinstance(d, Mapping):
            raise ResultFormatError(f"results must be a JSON object, not {type(d).__name__}")
        version = d.get("schema_version", 1)  # version 1 had no such key
        if not isinstance(version, int) or isinstance(version, bool) or version < 1:
            raise ResultFormatError(f"results have schema_version {version!r}; expected a "
                                    "positive integer")
        if version > SCHEMA_VERSION:
            raise ResultFormatError(
                f"results have schema_version {version} (written by accelscope "
                f"{d.get('accelscope_version', '?')}); this accelscope "
                f"({accelscope_version()}) reads versions 1 to {SCHEMA_VERSION}: upgrade "
                "accelscope (pip install -U accelscope) to read them")
        names = {f.name for f in fields(NetworkResult)}
        unknown = set(d) - names - _ENVELOPE_KEYS - _FILE_KEYS
        if unknown:
            raise ResultFormatError(f"results have unknown fields {sorted(unknown)}")
        try:
            return NetworkResult(
                network=d["network"], model=d["model"], arch=d["arch"],
                clock_hz=d["clock_hz"],
                layers=tuple(LayerResult.from_dict(x) for x in d["layers"]),
                provenance=d.get("provenance", {}), warnings=tuple(d.get("warnings", ())),
                details=d.get("details", {}), spec=d.get("spec", {}),
                options=d.get("options", {}))
        except KeyError as exc:
            raise ResultFormatError(f"results are missing the field {exc}") from exc
        except (TypeError, ValueError, AttributeError) as exc:
            raise ResultFormatError(f"results cannot be read: {exc}") from exc

    @staticmethod
    def from_json(text: str) -> NetworkResult:
        try:
            return NetworkResult.from_dict(json.loads(text))
        except json.JSONDecodeError as exc:
            raise ResultFormatError(f"not a results JSON file: {exc}") from exc

    def to_csv(self) -> str:
        """The tidy per-layer table (``to_dataframe``) as CSV text: ``results.csv``."""
        return str(self.to_dataframe().to_csv(index=False, lineterminator="\n"))

    @staticmethod
    def from_csv(text: str, provenance: Mapping[str, str] | None = None,
                 accesses: str | None = None) -> NetworkResult:
        """The numbers of a ``results.csv`` (and of its ``accesses.csv``, when given) as a
        result. The tables keep only scalars: provenance, warnings, the spec, the options and
        details that are not scalars live in ``results.json`` alone (``from_json`` reads
        everything back), and an energy component or stall cause a layer did not have reads
        back as 0. The CSV of version 1 (a JSON document in every cell) reads back whole."""
        rows = list(csv.reader(io.StringIO(text)))
        if rows and rows[0][:3] == ["network", "network_model", "network_arch"]:
            return _from_csv_v1(rows, provenance)
        if not rows or tuple(rows[0][:len(IDENTITY_COLUMNS)]) != IDENTITY_COLUMNS:
            raise ResultFormatError("not an accelscope results CSV (header "
                                    f"{','.join(IDENTITY_COLUMNS)},... expected)")
        header = rows[0]
        traffic = _accesses_from_csv(accesses) if accesses is not None else {}
        layers = []
        for i, row in enumerate(rows[1:], start=2):
            try:
                layers.append(_layer_from_row(dict(zip(header, row, strict=True)), traffic))
            except (ValueError, TypeError, KeyError) as exc:
                raise ResultFormatError(f"results CSV line {i}: {exc}") from exc
        if not layers:
            raise ResultFormatError("results CSV has no layer rows")
        first = rows[1]
        return NetworkResult(first[0], first[2], first[1], layers[0].clock_hz, tuple(layers),
                             provenance or {})


# -- tables ------------------------------------------------------------------------------
def _frame(data: Mapping[str, list[Any]], dtypes: Mapping[str, str] | None = None
           ) -> pd.DataFrame:
    """A DataFrame whose columns keep their types: integers stay integers (nullable
    ``Int64`` where a value is missing), a column of mixed types becomes text."""
    import pandas as pd

    cols = {}
    for c, values in data.items():
        dtype = (dtypes or {}).get(c) or _dtype(values)
        if dtype == "str":
            values = [None if v is None else str(v) for v in values]
        # text: the string type pandas infers (what ``read_parquet`` gives back)
        cols[c] = pd.Series(values, dtype=None if dtype == "str" else dtype)
    return pd.DataFrame(cols, columns=list(data))


def _dtype(values: Sequence[Any]) -> str:
    kinds = {type(v) for v in values if v is not None}
    missing = any(v is None for v in values)
    if not kinds:
        return "object"
    if kinds == {bool}:
        return "boolean" if missing else "bool"
    if kinds == {int}:
        return "Int64" if missing else "int64"
    if kinds <= {int, float}:
        return "float64"
    return "str"  # text, or values of several types written as text


def _parse_cell(text: str, hint: Any) -> Any:
    if hint in (int | None, float | None, str | None) and text == "":
        return None
    if hint in (int, int | None):
        return int(text)
    if hint in (float, float | None):
        return float(text)
    if hint is bool:
        return text == "True"
    return text


def _parse_detail(text: str) -> Any:
    if text in ("True", "False"):
        return text == "True"
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def _layer_from_row(row: Mapping[str, str], traffic: Mapping[str, list[Access]]
                    ) -> LayerResult:
    kw: dict[str, Any] = {f: _parse_cell(row[f], _LAYER_HINTS[f]) for f in _SCALAR_FIELDS
                          if f not in ("arch", "model")}
    kw["arch"], kw["model"] = row["layer_arch"], row["layer_model"]
    kw["energy_pj"] = {k[10:]: float(v) for k, v in row.items()
                       if k.startswith("energy_pj.") and v != ""}
    kw["stall_cycles"] = {k[13:]: int(v) for k, v in row.items()
                          if k.startswith("stall_cycles.") and v != ""}
    kw["details"] = {k[8:]: _parse_detail(v) for k, v in row.items()
                     if k.startswith("details.") and v != ""}
    kw["accesses"] = tuple(traffic.get(row["layer"], ()))
    return LayerResult(**kw)


def _accesses_from_csv(text: str) -> dict[str, list[Access]]:
    rows = list(csv.reader(io.StringIO(text)))
    if not rows or tuple(rows[0]) != ACCESS_COLUMNS:
        raise ResultFormatError("not an accelscope accesses CSV (header "
                                f"{','.join(ACCESS_COLUMNS)} expected)")
    out: dict[str, list[Access]] = {}
    for i, row in enumerate(rows[1:], start=2):
        try:
            _, _, layer, level, tensor, *counts = row
            out.setdefault(layer, []).append(Access(level, tensor, *(int(c) for c in counts)))
        except ValueError as exc:
            raise ResultFormatError(f"accesses CSV line {i}: {exc}") from exc
    return out


def _from_csv_v1(rows: list[list[str]], provenance: Mapping[str, str] | None
                 ) -> NetworkResult:
    """Version 1's results.csv: every field of a layer as a JSON document per cell."""
    header = rows[0][3:]
    layers = []
    for i, row in enumerate(rows[1:], start=2):
        try:
            layers.append(LayerResult.from_dict(
                {c: json.loads(v) for c, v in zip(header, row[3:], strict=True)}))
        except (ValueError, TypeError) as exc:
            raise ResultFormatError(f"results CSV line {i}: {exc}") from exc
    if not layers:
        raise ResultFormatError("results CSV has no layer rows")
    first = rows[1]
    return NetworkResult(first[0], first[1], first[2], layers[0].clock_hz, tuple(layers),
                         provenance or {})


# -- display -------------------------------------------------------------------------------
_PREFIXES = ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k"), (1.0, ""), (1e-3, "m"),
             (1e-6, "u"), (1e-9, "n"), (1e-12, "p"))


def _si(x: float) -> str:
    """``x`` with three significant digits and an SI prefix, and the space before the unit
    (``1.23 G``, ``456 u``)."""
    if x == 0 or not math.isfinite(x):
        return f"{x:g} "
    for scale, prefix in _PREFIXES:
        if abs(x) >= scale * 0.9995:
            return f"{x / scale:.3g} {prefix}"
    return f"{x:.3g} "


def _html_layer_row(r: LayerResult) -> list[str]:
    return [r.layer, r.kind, r.arch, r.model, f"{_si(r.macs)}MAC", f"{r.cycles:,}",
            f"{_si(r.seconds)}s", f"{_si(r.total_energy_pj * 1e-12)}J",
            f"{r.utilization:.1%}"]


def _html_table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    def cells(tag: str, values: Sequence[str]) -> str:
        return "".join(f"<{tag}>{html.escape(v)}</{tag}>" for v in values)

    body = "".join(f"<tr>{cells('td', r)}</tr>" for r in rows)
    return f"<table><thead><tr>{cells('th', header)}</tr></thead><tbody>{body}</tbody></table>"


def merge_provenance(*maps: Mapping[str, str] | Sequence[tuple[str, str]]) -> dict[str, str]:
    out: dict[str, str] = {}
    for m in maps:
        out.update(dict(m))
    return out
