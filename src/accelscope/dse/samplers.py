"""Points of a design space: the full grid, random points, a Latin hypercube (seeded, so
that a rerun draws the same points and resumes). The guided search is ``dse.guided``.

A point is a base label and one value per axis (arch axes and workload axes); the engine
turns it into a spec (``override``) and the workload options.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from accelscope.dse.space import Axis, Base, Space


@dataclass(frozen=True)
class Point:
    """One design point: a base and a value per axis (``(axis name, value)`` in axis order)."""

    base: str
    values: tuple[tuple[str, Any], ...]

    def value(self, axis: str) -> Any:
        return dict(self.values)[axis]


def axes_of(space: Space, base: Base) -> tuple[Axis, ...]:
    """The axes of a base's points: its arch axes, then the workload axes."""
    return (*base.axes, *space.workload.axes)


def grid(space: Space) -> Iterator[Point]:
    """Every combination of every axis' values, base by base (the last axis fastest)."""
    for b in space.bases:
        axes = axes_of(space, b)
        for combo in itertools.product(*(a.values or () for a in axes)):
            yield Point(b.label, tuple((a.name, v) for a, v in zip(axes, combo, strict=True)))


def _from_unit(b: Base, axes: tuple[Axis, ...], u: np.ndarray) -> Iterator[Point]:
    for row in u:
        yield Point(b.label, tuple((a.name, a.at(float(x))) for a, x in zip(axes, row,
                                                                            strict=True)))


def random_points(space: Space, n: int, seed: int) -> Iterator[Point]:
    """``n`` points per base, every axis drawn uniformly (seeded per base)."""
    for i, b in enumerate(space.bases):
        axes = axes_of(space, b)
        rng = np.random.default_rng([seed, i])
        yield from _from_unit(b, axes, rng.random((n, len(axes))))


def latin_hypercube(n: int, dims: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` points in [0, 1)^dims, one in each of the ``n`` equal strata of every
    dimension (McKay et al. 1979), the strata of each dimension in a random order."""
    u = np.empty((n, dims))
    for d in range(dims):
        u[:, d] = (rng.permutation(n) + rng.random(n)) / n
    return u


def lhs_points(space: Space, n: int, seed: int) -> Iterator[Point]:
    """``n`` points per base from a Latin hypercube over its axes: a discrete axis of k
    values gets each value n/k times (rounded), a continuous one one point per stratum."""
    for i, b in enumerate(space.bases):
        axes = axes_of(space, b)
        rng = np.random.default_rng([seed, i])
        yield from _from_unit(b, axes, latin_hypercube(n, len(axes), rng))


def sample(space: Space) -> list[Point]:
    """The points of a grid, random or LHS space (duplicates dropped, first kept)."""
    s = space.sampler
    if s.kind == "grid":
        points = grid(space)
    elif s.kind == "random":
        points = random_points(space, s.n, s.seed)
    elif s.kind == "lhs":
        points = lhs_points(space, s.n, s.seed)
    else:
        raise ValueError(f"sample() draws grid, random and lhs points, not {s.kind!r}; the "
                         "guided search asks its sampler for points (dse.guided)")
    seen: dict[tuple[str, str], Point] = {}
    for p in points:
        seen.setdefault((p.base, repr(p.values)), p)
    return list(seen.values())


def settings(space: Space, point: Point) -> tuple[Base, dict[str, Any], dict[str, Any]]:
    """(base, spec path -> value, workload option -> value) of a point."""
    base = next(b for b in space.bases if b.label == point.base)
    values: Mapping[str, Any] = dict(point.values)
    arch: dict[str, Any] = {}
    work: dict[str, Any] = {}
    for a in axes_of(space, base):
        for path, v in a.settings(values[a.name]).items():
            if path.startswith("workload."):
                work[path.removeprefix("workload.")] = v
            else:
                arch[path] = v
    return base, arch, work
