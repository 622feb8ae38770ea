"""``accelscope run`` and ``accelscope compare``: one network on one or several architectures,
optionally under execution strategies, the DCT codec or maps kept on chip."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from accelscope.cli._app import (
    BatchOpt,
    CompressOpt,
    FmapsOpt,
    FuseChainOpt,
    HostOpt,
    HostThreadsOpt,
    InputOpt,
    ModelArg,
    ModeOpt,
    PruneOpt,
    SeedOpt,
    ShapeOpt,
    StrategyOpt,
    WeightsOpt,
    app,
    console,
    evaluate_with_progress,
    prepare,
    print_totals,
    run_output,
    warn,
    wrote,
)
from accelscope.errors import InputFileError
from accelscope.output import slug
from accelscope.report.compare import (
    compare_rows,
    compare_table_rows,
    reference_strategy,
    strategy_rows,
    strategy_table_rows,
    write_compare,
)
from accelscope.report.tables import (
    compress_table,
    fitted_table,
    layer_table,
    strategy_line,
)
from accelscope.report.writer import write_result

if TYPE_CHECKING:
    from accelscope.arch import ArchSpec
    from accelscope.models.contract import LayerWorkload
    from accelscope.output import RunOutput
    from accelscope.results import LayerResult, NetworkResult
    from accelscope.workload.gconv import Chain


def _strategy_guard(strategy: str | None, compress: str | None, fmaps_on_chip: bool,
                    host: str = "cpu", host_threads: int = 1) -> tuple[str, ...] | None:
    """The strategies parsed (None without --strategy); a clear error for combinations that
    are not modelled together, and for host options that would be ignored."""
    if strategy is None:
        if host != "cpu" or host_threads != 1:
            raise InputFileError("--host and --host-threads apply to --strategy "
                                 "host-fallback; add --strategy host-fallback (or drop them)")
        return None
    from accelscope.passes import parse_strategies

    strategies = parse_strategies(strategy)
    if compress is not None or fmaps_on_chip:
        raise InputFileError("--strategy cannot be combined with --compress or "
                             "--fmaps-on-chip yet; run them separately")
    return strategies


def _check_compress(compress: str) -> None:
    """A bad --compress, refused with the option named."""
    from accelscope.errors import AccelscopeError
    from accelscope.passes import check_compress

    try:
        check_compress(compress)
    except AccelscopeError as exc:
        if "--compress" in str(exc):
            raise
        raise InputFileError(f"--compress {compress!r}: {exc} (docs/dct.md)") from None


def _strategy_results(workloads: Sequence[LayerWorkload], spec: ArchSpec, chain: Chain,
                      strategies: Sequence[str], host: str, fuse: bool,
                      details: Mapping[str, Any],
                      cache: dict[tuple[Any, ...], LayerResult] | None = None,
                      host_threads: int = 1) -> list[NetworkResult]:
    from accelscope.passes import evaluate_strategy

    out = []
    cache = {} if cache is None else cache  # conv layers and host layers: evaluate once
    for s in strategies:
        with console.status(f"{spec.name}: strategy {s} ..."):
            out.append(evaluate_strategy(workloads, spec, s, chain=chain, host_spec=host,
                                         fuse=fuse, details=details, cache=cache,
                                         host_threads=host_threads or None))
    return out


def _compare_strategies(chain: Chain, workloads: Sequence[LayerWorkload],
                        specs: Sequence[ArchSpec], strategies: Sequence[str], host: str,
                        fuse: bool, baseline: str | None, out: RunOutput,
                        details: Mapping[str, Any], host_threads: int = 1) -> None:
    """compare --strategy: every arch under every strategy, ratios against the reference
    strategy (host-fallback when chosen, else the first) of the same arch, or of --baseline."""

    ref = reference_strategy(strategies)
    results: dict[tuple[str, str], NetworkResult] = {}
    # one host measurement per layer, shared by every arch
    cache: dict[tuple[Any, ...], LayerResult] = {}
    for sp in specs:
        for r in _strategy_results(workloads, sp, chain, strategies, host, fuse, details,
                                   cache, host_threads):
            results[(sp.name, r.details["strategy"])] = r
    rows = strategy_rows(results, ref, baseline)
    cols, trows = strategy_table_rows(rows)
    vs = f"{baseline} {ref}" if baseline else f"{ref} of the same arch"
    title = (f"{chain.name}: {len(chain.gconvs)} GConvs, {chain.total_macs / 1e9:.3f} G ops, "
             f"batch {chain.gconvs[0].N}: latency, energy, DRAM traffic, share of the time "
             "in non-conv layers, transfers and im2col, speed-up and energy efficiency vs "
             f"{vs}")
    right = set(cols) - {"arch", "strategy"}
    widths = [max(len(c), *(len(r[i]) for r in trows)) for i, c in enumerate(cols)]
    if sum(widths) + 2 * len(cols) <= console.width:
        console.print(fitted_table(title, cols, trows, flex="strategy", right=right))
    else:  # a narrow terminal: one table per arch
        console.print(title, highlight=False)
        for sp in specs:
            console.print(fitted_table(sp.name, cols[1:],
                                        [r[1:] for r in trows if r[0] == sp.name],
                                        flex="strategy", right=right))
    for r in results.values():
        console.print(strategy_line(r), highlight=False)
    for r in results.values():
        for w in r.all_warnings():
            warn(w, f" ({r.arch}, {r.details['strategy']})")
    with out as o:
        write_compare(o, {f"{a}-{s}": r for (a, s), r in results.items()}, rows,
                      f"{baseline or next(iter(results))[0]}-{ref}",
                      {f"{a}-{s}": f"{a}/{s}" for (a, s) in results})
    console.print(f"wrote {out.root}/: compare.csv, compare.png and per-arch results in "
                  "<arch>-<strategy>/", highlight=False)


def _compressed(result: NetworkResult, workloads: Sequence[LayerWorkload], spec: ArchSpec,
                compress: str | None, fmaps_on_chip: bool = False
                ) -> tuple[NetworkResult, str | None]:
    """Apply --compress and --fmaps-on-chip; returns (result, the on-chip summary line or
    None)."""
    from accelscope.passes import code_and_place

    result, summary = code_and_place(result, workloads, spec, compress, fmaps_on_chip)
    return result, summary.line() if summary is not None else None


@app.command("run")
def run_cmd(
    ctx: typer.Context,
    model: ModelArg,
    arch: Annotated[str, typer.Option(help="preset name or path to an arch YAML")],
    batch: BatchOpt = None, input: InputOpt = "random", prune: PruneOpt = None,
    out: Annotated[Path | None, typer.Option(
        help="directory for results.json, results.csv, layers.png "
             "(default out/MODEL-ARCH)")] = None,
    mode: ModeOpt = "actual", weights: WeightsOpt = None, input_shape: ShapeOpt = None,
    seed: SeedOpt = 0,
    rows: Annotated[int | None, typer.Option(min=0, help="show at most this many layers")
                    ] = None,
    compress: CompressOpt = None, fmaps_on_chip: FmapsOpt = False,
    strategy: StrategyOpt = None, host: HostOpt = "cpu", fuse_chain: FuseChainOpt = True,
    host_threads: HostThreadsOpt = 1,
) -> None:
    """Evaluate every GConv of a network on one architecture; print and save the results."""
    from accelscope.arch import load_arch

    spec = load_arch(arch)
    strategies = _strategy_guard(strategy, compress, fmaps_on_chip, host, host_threads)
    if compress is not None:
        _check_compress(compress)  # a bad --compress fails before the network runs
    dest = run_output(ctx, out, Path(model).stem, spec.name)  # a bad --out fails now
    chain, workloads, pruned = prepare(model, input_shape, batch, weights, seed, input,
                                        prune, mode)
    if out is None and slug(chain.name) != slug(Path(model).stem):
        dest = run_output(ctx, None, chain.name, spec.name)
    if strategies is not None:
        results = _strategy_results(workloads, spec, chain, strategies, host, fuse_chain,
                                    {"mode": mode, "input": input, "prune": pruned or "none",
                                     "seed": seed}, host_threads=host_threads)
        for r in results:
            console.print(layer_table(r, rows))
            print_totals(r)
            console.print(strategy_line(r), highlight=False)
        with dest as o:
            for r in results:
                write_result(r, o, r.details["strategy"])
        wrote(dest)
        return
    result = evaluate_with_progress(workloads, spec, chain, {"mode": mode, "input": input,
                                                "prune": pruned or "none", "seed": seed})
    result, line = _compressed(result, workloads, spec, compress, fmaps_on_chip)
    console.print(layer_table(result, rows))
    if compress is not None or fmaps_on_chip:
        console.print(compress_table(result, rows))
    if line:
        console.print(line, highlight=False)
    print_totals(result)
    from accelscope.validate import published_tables

    for title, cols, trows in published_tables(result):
        console.print(fitted_table(title, cols, trows, flex="layer", right=set(cols[1:])))
    with dest as o:
        write_result(result, o)
    wrote(dest)


@app.command("compare")
def compare_cmd(
    ctx: typer.Context,
    model: ModelArg,
    arch: Annotated[str, typer.Option(help="comma-separated presets or YAML paths")],
    baseline: Annotated[str | None, typer.Option(
        help="the arch the ratios are relative to (default: the first)")] = None,
    batch: BatchOpt = None, input: InputOpt = "random", prune: PruneOpt = None,
    out: Annotated[Path | None, typer.Option(
        help="directory for compare.csv, compare.png and each arch's results "
             "(default out/compare-MODEL)")] = None,
    mode: ModeOpt = "actual", weights: WeightsOpt = None, input_shape: ShapeOpt = None,
    seed: SeedOpt = 0, compress: CompressOpt = None, fmaps_on_chip: FmapsOpt = False,
    strategy: StrategyOpt = None, host: HostOpt = "cpu", fuse_chain: FuseChainOpt = True,
    host_threads: HostThreadsOpt = 1,
) -> None:
    """Evaluate a network on several architectures and print the totals side by side."""
    from accelscope.arch import load_arch

    refs = [a.strip() for a in arch.split(",") if a.strip()]
    if len(refs) < 1:
        raise InputFileError("--arch needs at least one preset name or YAML path")
    specs = [load_arch(a) for a in refs]
    names = [s.name for s in specs]
    if len(set(names)) != len(names):
        raise InputFileError(f"--arch names an architecture twice: {', '.join(names)}")
    base_i = 0
    if baseline is not None:
        if baseline not in names and baseline not in refs:
            raise InputFileError(f"--baseline {baseline!r} is not one of --arch "
                                 f"({', '.join(names)})")
        base_i = names.index(baseline) if baseline in names else refs.index(baseline)
    strategies = _strategy_guard(strategy, compress, fmaps_on_chip, host, host_threads)
    if compress is not None:
        _check_compress(compress)  # a bad --compress fails before the network runs
    dest = run_output(ctx, out, "compare", Path(model).stem)
    chain, workloads, pruned = prepare(model, input_shape, batch, weights, seed, input,
                                        prune, mode)
    if out is None and slug(chain.name) != slug(Path(model).stem):
        dest = run_output(ctx, None, "compare", chain.name)
    details = {"mode": mode, "input": input, "prune": pruned or "none", "seed": seed}
    if strategies is not None:
        _compare_strategies(chain, workloads, specs, strategies, host, fuse_chain,
                            names[base_i] if baseline is not None else None, dest, details,
                            host_threads)
        return
    if compress is not None:
        details["compress"] = compress
    results, lines = [], []
    for sp in specs:
        r, line = _compressed(evaluate_with_progress(workloads, sp, chain, details), workloads, sp,
                              compress, fmaps_on_chip)
        results.append(r)
        if line:
            lines.append(line)
    base = results[base_i]
    rows = compare_rows(results, base_i)
    cols, trows = compare_table_rows(rows)
    title = (f"{chain.name}: {len(chain.gconvs)} GConvs, {chain.total_macs / 1e9:.3f} G ops, "
             f"batch {chain.gconvs[0].N} (ratios vs {base.arch})")
    widths = [max(len(c), *(len(r[i]) for r in trows)) for i, c in enumerate(cols)]
    if sum(widths) + 3 * len(cols) <= console.width:
        table = fitted_table(title, cols, trows, flex="model",
                              right=set(cols) - {"arch", "model"})
    else:  # a narrow terminal: one column per arch instead of one row
        names = [r[0] for r in trows]
        table = fitted_table(title, [""] + names,
                              [[c] + [r[i] for r in trows] for i, c in enumerate(cols)
                               if i > 0], flex="", right=set(names))
    console.print(table)
    for line in lines:
        console.print(line, highlight=False)
    for r in results:
        for w in r.all_warnings():
            warn(w, f" ({r.arch})")
    with dest as o:
        write_compare(o, {r.arch: r for r in results}, rows, base.arch)
    console.print(f"wrote {dest.root}/: compare.csv, compare.png and per-arch results in "
                  "<arch>/", highlight=False)
