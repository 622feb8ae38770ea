"""The ``accelscope`` command line."""

from __future__ import annotations

import dataclasses
import re
import sys
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from accelscope.errors import AccelscopeError, InputFileError, ShapeError
from accelscope.output import (
    RunOutput,
    atomic_target,
    check_file_target,
    default_dir,
    slug,
    write_file,
)

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


def _warn(w: str, where: str = "") -> None:
    console.print(styled((f"warning{where}:", "yellow"), " ", w), highlight=False)


def _command(ctx: typer.Context) -> str:
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


def _run_output(ctx: typer.Context, out: Path | None, *default_parts: str) -> RunOutput:
    """The output directory of a run: ``--out`` or ``out/PART-PART``, checked now."""
    return RunOutput(out if out is not None else default_dir(*map(slug, default_parts)),
                     command=_command(ctx))


def human(n: float) -> str:
    """1234567 -> '1.23M' (SI, three significant digits)."""
    for unit, scale in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(n) >= scale:
            return f"{n / scale:.3g}{unit}" if n / scale < 100 else f"{n / scale:.0f}{unit}"
    return f"{n:g}"


def parse_shape(text: str) -> tuple[int, ...]:
    parts = [p for p in re.split(r"[,\s]+|(?<=\d)x(?=\d)", text.strip()) if p]
    try:
        shape = tuple(int(p) for p in parts)
    except ValueError:
        shape = ()
    if not shape or any(s < 1 for s in shape):
        raise ShapeError(f"--input-shape {text!r} is not a list of positive integers; "
                         "write it as N,C,H,W, e.g. --input-shape 1,3,224,224")
    return shape


@app.command("models")
def models_cmd() -> None:
    """List the models of the zoo with their default input shapes."""
    from accelscope.workload import zoo

    table = Table(title="accelscope model zoo (seeded random weights unless --weights)")
    for col in ("name", "input (N,C,H,W)", "description", "source"):
        table.add_column(col)
    for row in zoo.describe():
        table.add_row(row["name"], ",".join(map(str, row["input_shape"])), row["description"],
                      row["source"])
    console.print(table)


def _load(model: str, input_shape: str | None, batch: int | None, weights: Path | None,
          seed: int):
    """Resolve MODEL (zoo name or .onnx path) to (module or None, onnx path or None, input)."""
    import torch

    from accelscope.workload import zoo

    shape = parse_shape(input_shape) if input_shape else None
    if model.endswith(".onnx") or Path(model).suffix == ".onnx":
        path = Path(model)
        if not path.exists():
            raise InputFileError(f"{path}: no such ONNX file; give a path to a .onnx file or a "
                                 "zoo name (accelscope models lists them)")
        if weights is not None:
            raise InputFileError("--weights applies to zoo models; an ONNX file carries its "
                                 "own weights")
        return None, path, shape
    zm = zoo.get(model, weights=weights, seed=seed, input_shape=shape, batch=batch)
    x = zm.example_input(seed=seed)
    return zm, None, x if isinstance(x, torch.Tensor) else None


def _gconv_table(chain, limit: int | None) -> Table:
    from rich import box

    batch = chain.gconvs[0].N if chain.gconvs else 1
    table = Table(title=f"{chain.name}: {len(chain.gconvs)} GConvs, {len(chain.views)} views, "
                        f"batch {batch} ({chain.source})", box=box.SIMPLE_HEAD, show_edge=False,
                  padding=(0, 0), pad_edge=False)
    cols = ("#", "name", "kind", "G", "K", "C", "PxQ", "RxS", "stride", "MACs", "weights",
            "output")
    rows = []
    for i, g in enumerate(chain.gconvs if limit is None else chain.gconvs[:limit]):
        stride = (f"{g.stride[0]}x{g.stride[1]}" if g.stride[0] != g.stride[1]
                  else str(g.stride[0]))
        rows.append((str(i), g.name, g.kind, str(g.G), str(g.K), str(g.C), f"{g.P}x{g.Q}",
                     f"{g.R}x{g.S}", stride, human(g.macs), human(g.weight_elems),
                     human(g.output_elems)))
    if limit is not None and len(chain.gconvs) > limit:
        rows.append(("...", f"({len(chain.gconvs) - limit} more)", *[""] * 10))
    total = ("", "total", "", *[""] * 6, human(chain.total_macs), human(chain.weight_elems), "")
    for j, col in enumerate(cols):
        width = max(len(r[j]) for r in [*rows, total, cols])
        table.add_column(col, justify="left" if col in ("name", "kind") else "right",
                         no_wrap=True, overflow="ellipsis",
                         min_width=None if col == "name" else width,
                         max_width=26 if col == "name" else None)
    for r in rows:
        table.add_row(*r)
    table.add_section()
    table.add_row(*total)
    return table


