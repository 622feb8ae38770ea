"""``accelscope run`` and ``accelscope compare``: one network on one or several architectures,
optionally under execution strategies, the DCT codec or maps kept on chip."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from accelscope.cli._app import (
    ArchListOpt,
    ArchOpt,
    BatchOpt,
    CompressOpt,
    FmapsOpt,
    ForceOpt,
    FuseChainOpt,
    Host,
    HostOpt,
    HostThreadsOpt,
    InputOpt,
    JsonOpt,
    LayerProgress,
    Mode,
    ModelArg,
    ModeOpt,
    NoPlotOpt,
    PruneOpt,
    QuietOpt,
    SeedOpt,
    SetOpt,
    ShapeOpt,
    StrategyOpt,
    WeightsOpt,
    app,
    arch_with_settings,
    console,
    err_console,
    fit_consoles,
    items,
    joined,
    prepare,
    print_totals,
    run_output,
    settings,
    status,
    warn,
    wrote,
)
from accelscope.cli.report import ReportOpt, write_report
from accelscope.errors import AccelscopeError, InputFileError
from accelscope.output import slug
from accelscope.report.compare import (
    compare_table_rows,
    reference_strategy,
    strategy_table_rows,
)
from accelscope.report.tables import (
    compress_table,
    fitted_table,
    layer_table,
    strategy_line,
)
from accelscope.report.writer import write_result

if TYPE_CHECKING:
    from rich.console import Console

    from accelscope.report.compare import Comparison


_FLAGS = {"strategy": "--strategy", "host": "--host", "host_threads": "--host-threads",
          "compress": "--compress", "fmaps_on_chip": "--fmaps-on-chip",
          "host_fallback": "--strategy host-fallback"}


def _pass_options(strategy: str | None, compress: str | None, fmaps_on_chip: bool,
                  host: str, host_threads: int) -> None:
    """The API's checks of the pass options, refused with their command-line names."""
    from accelscope.passes.point import check_pass_options, parse_strategy_option

    try:
        check_pass_options(parse_strategy_option(strategy), compress, fmaps_on_chip, host,
                           host_threads, _FLAGS)
    except InputFileError:
        raise
    except AccelscopeError as exc:
        text = str(exc)
        if (compress is not None and "--compress" not in text
                and not text.startswith(tuple(_FLAGS.values()))):
            text = f"--compress {compress!r}: {text} (docs/dct.md)"
        raise InputFileError(text) from None


def _print_comparison(c: Comparison, chain_line: str, out: Console,
                      baseline_given: bool) -> None:
    """The comparison table on ``out``: one row per result when the console is wide enough,
    else one column per result (per arch for strategies)."""
    if c.strategies:
        cols, trows = strategy_table_rows(c.rows)
        ref = reference_strategy(c.strategies)
        vs = (f"{c.baseline.removesuffix('-' + ref)} {ref}" if baseline_given
              else f"{ref} of the same arch")
        title = (f"{chain_line}: latency, energy, DRAM traffic, share of the time in non-conv "
                 f"layers, transfers and im2col, speed-up and energy efficiency vs {vs}")
        right = set(cols) - {"arch", "strategy"}
        widths = [max(len(col), *(len(r[i]) for r in trows)) for i, col in enumerate(cols)]
        if sum(widths) + 2 * len(cols) <= out.width:
            out.print(fitted_table(title, cols, trows, flex="strategy", right=right))
        else:  # a narrow terminal: one table per arch
            out.print(title, highlight=False)
            for arch in dict.fromkeys(r[0] for r in trows):
                out.print(fitted_table(arch, cols[1:], [r[1:] for r in trows if r[0] == arch],
                                       flex="strategy", right=right))
        return
    cols, trows = compare_table_rows(c.rows)
    title = f"{chain_line} (ratios vs {c.baseline})"
    widths = [max(len(col), *(len(r[i]) for r in trows)) for i, col in enumerate(cols)]
    if sum(widths) + 3 * len(cols) <= out.width:
        table = fitted_table(title, cols, trows, flex="model",
                             right=set(cols) - {"arch", "model"})
    else:  # a narrow terminal: one column per arch instead of one row
        names = [r[0] for r in trows]
        table = fitted_table(title, [""] + names,
                             [[col] + [r[i] for r in trows] for i, col in enumerate(cols)
                              if i > 0], flex="", right=set(names))
    out.print(table)


