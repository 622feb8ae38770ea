"""What every command shares: the typer app, the consoles (no markup), the option types, the
output directory of a run, progress and totals."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal, cast

import typer
from rich.console import Console
from rich.text import Text

from accelscope.output import RunOutput, default_dir, slug

if TYPE_CHECKING:
    from accelscope.arch import ArchSpec
    from accelscope.models.contract import LayerWorkload
    from accelscope.results import NetworkResult
    from accelscope.workload.gconv import Chain

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="Lower whole CNNs into GConv chains and evaluate them on accelerator "
                       "models.")
# No user text (names, paths, error messages) is ever read as rich markup: styles are given
# as Text spans, never as "[red]...[/]" inside a string.

console = Console(markup=False)

err_console = Console(stderr=True, markup=False)


def styled(*parts: str | tuple[str, str]) -> Text:
    """Plain strings and (text, style) pairs joined into one Text; nothing is parsed."""
    return Text.assemble(*parts)


def warn(w: str, where: str = "") -> None:
    console.print(styled((f"warning{where}:", "yellow"), " ", w), highlight=False)


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


def run_output(ctx: typer.Context, out: Path | None, *default_parts: str) -> RunOutput:
    """The output directory of a run: ``--out`` or ``out/PART-PART``, checked now."""
    return RunOutput(out if out is not None else default_dir(*map(slug, default_parts)),
                     command=command_line(ctx))


def evaluate_with_progress(workloads: Sequence[LayerWorkload], spec: ArchSpec, chain: Chain,
                           details: Mapping[str, Any]) -> NetworkResult:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    from accelscope.evaluate import evaluate_workloads

    with Progress("[progress.description]{task.description}", BarColumn(),
                  MofNCompleteColumn(), TimeElapsedColumn(), console=console,
                  transient=True) as bar:
        task = bar.add_task(f"{spec.name}", total=len(workloads))
        return evaluate_workloads(workloads, spec, network=chain.name,
                                  progress=lambda i, n: bar.update(task, completed=i),
                                  details=details)


def print_totals(result: NetworkResult) -> None:
    energy = ", ".join(f"{k} {v * 1e-9:.4g} mJ" for k, v in
                       sorted(result.energy_pj.items(), key=lambda kv: -kv[1]))
    stalls = ", ".join(f"{k} {v:,}" for k, v in result.stall_cycles.items() if v)
    console.print(styled(
        (f"{result.network} on {result.arch}", "bold"),
        f": {result.cycles:,} cycles = "
        f"{result.seconds * 1e3:.4g} ms at {result.clock_hz / 1e6:g} MHz; energy "
        f"{result.total_energy_pj * 1e-9:.4g} mJ ({energy or 'not modelled'}); DRAM "
        f"{result.level_bits('dram') / 8e6:.4g} MB; utilization {result.utilization:.1%}"
        + (f"; stalls: {stalls}" if stalls else "")))
    for w in result.all_warnings():
        warn(w)


def wrote(out: RunOutput) -> None:
    console.print(f"wrote {out.root}/: " + ", ".join(
        str(f.relative_to(out.root)) for f in out.files), highlight=False)


ModelArg = Annotated[str, typer.Argument(help="zoo model name or path to an .onnx file")]


BatchOpt = Annotated[int | None, typer.Option(help="batch size N")]


InputOpt = Annotated[str, typer.Option(
    "--input", help="'random' (seeded) or an image file, resized and ImageNet-normalised")]


PruneOpt = Annotated[str | None, typer.Option(
    help="prune weights first: 0.7 (prune 70 %), magnitude:0.3 (keep 30 %), nm:2:4, "
         "block:4x1:0.5 (docs/sparsity.md)")]


ModeOpt = Annotated[str, typer.Option(help="actual (real tensors) or statistical (densities)")]


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


StrategyOpt = Annotated[str | None, typer.Option(
    help="execution strategies, comma-separated: gconv (whole chain on the accelerator; "
         "systolic/SPOTS run non-conv layers on the array in GConv form), dedicated (non-conv "
         "layers on the vector unit beside the array), host-fallback (only conv/FC on it, the "
         "rest measured on the host CPU, transfers through DRAM), matrix (non-conv layers as "
         "im2col + vector ops); docs/gconv.md")]


HostOpt = Annotated[str, typer.Option(
    "--host", help="with --strategy host-fallback: the measured host preset (cpu or gpu)")]


HostThreadsOpt = Annotated[int, typer.Option(
    "--host-threads", min=0, help="with --strategy host-fallback: PyTorch threads of a CPU host "
                           "(0 = the preset's setting; default 1: repeatable on a loaded "
                           "machine, docs/gconv.md)")]


FuseChainOpt = Annotated[bool, typer.Option(
    "--fuse-chain/--no-fuse-chain",
    help="with --strategy: keep intermediates between consecutive accelerator GConvs on chip "
         "when they fit the fusion buffer (docs/gconv.md)")]


def prepare(model: str, input_shape: str | None, batch: int | None, weights: Path | None,
            seed: int, input_spec: str, prune: str | None, mode: str
            ) -> tuple[Chain, list[LayerWorkload], str | None]:
    """Lower (and prune) the network and build its per-GConv workloads once, with spinners;
    returns (chain, workloads, the prune spec or None)."""
    from accelscope.errors import InputFileError
    from accelscope.evaluate import prepare_network

    if prune is not None and not prune.strip():
        raise InputFileError("--prune is empty; give a prune spec such as 0.7, magnitude:0.3, "
                             "nm:2:4 (docs/sparsity.md), or drop the option")
    if mode not in ("actual", "statistical"):
        raise InputFileError(f"--mode {mode!r} is not a mode; use actual (real tensors) or "
                             "statistical (densities)")
    p = prepare_network(model, input_shape=input_shape, batch=batch, weights=weights,
                        seed=seed, input=input_spec, prune=prune,
                        mode=cast(Literal["actual", "statistical"], mode),
                        status=console.status)
    if p.prune:
        console.print(f"pruned {p.prune}: weight density {p.prune_density:.3f} over "
                      f"{p.prune_layers} layers", highlight=False)
        for w in p.prune_warnings:
            warn(w)
    return p.chain, list(p.workloads), p.prune