@app.command("lower")
def lower_cmd(
    model: Annotated[str, typer.Argument(help="zoo model name or path to an .onnx file")],
    input_shape: Annotated[str | None, typer.Option(
        "--input-shape", help="N,C,H,W (default: the model's standard input)")] = None,
    batch: Annotated[int | None, typer.Option(help="batch size N (zoo models)")] = None,
    weights: Annotated[Path | None, typer.Option(
        help="state_dict file for a zoo model (torch.save(model.state_dict(), PATH))")] = None,
    seed: Annotated[int, typer.Option(help="seed of the random weights and input")] = 0,
    verify: Annotated[bool, typer.Option(
        "--verify", help="execute the chain and compare with PyTorch (or ONNX Runtime)")] = False,
    tolerance: Annotated[float | None, typer.Option(
        help="max relative error for --verify (default 1e-4, or 1e-9 with --float64)")] = None,
    float64: Annotated[bool, typer.Option("--float64", help="lower and verify in float64")] = False,
    fuse: Annotated[bool, typer.Option(help="fuse point-wise ops and batch-norm")] = True,
    json_out: Annotated[Path | None, typer.Option("--json", help="write the chain as JSON")] = None,
    rows: Annotated[int | None, typer.Option(help="show at most this many GConv rows")] = None,
) -> None:
    """Lower a network into a GConv chain, print it, and optionally verify it numerically."""
    import torch

    from accelscope.api import lower
    from accelscope.workload.execute import execute, relative_error

    dtype = torch.float64 if float64 else None
    if json_out is not None:
        check_file_target(json_out, "--json")  # before the lowering, not after
    zm, onnx_path, x = _load(model, input_shape, batch, weights, seed)
    t0 = time.perf_counter()
    if zm is not None:
        chain = lower(zm.module, x, name=zm.name, fuse=fuse, dtype=dtype)
    else:
        chain = lower(str(onnx_path), input_shape=x, fuse=fuse)
    t_lower = time.perf_counter() - t0
    console.print(_gconv_table(chain, rows))
    console.print(styled(
        (chain.name, "bold"),
        f": {len(chain.gconvs)} GConvs + {len(chain.views)} layout views; "
        f"{chain.total_macs:,} map-reduce ops in all, {chain.conv_fc_macs:,} conv/FC MACs "
        f"({chain.conv_fc_macs / 1e9:.3f} G); {chain.weight_elems:,} weights; "
        f"lowered and checked in {t_lower:.2f} s"))
    if json_out is not None:
        write_file(json_out, chain.to_json(), "--json")
        console.print(f"wrote {json_out}", highlight=False)
    if verify:
        tol = tolerance if tolerance is not None else (1e-9 if float64 else 1e-4)
        shape = chain.tensors[chain.inputs[0]].shape
        if zm is not None:
            xin = x.to(dtype) if dtype is not None else x
            module = zm.module.to(dtype) if dtype is not None else zm.module
            with torch.no_grad():
                ref = module(xin)
            ref_name = "PyTorch eager"
        else:
            import numpy as np
            import onnxruntime as ort

            gen = torch.Generator().manual_seed(seed)
            xin = torch.randn(shape, generator=gen)
            sess = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
            feed = {sess.get_inputs()[0].name: xin.numpy().astype(np.float32)}
            ref = torch.from_numpy(sess.run(None, feed)[0])
            ref_name = "ONNX Runtime"
        t0 = time.perf_counter()
        out = execute(chain, xin)
        t_exec = time.perf_counter() - t0
        err = relative_error(out, ref)
        ok = err <= tol
        style = "green" if ok else "red"
        console.print(styled(f"verify: chain output vs {ref_name} on a seeded input of shape "
                             f"{tuple(shape)}: max relative error ", (f"{err:.2e}", style),
                             f" (tolerance {tol:g}) -> ", ("PASS" if ok else "FAIL", style),
                             f" (executor {t_exec:.2f} s)"), highlight=False)
        if not ok:
            raise typer.Exit(1)


# -- evaluation -----------------------------------------------------------------------------
def _input_tensor(spec: str, zm, onnx_shape, seed: int):
    """--input: 'random' (seeded N(0, 1)) or an image file resized to the model's input."""
    import torch

    shape = zm.input_shape if zm is not None else onnx_shape
    if spec == "random":
        if shape is None:
            return None
        return torch.randn(tuple(shape), generator=torch.Generator().manual_seed(seed))
    path = Path(spec)
    if not path.is_file():
        raise InputFileError(f"--input {spec}: no such image file; give a PNG/JPEG path or "
                             "'random'")
    if shape is None:
        raise ShapeError("--input IMAGE with an ONNX model needs --input-shape N,C,H,W")
    try:
        from PIL import Image

        img = Image.open(path).convert("RGB" if shape[1] == 3 else "L")
    except Exception as exc:
        raise InputFileError(f"--input {spec}: cannot be read as an image ({exc})") from None
    import numpy as np

    img = img.resize((shape[3], shape[2]))
    arr = torch.from_numpy(np.asarray(img, dtype=np.float32) / 255.0)
    arr = arr.permute(2, 0, 1) if arr.ndim == 3 else arr[None]
    if shape[1] == 3:  # the ImageNet normalisation torchvision models expect
        mean = torch.tensor([0.485, 0.456, 0.406])[:, None, None]
        std = torch.tensor([0.229, 0.224, 0.225])[:, None, None]
        arr = (arr - mean) / std
    return arr[None].expand(shape[0], *arr.shape).contiguous()


def _prepare(model: str, input_shape, batch, weights, seed, input_spec, prune, mode):
    """Lower (and prune) the network and build its per-GConv workloads once."""
    from accelscope.api import lower
    from accelscope.evaluate import build_workloads

    zm, onnx_path, x = _load(model, input_shape, batch, weights, seed)
    with console.status(f"lowering {model} ..."):
        if zm is not None:
            chain = lower(zm.module, x, name=zm.name)
        else:
            chain = lower(str(onnx_path), input_shape=x)
    xin = _input_tensor(input_spec, zm, chain.tensors[chain.inputs[0]].shape, seed)
    prune_note = None
    if prune:
        from accelscope.sparsity.prune import prune as prune_weights

        pruned = prune_weights(chain, prune)
        chain = pruned.chain
        prune_note = prune
        console.print(f"pruned {prune}: weight density {pruned.density:.3f} over "
                      f"{len(pruned.layers)} layers", highlight=False)
        for w in pruned.warnings():
            _warn(w)
    with console.status(f"executing {chain.name} to capture real activations ..."):
        workloads = build_workloads(chain, xin, mode=mode, seed=seed)
    return chain, workloads, prune_note


def _evaluate(workloads, spec, chain, details):
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    from accelscope.evaluate import evaluate_workloads

    with Progress("[progress.description]{task.description}", BarColumn(),
                  MofNCompleteColumn(), TimeElapsedColumn(), console=console,
                  transient=True) as bar:
        task = bar.add_task(f"{spec.name}", total=len(workloads))
        return evaluate_workloads(workloads, spec, network=chain.name,
                                  progress=lambda i, n: bar.update(task, completed=i),
                                  details=details)


