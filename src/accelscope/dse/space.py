"""A design space as data: base specs, axes over dotted spec paths, workload axes,
constraints, objectives and a sampler (docs/dse.md).

::

    name: spots_sram                       # optional; a name (letters, digits, _ - .)
    base: [spots, gemmini]                 # presets, YAML paths (relative to this file) or
                                           # {arch: REF, label: NAME, set: {PATH: V}, axes: {...}}
    axes:                                  # every base; a base's own axes add to these
      memory[0].size_bytes: [65536, 131072]          # values
      dram.bandwidth_bits_per_cycle: {range: [64, 256], num: 4}   # linear (step: also)
      spots.reserve_buffer_elems: {log: [1024, 65536], num: 7}    # log-spaced
      shape:                                          # a tied axis: its paths move together
        tied:
          compute.array: [[128, 4], [64, 8]]
          spots.unit_rows: [128, 64]
    workload:
      networks: [resnet50]                 # every point runs on every network
      prune: ["0.7", null]                 # a list is an axis, a scalar a fixed option
      batch: 1
      mode: statistical
      strategy: null
      compress: null
      seed: 0
    constraints:                           # a spec figure (on_chip_bytes, macs_per_cycle,
      on_chip_bytes: {max: 1048576}        # clock_hz, area_mm2, any dotted spec path) is
      cycles: {max: 2.0e7}                 # checked before evaluation, a totals field after
    objectives: [latency, energy]          # minimised; NAME:max to maximise
    sampler: grid                          # or {kind: random|lhs, n: N, seed: S}
                                           # or {kind: guided, budget: N, population: P, seed: S}

Every problem is an ``SpaceError`` naming the dotted path of the bad key and the fix.
"""

from __future__ import annotations

import difflib
import math
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from accelscope.arch import ArchError, ArchSpec, load_arch, override
from accelscope.errors import InputFileError
from accelscope.output import NAME_RULE, is_name


class SpaceError(InputFileError):
    """A design-space file or mapping is malformed; the message names the dotted path."""


OBJECTIVE_ALIASES: Mapping[str, str] = {
    "latency": "seconds", "energy": "total_energy_pj", "area": "area_mm2",
    "edp": "edp_pj_s", "energy_delay_product": "edp_pj_s", "dram": "dram_bits",
    "dram_traffic": "dram_bits",
}
"""Objective names and the store column each one reads."""

TOTALS_COLUMNS: tuple[str, ...] = (
    "cycles", "seconds", "macs", "macs_issued", "macs_useful", "macs_skipped", "macs_gated",
    "utilization", "total_energy_pj", "dram_bits", "edp_pj_s")
"""Result figures of every row (``NetworkResult.totals`` plus the energy-delay product);
``energy_pj.<component>`` and ``stall_cycles.<cause>`` columns come with the results."""

SPEC_COLUMNS: tuple[str, ...] = ("macs_per_cycle", "on_chip_bytes", "clock_hz", "area_mm2")
"""Figures of the resolved spec, known before evaluation (area: from the model's area
function, null when the model has none)."""

_RESULT_PREFIXES = ("energy_pj.", "stall_cycles.")
WORKLOAD_KEYS = ("networks", "prune", "batch", "mode", "strategy", "compress", "seed")
WORKLOAD_AXES = ("prune", "batch", "mode", "strategy", "compress")
_TOP_KEYS = ("name", "base", "axes", "workload", "constraints", "objectives", "sampler")
_BASE_KEYS = ("arch", "label", "set", "axes")
SAMPLERS = ("grid", "random", "lhs", "guided")
_SEGMENT = re.compile(r"^([A-Za-z_][A-Za-z0-9_-]*)((?:\[\d+\])*)$")


def _fail(path: str, problem: str, where: str) -> SpaceError:
    return SpaceError(f"{where}: {path}: {problem}")


def _scalar(v: Any) -> bool:
    return v is None or isinstance(v, bool | int | float | str)


