"""Published numbers and ours, side by side.

A ``Target`` is one published number (value, unit, citation, honest tolerance) and the
function that computes ours. ``must_hold`` targets fail ``accelscope validate`` (and the test
suite) when ours falls outside the tolerance; ``informative`` ones are reported with their
error and an explanation of the gap. Each accelerator model registers its targets in a module
of this package.
"""

from __future__ import annotations

import importlib
import math
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, cast

from accelscope.errors import AccelscopeError

if TYPE_CHECKING:
    from accelscope.results import NetworkResult

# Modules that register targets when imported (each accelerator issue adds its own).
TARGET_MODULES = ("accelscope.validate.workload_targets",
                  "accelscope.validate.systolic_targets", "accelscope.validate.spots_targets",
                  "accelscope.validate.scnn_targets", "accelscope.validate.eyeriss_targets",
                  "accelscope.validate.dct_targets",
                  "accelscope.validate.cgra_targets", "accelscope.validate.gconv_targets",
                  "accelscope.validate.area_targets")


@dataclass(frozen=True)
class Target:
    """One published number and how to compute ours.

    ``tolerance`` is relative (|ours - published| / |published|); for a published value
    printed with few digits it should be no tighter than half a unit of its last digit.

    ``criterion`` says what passing means: ``"relative"`` (the default) is the tolerance
    above; ``"above"`` / ``"below"`` pass when ours is strictly above / below ``bound``, for a
    published claim that holds in direction only (e.g. "X is more efficient than Y": ratio
    above 1). The relative error to ``published`` is still reported, for information.
    """

    name: str
    published: float
    unit: str
    source: str
    tolerance: float
    level: Literal["must_hold", "informative"]
    compute: Callable[[], float]
    note: str = ""
    criterion: Literal["relative", "above", "below"] = "relative"
    bound: float | None = None


@dataclass(frozen=True)
class TargetResult:
    target: Target
    ours: float | None
    seconds: float
    error: str | None = None  # set when computing ours raised

    @property
    def rel_error(self) -> float | None:
        if self.ours is None:
            return None
        if self.target.published == 0:
            return abs(self.ours)
        return abs(self.ours - self.target.published) / abs(self.target.published)

    @property
    def passed(self) -> bool:
        t = self.target
        if t.criterion != "relative":
            if self.ours is None or not math.isfinite(self.ours):
                return False
            bound = cast(float, t.bound)  # register() requires a bound for these criteria
            return self.ours > bound if t.criterion == "above" else self.ours < bound
        err = self.rel_error
        return err is not None and math.isfinite(err) and err <= t.tolerance

    @property
    def failed_must_hold(self) -> bool:
        return self.target.level == "must_hold" and not self.passed

    @property
    def verdict(self) -> str:
        """``ok``, ``FAIL`` (a must-hold target missed) or ``outside`` (an informative one)."""
        return ("ok" if self.passed else "FAIL" if self.target.level == "must_hold"
                else "outside")

    def to_dict(self) -> dict[str, Any]:
        """One JSON object: the target (name, group = the model or stage it checks,
        published value, unit, tolerance, criterion, level, source, note) and ours."""
        t = self.target
        return {"name": t.name, "group": t.name.split(".")[0], "level": t.level,
                "published": t.published, "ours": self.ours, "unit": t.unit,
                "rel_error": self.rel_error, "tolerance": t.tolerance,
                "criterion": t.criterion, "bound": t.bound, "passed": self.passed,
                "verdict": self.verdict, "error": self.error, "seconds": self.seconds,
                "source": t.source, "note": t.note}


_TARGETS: dict[str, Target] = {}


def register(target: Target) -> Target:
    if target.name in _TARGETS:
        raise ValueError(f"validation target {target.name!r} registered twice")
    if target.tolerance < 0:
        raise ValueError(f"target {target.name!r}: tolerance must be >= 0")
    if (target.criterion != "relative") != (target.bound is not None):
        raise ValueError(f"target {target.name!r}: criterion {target.criterion!r} "
                         + ("needs a bound" if target.bound is None else
                            "takes no bound (the tolerance applies)"))
    _TARGETS[target.name] = target
    return target


def targets(prefix: str = "") -> list[Target]:
    """Registered targets whose name starts with ``prefix`` (all when empty)."""
    for mod in TARGET_MODULES:
        importlib.import_module(mod)
    chosen = [t for n, t in _TARGETS.items() if n.startswith(prefix)]
    if prefix and not chosen:
        groups = sorted({n.split(".")[0] for n in _TARGETS})
        raise AccelscopeError(f"no validation target starts with {prefix!r}; target groups: "
                              f"{', '.join(groups)}")
    return chosen


def run(prefix: str = "", *, on_result: Callable[[TargetResult], None] | None = None
        ) -> list[TargetResult]:
    """Compute ours for every chosen target; an exception becomes a failed result."""
    out = []
    for t in targets(prefix):
        t0 = time.perf_counter()
        try:
            ours, err = float(t.compute()), None
        except Exception as exc:  # a broken target must show up as a failure, not a crash
            ours, err = None, f"{type(exc).__name__}: {exc}"
        r = TargetResult(t, ours, time.perf_counter() - t0, err)
        out.append(r)
        if on_result is not None:
            on_result(r)
    return out


# A published-values table for a run: (title, columns, rows) next to what `run` computed, for
# the (network, arch) pairs a paper measured. Each targets module may register one.
PublishedTable = tuple[str, list[str], list[list[str]]]
PublishedTableFn = Callable[["NetworkResult"], PublishedTable | None]
_TABLES: list[PublishedTableFn] = []


def register_published_table(fn: PublishedTableFn) -> PublishedTableFn:
    """Register ``fn(network_result) -> (title, columns, rows) | None``."""
    _TABLES.append(fn)
    return fn


def published_tables(result: NetworkResult) -> list[PublishedTable]:
    """The published-values tables that apply to a ``NetworkResult`` (usually none)."""
    for mod in TARGET_MODULES:
        importlib.import_module(mod)
    return [t for t in (fn(result) for fn in _TABLES) if t is not None]


def report(results: Iterable[TargetResult], only: str = "") -> dict[str, Any]:
    """The JSON document of ``accelscope validate --json`` (``validate.json``): the
    accelscope version, the ``--only`` prefix, every result and the summary."""
    from accelscope.results import accelscope_version

    results = list(results)
    return {"kind": "accelscope-validate", "schema_version": 1,
            "accelscope_version": accelscope_version(), "only": only,
            "targets": [r.to_dict() for r in results], "summary": summary(results)}


def summary(results: Iterable[TargetResult]) -> dict[str, int]:
    results = list(results)
    return {"targets": len(results), "passed": sum(r.passed for r in results),
            "must_hold_failed": sum(r.failed_must_hold for r in results),
            "informative_outside": sum(not r.passed and r.target.level == "informative"
                                       for r in results)}


__all__ = ["Target", "TargetResult", "published_tables", "register",
           "register_published_table", "run", "summary", "targets"]