def _fitted_table(title: str, cols: list[str], rows: list[list[str]], *, flex: str,
                  right: set[str]) -> Table:
    """A table whose columns keep their full width; only ``flex`` shrinks (and folds or
    ellipsises) when the terminal is narrow."""
    from rich import box

    table = Table(title=title, box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    for i, col in enumerate(cols):
        width = max([len(col)] + [Text(r[i]).cell_len if isinstance(r[i], str)
                                  else r[i].cell_len for r in rows])
        table.add_column(col, justify="right" if col in right else "left",
                         no_wrap=col != flex,
                         overflow="fold" if col == flex else "ellipsis",
                         min_width=None if col == flex else width)
    for r in rows:
        table.add_row(*r)
    return table


def _layer_table(result, limit: int | None) -> Table:
    from rich import box

    how = (f", strategy {result.details['strategy']}" if "strategy" in result.details
           else "")
    table = Table(title=f"{result.network} on {result.arch} ({result.model} model{how})",
                  box=box.SIMPLE_HEAD, show_edge=False, padding=(0, 0), pad_edge=False)
    for col in ("#", "layer", "kind", "cycles", "ms", "util", "MACs", "useful", "energy uJ",
                "DRAM kB"):
        table.add_column(col, justify="left" if col in ("layer", "kind") else "right",
                         no_wrap=True, overflow="ellipsis",
                         max_width=24 if col == "layer" else None,
                         min_width=None if col == "layer" else len(col) + 1)
    layers = result.layers if limit is None else result.layers[:limit]
    for i, r in enumerate(layers):
        table.add_row(str(i), r.layer, r.kind, human(r.cycles), f"{r.seconds * 1e3:.3f}",
                      f"{r.utilization:.0%}", human(r.macs),
                      f"{r.macs_useful / r.macs:.0%}" if r.macs else "-",
                      f"{r.total_energy_pj * 1e-6:.1f}",
                      f"{r.level_bits('dram') / 8e3:.1f}" if r.level_bits("dram") else "-")
    if limit is not None and len(result.layers) > limit:
        table.add_row("...", f"({len(result.layers) - limit} more)", *[""] * 8)
    table.add_section()
    dram = result.level_bits("dram")
    table.add_row("", "total", "", human(result.cycles), f"{result.seconds * 1e3:.3f}",
                  f"{result.utilization:.0%}", human(result.macs),
                  f"{result.macs_useful / result.macs:.0%}" if result.macs else "-",
                  f"{result.total_energy_pj * 1e-6:.1f}", f"{dram / 8e3:.1f}" if dram else "-")
    return table


def _print_totals(result) -> None:
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
        _warn(w)


def _write_results(result, out: RunOutput, sub: str = "", plot: bool = True) -> None:
    """results.json, results.csv and layers.png of one result, under ``sub`` of ``out``."""
    from accelscope.report import plot_network

    prefix = f"{sub}/" if sub else ""
    out.write_text(f"{prefix}results.json", result.to_json())
    out.write_text(f"{prefix}results.csv", result.to_csv())
    if plot:
        plot_network(result, out.path(f"{prefix}layers.png"))


def _wrote(out: RunOutput) -> None:
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
SeedOpt = Annotated[int, typer.Option(help="seed of random weights and input")]
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
    "--host-threads", help="with --strategy host-fallback: PyTorch threads of a CPU host "
                           "(0 = the preset's setting; default 1: repeatable on a loaded "
                           "machine, docs/gconv.md)")]
FuseChainOpt = Annotated[bool, typer.Option(
    "--fuse-chain/--no-fuse-chain",
    help="with --strategy: keep intermediates between consecutive accelerator GConvs on chip "
         "when they fit the fusion buffer (docs/gconv.md)")]


def _strategy_guard(strategy, compress, fmaps_on_chip):
    """The strategies parsed (None without --strategy); a clear error for combinations that
    are not modelled together."""
    if strategy is None:
        return None
    from accelscope.strategy import parse_strategies

    strategies = parse_strategies(strategy)
    if compress is not None or fmaps_on_chip:
        raise InputFileError("--strategy cannot be combined with --compress or "
                             "--fmaps-on-chip yet; run them separately")
    return strategies


def _strategy_results(workloads, spec, chain, strategies, host, fuse, details, cache=None,
                      host_threads=1):
    from accelscope.strategy import evaluate_strategy

    out = []
    cache = {} if cache is None else cache  # conv layers and host layers: evaluate once
    for s in strategies:
        with console.status(f"{spec.name}: strategy {s} ..."):
            out.append(evaluate_strategy(workloads, spec, s, chain=chain, host_spec=host,
                                         fuse=fuse, details=details, cache=cache,
                                         host_threads=host_threads or None))
    return out


def _strategy_line(r) -> str:
    d = r.details
    parts = [f"{r.arch} ({d['strategy']}): {d['placement']['accelerator']} GConvs on the "
             f"accelerator, {d['placement']['host']} on the host; non-conv time "
             f"{d['nonconv_time_share']:.1%} of {r.seconds * 1e3:.4g} ms"]
    if d.get("transfers"):
        parts.append(f"{d['transfers']} boundary transfers, {d['transfer_bits'] / 8e6:.4g} MB "
                     f"through DRAM in {d['transfer_seconds'] * 1e3:.4g} ms")
    if d.get("im2col_layers"):
        parts.append(f"{d['im2col_layers']} im2col expansions "
                     f"({d['im2col_expanded_elems']:,} elements) in "
                     f"{d['transfer_seconds'] * 1e3:.4g} ms")
    f = d.get("fusion")
    if f:
        parts.append(f"fusion kept {f['fused']} intermediates on chip (capacity "
                     f"{f['capacity_bytes'] / 1024:,.0f} KiB of {f['capacity_from'].split(' ')[0]},"
                     f" peak {f['peak_bytes'] / 1024:,.1f} KiB), DRAM "
                     f"{f['dram_bits_saved'] / 8e6:.4g} MB saved")
    return "; ".join(parts)


