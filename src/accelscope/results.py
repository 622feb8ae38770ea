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
import io
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from accelscope.errors import AccelscopeError

if TYPE_CHECKING:
    import pandas as pd


class ResultFormatError(AccelscopeError):
    """A results file cannot be read back."""


@dataclass(frozen=True)
class Access:
    """Traffic of one tensor at one memory level: access counts and bits moved."""

    level: str
    tensor: str
    reads: int = 0
    writes: int = 0
    read_bits: int = 0
    write_bits: int = 0

    @property
    def bits(self) -> int:
        return self.read_bits + self.write_bits


def _frozen_map(m: Mapping[str, Any] | None) -> Mapping[str, Any]:
    return MappingProxyType(dict(m or {}))


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
    kind: str
    model: str
    arch: str
    clock_hz: float
    peak_macs_per_cycle: int
    cycles: int
    macs: int
    macs_issued: int
    macs_useful: int
    macs_skipped: int = 0
    macs_gated: int = 0
    accesses: tuple[Access, ...] = ()
    energy_pj: Mapping[str, float] = field(default_factory=dict)
    stall_cycles: Mapping[str, int] = field(default_factory=dict)
    details: Mapping[str, Any] = field(default_factory=dict)
    provenance: Mapping[str, str] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()
    scratchpad_bytes: int | None = None
    """On-chip scratchpad the layer's own tiling needs (operand tiles, accumulators, FIFOs),
    or None for a model without a tiling; the maps-on-chip pass sizes its split by it
    [bytes]."""
    software_im2col_elems: int = 0
    """Elements of a software IM2COL matrix the layer reads from DRAM as its ``input`` in
    place of the feature map (0: it reads the map itself) [elements]."""

    def __post_init__(self) -> None:
        for name in ("energy_pj", "stall_cycles", "details", "provenance"):
            object.__setattr__(self, name, _frozen_map(getattr(self, name)))
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
                v = [vars(a).copy() for a in v]
            elif isinstance(v, Mapping):
                v = dict(v)
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
        d["accesses"] = tuple(Access(**a) for a in d.get("accesses", ()))
        d["warnings"] = tuple(d.get("warnings", ()))
        return LayerResult(**d)

    def flat(self) -> dict[str, Any]:
        """One flat row (for tables and CSV): nested maps become dotted columns."""
        row: dict[str, Any] = {
            "layer": self.layer, "kind": self.kind, "model": self.model, "arch": self.arch,
            "clock_hz": self.clock_hz, "peak_macs_per_cycle": self.peak_macs_per_cycle,
            "cycles": self.cycles, "seconds": self.seconds, "macs": self.macs,
            "macs_issued": self.macs_issued, "macs_useful": self.macs_useful,
            "macs_skipped": self.macs_skipped, "macs_gated": self.macs_gated,
            "utilization": self.utilization, "total_energy_pj": self.total_energy_pj,
            "stall_cycles_total": self.total_stall_cycles,
        }
        for k, v in self.energy_pj.items():
            row[f"energy_pj.{k}"] = v
        for k, v in self.stall_cycles.items():
            row[f"stall_cycles.{k}"] = v
        for a in self.accesses:
            base = f"access.{a.level}.{a.tensor}"
            row[f"{base}.reads"] = a.reads
            row[f"{base}.writes"] = a.writes
            row[f"{base}.read_bits"] = a.read_bits
            row[f"{base}.write_bits"] = a.write_bits
        return row


def _sum_maps(maps: Iterable[Mapping[str, float]]) -> dict[str, float]:
    out: dict[str, float] = {}
    for m in maps:
        for k, v in m.items():
            out[k] = out.get(k, 0) + v
    return out


