"""``accelscope validate``: our numbers next to the published ones."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.text import Text

from accelscope.cli._app import (
    JsonOpt,
    QuietOpt,
    app,
    console,
    err_console,
    fit_consoles,
    run_output,
    status,
    styled,
    wrote,
)
from accelscope.cli.report import ReportOpt, write_report
from accelscope.report.tables import (
    fitted_table,
)

_STYLE = {"ok": "green", "FAIL": "red", "outside": "yellow"}


@app.command("validate")
def validate_cmd(
    ctx: typer.Context,
    only: Annotated[str, typer.Option(help="only targets whose name starts with this, e.g. "
                                           "cgra or spots.speedup")] = "",
    sources: Annotated[bool, typer.Option("--sources", help="print each target's source "
                                          "and note")] = False,
    out: Annotated[Path | None, typer.Option(
        help="directory for validate.json and validate.csv (default: no files; with "
             "--report: out/validate)")] = None,
    json_: JsonOpt = False, quiet: QuietOpt = False, report: ReportOpt = False,
) -> None:
    """Compare our numbers with the published ones; exit 1 if a must-hold target fails."""
    from accelscope import validate

    fit_consoles(quiet)
    dest = (run_output(ctx, out, "validate") if out is not None or report
            else None)  # a bad --out fails now
    with status("computing validation targets ..."):
        results = validate.run(only)
    doc = validate.report(results, only)
    table = err_console if json_ else console
    rows = []
    for r in results:
        t = r.target
        rows.append([t.name, "must" if t.level == "must_hold" else "info",
                     f"{t.published:.6g}", "error" if r.ours is None else f"{r.ours:.6g}",
                     t.unit, "-" if r.rel_error is None else f"{100 * r.rel_error:.2g}%",
                     f"{100 * t.tolerance:.2g}%", Text(r.verdict, _STYLE[r.verdict])])
    table.print(fitted_table("published vs accelscope (must = must hold, info = informative)",
                             ["target", "level", "published", "ours", "unit", "error", "tol",
                              "result"], rows, flex="target",
                             right={"published", "ours", "error", "tol"}))
    for r in results:
        if r.error:
            table.print(styled((r.target.name, "red"), f": {r.error}"), highlight=False)
    if sources:
        for r in results:
            note = f" -- {r.target.note}" if r.target.note else ""
            table.print(f"{r.target.name}: {r.target.source}{note}", highlight=False)
    s = doc["summary"]
    table.print(f"{s['targets']} targets: {s['passed']} within tolerance, "
                f"{s['must_hold_failed']} must-hold failed, {s['informative_outside']} "
                "informative outside tolerance" + ("" if sources else
                                                   " (--sources prints the citations)"),
                highlight=False)
    if dest is not None:
        import pandas as pd

        with dest as o:
            o.write_text("validate.json", json.dumps(doc, indent=1))
            pd.DataFrame(doc["targets"]).to_csv(o.path("validate.csv"), index=False)
            if report:
                write_report(o, doc)
        wrote(dest)
    if json_:
        console.print_json(json.dumps(doc))
    if s["must_hold_failed"]:
        raise typer.Exit(1)