# -- axes --
@dataclass(frozen=True)
class Axis:
    """One dimension of the space. Discrete (``values``) or continuous (``low``..``high``,
    ``log``, ``integer``; random, LHS and guided sampling only). A tied axis sets several
    ``paths`` at once: each of its values is a tuple with one entry per path."""

    name: str
    """Column of the store: the dotted path, or the tied axis' name."""
    paths: tuple[str, ...]
    """Spec paths it sets (``workload.prune`` etc. for a workload axis)."""
    values: tuple[Any, ...] | None = None
    low: float = 0.0
    high: float = 0.0
    log: bool = False
    integer: bool = False
    tied: bool = False

    @property
    def workload(self) -> bool:
        return self.paths[0].startswith("workload.")

    @property
    def size(self) -> int | None:
        """Number of values, None for a continuous range."""
        return None if self.values is None else len(self.values)

    def at(self, u: float) -> Any:
        """The value at ``u`` in [0, 1): the ``floor(u * size)``-th value of a discrete axis,
        else the point ``u`` of the way along the range (in log space for ``log``)."""
        u = min(max(u, 0.0), math.nextafter(1.0, 0.0))
        if self.values is not None:
            return self.values[int(u * len(self.values))]
        hi = self.high + 1 if self.integer else self.high  # [low, high + 1): whole numbers
        if self.log:
            x = math.exp(math.log(self.low) + u * (math.log(hi) - math.log(self.low)))
        else:
            x = self.low + u * (hi - self.low)
        if self.integer:
            return int(min(max(math.floor(x), self.low), self.high))
        return x

    def settings(self, value: Any) -> dict[str, Any]:
        """Path -> value of this axis' paths for one of its values."""
        if self.tied:
            return dict(zip(self.paths, value, strict=True))
        return {self.paths[0]: value}


def _numbers(value: Any, path: str, where: str, key: str) -> tuple[float, float]:
    if (not isinstance(value, list) or len(value) != 2 or
            not all(isinstance(v, int | float) and not isinstance(v, bool) for v in value)):
        raise _fail(f"{path}.{key}", f"is {value!r}; give [low, high], two numbers", where)
    lo, hi = float(value[0]), float(value[1])
    if not (math.isfinite(lo) and math.isfinite(hi)) or lo >= hi:
        raise _fail(f"{path}.{key}", f"is {value!r}; low must be below high (both finite)",
                    where)
    return lo, hi


def _range_axis(name: str, paths: tuple[str, ...], spec: Mapping[str, Any], path: str,
                where: str) -> Axis:
    kinds = [k for k in ("range", "log") if k in spec]
    unknown = sorted(set(spec) - {"range", "log", "num", "step", "integer"})
    if unknown:
        raise _fail(f"{path}.{unknown[0]}", "unknown key; a range is {range: [low, high]} or "
                    "{log: [low, high]} with num: N or step: S (or neither: continuous, "
                    "for random, lhs and guided sampling)", where)
    if len(kinds) != 1:
        raise _fail(path, "give exactly one of range: [low, high] or log: [low, high]", where)
    kind = kinds[0]
    raw = spec[kind]
    lo, hi = _numbers(raw, path, where, kind)
    integer = spec.get("integer", all(isinstance(v, int) for v in raw))
    if not isinstance(integer, bool):
        raise _fail(f"{path}.integer", f"is {integer!r}; true or false", where)
    if kind == "log" and lo <= 0:
        raise _fail(f"{path}.log", f"is {raw!r}; a log range needs low > 0", where)
    num, step = spec.get("num"), spec.get("step")
    if num is not None and step is not None:
        raise _fail(path, "give num or step, not both", where)
    if num is not None:
        if not isinstance(num, int) or isinstance(num, bool) or not 2 <= num <= 100_000:
            raise _fail(f"{path}.num", f"is {num!r}; a whole number of values, 2 to 100000",
                        where)
        if kind == "log":
            xs = [math.exp(math.log(lo) + i * (math.log(hi) - math.log(lo)) / (num - 1))
                  for i in range(num)]
        else:
            xs = [lo + i * (hi - lo) / (num - 1) for i in range(num)]
        values: list[Any] = [round(x) for x in xs] if integer else xs
        values = list(dict.fromkeys(values))  # rounding may merge neighbours
        return Axis(name, paths, tuple(values), integer=integer)
    if step is not None:
        if kind == "log":
            raise _fail(f"{path}.step", "a log range takes num (values per range), not step",
                        where)
        if (not isinstance(step, int | float) or isinstance(step, bool) or
                not math.isfinite(step) or step <= 0):
            raise _fail(f"{path}.step", f"is {step!r}; a positive number", where)
        n = math.floor((hi - lo) / step + 1e-9) + 1
        if n > 100_000:
            raise _fail(f"{path}.step", f"gives {n:,} values; at most 100000", where)
        xs = [lo + i * step for i in range(n)]
        values = [round(x) for x in xs] if integer else xs
        return Axis(name, paths, tuple(dict.fromkeys(values)), integer=integer)
    return Axis(name, paths, None, lo, hi, kind == "log", integer)


