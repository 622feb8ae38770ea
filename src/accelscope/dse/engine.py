"""The sweep engine: design points -> tasks -> rows of the store.

The main process resolves each point (its spec through ``override``, the spec figures and
area, the constraints that need no evaluation) and keys it; the evaluation of every
(point, network) that the store does not hold yet runs in the workers:

* workloads (lowering, pruning, execution, activation statistics) are built once per
  distinct workload value, in the main process, and cached on disk content-addressed
  (``workload_key``: a hash of the workload options, the ONNX file's bytes and the accelscope
  version); every worker loads them from there (or builds them itself when the cache is not
  on a disk it shares, e.g. a Dask worker on another machine);
* workers are a local process pool (spawn context, one torch thread each), a Dask cluster,
  or the main process itself (``workers=1``);
* each finished row is committed to the SQLite store in its own transaction by the main
  process, the only writer.
"""

from __future__ import annotations

import copyreg
import hashlib
import io
import json
import math
import os
import pickle
import socket
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, cast

from accelscope.arch import ArchError, ArchSpec, override
from accelscope.dse.samplers import Point, settings
from accelscope.dse.space import Constraint, Space
from accelscope.errors import AccelscopeError
from accelscope.results import NetworkResult, accelscope_version

CACHE_FORMAT = 1
"""Version of the cached workload files (part of their key)."""