@dataclass(frozen=True)
class NetworkResult(_Picklable):
    """A whole chain on one accelerator: the layers in chain order plus network totals.

    Layers run one after another, so network cycles are the sum of layer cycles.
    """

    network: str
    model: str
    arch: str
    clock_hz: float
    layers: tuple[LayerResult, ...]
    provenance: Mapping[str, str] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()
    details: Mapping[str, Any] = field(default_factory=dict)
    spec: Mapping[str, Any] = field(default_factory=dict)
    """The resolved architecture the result was computed on (every field, defaults filled in,
    as JSON values): two runs of differently edited YAMLs with one ``name`` differ here."""
    options: Mapping[str, Any] = field(default_factory=dict)
    """Every option of the run that produced it (network, batch, prune, seed, mode, input,
    strategy, compress, ...), as JSON values."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "layers", tuple(self.layers))
        object.__setattr__(self, "warnings", tuple(self.warnings))
        for name in ("provenance", "details", "spec", "options"):
            object.__setattr__(self, name, _frozen_map(getattr(self, name)))

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

    def totals(self) -> dict[str, Any]:
        return {
            "cycles": self.cycles, "seconds": self.seconds, "macs": self.macs,
            "macs_issued": self.macs_issued, "macs_useful": self.macs_useful,
            "macs_skipped": self.macs_skipped, "macs_gated": self.macs_gated,
            "utilization": self.utilization, "total_energy_pj": self.total_energy_pj,
            "energy_pj": self.energy_pj, "stall_cycles": self.stall_cycles,
            "dram_bits": self.level_bits("dram"),
        }

    # -- conversion ----------------------------------------------------------------------
    def to_dataframe(self) -> pd.DataFrame:
        """One row per layer (flat columns, see ``LayerResult.flat``)."""
        import pandas as pd

        return pd.DataFrame([r.flat() for r in self.layers])

    def to_dict(self) -> dict[str, Any]:
        return {
            "network": self.network, "model": self.model, "arch": self.arch,
            "clock_hz": self.clock_hz, "provenance": dict(self.provenance),
            "warnings": list(self.warnings), "details": dict(self.details),
            "spec": dict(self.spec), "options": dict(self.options),
            "totals": self.totals(), "layers": [r.to_dict() for r in self.layers],
        }

    def to_json(self, indent: int | None = 1) -> str:
        return json.dumps(self.to_dict(), indent=indent, default=_json_default)

    @staticmethod
    def from_dict(d: Mapping[str, Any]) -> NetworkResult:
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

    @staticmethod
    def from_json(text: str) -> NetworkResult:
        try:
            return NetworkResult.from_dict(json.loads(text))
        except json.JSONDecodeError as exc:
            raise ResultFormatError(f"not a results JSON file: {exc}") from exc

    def to_csv(self) -> str:
        """Per-layer rows with every field (nested ones as JSON cells): round-trips."""
        cols = [f.name for f in fields(LayerResult)]
        buf = io.StringIO()
        w = csv.writer(buf)
        w.writerow(["network", "network_model", "network_arch", *cols])
        for r in self.layers:
            d = r.to_dict()
            w.writerow([self.network, self.model, self.arch,
                        *[json.dumps(d[c], default=_json_default) for c in cols]])
        return buf.getvalue()

    @staticmethod
    def from_csv(text: str, provenance: Mapping[str, str] | None = None) -> NetworkResult:
        rows = list(csv.reader(io.StringIO(text)))
        if not rows or rows[0][:3] != ["network", "network_model", "network_arch"]:
            raise ResultFormatError("not an accelscope results CSV (header "
                                    "network,network_model,network_arch,... expected)")
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


def _json_default(o: Any) -> Any:
    if isinstance(o, Mapping):
        return dict(o)
    if isinstance(o, (set, frozenset, tuple)):
        return list(o)
    if hasattr(o, "item"):
        return o.item()
    if isinstance(o, float) and not math.isfinite(o):
        return str(o)
    raise TypeError(f"cannot serialise {type(o).__name__}")


def merge_provenance(*maps: Mapping[str, str] | Sequence[tuple[str, str]]) -> dict[str, str]:
    out: dict[str, str] = {}
    for m in maps:
        out.update(dict(m))
    return out
