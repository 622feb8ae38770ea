"""``run_sweep``: a design space evaluated into a results store, resumable.

Rows the store already holds are not computed again (their keys are hashes of the resolved
spec, the workload options, the network and the accelscope version), so rerunning the same
command after a kill or Ctrl-C computes only what is missing. Exceptions: a row refused by a
constraint that the space no longer has is computed, and a row stored without per-layer rows
is computed again when ``layers`` is asked.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from accelscope.dse.engine import (
    Executor,
    Task,
    chunked,
    make_executor,
    plan_point,
    prepared,
)
from accelscope.dse.samplers import sample
from accelscope.dse.space import Space, load_space
from accelscope.dse.store import Store

Progress = Callable[[int, int], None]
"""``progress(done, total)``: rows finished in this run so far, rows to finish."""
Status = Callable[[str], contextlib.AbstractContextManager[Any]]


@dataclass(frozen=True)
class SweepSummary:
    """What a sweep did."""

    store: Path
    """The store directory."""
    points: int
    """Design points of the space (drawn, for a sampler)."""
    rows: int
    """Rows the space has: points x networks."""
    computed: int
    """Rows evaluated (or refused) in this run."""
    resumed: int
    """Rows found in the store and not computed again."""
    errors: int
    """Rows of this space with an error (bad spec, unsupported layer, ...)."""
    infeasible: int
    """Rows of this space refused or marked by a constraint."""
    wall_s: float
    workers: int
    executor: str

    def line(self) -> str:
        rate = self.computed / self.wall_s * 3600 if self.wall_s > 0 else 0.0
        return (f"{self.points} points x networks = {self.rows} rows: {self.computed} "
                f"computed, {self.resumed} already in the store; {self.errors} with errors, "
                f"{self.infeasible} infeasible; {self.wall_s:.1f} s on {self.workers} "
                f"{self.executor} worker(s) ({rate:,.0f} rows/h)")


def _todo(row_key: str, done: Mapping[str, tuple[str, int]], layers: bool) -> bool:
    if row_key not in done:
        return True
    status, stored = done[row_key]
    return status == "infeasible" or (layers and status == "ok" and not stored)


def run_sweep(space: str | os.PathLike[str] | Mapping[str, Any] | Space, *,
              out: str | os.PathLike[str] | None = None, workers: int | None = None,
              scheduler: str | None = None, dask: bool = False, layers: bool = False,
              cache_dir: str | os.PathLike[str] | None = None,
              progress: Progress | None = None, status: Status | None = None,
              executor: Executor | None = None) -> SweepSummary:
    """Evaluate every point of ``space`` (grid, random, LHS, or the guided search) on every
    network of it into the store at ``out`` (default ``out/sweep-NAME``); see the module
    docstring. ``workers``: local processes (default the CPU count; 1 runs in this process);
    ``scheduler``: a Dask scheduler address (``dask=True``: a LocalCluster of ``workers``);
    ``layers``: per-layer rows too; ``cache_dir``: where the workloads are cached (default
    ``OUT/workloads``; share it between sweeps of the same networks)."""
    t0 = time.perf_counter()
    sp = load_space(space)
    root = Path(out) if out is not None else Path("out") / f"sweep-{sp.name}"
    step = status or (lambda text: contextlib.nullcontext())
    with Store(root, create=True) as store:
        store.record_space(sp.name, sp.source)
        cache = str(Path(cache_dir) if cache_dir is not None else store.root / "workloads")
        own = executor is None
        ex = executor
        try:
            if sp.sampler.kind == "guided":
                from accelscope.dse.guided import run_guided

                if ex is None:
                    ex = make_executor(workers, scheduler, dask)
                counts = run_guided(sp, store, ex, layers=layers, cache_dir=cache,
                                    progress=progress, status=step)
            else:
                drawn = sample(sp)
                plans = [plan_point(sp, p, i, layers=layers, cache_dir=cache)
                         for i, p in enumerate(drawn)]
                done = store.done()
                ready = [r for pl in plans for r in pl.rows if _todo(r["row_key"], done, layers)]
                tasks = [t for pl in plans for t in pl.tasks if _todo(t.row_key, done, layers)]
                total = len(ready) + len(tasks)
                n = 0
                for r in ready:
                    store.add(r, replace=r["row_key"] in done)
                    n += 1
                    if progress:
                        progress(n, total)
                if tasks and ex is None:
                    ex = make_executor(workers, scheduler, dask)
                for rows in run_tasks_into(tasks, store, ex, done, cache, step):
                    n += rows
                    if progress:
                        progress(n, total)
                counts = (len(drawn), sum(len(pl.rows) + len(pl.tasks) for pl in plans),
                          total)
        finally:
            if own and ex is not None:
                ex.close()
        df = store.to_dataframe(sp.name)
        keys = set(df["row_key"]) if len(df) else set()
        mine = df[df["row_key"].isin(keys)]
        errors = int((mine["status"] == "error").sum()) if len(mine) else 0
        infeasible = int(((mine["status"] == "infeasible") |
                          ((mine["status"] == "ok") & (mine["feasible"] == 0))).sum()) \
            if len(mine) else 0
    points, rows, computed = counts
    return SweepSummary(root, points, rows, computed, rows - computed, errors, infeasible,
                        time.perf_counter() - t0, ex.workers if ex is not None else 1,
                        ex.kind if ex is not None else "in-process")


def run_tasks_into(tasks: list[Task], store: Store, ex: Executor | None,
                   done: Mapping[str, tuple[str, int]], cache: str, step: Status
                   ) -> Iterator[int]:
    """Evaluate ``tasks`` on ``ex``, committing each row as it arrives; yields the number of
    rows committed per finished chunk. The workloads are built first, once each."""
    if not tasks or ex is None:
        return
    distinct = list(dict.fromkeys(t.workload for t in tasks))
    for opts in distinct:
        with step(f"preparing {opts.network} (prune {opts.prune or 'none'}, mode "
                  f"{opts.mode}, batch {opts.batch or 'default'}) ..."):
            prepared(opts, cache)
    order = {w: i for i, w in enumerate(distinct)}
    ordered = sorted(tasks, key=lambda t: (order[t.workload], t.columns["seq"]))
    for rows in ex.run(chunked(ordered, ex.workers)):
        for r in rows:
            store.add(r, replace=r["row_key"] in done)
        yield len(rows)

