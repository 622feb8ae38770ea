"""``accelscope validate``: our numbers next to the published ones."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.text import Text

from accelscope.cli._app import (
    app,
    console,
    styled,
)
from accelscope.report.tables import (
    fitted_table,
)


@app.command("validate")
def validate_cmd(
    only: Annotated[str, typer.Option(help="only targets whose name starts with this")] = "",
    sources: Annotated[bool, typer.Option("--sources", help="print each target's source "
                                          "and note")] = False,
) -> None:
    """Compare our numbers with the published ones; exit 1 if a must-hold target fails."""

    from accelscope import validate

    with console.status("computing validation targets ..."):
        results = validate.run(only)
    rows = []
    for r in results:
        t = r.target
        verdict = (Text("ok", "green") if r.passed else
                   Text("FAIL", "red") if t.level == "must_hold" else Text("outside", "yellow"))
        rows.append([t.name, "must" if t.level == "must_hold" else "info",
                     f"{t.published:.6g}", "error" if r.ours is None else f"{r.ours:.6g}",
                     t.unit, "-" if r.rel_error is None else f"{100 * r.rel_error:.2g}%",
                     f"{100 * t.tolerance:.2g}%", verdict])
    table = fitted_table("published vs accelscope (must = must hold, info = informative)",
                          ["target", "level", "published", "ours", "unit", "error", "tol",
                           "result"], rows, flex="target",
                          right={"published", "ours", "error", "tol"})
    console.print(table)
    for r in results:
        if r.error:
            console.print(styled((r.target.name, "red"), f": {r.error}"), highlight=False)
    if sources:
        for r in results:
            note = f" -- {r.target.note}" if r.target.note else ""
            console.print(f"{r.target.name}: {r.target.source}{note}", highlight=False)
    s = validate.summary(results)
    console.print(f"{s['targets']} targets: {s['passed']} within tolerance, "
                  f"{s['must_hold_failed']} must-hold failed, {s['informative_outside']} "
                  "informative outside tolerance" + ("" if sources else
                                                     " (--sources prints the citations)"))
    if s["must_hold_failed"]:
        raise typer.Exit(1)
