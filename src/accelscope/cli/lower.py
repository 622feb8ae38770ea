"""``accelscope models`` and ``accelscope lower``."""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from accelscope._extras import needs_extra
from accelscope.cli._app import (
    JsonOpt,
    ModelArg,
    QuietOpt,
    app,
    console,
    err_console,
    fit_consoles,
    run_output,
    styled,
    wrote,
)
from accelscope.errors import InputFileError
from accelscope.report.tables import (
    gconv_table,
)
from accelscope.workload.inputs import resolve_model


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
    fit_consoles()
    console.print(table)


@app.command("lower")
def lower_cmd(
    ctx: typer.Context,
    model: ModelArg,
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
    out: Annotated[Path | None, typer.Option(
        help="directory for chain.json, the chain as JSON (default: no files)")] = None,
    json_: JsonOpt = False,
    rows: Annotated[int | None, typer.Option(min=0, help="show at most this many GConv rows")
                    ] = None,
    quiet: QuietOpt = False,
) -> None:
    """Lower a network into a GConv chain, print it, and optionally verify it numerically."""
    import torch

    from accelscope.api import lower
    from accelscope.workload.execute import execute, relative_error

    dtype = torch.float64 if float64 else None
    if tolerance is not None and not (math.isfinite(tolerance) and tolerance >= 0):
        raise InputFileError(f"--tolerance {tolerance} must be a finite number >= 0, e.g. "
                             "--tolerance 1e-4")
    fit_consoles(quiet)
    dest = run_output(ctx, out) if out is not None else None  # a bad --out fails now
    table = err_console if json_ else console
    zm, onnx_path, x = resolve_model(model, input_shape, batch, weights, seed)
    t0 = time.perf_counter()
    if zm is not None:
        chain = lower(zm.module, x, name=zm.name, fuse=fuse, dtype=dtype)
    else:
        chain = lower(str(onnx_path), input_shape=x, fuse=fuse)
    t_lower = time.perf_counter() - t0
    table.print(gconv_table(chain, rows))
    table.print(styled(
        (chain.name, "bold"),
        f": {len(chain.gconvs)} GConvs + {len(chain.views)} layout views; "
        f"{chain.total_macs:,} map-reduce ops in all, {chain.conv_fc_macs:,} conv/FC MACs "
        f"({chain.conv_fc_macs / 1e9:.3f} G); {chain.weight_elems:,} weights; "
        f"lowered and checked in {t_lower:.2f} s"), highlight=False)
    if dest is not None:
        with dest as o:
            o.write_text("chain.json", chain.to_json())
        wrote(dest)
    if json_:
        console.print_json(chain.to_json())
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

            with needs_extra("onnx", "the ONNX Runtime check of an ONNX model (--verify)"):
                import onnxruntime as ort

            gen = torch.Generator().manual_seed(seed)
            xin = torch.randn(shape, generator=gen)
            sess = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
            feed = {sess.get_inputs()[0].name: xin.numpy().astype(np.float32)}
            ref = torch.from_numpy(sess.run(None, feed)[0])
            ref_name = "ONNX Runtime"
        t0 = time.perf_counter()
        y = execute(chain, xin)
        t_exec = time.perf_counter() - t0
        err = relative_error(y, ref)
        ok = err <= tol
        style = "green" if ok else "red"
        table.print(styled(f"verify: chain output vs {ref_name} on a seeded input of shape "
                             f"{tuple(shape)}: max relative error ", (f"{err:.2e}", style),
                             f" (tolerance {tol:g}) -> ", ("PASS" if ok else "FAIL", style),
                             f" (executor {t_exec:.2f} s)"), highlight=False)
        if not ok:
            raise typer.Exit(1)