@app.command("run")
def run_cmd(
    ctx: typer.Context,
    model: ModelArg,
    arch: ArchOpt,
    set_: SetOpt = None,
    batch: BatchOpt = None, input: InputOpt = "random", prune: PruneOpt = None,
    out: Annotated[Path | None, typer.Option(
        help="directory for results.json, results.csv, layers.png "
             "(default out/MODEL-ARCH)")] = None,
    mode: ModeOpt = Mode.actual, weights: WeightsOpt = None, input_shape: ShapeOpt = None,
    seed: SeedOpt = 0,
    rows: Annotated[int | None, typer.Option(min=0, help="show at most this many layers")
                    ] = None,
    compress: CompressOpt = None, fmaps_on_chip: FmapsOpt = False,
    strategy: StrategyOpt = None, host: HostOpt = Host.cpu, fuse_chain: FuseChainOpt = True,
    host_threads: HostThreadsOpt = 1, json_: JsonOpt = False, quiet: QuietOpt = False,
    no_plot: NoPlotOpt = False, force: ForceOpt = False, report: ReportOpt = False,
) -> None:
    """Evaluate every GConv of a network on one architecture; print and save the results."""
    from accelscope import api

    fit_consoles(quiet)
    spec = arch_with_settings(arch, set_)
    strategy_text = joined(strategy)
    _pass_options(strategy_text, compress, fmaps_on_chip, host.value, host_threads)
    from accelscope.passes import parse_strategies

    strategies = parse_strategies(strategy_text) if strategy_text is not None else ()
    dest = run_output(ctx, out, Path(model).stem, spec.name, force=force)  # checked now
    net = prepare(model, input_shape, batch, weights, seed, input, prune, mode.value)
    if out is None and slug(net.chain.name) != slug(Path(model).stem):
        dest = run_output(ctx, None, net.chain.name, spec.name, force=force)
    table = err_console if json_ else console
    if strategies:
        c = api.compare(net, [spec], strategies=list(strategies), host=host.value,
                        fuse=fuse_chain,
                        host_threads=host_threads, status=status)
        results = [r for _, r in c.results]
        for r in results:
            table.print(layer_table(r, rows))
            print_totals(r, table)
            table.print(strategy_line(r), highlight=False)
        with dest as o:
            for r in results:
                write_result(r, o, r.details["strategy"], plot=not no_plot)
            if report:
                write_report(o, c, net.chain)
        if json_:
            console.print_json(c.to_json(indent=None))
        wrote(dest)
        return
    with LayerProgress() as bar:
        result = api.evaluate(net, spec, compress=compress, fmaps_on_chip=fmaps_on_chip,
                              progress=bar)
    result = _with_command_options(result, set_)
    table.print(layer_table(result, rows))
    if compress is not None or fmaps_on_chip:
        table.print(compress_table(result, rows))
    if "on_chip" in result.details:
        table.print(result.details["on_chip"], highlight=False)
    print_totals(result, table)
    from accelscope.validate import published_tables

    for title, cols, trows in published_tables(result):
        table.print(fitted_table(title, cols, trows, flex="layer", right=set(cols[1:])))
    with dest as o:
        write_result(result, o, plot=not no_plot)
        if report:
            write_report(o, result, net.chain)
    if json_:
        console.print_json(result.to_json(indent=None))
    wrote(dest)


def _with_command_options(result: Any, set_: list[str] | None) -> Any:
    """The ``--set`` settings recorded as the result's overrides."""
    import dataclasses

    if not set_:
        return result
    return dataclasses.replace(result, options={**result.options,
                                                "overrides": settings(set_)})


