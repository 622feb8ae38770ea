"""What every command shares: the typer app, the consoles (no markup), the option types, the
output directory of a run, progress and totals."""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal, cast

import typer
from rich.console import Console
from rich.text import Text

from accelscope.errors import AccelscopeError, InputFileError
from accelscope.output import MANIFEST, RunOutput, default_dir, read_manifest, slug

if TYPE_CHECKING:
    from accelscope.arch import ArchSpec
    from accelscope.pipeline import PreparedNetwork
    from accelscope.results import NetworkResult

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="Lower whole CNNs into GConv chains and evaluate them on accelerator "
                       "models.")
# No user text (names, paths, error messages) is ever read as rich markup: styles are given
# as Text spans, never as "[red]...[/]" inside a string.

console = Console(markup=False)
"""Data: tables, totals, JSON. Off a terminal (a pipe, a file) it neither wraps nor narrows:
``fit_consoles`` widens it at the start of every command."""

err_console = Console(stderr=True, markup=False)
"""Everything else: progress, spinners, warnings, what was written."""

PIPE_WIDTH = 10_000
"""Columns of a console that is not a terminal: wide enough for any table, so nothing is
wrapped, folded or dropped in a pipe."""


def fit_consoles(quiet: bool = False) -> None:
    """Called by each command first: a console that is not a terminal gets ``PIPE_WIDTH``
    columns (rich's default there is 80); ``quiet`` silences stderr's progress and
    notes (errors are printed by ``main`` regardless)."""
    for c in (console, err_console):
        c.width = PIPE_WIDTH if not c.is_terminal else None  # type: ignore[assignment]
        c.quiet = False
    err_console.quiet = quiet


def status(text: str) -> Any:
    """A spinner on stderr around a slow step."""
    return err_console.status(text)


def _show_version(value: bool) -> None:
    if value:
        from accelscope import __version__

        console.print(f"accelscope {__version__}", highlight=False)
        raise typer.Exit()


@app.callback()
def _root(version: Annotated[bool, typer.Option(
        "--version", callback=_show_version, is_eager=True,
        help="print the version and exit")] = False) -> None:
    fit_consoles()


def styled(*parts: str | tuple[str, str]) -> Text:
    """Plain strings and (text, style) pairs joined into one Text; nothing is parsed."""
    return Text.assemble(*parts)


def warn(w: str, where: str = "") -> None:
    err_console.print(styled((f"warning{where}:", "yellow"), " ", w), highlight=False)


def command_line(ctx: typer.Context) -> str:
    """The command line of the running command (its options as parsed), for the manifest."""
    import shlex

    parts = ["accelscope", *ctx.command_path.split()[1:]]
    positional = {p.name for p in ctx.command.params if p.param_type_name == "argument"}
    for k, v in ctx.params.items():
        if k in positional:
            parts.append(str(v))
    for k, v in ctx.params.items():
        if k in positional or v is None or v is False or v == []:
            continue
        parts.append(f"--{k.replace('_', '-')}" + ("" if v is True else f"={v}"))
    return " ".join(shlex.quote(p) for p in parts)


def run_output(ctx: typer.Context, out: Path | None, *default_parts: str,
               force: bool = False) -> RunOutput:
    """The output directory of a run: ``--out`` or ``out/PART-PART``, checked now. The
    default directory is not replaced by a run with other options (a different command
    line in its manifest) unless ``force``."""
    command = command_line(ctx)
    if out is not None:
        return RunOutput(out, command=command)
    root = default_dir(*map(slug, default_parts))
    if not force and (root / MANIFEST).is_file():
        try:
            before = str(read_manifest(root).get("command", ""))
        except AccelscopeError:
            before = ""  # an incomplete or changed directory: replaced, as before
        if before and _without_force(before) != _without_force(command):
            raise InputFileError(
                f"{root} holds the output of another run ({before}); give --out DIR for "
                "this one, or --force to replace it")
    return RunOutput(root, command=command)


def _without_force(command: str) -> str:
    return " ".join(p for p in command.split() if p not in ("--force", "--quiet", "-q",
                                                             "--json", "--no-plot",
                                                             "--report"))