def _digest(obj: Any) -> str:
    text = json.dumps(obj, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def _file_digest(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


# -- workloads --
@dataclass(frozen=True)
class WorkloadOptions:
    """What a prepared network depends on (the workload axes that change the workloads)."""

    network: str
    prune: str | None = None
    batch: int | None = None
    mode: str = "actual"
    seed: int = 0

    def key(self) -> str:
        """Content address: the options, the ONNX file's bytes (for a path), the accelscope
        version and the cache format."""
        content = _file_digest(self.network) if self.network.endswith(".onnx") else None
        return _digest({"network": self.network, "content": content, "prune": self.prune,
                        "batch": self.batch, "mode": self.mode, "seed": self.seed,
                        "version": accelscope_version(), "format": CACHE_FORMAT})


def _mappingproxy(d: dict[str, Any]) -> Mapping[str, Any]:
    return MappingProxyType(d)


def _dumps(obj: Any) -> bytes:
    """Pickle with read-only mappings (``Chain`` holds them) carried as dicts."""
    buf = io.BytesIO()
    p = pickle.Pickler(buf, protocol=pickle.HIGHEST_PROTOCOL)
    p.dispatch_table = copyreg.dispatch_table.copy()
    p.dispatch_table[MappingProxyType] = lambda m: (_mappingproxy, (dict(m),))
    p.dump(obj)
    return buf.getvalue()


_PREPARED: OrderedDict[str, Any] = OrderedDict()
"""This process's prepared networks by workload key, the most recently used last."""
KEEP_PREPARED = 2
"""Prepared networks a worker keeps in memory (tasks come network by network)."""


def prepared(opts: WorkloadOptions, cache_dir: str | None) -> Any:
    """The ``PreparedNetwork`` of ``opts``: from this process's memory, the disk cache, or
    built (and then written to the cache, atomically)."""
    key = opts.key()
    if key in _PREPARED:
        _PREPARED.move_to_end(key)
        return _PREPARED[key]
    net = None
    path = Path(cache_dir) / f"{key}.pkl" if cache_dir else None
    if path is not None and path.is_file():
        try:
            net = pickle.loads(path.read_bytes())
        except Exception:  # a truncated or foreign file: built again and replaced
            net = None
    if net is None:
        from accelscope.pipeline import prepare_network

        net = prepare_network(opts.network, batch=opts.batch, prune=opts.prune,
                              mode=cast(Any, opts.mode), seed=opts.seed)
        if path is not None:
            from accelscope.output import write_file

            write_file(path, _dumps(net), "workload cache")
    _PREPARED[key] = net
    while len(_PREPARED) > KEEP_PREPARED:
        _PREPARED.popitem(last=False)
    return net


# -- tasks and rows --
@dataclass(frozen=True)
class Task:
    """One (point, network) to evaluate: everything a worker needs, picklable."""

    row_key: str
    spec: ArchSpec
    workload: WorkloadOptions
    strategy: str | None
    compress: str | None
    columns: Mapping[str, Any]
    """The row's columns known before evaluation."""
    constraints: tuple[Constraint, ...] = ()
    """Constraints on result columns."""
    layers: bool = False
    cache_dir: str | None = None


def _cell(v: Any) -> Any:
    """A value as a store cell: numbers, text and null as they are, others as JSON."""
    if v is None or isinstance(v, bool | int | float | str):
        return v
    return json.dumps(v)


def result_columns(r: NetworkResult) -> dict[str, Any]:
    """The store's result columns of one evaluation."""
    t = r.totals()
    out: dict[str, Any] = {k: t[k] for k in ("cycles", "seconds", "macs",
                                              "macs_issued", "macs_useful", "macs_skipped",
                                              "macs_gated", "utilization", "total_energy_pj",
                                              "dram_bits")}
    out["edp_pj_s"] = t["total_energy_pj"] * t["seconds"]
    for k, v in sorted(t["energy_pj"].items()):
        out[f"energy_pj.{k}"] = float(v)
    for k, v in sorted(t["stall_cycles"].items()):
        out[f"stall_cycles.{k}"] = int(v)
    out["warnings"] = len(r.all_warnings())
    return out


def layer_rows(r: NetworkResult) -> list[dict[str, Any]]:
    """Per-layer rows of the store's ``layers`` table."""
    return [{"idx": i, "layer": x.layer, "kind": x.kind, "model": x.model, "cycles": x.cycles,
             "seconds": x.seconds, "macs": x.macs, "macs_issued": x.macs_issued,
             "macs_useful": x.macs_useful, "utilization": x.utilization,
             "total_energy_pj": x.total_energy_pj, "dram_bits": x.level_bits("dram")}
            for i, x in enumerate(r.layers)]


_THREADS_SET = False


def _one_thread() -> None:
    global _THREADS_SET
    if not _THREADS_SET:
        import torch

        torch.set_num_threads(1)
        _THREADS_SET = True


def evaluate_task(t: Task) -> dict[str, Any]:
    """A row of the store for one task: its columns, the result columns, the status
    (ok, error), feasibility against the result constraints, the error text, and the
    per-layer rows under ``_layers`` when asked. Never raises for a bad point: the error
    goes into the row."""
    from accelscope.passes.point import evaluate_plain, evaluate_with_strategy

    row: dict[str, Any] = dict(t.columns)
    t0 = time.perf_counter()
    try:
        net = prepared(t.workload, t.cache_dir)
        options = {**net.options, "arch": t.spec.name, "compress": t.compress}
        if t.strategy is not None:
            r = evaluate_with_strategy(net, t.spec, t.strategy, "cpu", True, 1, {}, options)
        else:
            r = evaluate_plain(net, t.spec, t.compress, False, options)
        row.update(result_columns(r))
        violations = [v for c in t.constraints if (v := c.violation(row.get(c.name)))]
        missing = [c.name for c in t.constraints if c.name not in row]
        row.update(status="ok", feasible=int(not violations and not missing),
                   error="; ".join(violations + [f"{m}: not in this result" for m in missing])
                   or None)
        if t.layers:
            row["_layers"] = layer_rows(r)
    except AccelscopeError as exc:
        row.update(status="error", feasible=0, error=str(exc))
    except Exception as exc:  # a bug in a model: recorded, and the sweep goes on
        row.update(status="error", feasible=0,
                   error=f"internal error: {type(exc).__name__}: {exc} (a bug in accelscope, "
                         "not in the space; please report it)")
    row["eval_s"] = time.perf_counter() - t0
    row["worker"] = f"{socket.gethostname()}:{os.getpid()}"
    row["layers_stored"] = int(t.layers and row["status"] == "ok")
    return row


def run_tasks(tasks: Sequence[Task]) -> list[dict[str, Any]]:
    """A worker's job: evaluate a chunk of tasks (one torch thread)."""
    _one_thread()
    return [evaluate_task(t) for t in tasks]


# -- points -> tasks --
def spec_figures(spec: ArchSpec) -> dict[str, Any]:
    """Figures of a spec known before evaluation: peak MACs per cycle, on-chip bytes,
    clock, and the area when its model has an area model (``area_mm2``: the ``chip`` or
    ``total`` entry, else the sum of the components; null without one)."""
    from accelscope.models.registry import get_model

    out: dict[str, Any] = {"model": spec.model, "arch": spec.name,
                           "macs_per_cycle": spec.compute.macs_per_cycle,
                           "on_chip_bytes": spec.on_chip_bytes, "clock_hz": spec.clock_hz,
                           "area_mm2": None}
    area_fn = get_model(spec.model).area
    if area_fn is not None:
        parts = area_fn(spec)
        total = parts.get("chip", parts.get("total"))
        out["area_mm2"] = float(total if total is not None else sum(parts.values()))
        for k, v in parts.items():
            out[f"area_mm2.{k}"] = float(v)
    return out


def _lookup(resolved: Mapping[str, Any], path: str) -> Any:
    import re

    node: Any = resolved
    for part in path.split("."):
        m = re.match(r"^([A-Za-z_][A-Za-z0-9_-]*)((?:\[\d+\])*)$", part)
        if m is None:
            return None
        key = m.group(1)
        if isinstance(node, list):
            node = next((x for x in node if isinstance(x, dict) and x.get("name") == key),
                        None)
        elif isinstance(node, dict):
            node = node.get(key)
        for idx in re.findall(r"\[(\d+)\]", m.group(2)):
            node = node[int(idx)] if isinstance(node, list) and int(idx) < len(node) else None
    return node


@dataclass
class Planned:
    """The rows of one point: tasks to evaluate, or finished rows (errors, infeasible)."""

    point: Point
    point_key: str
    tasks: list[Task] = field(default_factory=list)
    rows: list[dict[str, Any]] = field(default_factory=list)


def plan_point(space: Space, point: Point, seq: int, *, layers: bool, cache_dir: str | None,
               ) -> Planned:
    """Resolve a point: its spec (or the located error), spec figures, the constraints that
    need no evaluation, its keys, and one task per network."""
    base, arch, work = settings(space, point)
    version = accelscope_version()
    seed = space.workload.seed
    workload_cols = {"prune": work.get("prune"), "batch": work.get("batch"),
                     "mode": work.get("mode"), "strategy": work.get("strategy"),
                     "compress": work.get("compress"), "seed": seed}
    common: dict[str, Any] = {
        "space": space.name, "sampler": space.sampler.kind, "base": base.label,
        "point": json.dumps(dict(point.values), sort_keys=True),
        **{k: _cell(v) for k, v in arch.items()}, **workload_cols}
    error = None
    spec = None
    figures: dict[str, Any] = {}
    try:
        spec = override(base.spec, arch, where=f"base {base.label}") if arch else base.spec
        figures = spec_figures(spec)
    except ArchError as exc:
        error = str(exc)
    except AccelscopeError as exc:  # an area model refusing the spec
        error = f"area: {exc}"
    if spec is not None:
        point_key = _digest({"spec": spec.resolved(), "work": workload_cols,
                             "version": version})
    else:
        point_key = _digest({"base": base.spec.resolved(), "set": arch, "work": workload_cols,
                             "version": version})
    plan = Planned(point, point_key)
    status, why = ("error", error) if error else ("ok", None)
    if spec is not None:
        resolved = spec.resolved()
        problems = []
        for c in space.constraints:
            if not c.before:
                continue
            value = figures.get(c.name) if c.name in figures else _lookup(resolved, c.name)
            if c.name == "area_mm2" and value is None:
                problems.append(f"area: model {spec.model!r} has no area model, so the "
                                "constraint on area_mm2 cannot be checked; drop it or use a "
                                "model with one (scnn)")
            elif (v := c.violation(value)) is not None:
                problems.append(v)
        needs_area = any(o.column == "area_mm2" for o in space.objectives)
        if needs_area and figures.get("area_mm2") is None and not problems:
            status, why = "error", (f"area: model {spec.model!r} has no area model, so the "
                                    "objective area cannot be computed; drop it or use a "
                                    "model with one (scnn)")
        elif problems:
            status = "error" if any(p.startswith("area:") for p in problems) else "infeasible"
            why = "; ".join(problems)
    for net in space.workload.networks:
        row_key = _digest({"point": point_key, "network": net})
        cols = {**common, **figures, "network": net, "row_key": row_key,
                "point_key": point_key, "seq": seq}
        if status != "ok" or spec is None:
            plan.rows.append({**cols, "status": status, "feasible": 0, "error": why,
                              "eval_s": 0.0, "worker": "main", "layers_stored": 0})
            continue
        opts = WorkloadOptions(net, work.get("prune"), work.get("batch"),
                               work.get("mode") or "actual", seed)
        plan.tasks.append(Task(row_key, spec, opts, work.get("strategy"),
                               work.get("compress"), cols,
                               tuple(c for c in space.constraints if not c.before),
                               layers, cache_dir))
    return plan


# -- executors --
class Executor:
    """Runs chunks of tasks and yields each chunk's rows as it finishes."""

    workers = 1
    kind = "in-process"

    def run(self, chunks: Iterable[list[Task]]) -> Iterator[list[dict[str, Any]]]:
        for c in chunks:
            yield run_tasks(c)

    def close(self) -> None:
        pass


class LocalPool(Executor):
    """A local process pool: spawned workers (no fork after torch has started its threads),
    one torch thread each."""

    def __init__(self, workers: int):
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        self.workers = workers
        self.kind = "local"
        self._pool = ProcessPoolExecutor(max_workers=workers,
                                         mp_context=multiprocessing.get_context("spawn"))

    def run(self, chunks: Iterable[list[Task]]) -> Iterator[list[dict[str, Any]]]:
        from concurrent.futures import FIRST_COMPLETED, Future, wait

        pending: set[Future[list[dict[str, Any]]]] = set()
        it = iter(chunks)
        limit = 2 * self.workers  # few chunks in flight: a kill loses little, memory bounded
        exhausted = False
        while pending or not exhausted:
            while not exhausted and len(pending) < limit:
                c = next(it, None)
                if c is None:
                    exhausted = True
                else:
                    pending.add(self._pool.submit(run_tasks, c))
            if not pending:
                break
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for f in done:
                yield f.result()

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


class DaskExecutor(Executor):
    """A Dask distributed cluster: an existing scheduler (``tcp://HOST:PORT``) or, without
    one, a LocalCluster of ``workers`` single-threaded worker processes."""

    def __init__(self, scheduler: str | None, workers: int | None):
        from accelscope._extras import needs_extra

        with needs_extra("dse", "a Dask cluster (--scheduler / scheduler=)"):
            import importlib

            dist: Any = importlib.import_module("distributed")  # ships no types
        self._dist = dist
        self._cluster: Any = None
        self.kind = "dask"
        if scheduler:
            try:
                self._client: Any = dist.Client(scheduler, timeout="30s")
            except (OSError, TimeoutError, ValueError) as exc:
                raise AccelscopeError(
                    f"--scheduler {scheduler}: cannot reach a Dask scheduler there ({exc}); "
                    "start one with 'dask scheduler' and give its address, "
                    "tcp://HOST:PORT (docs/dse.md)") from None
        else:
            self._cluster = dist.LocalCluster(n_workers=workers or os.cpu_count() or 1,
                                         threads_per_worker=1, processes=True,
                                         dashboard_address=None)
            self._client = dist.Client(self._cluster)
        self.workers = max(1, len(self._client.scheduler_info().get("workers", {})) or
                           (workers or 1))

    def run(self, chunks: Iterable[list[Task]]) -> Iterator[list[dict[str, Any]]]:
        it = iter(chunks)
        limit = 2 * self.workers
        first = [c for _, c in zip(range(limit), it, strict=False)]
        if not first:
            return
        ac = self._dist.as_completed([self._client.submit(run_tasks, c, pure=False) for c in first])
        for f in ac:
            rows = f.result()
            f.release()
            nxt = next(it, None)
            if nxt is not None:
                ac.add(self._client.submit(run_tasks, nxt, pure=False))
            yield rows

    def close(self) -> None:
        self._client.close()
        if self._cluster is not None:
            self._cluster.close()


def make_executor(workers: int | None, scheduler: str | None, dask: bool = False
                  ) -> Executor:
    """The local pool (default, ``workers`` processes, default the CPU count), the main
    process (``workers=1``), or Dask (``scheduler`` given, or ``dask``)."""
    if scheduler or dask:
        return DaskExecutor(scheduler, workers)
    n = workers or os.cpu_count() or 1
    return Executor() if n <= 1 else LocalPool(n)


def chunked(tasks: Sequence[Task], workers: int, largest: int = 8) -> list[list[Task]]:
    """Tasks in chunks of up to ``largest`` (fewer when there are few tasks per worker), one
    network at a time so that a worker keeps one prepared network in memory."""
    size = max(1, min(largest, math.ceil(len(tasks) / max(4 * workers, 1))))
    out: list[list[Task]] = []
    for t in tasks:
        if out and len(out[-1]) < size and out[-1][0].workload == t.workload:
            out[-1].append(t)
        else:
            out.append([t])
    return out


ProgressFn = Callable[[int, int], None]
