"""The Python API: everything the command line does, as calls (re-exported from
``accelscope``; docs/api.md).

    net = accelscope.prepare("resnet18", prune="0.7")          # lower + prune + run, once
    r = accelscope.evaluate(net, "spots")                      # a NetworkResult
    c = accelscope.compare(net, ["ideal", "spots", "scnn"])    # a Comparison
    spec = accelscope.arch.override("spots", {"memory.ifm_sram.size_bytes": 65536})

``model`` is a zoo name, an ``.onnx`` path, an ``nn.Module`` (with ``input_shape``), a
``Chain`` or a ``PreparedNetwork`` (prepared once, evaluated on any number of
architectures). ``arch`` is a preset name, a YAML path, a mapping or an ``ArchSpec``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

import torch

from accelscope.arch import ArchSpec, load_arch, override
from accelscope.dse import Space, Store, SweepSummary, run_sweep
from accelscope.dse import open_store as _open_store
from accelscope.errors import AccelscopeError
from accelscope.passes.point import (
    Progress,
    Status,
    check_pass_options,
    evaluate_plain,
    evaluate_with_strategy,
    parse_strategy_option,
)
from accelscope.pipeline import PreparedNetwork, prepare_network
from accelscope.report.compare import (
    Comparison,
    compare_rows,
    reference_strategy,
    strategy_rows,
)
from accelscope.results import LayerResult, NetworkResult
from accelscope.workload.execute import execute
from accelscope.workload.gconv import Chain
from accelscope.workload.lower import lower

if TYPE_CHECKING:
    import pandas as pd

    from accelscope.report.html import Report, SweepData

Network = str | os.PathLike[str] | Chain | torch.nn.Module | PreparedNetwork
Arch = str | os.PathLike[str] | Mapping[str, Any] | ArchSpec


def prepare(model: Network, *, input_shape: str | Sequence[int] | None = None,
            batch: int | None = None, weights: str | os.PathLike[str] | None = None,
            seed: int = 0, input: str | torch.Tensor = "random", prune: str | None = None,
            mode: Literal["actual", "statistical"] = "actual",
            status: Status | None = None) -> PreparedNetwork:
    """Lower ``model``, prune its weights (``prune``: ``0.7``, ``magnitude:0.3``,
    ``nm:2:4``, ``block:4x1:0.5``; docs/sparsity.md), run it once on ``input`` (``random``:
    seeded N(0, 1); an image path; or a tensor) to capture the real activations, and build the
    per-GConv workloads. ``mode='statistical'`` keeps densities only (fast sweeps)."""
    if isinstance(model, PreparedNetwork):
        given: dict[str, Any] = {k: v for k, v, default in (
            ("input_shape", input_shape, None), ("batch", batch, None),
            ("weights", weights, None), ("seed", seed, 0), ("prune", prune, None),
            ("mode", mode, "actual")) if v != default}
        if not isinstance(input, str) or input != "random":
            given["input"] = input
        if given:
            raise AccelscopeError(f"{', '.join(given)}: the network {model.chain.name!r} is "
                                  "already prepared; these options belong to "
                                  "accelscope.prepare(...)")
        return model
    return prepare_network(model, input_shape=input_shape, batch=batch,
                           weights=None if weights is None else os.fspath(weights), seed=seed,
                           input=input, prune=prune, mode=mode, status=status)


def _spec(arch: Arch, overrides: Mapping[str, Any] | None) -> ArchSpec:
    spec = load_arch(arch)
    return override(spec, overrides) if overrides else spec


def _options(net: PreparedNetwork, **extra: Any) -> dict[str, Any]:
    return {**net.options, **{k: v for k, v in extra.items()}}


def evaluate(model: Network, arch: Arch, *, overrides: Mapping[str, Any] | None = None,
             strategy: str | None = None, compress: str | None = None,
             fmaps_on_chip: bool = False, host: str = "cpu", host_threads: int = 1,
             fuse: bool = True, input_shape: str | Sequence[int] | None = None,
             batch: int | None = None, weights: str | os.PathLike[str] | None = None,
             seed: int = 0, input: str | torch.Tensor = "random", prune: str | None = None,
             mode: Literal["actual", "statistical"] = "actual",
             progress: Progress | None = None, status: Status | None = None
             ) -> NetworkResult:
    """Evaluate every GConv of ``model`` on ``arch`` (``accelscope run``).

    ``overrides``: dotted field paths set on the spec first (``{"compute.array": [64, 8],
    ...}``, as ``--set``). ``strategy``: one execution strategy (gconv, dedicated,
    host-fallback, matrix; docs/gconv.md) run on ``host`` (cpu or gpu) with ``fuse``;
    ``compress``: the DCT codec on inter-layer maps (``dct`` or ``dct:quality=75,...``;
    docs/dct.md); ``fmaps_on_chip``: keep the maps that fit in the on-chip SRAM. The other
    keywords are those of ``prepare``. The result records the resolved spec
    (``result.spec``) and every option (``result.options``)."""
    spec = _spec(arch, overrides)
    strategies = parse_strategy_option(strategy)
    if len(strategies) > 1:
        raise AccelscopeError(f"strategy: evaluate runs one strategy, got {strategy!r}; "
                              "compare(model, [arch], strategies=[...]) runs several")
    check_pass_options(strategies, compress, fmaps_on_chip, host, host_threads)
    net = prepare(model, input_shape=input_shape, batch=batch, weights=weights, seed=seed,
                  input=input, prune=prune, mode=mode, status=status)
    options = _options(net, arch=spec.name, overrides=dict(overrides or {}),
                       compress=compress, fmaps_on_chip=fmaps_on_chip)
    if strategies:
        return evaluate_with_strategy(net, spec, strategies[0], host, fuse, host_threads, {},
                                      {**options, "host": host, "host_threads": host_threads,
                                       "fuse": fuse}, status)
    return evaluate_plain(net, spec, compress, fmaps_on_chip, options, progress)


def compare(model: Network, archs: Sequence[Arch], *, baseline: str | None = None,
            overrides: Mapping[str, Any] | None = None,
            strategies: str | Sequence[str] | None = None, compress: str | None = None,
            fmaps_on_chip: bool = False, host: str = "cpu", host_threads: int = 1,
            fuse: bool = True, input_shape: str | Sequence[int] | None = None,
            batch: int | None = None, weights: str | os.PathLike[str] | None = None,
            seed: int = 0, input: str | torch.Tensor = "random", prune: str | None = None,
            mode: Literal["actual", "statistical"] = "actual",
            progress: Progress | None = None, status: Status | None = None) -> Comparison:
    """Evaluate ``model`` on every arch of ``archs`` (``accelscope compare``): the network
    is prepared once. Ratios are against ``baseline`` (an arch name; default the first).
    With ``strategies``, every arch runs under every strategy and the ratios are against the
    reference strategy (host-fallback when chosen, else the first) of the same arch, or of
    ``baseline``. ``overrides`` apply to every arch. Other keywords: as ``evaluate``."""
    if isinstance(archs, str | os.PathLike) or not isinstance(archs, Sequence):
        raise AccelscopeError("archs is a list of architectures, e.g. ['ideal', 'spots']")
    if not archs:
        raise AccelscopeError("archs is empty; give at least one architecture")
    specs = [_spec(a, overrides) for a in archs]
    names = [s.name for s in specs]
    if len(set(names)) != len(names):
        raise AccelscopeError(f"archs names an architecture twice: {', '.join(names)}")
    if baseline is not None and baseline not in names:
        refs = [os.fspath(a) if isinstance(a, str | os.PathLike) else None for a in archs]
        if baseline not in refs:
            raise AccelscopeError(f"baseline {baseline!r} is not one of the archs "
                                  f"({', '.join(names)})")
        baseline = names[refs.index(baseline)]
    strats = parse_strategy_option(strategies)
    check_pass_options(strats, compress, fmaps_on_chip, host, host_threads)
    net = prepare(model, input_shape=input_shape, batch=batch, weights=weights, seed=seed,
                  input=input, prune=prune, mode=mode, status=status)
    options = _options(net, archs=names, overrides=dict(overrides or {}),
                       baseline=baseline or names[0])
    if not strats:
        options.update(compress=compress, fmaps_on_chip=fmaps_on_chip)
        results = [evaluate_plain(net, sp, compress, fmaps_on_chip,
                                  {**options, "arch": sp.name}, progress) for sp in specs]
        base_i = names.index(baseline) if baseline is not None else 0
        return Comparison(net.chain.name, tuple((r.arch, r) for r in results),
                          tuple(compare_rows(results, base_i)), results[base_i].arch)
    ref = reference_strategy(strats)
    cache: dict[tuple[Any, ...], LayerResult] = {}  # one host measurement per layer, all archs
    by_key: dict[tuple[str, str], NetworkResult] = {}
    options.update(host=host, host_threads=host_threads, fuse=fuse, strategies=list(strats))
    for sp in specs:
        for s in strats:
            by_key[(sp.name, s)] = evaluate_with_strategy(
                net, sp, s, host, fuse, host_threads, cache, {**options, "arch": sp.name},
                status)
    rows = strategy_rows(by_key, ref, baseline)
    return Comparison(net.chain.name, tuple((f"{a}-{s}", r) for (a, s), r in by_key.items()),
                      tuple(rows), f"{baseline or names[0]}-{ref}", strats)


def sweep(space: str | os.PathLike[str] | Mapping[str, Any] | Space, *,
          out: str | os.PathLike[str] | None = None, workers: int | None = None,
          scheduler: str | None = None, dask: bool = False, layers: bool = False,
          cache_dir: str | os.PathLike[str] | None = None,
          progress: Callable[[int, int], None] | None = None,
          status: Status | None = None) -> SweepSummary:
    """Evaluate a design space (a YAML path or a mapping; docs/dse.md) into a results store
    (``accelscope sweep``): every point of its grid or sample, or the guided search, on every
    network of it. The store at ``out`` (default ``out/sweep-NAME``) keeps each finished row,
    so a rerun resumes. ``workers``: local processes (default the CPU count; 1: this
    process); ``scheduler``: a Dask scheduler's address, ``dask=True``: a local Dask cluster
    of ``workers``; ``layers``: per-layer rows too; ``progress(done, total)`` after each
    row. Returns what was done (``SweepSummary``); ``open_store(summary.store)`` reads it."""
    return run_sweep(space, out=out, workers=workers, scheduler=scheduler, dask=dask,
                     layers=layers, cache_dir=cache_dir, progress=progress, status=status)


def open_store(path: str | os.PathLike[str]) -> Store:
    """A sweep's results store (its directory or ``store.sqlite``): ``.to_dataframe()``,
    ``.layers_dataframe()``, ``.export("results.parquet")``."""
    return _open_store(path)


def pareto(store: str | os.PathLike[str] | Store | pd.DataFrame,
           objectives: str | Sequence[str] | None = None, *, by: str | None = "network",
           space: str | None = None) -> pd.DataFrame:
    """The Pareto-optimal feasible rows of a store (or of its DataFrame) over ``objectives``
    (``"latency,energy"``; ``latency``, ``energy``, ``area``, ``edp``, ``dram`` or any totals
    column, ``NAME:max`` to maximise; default: the space's objectives), one front per
    network (``by=None``: one over all rows)."""
    from accelscope.dse.pareto import pareto_front, store_frame

    df, objs = store_frame(store, objectives, space)
    return pareto_front(df, objs, by=by)


def report(result_or_path: Any, path: str | os.PathLike[str] | None = None, *,
            chain: Chain | PreparedNetwork | None = None, shapes: bool = True) -> Report:
    """The HTML report (docs/report.md) of a ``NetworkResult``, a ``Comparison``, a
    validation (``validate --json``'s document or a list of ``TargetResult``), a sweep
    ``Store``, or the path of a run or compare directory, a validate result or a sweep store:
    one self-contained page, returned as its text (a ``str`` that shows inline in Jupyter)
    and written to ``path`` when given. ``chain``: the network, for the layer shapes on
    hover; for a path without it, a zoo network is lowered again (``shapes=False``: not)."""
    from accelscope.report import html

    if isinstance(chain, PreparedNetwork):
        chain = chain.chain
    obj = result_or_path
    if isinstance(obj, str | os.PathLike):
        if html.page_kind(obj) == "sweep":
            with _open_store(obj) as st:
                obj = _sweep_data(st)
        else:
            obj = html.render_path(obj, chain=chain, shapes=shapes)
    elif isinstance(obj, Store):
        obj = _sweep_data(obj)
    elif isinstance(obj, Sequence) and not isinstance(obj, str) and obj and all(
            hasattr(t, "target") for t in obj):
        from accelscope import validate

        obj = validate.report(obj)
    page = obj if isinstance(obj, html.Report) else html.render(obj, chain=chain)
    if path is not None:
        page.save(path)
    return page


def _sweep_data(store: Store) -> SweepData:
    from accelscope.dse.pareto import (
        best_points,
        influence,
        objectives_of,
        parameter_columns,
        pareto_front,
        store_frame,
    )
    from accelscope.report.html import SweepData

    df, names = store_frame(store)
    objs = objectives_of(names)
    ok = len(df) > 0
    return SweepData(
        df, frozenset(pareto_front(df, objs)["row_key"]) if ok else frozenset(),
        tuple((o.name, o.column, o.maximise) for o in objs),
        tuple(parameter_columns(df)) if ok else (), best_points(df, objs),
        tuple(store.spaces()), str(store.file), influence(df, objs) if ok else None)


__all__ = ["Comparison", "Store", "SweepSummary", "compare", "evaluate", "execute",
           "load_arch", "lower", "open_store", "override", "pareto", "prepare", "report",
           "sweep"]