class LayerProgress:
    """A progress bar on stderr for the layers of each evaluation (``accelscope.api``'s
    ``progress`` hook); use as a context manager around the calls."""

    def __enter__(self) -> LayerProgress:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

        self._bar = Progress("[progress.description]{task.description}", BarColumn(),
                             MofNCompleteColumn(), TimeElapsedColumn(), console=err_console,
                             transient=True)
        self._bar.__enter__()
        self._tasks: dict[str, Any] = {}
        return self

    def __exit__(self, *exc: object) -> None:
        self._bar.__exit__(None, None, None)

    def __call__(self, label: str, done: int, total: int) -> None:
        if label not in self._tasks:
            self._tasks[label] = self._bar.add_task(label, total=total)
        self._bar.update(self._tasks[label], completed=done)


def print_totals(result: NetworkResult, out: Console | None = None) -> None:
    """The result's one-line totals on ``out`` (default: the data console); its warnings
    go to standard error."""
    energy = ", ".join(f"{k} {v * 1e-9:.4g} mJ" for k, v in
                       sorted(result.energy_pj.items(), key=lambda kv: -kv[1]))
    stalls = ", ".join(f"{k} {v:,}" for k, v in result.stall_cycles.items() if v)
    (out or console).print(styled(
        (f"{result.network} on {result.arch}", "bold"),
        f": {result.cycles:,} cycles = "
        f"{result.seconds * 1e3:.4g} ms at {result.clock_hz / 1e6:g} MHz; energy "
        f"{result.total_energy_pj * 1e-9:.4g} mJ ({energy or 'not modelled'}); DRAM "
        f"{result.level_bits('dram') / 8e6:.4g} MB; utilization {result.utilization:.1%}"
        + (f"; stalls: {stalls}" if stalls else "")))
    for w in result.all_warnings():
        warn(w)


def wrote(out: RunOutput) -> None:
    err_console.print(f"wrote {out.root}/: " + ", ".join(
        str(f.relative_to(out.root)) for f in out.files), highlight=False)


def items(values: Sequence[str] | None) -> list[str]:
    """A list option given repeated (``--arch a --arch b``), comma-separated (``--arch a,b``)
    or both: the items in order, blanks dropped."""
    return [p.strip() for v in values or () for p in v.split(",") if p.strip()]


def joined(values: Sequence[str] | None) -> str | None:
    """A list option as one comma-separated string (None when not given)."""
    return ",".join(items(values)) if values else None


def _complete_items(choices: Sequence[str]) -> Any:
    """Shell completion of a comma-separated list: the last item from ``choices``."""
    def complete(incomplete: str) -> list[str]:
        head, _, last = incomplete.rpartition(",")
        prefix = f"{head}," if head else ""
        return [prefix + c for c in choices if c.startswith(last)]
    return complete


def _complete_presets(incomplete: str) -> list[str]:
    from accelscope.arch import preset_names

    return _complete_items(preset_names())(incomplete)  # type: ignore[no-any-return]


def _complete_models(incomplete: str) -> list[str]:
    from accelscope.workload import zoo

    return [n for n in zoo.names() if n.startswith(incomplete)]


ModelArg = Annotated[str, typer.Argument(help="zoo model name or path to an .onnx file",
                                         autocompletion=_complete_models)]


ArchOpt = Annotated[str, typer.Option(help="preset name or path to an arch YAML",
                                      autocompletion=_complete_presets)]


ArchListOpt = Annotated[list[str], typer.Option(
    help="presets or YAML paths, comma-separated or repeated",
    autocompletion=_complete_presets)]


BatchOpt = Annotated[int | None, typer.Option(help="batch size N")]


InputOpt = Annotated[str, typer.Option(
    "--input", help="'random' (seeded) or an image file, resized and ImageNet-normalised")]


PruneOpt = Annotated[str | None, typer.Option(
    help="prune weights first: 0.7 (prune 70 %), magnitude:0.3 (keep 30 %), nm:2:4, "
         "block:4x1:0.5 (docs/sparsity.md)")]


class Mode(StrEnum):
    actual = "actual"
    statistical = "statistical"


ModeOpt = Annotated[Mode, typer.Option(help="actual (real tensors) or statistical (densities)")]


WeightsOpt = Annotated[Path | None, typer.Option(help="state_dict file for a zoo model")]


ShapeOpt = Annotated[str | None, typer.Option("--input-shape", help="N,C,H,W")]


SeedOpt = Annotated[int, typer.Option(min=0, max=2**63 - 1,
                                       help="seed of random weights and input")]


CompressOpt = Annotated[str | None, typer.Option(
    help="code inter-layer feature maps in DRAM with the DCT codec: dct or "
         "dct:quality=75,format=rle,... (docs/dct.md)")]