def _check_path(spec: ArchSpec, path: str, where: str, at: str) -> None:
    """Refuse a dotted path that names no field of ``spec``."""
    node: Any = spec.resolved()
    shown = ""
    for part in path.split("."):
        m = _SEGMENT.match(part)
        if m is None:
            raise _fail(at, f"{path!r} is not a dotted field path (e.g. compute.array, "
                        "memory[0].size_bytes, memory.glb.banks)", where)
        key = m.group(1)
        if isinstance(node, list) and all(isinstance(x, dict) for x in node):
            names = [x.get("name") for x in node]
            if key not in names:
                raise _fail(at, f"{shown}: {spec.name} has no item named {key!r}; items: "
                            f"{', '.join(map(str, names))} (or use {shown}[index])", where)
            node = node[names.index(key)]
        elif isinstance(node, dict):
            if key not in node:
                close = difflib.get_close_matches(key, list(node), n=1)
                hint = f"; did you mean {close[0]!r}?" if close else \
                    f"; fields: {', '.join(node)}"
                raise _fail(at, f"{spec.name} has no field {(shown + '.' if shown else '')}"
                            f"{key}{hint}", where)
            node = node[key]
        else:
            raise _fail(at, f"{shown} of {spec.name} is a value, not a section", where)
        shown = f"{shown}.{key}" if shown else key
        for idx in (int(i) for i in re.findall(r"\[(\d+)\]", m.group(2))):
            if not isinstance(node, list) or idx >= len(node):
                raise _fail(at, f"{shown}[{idx}]: out of range or not a list in {spec.name}",
                            where)
            node = node[idx]
            shown += f"[{idx}]"


def _axes(raw: Any, path: str, where: str) -> list[Axis]:
    if raw is None:
        return []
    if not isinstance(raw, Mapping):
        raise _fail(path, "is a mapping of dotted spec paths to values, ranges or tied "
                    "groups", where)
    out = []
    for key, spec in raw.items():
        at = f"{path}.{key}"
        if not isinstance(key, str) or not key:
            raise _fail(at, "an axis is named by a dotted spec path (or a tied group's name)",
                        where)
        if isinstance(spec, Mapping) and "tied" in spec:
            if set(spec) != {"tied"}:
                raise _fail(at, "a tied axis is {tied: {PATH: [values], PATH: [values]}}",
                            where)
            members = spec["tied"]
            if not isinstance(members, Mapping) or len(members) < 2:
                raise _fail(f"{at}.tied", "give two or more paths, each with a list of "
                            "values of one length", where)
            lists = []
            for p, vals in members.items():
                if not isinstance(vals, list) or not vals:
                    raise _fail(f"{at}.tied.{p}", "is a non-empty list of values", where)
                lists.append(vals)
            if len({len(v) for v in lists}) != 1:
                lens = ", ".join(f"{p}: {len(v)}" for p, v in zip(members, lists, strict=True))
                raise _fail(f"{at}.tied", f"the lists differ in length ({lens}); tied paths "
                            "move together, so give each the same number of values", where)
            out.append(Axis(key, tuple(members), tuple(zip(*lists, strict=True)), tied=True))
        elif isinstance(spec, Mapping):
            out.append(_range_axis(key, (key,), spec, at, where))
        elif isinstance(spec, list):
            if not spec:
                raise _fail(at, "is an empty list; give the values to try", where)
            out.append(Axis(key, (key,), tuple(spec)))
        else:
            raise _fail(at, f"is {spec!r}; an axis is a list of values, {{range: [lo, hi], "
                        "num: N}}, {log: [lo, hi], num: N} or {tied: {...}} (a fixed value "
                        "belongs in a base's set:)", where)
    return out