def _compare_strategies(chain, workloads, specs, strategies, host, fuse, baseline, out,
                        details, host_threads=1) -> None:
    """compare --strategy: every arch under every strategy, ratios against the reference
    strategy (host-fallback when chosen, else the first) of the same arch, or of --baseline."""
    from accelscope.report import plot_compare

    ref = "host-fallback" if "host-fallback" in strategies else strategies[0]
    results, cache = {}, {}  # one host measurement per layer, shared by every arch
    for sp in specs:
        for r in _strategy_results(workloads, sp, chain, strategies, host, fuse, details,
                                   cache, host_threads):
            results[(sp.name, r.details["strategy"])] = r
    cols = ["arch", "strategy", "ms", "mJ", "DRAM MB", "non-conv", "speed-up", "energy"]
    trows = []
    for (arch, s), r in results.items():
        base = results[(baseline or arch, ref)]
        trows.append([arch, s, f"{r.seconds * 1e3:.4g}", f"{r.total_energy_pj * 1e-9:.4g}",
                      f"{r.level_bits('dram') / 8e6:.4g}",
                      f"{r.details['nonconv_time_share']:.1%}",
                      f"{base.seconds / r.seconds:.3g}x",
                      f"{base.total_energy_pj / r.total_energy_pj:.3g}x"
                      if r.total_energy_pj else "-"])
    vs = f"{baseline} {ref}" if baseline else f"{ref} of the same arch"
    title = (f"{chain.name}: {len(chain.gconvs)} GConvs, {chain.total_macs / 1e9:.3f} G ops, "
             f"batch {chain.gconvs[0].N}: latency, energy, DRAM traffic, share of the time "
             "in non-conv layers, transfers and im2col, speed-up and energy efficiency vs "
             f"{vs}")
    right = set(cols) - {"arch", "strategy"}
    widths = [max(len(c), *(len(r[i]) for r in trows)) for i, c in enumerate(cols)]
    if sum(widths) + 2 * len(cols) <= console.width:
        console.print(_fitted_table(title, cols, trows, flex="strategy", right=right))
    else:  # a narrow terminal: one table per arch
        console.print(title, highlight=False)
        for sp in specs:
            console.print(_fitted_table(sp.name, cols[1:],
                                        [r[1:] for r in trows if r[0] == sp.name],
                                        flex="strategy", right=right))
    for r in results.values():
        console.print(_strategy_line(r), highlight=False)
    for r in results.values():
        for w in r.all_warnings():
            _warn(w, f" ({r.arch}, {r.details['strategy']})")
    rows = []
    for (arch, s), r in results.items():
        base = results[(baseline or arch, ref)]
        rows.append({"arch": arch, "strategy": s, "model": r.model, "cycles": r.cycles,
                     "seconds": r.seconds, "energy_pj": r.total_energy_pj,
                     "dram_bits": r.level_bits("dram"),
                     "nonconv_time_share": r.details["nonconv_time_share"],
                     "fusion_dram_bits_saved": (r.details.get("fusion") or {}).get(
                         "dram_bits_saved", 0),
                     "speedup_vs_reference": base.seconds / r.seconds,
                     "energy_efficiency_vs_reference":
                         base.total_energy_pj / r.total_energy_pj if r.total_energy_pj
                         else None, "reference": f"{base.arch} {ref}"})
    import pandas as pd

    with out as o:
        for (arch, s), r in results.items():
            _write_results(r, o, f"{arch}-{s}", plot=False)
        pd.DataFrame(rows).to_csv(o.path("compare.csv"), index=False)
        labelled = [dataclasses.replace(r, arch=f"{a}/{s}") for (a, s), r in results.items()]
        keys = list(results)
        plot_compare(labelled, o.path("compare.png"),
                     baseline=keys.index((baseline or keys[0][0], ref)))
    console.print(f"wrote {out.root}/: compare.csv, compare.png and per-arch results in "
                  "<arch>-<strategy>/", highlight=False)


def _compressed(result, workloads, spec, compress, fmaps_on_chip=False):
    """Apply --compress and --fmaps-on-chip to an evaluated network; returns (result, a
    line comparing the DRAM traffic with and without compression, or None)."""
    if compress is None and not fmaps_on_chip:
        return result, None
    from accelscope.compress.inloop import (
        allocate,
        apply_to_result,
        keep_on_chip,
        map_sizes,
        parse_compress,
        parse_hardware,
    )
    from accelscope.models.registry import get_model

    codec = parse_compress(compress) if compress is not None else None
    plain = result
    if codec is not None:
        result = apply_to_result(result, workloads, spec, codec, parse_hardware(compress))
    if not fmaps_on_chip or not get_model(spec.model).counts_accesses:
        return result, None
    alloc = allocate(workloads, spec, map_sizes(workloads, spec, codec), results=plain.layers)
    result = keep_on_chip(result, workloads, spec, alloc)
    line = (f"{spec.name}: {len(alloc.on_chip)} of the inter-layer maps stay on chip in "
            f"{alloc.unified_bytes / 1024:,.0f} KiB of unified SRAM; DRAM "
            f"{result.level_bits('dram') / 8e6:.4g} MB")
    if codec is not None:
        dense = allocate(workloads, spec, map_sizes(workloads, spec, None),
                         results=plain.layers)
        base = keep_on_chip(plain, workloads, spec, dense)
        line += (f" (without compression: {len(dense.on_chip)} maps on chip, DRAM "
                 f"{base.level_bits('dram') / 8e6:.4g} MB)")
    return result, line


def _compress_table(result, limit: int | None) -> Table:
    rows = []

    def before(r):
        return r.details.get("dram_bits_uncompressed",
                             r.details.get("dram_bits_before_on_chip", r.level_bits("dram")))

    for i, r in enumerate(result.layers):
        ratios = r.details.get("dct_ratio") or {}
        kept = r.details.get("fmaps_on_chip")
        if not ratios and kept is None:
            continue
        new, old = r.level_bits("dram"), before(r)
        rows.append([str(i), r.layer, f"{ratios['input']:.2f}x" if "input" in ratios else "-",
                     f"{ratios['output']:.2f}x" if "output" in ratios else "-",
                     "-" if kept is None else ("output" if "output" in kept else "no"),
                     f"{old / 8e3:,.1f}", f"{new / 8e3:,.1f}",
                     f"{100 * (1 - new / old):.1f}%" if old else "-"])
    total_old = sum(before(r) for r in result.layers)
    total_new = result.level_bits("dram")
    shown = rows if limit is None else rows[:limit]
    if limit is not None and len(rows) > limit:
        shown.append(["", f"... ({len(rows) - limit} more)", "", "", "", "", "", ""])
    shown.append(["", "total", "", "", "", f"{total_old / 8e3:,.1f}", f"{total_new / 8e3:,.1f}",
                  f"{100 * (1 - total_new / total_old):.1f}%" if total_old else "-"])
    cols = ["#", "layer", "input ratio", "output ratio", "on chip", "DRAM kB before",
            "DRAM kB after", "saved"]
    what = result.details.get("compress") or "no compression"
    return _fitted_table(f"feature maps on {result.arch} ({what}"
                         + (", maps kept on chip" if "fmaps_on_chip" in result.details else "")
                         + ")", cols, shown, flex="layer", right=set(cols) - {"layer"})