FmapsOpt = Annotated[bool, typer.Option(
    "--fmaps-on-chip", help="split the preset's on-chip SRAM per layer into scratchpad and "
                            "feature-map buffer and keep the maps that fit on chip "
                            "(coded sizes with --compress; docs/dct.md)")]


STRATEGIES = ("gconv", "dedicated", "host-fallback", "matrix")


StrategyOpt = Annotated[list[str] | None, typer.Option(
    autocompletion=_complete_items(STRATEGIES),
    help="execution strategies, comma-separated or repeated: gconv (whole chain on the "
         "accelerator; systolic/SPOTS run non-conv layers on the array in GConv form), "
         "dedicated (non-conv layers on the vector unit beside the array), host-fallback "
         "(only conv/FC on it, the rest measured on the host CPU, transfers through DRAM), "
         "matrix (non-conv layers as im2col + vector ops); docs/gconv.md")]


class Host(StrEnum):
    cpu = "cpu"
    gpu = "gpu"


HostOpt = Annotated[Host, typer.Option(
    "--host", help="with --strategy host-fallback: the measured host preset")]


HostThreadsOpt = Annotated[int, typer.Option(
    "--host-threads", min=0, help="with --strategy host-fallback: PyTorch threads of a CPU host "
                           "(0 = the preset's setting; default 1: repeatable on a loaded "
                           "machine, docs/gconv.md)")]


FuseChainOpt = Annotated[bool, typer.Option(
    "--fuse-chain/--no-fuse-chain",
    help="with --strategy: keep intermediates between consecutive accelerator GConvs on chip "
         "when they fit the fusion buffer (docs/gconv.md)")]


def prepare(model: str, input_shape: str | None, batch: int | None, weights: Path | None,
            seed: int, input_spec: str, prune: str | None, mode: str) -> PreparedNetwork:
    """Lower (and prune) the network and build its per-GConv workloads once, with spinners
    on stderr; options are refused with their command-line names."""
    from accelscope.api import prepare as prepare_net

    if prune is not None and not prune.strip():
        raise InputFileError("--prune is empty; give a prune spec such as 0.7, magnitude:0.3, "
                             "nm:2:4 (docs/sparsity.md), or drop the option")
    if mode not in ("actual", "statistical"):
        raise InputFileError(f"--mode {mode!r} is not a mode; use actual (real tensors) or "
                             "statistical (densities)")
    p = prepare_net(model, input_shape=input_shape, batch=batch, weights=weights, seed=seed,
                    input=input_spec, prune=prune,
                    mode=cast(Literal["actual", "statistical"], mode), status=status)
    if p.prune:
        err_console.print(f"pruned {p.prune}: weight density {p.prune_density:.3f} over "
                          f"{p.prune_layers} layers", highlight=False)
        for w in p.prune_warnings:
            warn(w)
    return p


def settings(values: Sequence[str] | None) -> dict[str, Any]:
    """``--set KEY=VALUE`` options as an overrides mapping (the last of a key wins is an
    error: a key given twice is refused)."""
    from accelscope.arch import parse_setting

    out: dict[str, Any] = {}
    for text in values or ():
        key, value = parse_setting(text)
        if key in out:
            raise InputFileError(f"--set {key} is given twice; keep one")
        out[key] = value
    return out


def arch_with_settings(arch: str, values: Sequence[str] | None) -> ArchSpec:
    """``--arch`` loaded with ``--set`` applied (errors name ``--set``)."""
    from accelscope.arch import load_arch, override

    spec = load_arch(arch)
    changes = settings(values)
    return override(spec, changes, where="--set") if changes else spec


SetOpt = Annotated[list[str] | None, typer.Option(
    "--set", metavar="KEY=VALUE",
    help="change one field of the architecture, e.g. --set compute.array=[64,8] --set "
         "memory.glb.size_bytes=65536 (dotted path as in the YAML; repeatable; validated "
         "like the file)")]


JsonOpt = Annotated[bool, typer.Option(
    "--json", help="write the result as JSON to stdout (tables and notes go to stderr)")]


QuietOpt = Annotated[bool, typer.Option(
    "--quiet", "-q", help="no progress, notes or warnings on stderr (errors still shown)")]


NoPlotOpt = Annotated[bool, typer.Option("--no-plot", help="skip the PNG plots")]


ForceOpt = Annotated[bool, typer.Option(
    "--force", help="replace the default output directory even if it holds another run's "
                    "output")]