# -- bases --
@dataclass(frozen=True)
class Base:
    """One base spec of the space with its fixed settings and its axes (shared + own)."""

    label: str
    ref: str
    spec: ArchSpec
    fixed: Mapping[str, Any]
    axes: tuple[Axis, ...]


def _resolve_ref(ref: str, root: Path | None) -> str:
    from accelscope.arch import preset_names

    if ref in preset_names() or root is None:
        return ref
    p = Path(ref)
    if not p.is_absolute() and (root / p).is_file():
        return str(root / p)
    return ref


def _bases(raw: Any, shared: list[Axis], root: Path | None, where: str) -> list[Base]:
    items = raw if isinstance(raw, list) else [raw]
    if raw is None or not items:
        raise _fail("base", "missing; name one or more base specs: a preset (spots, "
                    "gemmini, ...), a YAML path, or {arch: REF, set: {...}, axes: {...}}",
                    where)
    out: list[Base] = []
    for i, item in enumerate(items):
        at = f"base[{i}]" if isinstance(raw, list) else "base"
        if isinstance(item, str | os.PathLike):
            item = {"arch": os.fspath(item)}
        if not isinstance(item, Mapping):
            raise _fail(at, f"is {item!r}; a preset name, a YAML path or a mapping with "
                        "arch:", where)
        unknown = [k for k in item if k not in _BASE_KEYS]
        if unknown:
            raise _fail(f"{at}.{unknown[0]}", f"unknown key; a base has {', '.join(_BASE_KEYS)}",
                        where)
        ref = item.get("arch")
        if not isinstance(ref, str) or not ref:
            raise _fail(f"{at}.arch", "missing; a preset name or the path of an arch YAML",
                        where)
        try:
            spec = load_arch(_resolve_ref(ref, root))
        except ArchError as exc:
            raise _fail(f"{at}.arch", str(exc), where) from None
        fixed = item.get("set") or {}
        if not isinstance(fixed, Mapping):
            raise _fail(f"{at}.set", "is a mapping of dotted spec paths to values", where)
        for p in fixed:
            _check_path(spec, str(p), where, f"{at}.set.{p}")
        if fixed:
            try:
                spec = override(spec, dict(fixed), where=f"{where}: {at}.set")
            except ArchError as exc:
                raise SpaceError(str(exc)) from None
        label = item.get("label", spec.name)
        if not is_name(label):
            raise _fail(f"{at}.label", f"{label!r} is not a name; {NAME_RULE}", where)
        own = _axes(item.get("axes"), f"{at}.axes", where)
        axes = [a for a in shared if a.name not in {b.name for b in own}] + own
        for a in axes:
            origin = f"{at}.axes" if a in own else "axes"
            for p in a.paths:
                _check_path(spec, p, where, f"{origin}.{a.name}" +
                            (f".tied.{p}" if a.tied else ""))
        out.append(Base(label, ref, spec, dict(fixed), tuple(axes)))
    labels = [b.label for b in out]
    dup = sorted({x for x in labels if labels.count(x) > 1})
    if dup:
        raise _fail("base", f"two bases are labelled {dup[0]!r}; give each a label: NAME",
                    where)
    return out


