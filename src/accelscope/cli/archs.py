"""``accelscope archs`` and ``accelscope archs show``."""

from __future__ import annotations

from typing import Annotated

import typer

from accelscope.cli._app import (
    app,
    console,
)
from accelscope.report.tables import (
    fitted_table,
)

archs_app = typer.Typer(help="List architecture presets, or show one in full.",
                        invoke_without_command=True)
app.add_typer(archs_app, name="archs")


@archs_app.callback()
def archs_cmd(ctx: typer.Context) -> None:
    """List the architecture presets with their key parameters."""
    if ctx.invoked_subcommand is not None:
        return

    from accelscope.arch import arch_rows

    rows = []
    for r in arch_rows():
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
def archs_show_cmd(name: Annotated[str, typer.Argument(help="preset name or YAML path")]
                   ) -> None:
    """Print one architecture in full, every field with its unit."""
    from accelscope.arch import format_arch, load_arch

    console.print(format_arch(load_arch(name)), highlight=False, soft_wrap=True)