@app.command("run")
def run_cmd(
    ctx: typer.Context,
    model: ModelArg,
    arch: Annotated[str, typer.Option(help="preset name or path to an arch YAML")],
    batch: BatchOpt = None, input: InputOpt = "random", prune: PruneOpt = None,
    out: Annotated[Path | None, typer.Option(
        help="directory for results.json, results.csv, layers.png "
             "(default out/MODEL-ARCH)")] = None,
    mode: ModeOpt = "actual", weights: WeightsOpt = None, input_shape: ShapeOpt = None,
    seed: SeedOpt = 0,
    rows: Annotated[int | None, typer.Option(help="show at most this many layers")] = None,
    compress: CompressOpt = None, fmaps_on_chip: FmapsOpt = False,
    strategy: StrategyOpt = None, host: HostOpt = "cpu", fuse_chain: FuseChainOpt = True,
    host_threads: HostThreadsOpt = 1,
) -> None:
    """Evaluate every GConv of a network on one architecture; print and save the results."""
    from accelscope.arch import load_arch

    spec = load_arch(arch)
    strategies = _strategy_guard(strategy, compress, fmaps_on_chip)
    if compress is not None:
        from accelscope.compress.inloop import parse_compress, parse_hardware

        parse_compress(compress)  # a bad --compress fails before the network runs
        parse_hardware(compress)
    dest = _run_output(ctx, out, Path(model).stem, spec.name)  # a bad --out fails now
    chain, workloads, pruned = _prepare(model, input_shape, batch, weights, seed, input,
                                        prune, mode)
    if out is None and slug(chain.name) != slug(Path(model).stem):
        dest = _run_output(ctx, None, chain.name, spec.name)
    if strategies is not None:
        results = _strategy_results(workloads, spec, chain, strategies, host, fuse_chain,
                                    {"mode": mode, "input": input, "prune": pruned or "none",
                                     "seed": seed}, host_threads=host_threads)
        for r in results:
            console.print(_layer_table(r, rows))
            _print_totals(r)
            console.print(_strategy_line(r), highlight=False)
        with dest as o:
            for r in results:
                _write_results(r, o, r.details["strategy"])
        _wrote(dest)
        return
    result = _evaluate(workloads, spec, chain, {"mode": mode, "input": input,
                                                "prune": pruned or "none", "seed": seed})
    result, line = _compressed(result, workloads, spec, compress, fmaps_on_chip)
    console.print(_layer_table(result, rows))
    if compress is not None or fmaps_on_chip:
        console.print(_compress_table(result, rows))
    if line:
        console.print(line, highlight=False)
    _print_totals(result)
    from accelscope.validate import published_tables

    for title, cols, trows in published_tables(result):
        console.print(_fitted_table(title, cols, trows, flex="layer", right=set(cols[1:])))
    with dest as o:
        _write_results(result, o)
    _wrote(dest)