# -- workload, constraints, objectives, sampler --
@dataclass(frozen=True)
class Workload:
    networks: tuple[str, ...]
    axes: tuple[Axis, ...]
    """prune, batch, mode, strategy, compress: one-value axes where the space fixes them."""
    seed: int = 0


def _workload(raw: Any, root: Path | None, where: str) -> Workload:
    from accelscope.passes.point import check_pass_options, parse_strategy_option
    from accelscope.sparsity.prune import parse_prune_spec

    if not isinstance(raw, Mapping):
        raise _fail("workload", "missing or not a mapping; give at least workload.networks: "
                    "[NAME, ...] (zoo names or .onnx paths)", where)
    unknown = [k for k in raw if k not in WORKLOAD_KEYS]
    if unknown:
        raise _fail(f"workload.{unknown[0]}", f"unknown key; the workload keys are "
                    f"{', '.join(WORKLOAD_KEYS)}", where)
    nets = raw.get("networks")
    nets = [nets] if isinstance(nets, str) else nets
    if not isinstance(nets, list) or not nets or not all(isinstance(n, str) and n
                                                         for n in nets):
        raise _fail("workload.networks", "give a list of networks: zoo names (accelscope "
                    "lower --help lists them) or .onnx paths", where)
    from accelscope.workload import zoo

    resolved_nets = []
    for i, n in enumerate(nets):
        if n in zoo.names():
            resolved_nets.append(n)
            continue
        p = Path(n) if root is None or Path(n).is_absolute() else root / n
        if p.suffix == ".onnx" and p.is_file():
            resolved_nets.append(str(p))
            continue
        raise _fail(f"workload.networks[{i}]", f"{n!r} is neither a zoo model nor an .onnx "
                    f"file; zoo models: {', '.join(zoo.names())}", where)
    if len(set(resolved_nets)) != len(resolved_nets):
        raise _fail("workload.networks", "names a network twice; keep one", where)
    seed = raw.get("seed", 0)
    if not isinstance(seed, int) or isinstance(seed, bool) or not 0 <= seed < 2**63:
        raise _fail("workload.seed", f"is {seed!r}; a whole number >= 0", where)
    axes = []
    defaults: dict[str, Any] = {"prune": None, "batch": None, "mode": "actual",
                                "strategy": None, "compress": None}
    for key in WORKLOAD_AXES:
        value = raw.get(key, defaults[key])
        values = value if isinstance(value, list) else [value]
        at = f"workload.{key}"
        if not values:
            raise _fail(at, "is an empty list; give a value or leave the key out", where)
        for j, v in enumerate(values):
            vat = f"{at}[{j}]" if isinstance(value, list) else at
            try:
                if key == "prune" and v is not None:
                    if not isinstance(v, str | int | float) or isinstance(v, bool):
                        raise SpaceError("a prune spec such as \"0.7\", magnitude:0.3, nm:2:4")
                    parse_prune_spec(str(v))
                elif key == "batch" and v is not None and (
                        not isinstance(v, int) or isinstance(v, bool) or not 1 <= v <= 4096):
                    raise SpaceError("a batch size 1..4096 (or null: the network's own)")
                elif key == "mode" and v not in ("actual", "statistical"):
                    raise SpaceError("actual (real tensors) or statistical (densities)")
                elif key == "strategy" and v is not None:
                    if not isinstance(v, str):
                        raise SpaceError("one strategy name: gconv, dedicated, "
                                         "host-fallback, matrix")
                    if len(parse_strategy_option(v)) != 1:
                        raise SpaceError("one strategy per value; list several as a list")
                elif key == "compress" and v is not None:
                    if not isinstance(v, str):
                        raise SpaceError("a codec setting: dct or dct:quality=75,...")
                    check_pass_options((), v, False, "cpu", 1)
            except Exception as exc:
                from accelscope.errors import AccelscopeError

                if not isinstance(exc, AccelscopeError):
                    raise
                raise _fail(vat, f"{v!r}: {exc}", where) from None
        axes.append(Axis(key, (f"workload.{key}",),
                         tuple(str(v) if key == "prune" and v is not None else v
                               for v in values)))
    strat = next(a for a in axes if a.name == "strategy")
    comp = next(a for a in axes if a.name == "compress")
    if any(v is not None for v in strat.values or ()) and \
            any(v is not None for v in comp.values or ()):
        raise _fail("workload.compress", "a strategy cannot be combined with compress yet; "
                    "sweep them in separate spaces", where)
    return Workload(tuple(resolved_nets), tuple(axes), seed)