@app.command("compare")
def compare_cmd(
    ctx: typer.Context,
    model: ModelArg,
    arch: ArchListOpt,
    set_: SetOpt = None,
    baseline: Annotated[str | None, typer.Option(
        help="the arch the ratios are relative to (default: the first)")] = None,
    batch: BatchOpt = None, input: InputOpt = "random", prune: PruneOpt = None,
    out: Annotated[Path | None, typer.Option(
        help="directory for compare.csv, compare.png and each arch's results "
             "(default out/compare-MODEL)")] = None,
    mode: ModeOpt = Mode.actual, weights: WeightsOpt = None, input_shape: ShapeOpt = None,
    seed: SeedOpt = 0, compress: CompressOpt = None, fmaps_on_chip: FmapsOpt = False,
    strategy: StrategyOpt = None, host: HostOpt = Host.cpu, fuse_chain: FuseChainOpt = True,
    host_threads: HostThreadsOpt = 1, json_: JsonOpt = False, quiet: QuietOpt = False,
    no_plot: NoPlotOpt = False, force: ForceOpt = False, report: ReportOpt = False,
) -> None:
    """Evaluate a network on several architectures and print the totals side by side."""
    from accelscope import api

    fit_consoles(quiet)
    refs = items(arch)
    if len(refs) < 1:
        raise InputFileError("--arch needs at least one preset name or YAML path")
    specs = [arch_with_settings(a, set_) for a in refs]
    names = [s.name for s in specs]
    if len(set(names)) != len(names):
        raise InputFileError(f"--arch names an architecture twice: {', '.join(names)}")
    if baseline is not None:
        if baseline not in names and baseline not in refs:
            raise InputFileError(f"--baseline {baseline!r} is not one of --arch "
                                 f"({', '.join(names)})")
        baseline = names[refs.index(baseline)] if baseline not in names else baseline
    strategy_text = joined(strategy)
    _pass_options(strategy_text, compress, fmaps_on_chip, host.value, host_threads)
    dest = run_output(ctx, out, "compare", Path(model).stem, force=force)
    net = prepare(model, input_shape, batch, weights, seed, input, prune, mode.value)
    if out is None and slug(net.chain.name) != slug(Path(model).stem):
        dest = run_output(ctx, None, "compare", net.chain.name, force=force)
    with LayerProgress() as bar:
        c = api.compare(net, specs, baseline=baseline, strategies=strategy_text,
                        host=host.value,
                        fuse=fuse_chain, host_threads=host_threads, compress=compress,
                        fmaps_on_chip=fmaps_on_chip, progress=bar, status=status)
    if set_:
        import dataclasses

        c = dataclasses.replace(c, results=tuple((k, _with_command_options(r, set_))
                                                 for k, r in c.results))
    chain = net.chain
    line = (f"{chain.name}: {len(chain.gconvs)} GConvs, {chain.total_macs / 1e9:.3f} G ops, "
            f"batch {chain.gconvs[0].N}")
    table = err_console if json_ else console
    _print_comparison(c, line, table, baseline is not None)
    for _, r in c.results:
        if "on_chip" in r.details:
            table.print(r.details["on_chip"], highlight=False)
        if c.strategies:
            table.print(strategy_line(r), highlight=False)
    for _, r in c.results:
        where = f" ({r.arch}, {r.details['strategy']})" if c.strategies else f" ({r.arch})"
        for w in r.all_warnings():
            warn(w, where)
    with dest as o:
        c.write(o, plot=not no_plot)
        if report:
            write_report(o, c, net.chain)
    if json_:
        console.print_json(c.to_json(indent=None))
    what = "<arch>-<strategy>/" if c.strategies else "<arch>/"
    err_console.print(f"wrote {dest.root}/: compare.csv, "
                      f"{'' if no_plot else 'compare.png, '}{'report.html, ' if report else ''}"
                      f"per-arch results in {what}",
                      highlight=False)
