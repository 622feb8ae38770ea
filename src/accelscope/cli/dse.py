"""``accelscope sweep`` and ``accelscope pareto``: a design space into a results store, and
the Pareto front of a store (docs/dse.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from accelscope.cli._app import (
    QuietOpt,
    app,
    console,
    err_console,
    fit_consoles,
    status,
    styled,
    warn,
)
from accelscope.cli.report import ReportOpt
from accelscope.errors import InputFileError


class _Bar:
    """Rows done, rate and ETA on stderr."""

    def __enter__(self) -> _Bar:
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TaskProgressColumn,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        self._bar = Progress(TextColumn("sweep"), BarColumn(), MofNCompleteColumn(),
                             TaskProgressColumn(), TextColumn("{task.fields[rate]}"),
                             TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(),
                             console=err_console, transient=False)
        self._bar.__enter__()
        self._task: Any = None
        import time

        self._t0 = time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        self._bar.__exit__(None, None, None)

    def __call__(self, done: int, total: int) -> None:
        import time

        if self._task is None:
            self._task = self._bar.add_task("sweep", total=total, rate="")
        dt = time.perf_counter() - self._t0
        rate = f"{done / dt:,.1f} rows/s" if dt > 0 and done else ""
        self._bar.update(self._task, completed=done, total=total, rate=rate)


@app.command("sweep")
def sweep_cmd(
    space: Annotated[Path, typer.Argument(help="design-space YAML (docs/dse.md, "
                                               "examples/dse/)")],
    out: Annotated[Path | None, typer.Option(
        help="store directory (default out/sweep-NAME); rerun with the same --out to "
             "resume")] = None,
    workers: Annotated[int | None, typer.Option(
        min=1, help="worker processes (default: the CPU count; 1: no pool); with --dask, "
                    "the LocalCluster's workers")] = None,
    scheduler: Annotated[str | None, typer.Option(
        help="a Dask scheduler, tcp://HOST:PORT: run the points on its workers")] = None,
    dask: Annotated[bool, typer.Option(
        "--dask", help="start a local Dask cluster of --workers processes")] = False,
    layers: Annotated[bool, typer.Option(
        "--layers", help="store per-layer rows too (table layers)")] = False,
    cache: Annotated[Path | None, typer.Option(
        help="workload cache directory (default OUT/workloads; share it between sweeps)"
    )] = None,
    export: Annotated[list[Path] | None, typer.Option(
        help="also write the results table to FILE.csv or FILE.parquet (repeatable)")
    ] = None,
    quiet: QuietOpt = False, report: ReportOpt = False,
) -> None:
    """Evaluate every point of a design space on its networks into a resumable store."""
    from accelscope import api
    from accelscope.dse import load_space

    fit_consoles(quiet)
    if scheduler is not None and dask:
        raise InputFileError("--scheduler and --dask: give one (--scheduler uses a running "
                             "cluster, --dask starts a local one)")
    if scheduler is not None and not scheduler.strip():
        raise InputFileError("--scheduler is empty; give tcp://HOST:PORT")
    for e in export or ():
        if e.suffix not in (".csv", ".parquet"):
            raise InputFileError(f"--export {e}: give a .csv or .parquet file name")
    sp = load_space(space)
    n = sp.grid_size() if sp.sampler.kind == "grid" else None
    what = (f"{n} points (grid)" if n is not None else
            f"{sp.sampler.n} {'trials (guided)' if sp.sampler.kind == 'guided' else 'points per base (' + sp.sampler.kind + ')'}")  # noqa: E501
    err_console.print(f"{sp.name}: {len(sp.bases)} base(s), {what} x "
                      f"{len(sp.workload.networks)} network(s)", highlight=False)
    try:
        with _Bar() as bar:
            summary = api.sweep(sp, out=out, workers=workers, scheduler=scheduler, dask=dask,
                                layers=layers, cache_dir=cache, progress=bar, status=status)
    except KeyboardInterrupt:
        where = out or Path("out") / f"sweep-{sp.name}"
        err_console.print(styled(("interrupted:", "yellow"),
                                 f" the finished rows are in {where}; run the same command "
                                 "again to resume"), highlight=False)
        raise typer.Exit(130) from None
    console.print(summary.line(), highlight=False)
    if summary.errors:
        warn(f"{summary.errors} row(s) have errors (column error; accelscope pareto "
             f"{summary.store} --errors lists them)")
    with api.open_store(summary.store) as st:
        for e in export or ():
            err_console.print(f"wrote {st.export(e)}", highlight=False)
    if report:
        from accelscope.report.html import REPORT_FILE

        target = Path(summary.store) / REPORT_FILE
        with status("rendering report.html ..."):
            api.report(summary.store, target)
        err_console.print(f"wrote {target}", highlight=False)
    err_console.print(f"store: {summary.store}/store.sqlite; next: accelscope pareto "
                      f"{summary.store}", highlight=False)


def _num(v: Any, fmt: str) -> str:
    import math

    return "-" if v is None or (isinstance(v, float) and math.isnan(v)) else fmt.format(v)


@app.command("pareto")
def pareto_cmd(
    store: Annotated[Path, typer.Argument(help="a sweep's store directory")],
    objectives: Annotated[str | None, typer.Option(
        help="comma-separated, minimised: latency, energy, area, edp, dram or any totals "
             "column (NAME:max to maximise); default: the space's objectives")] = None,
    space: Annotated[str | None, typer.Option(
        help="only the rows of this space (a store may hold several)")] = None,
    plot: Annotated[Path | None, typer.Option(
        help="scatter PNG path (default STORE/pareto.png)")] = None,
    no_plot: Annotated[bool, typer.Option("--no-plot", help="skip the scatter PNG")] = False,
    errors: Annotated[bool, typer.Option("--errors", help="list the rows with errors")
                      ] = False,
    export: Annotated[Path | None, typer.Option(
        help="write the front to FILE.csv or FILE.parquet")] = None,
    quiet: QuietOpt = False,
) -> None:
    """The Pareto front of a store per network, the best point per objective, which axis
    moves each objective most, and a scatter plot with the front highlighted."""
    from accelscope.dse.pareto import (
        best_points,
        front_table,
        influence,
        objectives_of,
        pareto_front,
        scatter,
        store_frame,
    )
    from accelscope.report.tables import fitted_table

    fit_consoles(quiet)
    if export is not None and export.suffix not in (".csv", ".parquet"):
        raise InputFileError(f"--export {export}: give a .csv or .parquet file name")
    df, objs_given = store_frame(store, objectives, space)
    objs = objectives_of(objs_given)
    if not len(df):
        raise InputFileError(f"{store}: the store has no rows yet; run accelscope sweep")
    counts = df["status"].value_counts().to_dict()
    err_console.print(f"{len(df)} rows: " + ", ".join(f"{v} {k}" for k, v in counts.items()),
                      highlight=False)
    if errors:
        for _, r in df[df["status"] != "ok"].iterrows():
            err_console.print(styled((f"{r['base']} {Path(str(r['network'])).name} "
                                      f"{r['point']}:", "yellow"), f" {r['error']}"),
                              highlight=False)
    front = pareto_front(df, objs)
    from accelscope.dse.pareto import parameter_columns

    header, rows = front_table(front, objs, parameter_columns(df))
    console.print(fitted_table(f"Pareto front over {', '.join(o.name for o in objs)} "
                               f"({len(front)} rows; minimised unless :max)", header, rows,
                               flex="base", right=set(header[2:])))
    best = best_points(df, objs)
    if len(best):
        console.print(fitted_table("best point per network and objective",
                                   ["network", "objective", "value", "base", "parameters"],
                                   [[Path(str(r.network)).name, str(r.objective),
                                     f"{r.value:.4g}", str(r.base), str(r.parameters)]
                                    for r in best.itertuples()],
                                   flex="parameters", right={"value"}))
    inf = influence(df, objs)
    if len(inf):
        console.print(fitted_table(
            "which axis moves which objective (eta^2: share of the variance of log10 "
            "objective its values explain; spearman: rank correlation)",
            ["objective", "axis", "eta2", "spearman"],
            [[str(r.objective), str(r.axis), _num(r.eta2, "{:.3f}"),
              _num(r.spearman, "{:+.3f}")]
             for r in inf.itertuples()], flex="axis", right={"eta2", "spearman"}))
    if export is not None:
        import io

        from accelscope.output import write_file

        if export.suffix == ".csv":
            write_file(export, front.to_csv(index=False), "--export")
        else:
            buf = io.BytesIO()
            front.to_parquet(buf, index=False)
            write_file(export, buf.getvalue(), "--export")
        err_console.print(f"wrote {export}", highlight=False)
    if not no_plot and len(objs) >= 2:
        from accelscope.dse.store import store_file

        target = plot or store_file(store).parent / "pareto.png"
        scatter(df, objs, target)
        err_console.print(f"wrote {target}", highlight=False)