@dataclass(frozen=True)
class Constraint:
    name: str
    """A column (spec figure, totals field) or a dotted spec path."""
    low: float | None = None
    high: float | None = None
    before: bool = True
    """Checked on the resolved spec, before evaluation (else on the result)."""

    def violation(self, value: Any) -> str | None:
        """Why ``value`` breaks the constraint, or None."""
        if value is None:
            return None
        if not isinstance(value, int | float) or isinstance(value, bool):
            return f"{self.name} is {value!r}, not a number"
        if self.low is not None and value < self.low:
            return f"{self.name} {_n(value)} < min {_n(self.low)}"
        if self.high is not None and value > self.high:
            return f"{self.name} {_n(value)} > max {_n(self.high)}"
        return None


def _n(x: float) -> str:
    return f"{int(x):,}" if float(x).is_integer() and abs(x) < 1e15 else f"{x:.6g}"


def is_result_column(name: str) -> bool:
    return name in TOTALS_COLUMNS or name.startswith(_RESULT_PREFIXES)


def _constraints(raw: Any, bases: Sequence[Base], where: str) -> list[Constraint]:
    if raw is None:
        return []
    if not isinstance(raw, Mapping):
        raise _fail("constraints", "is a mapping NAME: {min: X, max: Y}", where)
    out = []
    for name, bound in raw.items():
        at = f"constraints.{name}"
        name = OBJECTIVE_ALIASES.get(name, name)
        if not isinstance(bound, Mapping) or not bound or set(bound) - {"min", "max"}:
            raise _fail(at, "give {max: X}, {min: X} or both", where)
        for k, v in bound.items():
            if not isinstance(v, int | float) or isinstance(v, bool) or not math.isfinite(v):
                raise _fail(f"{at}.{k}", f"is {v!r}; a finite number", where)
        if name in SPEC_COLUMNS:
            before = True
        elif is_result_column(name):
            before = False
        else:
            try:
                for b in bases:
                    _check_path(b.spec, name, where, at)
            except SpaceError as exc:
                raise _fail(at, f"{name!r} is no figure or spec field: use one of "
                            f"{', '.join(SPEC_COLUMNS + TOTALS_COLUMNS)}, energy_pj.<part>, "
                            f"stall_cycles.<cause>, or a dotted spec path ({exc})",
                            where) from None
            before = True
        out.append(Constraint(name, bound.get("min"), bound.get("max"), before))
    return out


@dataclass(frozen=True)
class Objective:
    name: str
    """As written (``latency``, ``utilization:max``)."""
    column: str
    maximise: bool = False

    def sign(self) -> float:
        return -1.0 if self.maximise else 1.0


def parse_objective(text: str, where: str = "objectives") -> Objective:
    """``latency``, ``energy``, ``area``, ``edp``, ``dram``, any totals column, with
    ``:max`` to maximise (``:min``, the default, to minimise)."""
    name, _, goal = str(text).strip().partition(":")
    if goal not in ("", "min", "max"):
        raise SpaceError(f"{where}: {text!r}: the goal after ':' is min or max")
    column = OBJECTIVE_ALIASES.get(name, name)
    if not (is_result_column(column) or column in SPEC_COLUMNS):
        raise SpaceError(f"{where}: {name!r} is not an objective; use "
                         f"{', '.join(OBJECTIVE_ALIASES)}, a totals column "
                         f"({', '.join(TOTALS_COLUMNS)}), energy_pj.<part>, "
                         f"stall_cycles.<cause> or {', '.join(SPEC_COLUMNS)}; NAME:max to "
                         "maximise")
    return Objective(name, column, goal == "max")


