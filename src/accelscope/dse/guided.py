"""Guided multi-objective search: Optuna's NSGA-II sampler (Deb et al. 2002) proposes the
points, our engine evaluates them, the store keeps them (``sampler: {kind: guided, budget:
N}``).

Each trial is one design point. Its objective values are the point's values over the
space's networks, combined by their geometric mean (the arithmetic mean where a value is not
positive); a point with an error or refused by a constraint is a failed trial. Trials are
asked in batches of the executor's worker count and told when the batch is stored. A rerun
reads the points the store already holds back into the study (as finished trials) and goes
on until ``budget`` trials; a point proposed twice is not evaluated twice.

Parameters: an axis of k values is the index 0..k-1 (an integer parameter when the values are
ordered numbers, else a categorical one); a continuous range is a float or integer parameter
(log-scaled for ``log``); with several bases, ``base`` is a categorical parameter and each
base's axes are named ``BASE:AXIS``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from typing import Any

from accelscope.dse.engine import Executor, plan_point
from accelscope.dse.samplers import Point, axes_of
from accelscope.dse.space import Axis, Base, Space
from accelscope.dse.store import Store


def _ordered(values: tuple[Any, ...]) -> bool:
    nums = all(isinstance(v, int | float) and not isinstance(v, bool) for v in values)
    return nums and (list(values) == sorted(values) or list(values) == sorted(values)[::-1])


def _param(space: Space, base: Base, axis: Axis) -> str:
    return axis.name if len(space.bases) == 1 else f"{base.label}:{axis.name}"


def distribution(axis: Axis) -> Any:
    from optuna.distributions import (
        CategoricalDistribution,
        FloatDistribution,
        IntDistribution,
    )

    if axis.values is not None:
        if _ordered(axis.values):
            return IntDistribution(0, len(axis.values) - 1)
        return CategoricalDistribution(tuple(range(len(axis.values))))
    if axis.integer:
        return IntDistribution(int(axis.low), int(axis.high), log=axis.log)
    return FloatDistribution(axis.low, axis.high, log=axis.log)


def _suggest(trial: Any, space: Space) -> Point:
    from optuna.distributions import CategoricalDistribution, IntDistribution

    labels = [b.label for b in space.bases]
    label = trial.suggest_categorical("base", labels) if len(labels) > 1 else labels[0]
    base = next(b for b in space.bases if b.label == label)
    values = []
    for a in axes_of(space, base):
        name = _param(space, base, a)
        d = distribution(a)
        if isinstance(d, CategoricalDistribution):
            v = trial.suggest_categorical(name, d.choices)
        elif isinstance(d, IntDistribution):
            v = trial.suggest_int(name, d.low, d.high, log=d.log)
        else:
            v = trial.suggest_float(name, d.low, d.high, log=d.log)
        values.append((a.name, a.values[int(v)] if a.values is not None else v))
    return Point(label, tuple(values))


def _params(space: Space, point: Mapping[str, Any], label: str
            ) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """(params, distributions) of a stored point, None when it is not in this space."""
    from optuna.distributions import CategoricalDistribution

    base = next((b for b in space.bases if b.label == label), None)
    if base is None:
        return None
    params: dict[str, Any] = {}
    dists: dict[str, Any] = {}
    if len(space.bases) > 1:
        params["base"] = label
        dists["base"] = CategoricalDistribution(tuple(b.label for b in space.bases))
    for a in axes_of(space, base):
        if a.name not in point:
            return None
        v = point[a.name]
        name = _param(space, base, a)
        if a.values is not None:
            text = [json.dumps(x) for x in a.values]
            if json.dumps(v) not in text:
                return None
            v = text.index(json.dumps(v))
        elif not (isinstance(v, int | float) and a.low <= v <= a.high):
            return None
        params[name] = v
        dists[name] = distribution(a)
    return params, dists


def _combine(values: list[float]) -> float:
    if all(v > 0 for v in values):
        return math.exp(sum(math.log(v) for v in values) / len(values))
    return sum(values) / len(values)


def point_values(space: Space, rows: Sequence[Mapping[str, Any]]) -> list[float] | None:
    """A point's objective values over its networks, None when a row failed or is
    infeasible (or a network is missing)."""
    if len(rows) < len(space.workload.networks):
        return None
    if any(r.get("status") != "ok" or not r.get("feasible") for r in rows):
        return None
    out = []
    for o in space.objectives:
        vals = [r.get(o.column) for r in rows]
        if any(v is None or not isinstance(v, int | float) or not math.isfinite(v)
               for v in vals):
            return None
        out.append(_combine([float(v) for v in vals]))  # type: ignore[arg-type]
    return out


def run_guided(space: Space, store: Store, ex: Executor, *, layers: bool, cache_dir: str,
               progress: Any = None, status: Any = None) -> tuple[int, int, int]:
    """Run the guided search into ``store``; (points, rows, rows computed)."""
    from accelscope._extras import needs_extra

    with needs_extra("dse", "the guided sampler (sampler: {kind: guided})"):
        import optuna
    from accelscope.dse.sweep import run_tasks_into  # the sweep module imports this one

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    s = space.sampler
    budget = s.n
    population = s.population or max(4, min(50, budget // 4))
    study = optuna.create_study(
        directions=["maximize" if o.maximise else "minimize" for o in space.objectives],
        sampler=optuna.samplers.NSGAIISampler(population_size=population, seed=s.seed))
    df = store.to_dataframe(space.name)
    seq = 0
    told: set[str] = set()
    if len(df):
        df = df[df["sampler"] == "guided"]
        seq = int(df["seq"].max()) + 1 if len(df) else 0
        for key, grp in df.groupby("point_key", sort=False):
            first = grp.iloc[0]
            got = _params(space, json.loads(first["point"]), str(first["base"]))
            if got is None or len(told) >= budget:
                continue
            rows = grp.to_dict("records")
            values = point_values(space, rows)
            state = optuna.trial.TrialState.COMPLETE if values is not None else \
                optuna.trial.TrialState.FAIL
            study.add_trial(optuna.trial.create_trial(
                params=got[0], distributions=got[1], values=values, state=state))
            told.add(str(key))
    nets = len(space.workload.networks)
    computed = 0
    while len(study.trials) < budget:
        k = min(max(ex.workers, 1), budget - len(study.trials))
        trials = [study.ask() for _ in range(k)]
        plans = [plan_point(space, _suggest(t, space), seq + i, layers=layers,
                            cache_dir=cache_dir) for i, t in enumerate(trials)]
        seq += k
        done = store.done()
        fresh = [pl for pl in plans if pl.point_key not in told]
        for pl in fresh:
            for r in pl.rows:
                if r["row_key"] not in done:
                    computed += store.add(r)
        tasks = [t for pl in fresh for t in pl.tasks if t.row_key not in done]
        for n in run_tasks_into(tasks, store, ex, done, cache_dir, status):
            computed += n
        for t, pl in zip(trials, plans, strict=True):
            values = point_values(space, store.rows_of(pl.point_key))
            if values is None:
                study.tell(t, state=optuna.trial.TrialState.FAIL)
            else:
                study.tell(t, values)
            told.add(pl.point_key)
        if progress:
            progress(min(len(study.trials), budget) * nets, budget * nets)
    return len(told), len(told) * nets, computed
