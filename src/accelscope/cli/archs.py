"""``accelscope archs`` and ``accelscope archs show``."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from accelscope.cli._app import (
    JsonOpt,
    SetOpt,
    _complete_presets,
    app,
    arch_with_settings,
    console,
    fit_consoles,
)
from accelscope.report.tables import (
    fitted_table,
)

archs_app = typer.Typer(help="List architecture presets, or show one in full.",
                        invoke_without_command=True)
app.add_typer(archs_app, name="archs")


@archs_app.callback()
def archs_cmd(ctx: typer.Context, json_: JsonOpt = False) -> None:
    """List the architecture presets with their key parameters (``--json``: one object per
    preset on stdout)."""
    if ctx.invoked_subcommand is not None:
        return
    fit_consoles()
    from accelscope.arch import arch_rows

    presets = arch_rows()
    if json_:
        console.print_json(json.dumps(presets))
        return
    rows = []
    for r in presets:
        first = r["description"].split(". ")[0].split(": ")[0]
        rows.append([r["name"], r["model"], r["array"], f"{r['macs_per_cycle']:,}",
                     f"{r['clock_hz'] / 1e6:g} MHz", f"{r['technology_nm']} nm",
                     f"{r['on_chip_bytes'] / 1024:,.0f} KiB",
                     f"{r['dram_bits_per_cycle']:g}", first])
    table = fitted_table(
        "architecture presets (accelscope archs show NAME prints one in full)",
        ["name", "model", "array", "MACs/cycle", "clock", "node", "on-chip",
         "DRAM bits/cycle", "description"], rows, flex="description",
        right={"MACs/cycle", "on-chip", "DRAM bits/cycle"})
    console.print(table)


@archs_app.command("show")
def archs_show_cmd(name: Annotated[str, typer.Argument(
                       help="preset name or YAML path", autocompletion=_complete_presets)],
                   set_: SetOpt = None, json_: JsonOpt = False) -> None:
    """Print one architecture in full as YAML that loads back (every field with its unit in
    a comment; ``archs show gemmini > mine.yaml`` starts a design of one's own); ``--set``
    changes fields first; ``--json``: the resolved spec as JSON."""
    from accelscope.arch import format_arch

    fit_consoles()
    spec = arch_with_settings(name, set_)
    if json_:
        console.print_json(json.dumps(spec.resolved()))
        return
    console.print(format_arch(spec), highlight=False, soft_wrap=True, end="")