def _objectives(raw: Any, where: str) -> list[Objective]:
    if raw is None:
        return [parse_objective("latency"), parse_objective("energy")]
    items = raw.split(",") if isinstance(raw, str) else raw
    if not isinstance(items, list) or not items:
        raise _fail("objectives", "is a list such as [latency, energy, area]", where)
    out = [parse_objective(str(x), f"{where}: objectives[{i}]") for i, x in enumerate(items)]
    cols = [o.column for o in out]
    if len(set(cols)) != len(cols):
        raise _fail("objectives", "names one figure twice; keep one", where)
    return out


@dataclass(frozen=True)
class Sampler:
    kind: str = "grid"
    n: int = 0
    """Points per base (random, lhs) or trials in all (guided: the budget)."""
    seed: int = 0
    population: int = 0


def _sampler(raw: Any, where: str) -> Sampler:
    if raw is None or raw == "grid":
        return Sampler()
    if isinstance(raw, str):
        raise _fail("sampler", f"{raw!r}: grid, or {{kind: random|lhs, n: N}}, or "
                    "{kind: guided, budget: N}", where)
    if not isinstance(raw, Mapping):
        raise _fail("sampler", "is grid or a mapping with kind:", where)
    kind = raw.get("kind")
    if kind not in SAMPLERS:
        raise _fail("sampler.kind", f"is {kind!r}; one of {', '.join(SAMPLERS)}", where)
    allowed = {"grid": {"kind"}, "random": {"kind", "n", "seed"}, "lhs": {"kind", "n", "seed"},
               "guided": {"kind", "budget", "population", "seed"}}[kind]
    extra = sorted(set(raw) - allowed)
    if extra:
        raise _fail(f"sampler.{extra[0]}", f"not a key of the {kind} sampler; it takes "
                    f"{', '.join(sorted(allowed))}", where)
    count_key = "budget" if kind == "guided" else "n"
    n = raw.get(count_key, 0 if kind == "grid" else None)
    if kind != "grid" and (not isinstance(n, int) or isinstance(n, bool) or
                           not 1 <= n <= 10_000_000):
        raise _fail(f"sampler.{count_key}", f"is {n!r}; a whole number of points >= 1", where)
    seed = raw.get("seed", 0)
    if not isinstance(seed, int) or isinstance(seed, bool) or not 0 <= seed < 2**32:
        raise _fail("sampler.seed", f"is {seed!r}; a whole number 0..2**32-1", where)
    pop = raw.get("population", 0)
    if not isinstance(pop, int) or isinstance(pop, bool) or pop < 0 or pop == 1:
        raise _fail("sampler.population", f"is {pop!r}; a whole number >= 2 (NSGA-II "
                    "population; default: min(50, budget // 4) but at least 4)", where)
    return Sampler(kind, int(n or 0), seed, pop)


# -- the space --
@dataclass(frozen=True)
class Space:
    """A validated design space (``load_space``)."""

    name: str
    bases: tuple[Base, ...]
    workload: Workload
    constraints: tuple[Constraint, ...] = ()
    objectives: tuple[Objective, ...] = ()
    sampler: Sampler = field(default_factory=Sampler)
    source: Mapping[str, Any] = field(default_factory=dict)
    """The space as given (JSON values), recorded in the store."""

    def axis_names(self) -> list[str]:
        """Every axis' column name, in order of appearance (tied groups by their paths)."""
        out: list[str] = []
        for b in self.bases:
            for a in b.axes:
                for c in (a.paths if a.tied else (a.name,)):
                    if c not in out:
                        out.append(c)
        return out

    def grid_size(self) -> int | None:
        """Points of the full grid (all bases), None when an axis is continuous."""
        total = 0
        for b in self.bases:
            n = 1
            for a in (*b.axes, *self.workload.axes):
                if a.size is None:
                    return None
                n *= a.size
            total += n
        return total


