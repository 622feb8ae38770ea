"""``accelscope report``: one self-contained HTML page of a run, a comparison, a validation or
a sweep (docs/report.md); and the ``--report`` option of ``run``, ``compare`` and
``validate``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from accelscope.cli._app import QuietOpt, app, err_console, fit_consoles, status

if TYPE_CHECKING:
    from accelscope.output import RunOutput
    from accelscope.workload.gconv import Chain

ReportOpt = Annotated[bool, typer.Option(
    "--report", help="also write report.html, one self-contained HTML page of the results "
                     "(docs/report.md)")]


def write_report(out: RunOutput, what: Any, chain: Chain | None = None) -> None:
    """``report.html`` of ``what`` (a result, a comparison, a validate document) into the
    output directory ``out`` (inside its ``with`` block)."""
    from accelscope.api import report
    from accelscope.report.html import REPORT_FILE

    with status("rendering report.html ..."):
        out.write_text(REPORT_FILE, report(what, chain=chain))


def default_target(path: Path) -> Path:
    """Where ``report PATH`` writes without ``-o``: ``report.html`` in the directory (or
    beside the file)."""
    return (path if path.is_dir() else path.parent) / "report.html"


@app.command("report")
def report_cmd(
    path: Annotated[Path, typer.Argument(
        help="a run directory (results.json), a compare directory (compare.csv), a validate "
             "result (validate.json or 'validate --json' output) or a sweep store")],
    output: Annotated[Path | None, typer.Option(
        "--output", "-o", help="the HTML file to write (default: report.html in PATH, or "
                               "beside it when PATH is a file)")] = None,
    shapes: Annotated[bool, typer.Option(
        "--shapes/--no-shapes", help="lower a zoo network again for the layers' shapes on "
                                     "hover (results.json does not hold them)")] = True,
    quiet: QuietOpt = False,
) -> None:
    """Write one self-contained HTML page (plots, tables, no network needed to view it) of a
    run, a comparison, a validation or a sweep."""
    from accelscope.api import report
    from accelscope.output import check_file_target
    from accelscope.report.html import page_kind

    fit_consoles(quiet)
    kind = page_kind(path)  # a path of no known kind is refused before any work
    target = check_file_target(output if output is not None else default_target(path),
                               "--output")
    with status(f"rendering the {kind} report ..."):
        page = report(path, target, shapes=shapes)
    err_console.print(f"wrote {target} ({kind} page, {len(page.encode()) / 1024:,.0f} KiB)",
                      highlight=False)