@app.command("compare")
def compare_cmd(
    ctx: typer.Context,
    model: ModelArg,
    arch: Annotated[str, typer.Option(help="comma-separated presets or YAML paths")],
    baseline: Annotated[str | None, typer.Option(
        help="the arch the ratios are relative to (default: the first)")] = None,
    batch: BatchOpt = None, input: InputOpt = "random", prune: PruneOpt = None,
    out: Annotated[Path | None, typer.Option(
        help="directory for compare.csv, compare.png and each arch's results "
             "(default out/compare-MODEL)")] = None,
    mode: ModeOpt = "actual", weights: WeightsOpt = None, input_shape: ShapeOpt = None,
    seed: SeedOpt = 0, compress: CompressOpt = None, fmaps_on_chip: FmapsOpt = False,
    strategy: StrategyOpt = None, host: HostOpt = "cpu", fuse_chain: FuseChainOpt = True,
    host_threads: HostThreadsOpt = 1,
) -> None:
    """Evaluate a network on several architectures and print the totals side by side."""
    from accelscope.arch import load_arch
    from accelscope.report import plot_compare

    refs = [a.strip() for a in arch.split(",") if a.strip()]
    if len(refs) < 1:
        raise InputFileError("--arch needs at least one preset name or YAML path")
    specs = [load_arch(a) for a in refs]
    names = [s.name for s in specs]
    if len(set(names)) != len(names):
        raise InputFileError(f"--arch names an architecture twice: {', '.join(names)}")
    base_i = 0
    if baseline is not None:
        if baseline not in names and baseline not in refs:
            raise InputFileError(f"--baseline {baseline!r} is not one of --arch "
                                 f"({', '.join(names)})")
        base_i = names.index(baseline) if baseline in names else refs.index(baseline)
    strategies = _strategy_guard(strategy, compress, fmaps_on_chip)
    if compress is not None:
        from accelscope.compress.inloop import parse_compress, parse_hardware

        parse_compress(compress)  # a bad --compress fails before the network runs
        parse_hardware(compress)
    dest = _run_output(ctx, out, "compare", Path(model).stem)
    chain, workloads, pruned = _prepare(model, input_shape, batch, weights, seed, input,
                                        prune, mode)
    if out is None and slug(chain.name) != slug(Path(model).stem):
        dest = _run_output(ctx, None, "compare", chain.name)
    details = {"mode": mode, "input": input, "prune": pruned or "none", "seed": seed}
    if strategies is not None:
        _compare_strategies(chain, workloads, specs, strategies, host, fuse_chain,
                            names[base_i] if baseline is not None else None, dest, details,
                            host_threads)
        return
    if compress is not None:
        details["compress"] = compress
    results, lines = [], []
    for sp in specs:
        r, line = _compressed(_evaluate(workloads, sp, chain, details), workloads, sp,
                              compress, fmaps_on_chip)
        results.append(r)
        if line:
            lines.append(line)
    base = results[base_i]
    cols = ["arch", "model", "cycles", "latency ms", "energy mJ", "DRAM MB", "util",
            "speed-up", "energy eff."]
    trows = []
    for r in results:
        trows.append([r.arch, r.model, f"{r.cycles:,}", f"{r.seconds * 1e3:.4g}",
                      f"{r.total_energy_pj * 1e-9:.4g}",
                      f"{r.level_bits('dram') / 8e6:.4g}" if r.level_bits("dram") else "-",
                      f"{r.utilization:.1%}", f"{base.seconds / r.seconds:.3g}x",
                      f"{base.total_energy_pj / r.total_energy_pj:.3g}x"
                      if r.total_energy_pj else "-"])
    title = (f"{chain.name}: {len(chain.gconvs)} GConvs, {chain.total_macs / 1e9:.3f} G ops, "
             f"batch {chain.gconvs[0].N} (ratios vs {base.arch})")
    widths = [max(len(c), *(len(r[i]) for r in trows)) for i, c in enumerate(cols)]
    if sum(widths) + 3 * len(cols) <= console.width:
        table = _fitted_table(title, cols, trows, flex="model",
                              right=set(cols) - {"arch", "model"})
    else:  # a narrow terminal: one column per arch instead of one row
        names = [r[0] for r in trows]
        table = _fitted_table(title, [""] + names,
                              [[c] + [r[i] for r in trows] for i, c in enumerate(cols)
                               if i > 0], flex="", right=set(names))
    console.print(table)
    for line in lines:
        console.print(line, highlight=False)
    for r in results:
        for w in r.all_warnings():
            _warn(w, f" ({r.arch})")
    rows = [{"arch": r.arch, "model": r.model, "cycles": r.cycles, "seconds": r.seconds,
             "energy_pj": r.total_energy_pj, "dram_bits": r.level_bits("dram"),
             "utilization": r.utilization, "speedup_vs_baseline": base.seconds / r.seconds,
             "energy_efficiency_vs_baseline":
                 base.total_energy_pj / r.total_energy_pj if r.total_energy_pj else None,
             "baseline": base.arch} for r in results]
    import pandas as pd

    with dest as o:
        pd.DataFrame(rows).to_csv(o.path("compare.csv"), index=False)
        for r in results:
            _write_results(r, o, r.arch, plot=False)
        plot_compare(results, o.path("compare.png"), baseline=base_i)
    console.print(f"wrote {dest.root}/: compare.csv, compare.png and per-arch results in "
                  "<arch>/", highlight=False)