def _json(v: Any, path: str, where: str) -> Any:
    if _scalar(v):
        return v
    if isinstance(v, Mapping):
        return {str(k): _json(x, f"{path}.{k}", where) for k, x in v.items()}
    if isinstance(v, list | tuple):
        return [_json(x, f"{path}[{i}]", where) for i, x in enumerate(v)]
    raise _fail(path, f"holds a {type(v).__name__}; a space holds YAML values only", where)


def load_space(space: str | os.PathLike[str] | Mapping[str, Any] | Space) -> Space:
    """A validated ``Space`` from a YAML file path or a mapping (paths in it relative to the
    current directory, or to the YAML file)."""
    if isinstance(space, Space):
        return space
    root: Path | None = None
    if isinstance(space, Mapping):
        data, where = dict(space), "space"
    else:
        import yaml

        path = Path(space)
        where = str(path)
        if not path.is_file():
            raise SpaceError(f"{path}: no such file; give the path of a design-space YAML "
                             "(examples/dse/*.yaml)")
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise SpaceError(f"{path}: cannot read the file: {exc}") from None
        try:
            data = yaml.load(text, Loader=_NoDuplicates)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            line = f":{mark.line + 1}" if mark is not None else ""
            problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
            raise SpaceError(f"{path}{line}: not valid YAML: {problem}") from None
        root = path.resolve().parent
        if not isinstance(data, Mapping):
            raise SpaceError(f"{path}: a design space is a mapping with the keys "
                             f"{', '.join(_TOP_KEYS)}")
    unknown = [k for k in data if k not in _TOP_KEYS]
    if unknown:
        raise _fail(str(unknown[0]), f"unknown key; a space has {', '.join(_TOP_KEYS)}", where)
    source = _json(data, "(top level)", where)
    name = data.get("name", Path(where).stem if root is not None else "space")
    if not is_name(name):
        raise _fail("name", f"{name!r} is not a name; {NAME_RULE}", where)
    shared = _axes(data.get("axes"), "axes", where)
    bases = _bases(data.get("base"), shared, root, where)
    workload = _workload(data.get("workload"), root, where)
    constraints = _constraints(data.get("constraints"), bases, where)
    objectives = _objectives(data.get("objectives"), where)
    sampler = _sampler(data.get("sampler"), where)
    space = Space(name, tuple(bases), workload, tuple(constraints), tuple(objectives),
                  sampler, source)
    if sampler.kind == "grid":
        for b in bases:
            for a in (*b.axes, *workload.axes):
                if a.size is None:
                    raise _fail(f"axes.{a.name}", "is a continuous range, which a grid cannot "
                                "enumerate; give num: N or step: S, or use sampler: {kind: "
                                "random|lhs|guided, ...}", where)
    return space


import yaml as _yaml  # noqa: E402  (the loader class needs the module at import time)


class _NoDuplicates(_yaml.SafeLoader):  # type: ignore[misc]  # PyYAML ships no types
    """Safe YAML with ``1e9`` read as a float and duplicate keys refused."""

    def construct_mapping(self, node: Any, deep: bool = False) -> Any:
        seen: dict[Any, int] = {}
        for k, _ in node.value:
            key = self.construct_object(k, deep=True)
            if key in seen:
                raise _yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r} (first at line {seen[key]}); keep one",
                    k.start_mark)
            seen[key] = k.start_mark.line + 1
        return super().construct_mapping(node, deep=deep)


_NoDuplicates.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:[0-9][0-9_]*(?:\.[0-9_]*)?|\.[0-9_]+)[eE][-+]?[0-9]+$"),
    list("-+0123456789."))
