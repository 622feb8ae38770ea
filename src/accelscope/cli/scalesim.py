"""``accelscope scalesim``: a SCALE-Sim config and topology run by the systolic engine."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from accelscope.cli._app import (
    ForceOpt,
    QuietOpt,
    app,
    console,
    err_console,
    fit_consoles,
    run_output,
    styled,
    wrote,
)
from accelscope.report.tables import (
    fitted_table,
)


@app.command("scalesim")
def scalesim_cmd(
    ctx: typer.Context,
    config: Annotated[Path, typer.Option("--config", help="SCALE-Sim .cfg file")],
    topology: Annotated[Path, typer.Option("--topology", help="SCALE-Sim topology CSV")],
    gemm: Annotated[bool, typer.Option("--gemm", help="the topology lists GEMMs (name, M, "
                                                     "N, K) as with SCALE-Sim's -i gemm")
                    ] = False,
    max_cycles: Annotated[int | None, typer.Option(
        "--max-cycles", min=1,
        help="simulate topologies of up to this many compute cycles (default 2e9, a few "
             "minutes; a larger topology is refused before any work)")] = None,
    out: Annotated[Path | None, typer.Option(
        help="directory for COMPUTE_REPORT.csv, BANDWIDTH_REPORT.csv, "
             "DETAILED_ACCESS_REPORT.csv (default out/scalesim-RUN_NAME)")] = None,
    quiet: QuietOpt = False, force: ForceOpt = False,
) -> None:
    """Run a SCALE-Sim config and topology; write SCALE-Sim's three reports."""
    import time

    from accelscope.interop.scalesim import (
        MAX_SIM_CYCLES,
        check_work,
        read_config,
        read_topology,
        simulate,
        write_reports,
    )

    fit_consoles(quiet)
    cfg = read_config(config)
    layers = read_topology(topology, gemm=gemm)
    limit = max_cycles if max_cycles is not None else MAX_SIM_CYCLES
    check_work(cfg, layers, str(topology), limit)  # too large: refused before any work
    dest = run_output(ctx, out, "scalesim", cfg.run_name, force=force)
    t0 = time.perf_counter()
    reports = simulate(cfg, layers, max_cycles=limit)
    wall = time.perf_counter() - t0
    with dest as o:
        for p in write_reports(reports, o.staging):
            o.path(p.name)
    rows = []
    for r in reports:
        c, d = r.compute, r.detail
        rows.append([r.layer.name, f"{c['total_cycles_incl_prefetch']:,}",
                     f"{c['total_cycles']:,}", f"{c['stall_cycles']:,}",
                     f"{c['overall_util_pct']:.1f}", f"{c['mapping_efficiency_pct']:.1f}",
                     f"{d['ifmap_dram'][2]:,}", f"{d['filter_dram'][2]:,}",
                     f"{d['ofmap_dram'][2]:,}"])
    console.print(fitted_table(
        f"{cfg.run_name}: {cfg.array_rows}x{cfg.array_cols} {cfg.dataflow}, "
        f"{cfg.bandwidth_mode.upper()} bandwidth",
        ["layer", "cycles incl. prefetch", "cycles", "stalls", "util %", "map eff %",
         "DRAM ifmap rd", "DRAM filter rd", "DRAM ofmap wr"], rows, flex="layer",
        right={"cycles incl. prefetch", "cycles", "stalls", "util %", "map eff %",
               "DRAM ifmap rd", "DRAM filter rd", "DRAM ofmap wr"}))
    total = sum(r.compute["total_cycles"] for r in reports)
    console.print(f"{len(reports)} layers, {total:,} cycles, simulated in {wall:.3f} s",
                  highlight=False)
    for dflt in cfg.defaults_used:
        err_console.print(styled(("default:", "yellow"), f" {dflt} (not in {config})"),
                          highlight=False)
    wrote(dest)
