"""The ``accelscope`` command line."""

from __future__ import annotations

import re
import sys
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from accelscope.errors import AccelscopeError, InputFileError, ShapeError

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="Lower whole CNNs into GConv chains and evaluate them on accelerator "
                       "models.")
console = Console()
err_console = Console(stderr=True)


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
    zm, onnx_path, x = _load(model, input_shape, batch, weights, seed)
    t0 = time.perf_counter()
    if zm is not None:
        chain = lower(zm.module, x, name=zm.name, fuse=fuse, dtype=dtype)
    else:
        chain = lower(str(onnx_path), input_shape=x, fuse=fuse)
    t_lower = time.perf_counter() - t0
    console.print(_gconv_table(chain, rows))
    console.print(
        f"[bold]{chain.name}[/]: {len(chain.gconvs)} GConvs + {len(chain.views)} layout views; "
        f"{chain.total_macs:,} map-reduce ops in all, {chain.conv_fc_macs:,} conv/FC MACs "
        f"({chain.conv_fc_macs / 1e9:.3f} G); {chain.weight_elems:,} weights; "
        f"lowered and checked in {t_lower:.2f} s")
    if json_out is not None:
        json_out.parent.mkdir(parents=True, exist_ok=True)
        json_out.write_text(chain.to_json())
        console.print(f"wrote {json_out}")
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
        console.print(f"verify: chain output vs {ref_name} on a seeded input of shape "
                      f"{tuple(shape)}: max relative error [{style}]{err:.2e}[/] "
                      f"(tolerance {tol:g}) -> [{style}]{'PASS' if ok else 'FAIL'}[/] "
                      f"(executor {t_exec:.2f} s)")
        if not ok:
            raise typer.Exit(1)


def main() -> None:
    """Console entry point: bad input gives a one-paragraph error and exit status 2."""
    try:
        app()
    except AccelscopeError as exc:
        err_console.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
        sys.exit(2)


if __name__ == "__main__":  # pragma: no cover
    main()
