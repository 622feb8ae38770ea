"""The ``accelscope`` command line: one module per command group, each parsing its options and
calling library functions (tables in ``report.tables``, the results writer in
``report.writer``, the network preparation in ``evaluate.prepare_network``)."""

from __future__ import annotations

import sys

from accelscope.cli import (  # noqa: F401
    archs,
    dse,
    evaluate,
    lower,
    report,
    scalesim,
    studies,
    validate,
)
from accelscope.cli._app import app, err_console, styled
from accelscope.errors import AccelscopeError

# the order of `accelscope --help`: the pipeline first, then the papers' studies
_ORDER = ("models", "lower", "run", "compare", "sweep", "pareto", "report", "sweep-density",
          "dct-accuracy", "scalesim", "eyeriss-dataflows", "validate", "cgra")
app.registered_commands.sort(key=lambda c: _ORDER.index(c.name) if c.name in _ORDER
                             else len(_ORDER))

EXIT_BAD_INPUT = 2


EXIT_BUG = 3


def main(argv: list[str] | None = None) -> None:
    """Console entry point. Bad input: a located one-paragraph error on stderr, exit status 2.
    Any other exception is a bug in accelscope: one line saying so and how to get the
    traceback (``--debug``, anywhere on the command line), exit status 3."""
    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args
    args = [a for a in args if a != "--debug"]
    try:
        app(args, prog_name="accelscope")
    except AccelscopeError as exc:
        if debug:
            raise
        err_console.quiet = False  # --quiet silences notes, never the error
        err_console.print(styled(("error:", "bold red"), f" {exc}"), highlight=False,
                          soft_wrap=True)
        sys.exit(EXIT_BAD_INPUT)
    except Exception as exc:
        if debug:
            raise
        import shlex

        err_console.quiet = False
        what = str(exc).splitlines()[0][:300] if str(exc) else ""
        err_console.print(styled(
            ("internal error:", "bold red"),
            f" {type(exc).__name__}{': ' + what if what else ''}. This is a bug in "
            "accelscope, not in your input; please report it with the command "
            f"'accelscope {shlex.join(args)} --debug', which prints the traceback."),
            highlight=False, soft_wrap=True)
        sys.exit(EXIT_BUG)


__all__ = ["EXIT_BAD_INPUT", "EXIT_BUG", "app", "main"]