def _parse_densities(text: str) -> list[float]:
    try:
        vals = [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        vals = []
    if not vals:
        raise InputFileError(f"--densities {text!r} is not a comma-separated list of numbers; "
                             "write e.g. --densities 0.1,0.2,0.5,1.0")
    return vals


@app.command("sweep-density")
def sweep_density_cmd(
    ctx: typer.Context,
    model: Annotated[str, typer.Argument(help="zoo model name")],
    arch: Annotated[str, typer.Option(help="comma-separated presets or YAML paths")],
    densities: Annotated[str, typer.Option(
        help="weight = activation densities to sweep, comma-separated")] =
        "0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8,0.9,1.0",
    include_fc: Annotated[bool, typer.Option(
        "--include-fc", help="sweep the fully-connected layers too")] = False,
    out: Annotated[Path | None, typer.Option(
        help="directory for density_sweep.csv and density_sweep.png "
             "(default out/sweep-density-MODEL)")] = None,
    seed: SeedOpt = 0,
) -> None:
    """Speed-up and energy against operand density, every conv layer re-drawn with uniformly
    random weights and activations at each density (SCNN, ISCA 2017, Fig. 10)."""
    from accelscope.arch import load_arch
    from accelscope.report.density_sweep import density_sweep

    refs = [a.strip() for a in arch.split(",") if a.strip()]
    if not refs:
        raise InputFileError("--arch needs at least one preset name or YAML path")
    specs = [load_arch(a) for a in refs]
    dens = _parse_densities(densities)
    dest = _run_output(ctx, out, "sweep-density", model)
    with console.status(f"sweeping {len(dens)} densities x {len(specs)} archs ..."), \
            dest as o:
        df = density_sweep(model, specs, dens, o.staging, include_fc=include_fc, seed=seed)
        o.path("density_sweep.csv")
        o.path("density_sweep.png")
    base = df["baseline"].iloc[0]
    names = list(dict.fromkeys(df["arch"]))
    cols = ["density"] + [f"{a} speed-up" for a in names] + [f"{a} energy" for a in names]
    rows = []
    for d, sub in df.groupby("density", sort=True):
        by = {r["arch"]: r for _, r in sub.iterrows()}
        rows.append([f"{d:g}"] + [f"{by[a]['speedup']:.3g}x" for a in names]
                    + [f"{by[a]['energy_rel']:.3g}" for a in names])
    console.print(_fitted_table(
        f"{df['network'].iloc[0]}: {int(df['layers'].iloc[0])} layers, speed-up over {base} "
        f"and energy relative to {base}", cols, rows, flex="density",
        right=set(cols) - {"density"}))
    _wrote(dest)


@app.command("dct-accuracy")
def dct_accuracy_cmd(
    ctx: typer.Context,
    setting: Annotated[list[str] | None, typer.Option(
        help="a --compress setting; repeat for several (default: JPEG quality 95 ... 10)")
    ] = None,
    images: Annotated[int | None, typer.Option(
        help="the first N test images (digits-cnn) or N random inputs (other models)")
    ] = None,
    model: Annotated[str, typer.Option(
        help="digits-cnn (trained here: accuracy) or a zoo model (top-1 agreement with the "
             "uncompressed network on random inputs)")] = "digits-cnn",
    out: Annotated[Path, typer.Option(help="directory for dct_accuracy.csv / .png")] =
        Path("out/dct-accuracy"),
) -> None:
    """Accuracy of the digits CNN (trained here) with its feature maps DCT-coded, against the
    compression ratio; or the top-1 agreement of any zoo model."""
    import math

    from accelscope.compress.inloop import accuracy_sweep

    settings = setting or [f"dct:quality={q}" for q in (95, 90, 75, 50, 25, 10)]
    dest = _run_output(ctx, out)
    with console.status(f"running {len(settings)} codec settings ..."), dest as o:
        df = accuracy_sweep(settings, out_dir=o.staging, images=images, model=model)
        o.path("dct_accuracy.csv")
        o.path("dct_accuracy.png")

    def pct(v, sign=""):
        return "-" if math.isnan(v) else f"{v:{sign}.2f}"

    rows = [[r["setting"], f"{r['ratio']:.2f}x", f"{r['bits_per_activation']:.2f}",
             f"{r['mean_snr_db']:.1f}", pct(100 * r["accuracy"]),
             pct(r["accuracy_drop_pts"], "+"), f"{100 * r['agreement']:.1f}%"]
            for _, r in df.iterrows()]
    cols = ["setting", "ratio", "bits/act", "SNR dB", "top-1 %", "drop (pts)", "agreement"]
    base = df["baseline_accuracy"].iloc[0]
    what = (f"{int(df['images'].iloc[0])} test images, uncompressed top-1 {100 * base:.2f}%"
            if not math.isnan(base) else f"{int(df['images'].iloc[0])} random inputs, "
            "agreement with the uncompressed network")
    console.print(_fitted_table(f"{model}, {what}", cols, rows, flex="setting",
                                right=set(cols) - {"setting"}))
    _wrote(dest)


# -- architectures and validation ----------------------------------------------------------
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
    table = _fitted_table(
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


@app.command("scalesim")
def scalesim_cmd(
    ctx: typer.Context,
    config: Annotated[Path, typer.Option("--config", help="SCALE-Sim .cfg file")],
    topology: Annotated[Path, typer.Option("--topology", help="SCALE-Sim topology CSV")],
    gemm: Annotated[bool, typer.Option("--gemm", help="the topology lists GEMMs (name, M, "
                                                     "N, K) as with SCALE-Sim's -i gemm")
                    ] = False,
    out: Annotated[Path | None, typer.Option(
        help="directory for COMPUTE_REPORT.csv, BANDWIDTH_REPORT.csv, "
             "DETAILED_ACCESS_REPORT.csv (default out/scalesim-RUN_NAME)")] = None,
) -> None:
    """Run a SCALE-Sim config and topology; write SCALE-Sim's three reports."""
    import time

    from accelscope.interop.scalesim import read_config, read_topology, simulate, write_reports

    cfg = read_config(config)
    layers = read_topology(topology, gemm=gemm)
    dest = _run_output(ctx, out, "scalesim", cfg.run_name)
    t0 = time.perf_counter()
    reports = simulate(cfg, layers)
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
    console.print(_fitted_table(
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
        console.print(styled(("default:", "yellow"), f" {dflt} (not in {config})"),
                      highlight=False)
    _wrote(dest)


@app.command("eyeriss-dataflows")
def eyeriss_dataflows_cmd(
    batch: Annotated[int, typer.Option(help="images per batch (the paper: 1, 16, 64)")] = 16,
    out: Annotated[Path, typer.Option(help="PNG of the energy breakdown per layer and "
                                           "dataflow")] = Path("out/eyeriss-dataflows.png"),
    fc: Annotated[bool, typer.Option("--fc", help="add the FC layers FC6-8 (the paper "
                                                  "compares them too)")] = False,
) -> None:
    """ISCA 2016 dataflow comparison: AlexNet CONV1-5 on RS, WS, OS_A/B/C and NLR (256 PEs,
    equal storage area), energy per component per MAC and RS's advantage; writes a plot."""
    from accelscope.report.eyeriss_dataflows import (
        ALEXNET_CONVS,
        ALEXNET_FCS,
        compare,
        plot,
        table_rows,
    )

    if batch < 1:
        raise AccelscopeError(f"--batch must be at least 1, got {batch}")
    check_file_target(out, "--out")
    with console.status("searching the mappings of every dataflow ..."):
        cmp = compare(batch=batch, layers={**ALEXNET_CONVS, **(ALEXNET_FCS if fc else {})})
    cols = ["layer", "flow", "ALU", "RF", "array", "buffer", "DRAM", "sum", "1e9", "RS adv"]
    console.print(_fitted_table(
        f"alexnet-caffe batch {batch}: energy per MAC by component (units of one MAC's "
        "energy), the layer's total in 1e9 MAC energies, RS's advantage", cols,
        table_rows(cmp), flex="flow", right=set(cols[2:])))
    for df in cmp.dataflows[1:]:
        fcs = f", {cmp.advantage(df, tuple(ALEXNET_FCS)):.2f}x on FC6-8" if fc else ""
        console.print(f"RS vs {df}: {cmp.advantage(df, tuple(ALEXNET_CONVS)):.2f}x more "
                      f"energy-efficient on CONV1-5 (ISCA 2016: 1.4x-2.5x){fcs}",
                      highlight=False)
    with atomic_target(out, "--out") as tmp:
        plot(cmp, tmp)
    console.print(f"wrote {out}", highlight=False)


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
    table = _fitted_table("published vs accelscope (must = must hold, info = informative)",
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


@app.command("cgra")
def cgra_cmd(
    layer: Annotated[str, typer.Option(help="HxWxCxK (input height, width, channels, "
                                            "filters; 3x3 filters, stride 1, no padding)")
                     ] = "16x16x16x16",
    mapping: Annotated[str, typer.Option(help="all, or a comma list of wp, oc, im2col-ic, "
                                              "im2col-oc")] = "all",
    arch: Annotated[str, typer.Option(help="a cgra preset or YAML")] = "openedgecgra",
    seed: Annotated[int, typer.Option(help="seed of the random int32 data")] = 0,
    breakdown: Annotated[bool, typer.Option("--breakdown", help="print the energy "
                                            "breakdown per mapping")] = False,
    sweep: Annotated[bool, typer.Option("--sweep", help="run the paper's sweeps (input "
                                        "16-64, C 16-144, K 16-128) instead of --layer")
                     ] = False,
    plot: Annotated[Path | None, typer.Option(help="with --sweep: write the MAC/cycle plot "
                                                   "here")] = None,
) -> None:
    """Run one convolution through the OpenEdgeCGRA mappings (instruction-level simulation
    on random data, checked against NumPy) and compare with the host CPU."""
    from accelscope.arch import load_arch
    from accelscope.models.cgra import study as cs
    from accelscope.models.cgra.layout import ConvShape
    from accelscope.models.cgra.spec import CgraSpec

    spec = load_arch(arch)
    if not isinstance(spec, CgraSpec):
        raise AccelscopeError(f"--arch {arch!r} is a {spec.model!r} spec; give a cgra preset "
                              "such as openedgecgra")
    if plot is not None:
        check_file_target(plot, "--plot")
    if sweep:
        with console.status("simulating the sweeps ..."):
            results = cs.sweep(spec, mapping, seed)
        for name, studies in results.items():
            maps = list(studies[0].outcomes)
            rows = []
            n_banks = spec.cgra.array.n_banks
            for st in studies:
                row = [str(st.shape)]
                for m in maps:
                    o = st.outcomes[m]
                    mark = "" if o.banks <= n_banks else f" ({o.banks}b)"
                    row.append(styled(f"{o.macs_per_cycle:.3f}{mark}",
                                      ("" if o.exact else " NOT EXACT", "red")))
                row.append(f"{st.shape.macs / st.cpu.cycles:.3f}")
                rows.append(row)
            console.print(_fitted_table(f"MAC/cycle, {name} sweep (HxWxCxK)",
                                        ["layer", *maps, "cpu"], rows, flex="layer",
                                        right=set(maps) | {"cpu"}))
        console.print(f"(Nb): the layer does not fit the preset's {n_banks} banks of "
                      f"{spec.cgra.array.bank_bytes:,} B; it ran on N banks", highlight=False)
        if plot is not None:
            with atomic_target(plot, "--plot") as tmp:
                cs.plot_sweep(results, tmp)
            console.print(f"wrote {plot}", highlight=False)
        return
    shape = ConvShape.parse(layer)
    t0 = time.perf_counter()
    st = cs.study_layer(shape, spec, mapping, seed, grow_banks=True)
    wall = time.perf_counter() - t0
    cpu = st.cpu
    budget = spec.cgra.array.bank_bytes * spec.cgra.array.n_banks
    perf, cost = [], []
    for m, o in st.outcomes.items():
        if o.priced is None:
            perf.append([m, "-", "-", "-", "-", "-", "-"])
            cost.append([m, "-", "-", "-", "-", "-", "-"])
            continue
        p = o.priced
        perf.append([m, "yes" if o.exact else Text("NO", "red"), f"{o.run.launches:,}",
                     f"{p.cgra_cycles:,}", f"{p.cycles:,}", f"{o.macs_per_cycle:.3f}",
                     f"{cpu.cycles / p.cycles:.2f}x"])
        fits = "fits" if o.banks <= spec.cgra.array.n_banks else f"needs {o.banks} banks"
        cost.append([m, f"{p.total_energy_pj / 1e6:.2f}",
                     f"{p.total_energy_pj / shape.macs:.1f}",
                     f"{cpu.total_energy_pj / p.total_energy_pj:.2f}x",
                     f"{o.run.footprint_bytes:,}", fits, f"{o.sim_seconds:.2f}"])
    perf.append(["cpu", "-", "-", "-", f"{cpu.cycles:,}", f"{shape.macs / cpu.cycles:.3f}",
                 "1.00x"])
    cost.append(["cpu", f"{cpu.total_energy_pj / 1e6:.2f}",
                 f"{cpu.total_energy_pj / shape.macs:.1f}", "1.00x", "-", "-", "-"])
    cols = ["mapping", "exact", "launches", "CGRA cycles", "cycles", "MAC/cycle",
            "vs CPU"]
    console.print(_fitted_table(
        f"conv {shape} (3x3, stride 1, {shape.macs:,} MACs) on {spec.name}: latency", cols,
        perf, flex="mapping", right=set(cols[2:])))
    cols = ["mapping", "energy uJ", "pJ/MAC", "vs CPU", "footprint B", "banks", "sim s"]
    console.print(_fitted_table(f"energy and memory (the preset's banks hold {budget:,} B)",
                                cols, cost, flex="mapping",
                                right=set(cols[1:]) - {"banks"}))
    if breakdown:
        for m, o in st.outcomes.items():
            if o.priced is None:
                continue
            parts = ", ".join(f"{k} {v / 1e6:.3f}" for k, v in sorted(o.priced.energy_pj.items(),
                                                                      key=lambda kv: -kv[1]))
            console.print(f"{m} energy uJ: {parts}; "
                          f"{o.priced.total_energy_pj / shape.macs:.1f} pJ/MAC", highlight=False)
        parts = ", ".join(f"{k} {v / 1e6:.3f}" for k, v in cpu.energy_pj.items())
        console.print(f"cpu energy uJ: {parts}; {cpu.total_energy_pj / shape.macs:.1f} pJ/MAC",
                      highlight=False)
    rank = st.ranking()
    console.print(f"fastest first: {' > '.join(rank)}; simulated in {wall:.2f} s "
                  f"(docs/cgra.md: the CPU is a cycle model of the naive loop, not a "
                  "measurement)", highlight=False)


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
        err_console.print(styled(("error:", "bold red"), f" {exc}"), highlight=False,
                          soft_wrap=True)
        sys.exit(EXIT_BAD_INPUT)
    except Exception as exc:
        if debug:
            raise
        import shlex

        what = str(exc).splitlines()[0][:300] if str(exc) else ""
        err_console.print(styled(
            ("internal error:", "bold red"),
            f" {type(exc).__name__}{': ' + what if what else ''}. This is a bug in "
            "accelscope, not in your input; please report it with the command "
            f"'accelscope {shlex.join(args)} --debug', which prints the traceback."),
            highlight=False, soft_wrap=True)
        sys.exit(EXIT_BUG)


if __name__ == "__main__":  # pragma: no cover
    main()
