"""The conformance kit: properties every registered accelerator model must have.

``check_model(name, spec, workloads)`` evaluates each workload and returns the list of
violations (empty when the model conforms). Each accelerator's tests call it on its presets;
``tests/unit/test_conformance.py`` runs it on every registered model.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from accelscope.models.contract import LayerWorkload, ModelInfo, UnsupportedLayerError
from accelscope.models.registry import get_model
from accelscope.results import LayerResult

OUTERMOST = "dram"


def _nnz(t: torch.Tensor | None, elems: int, density: float) -> int:
    if t is not None:
        return int(torch.count_nonzero(t))
    return math.floor(elems * density)


def _touched(n_in: int, n_out: int, k: int, dil: int, stride: int, pad: int,
             in_dil: int) -> np.ndarray:
    """Which of the ``n_in`` input rows (or columns) at least one output's window reads:
    window tap ``r`` of output ``p`` reads position ``p*stride + r*dil - pad`` of the
    (zero-inserted, for ``in_dil`` > 1) input, a real row where divisible by ``in_dil``."""
    pos = (np.arange(n_out)[:, None] * stride + np.arange(k)[None, :] * dil - pad).ravel()
    pos = pos[(pos >= 0) & (pos % in_dil == 0)] // in_dil
    hit = np.zeros(n_in, dtype=bool)
    hit[pos[pos < n_in]] = True
    return hit


def _compulsory_bits(w: LayerWorkload, spec: Any) -> dict[tuple[str, str], int]:
    """A floor on the DRAM bits per (tensor, direction): every non-zero value of the input
    and weight must be read, and of the output written, at the operand width at least once
    (any encoding carries the non-zero values; metadata only adds). Layers run one after
    another with their tensors in DRAM in between (docs/assumptions.md)."""
    g = w.gconv
    bits = int(spec.compute.operand_bits)
    # Only input rows/columns some window reads must be read: a stride longer than the
    # window skips some, and so do trailing rows no window reaches (a 7x7/2 window on 32 rows)
    rows = _touched(g.H, g.P, g.R, g.dilation[0], g.stride[0], g.padding[0],
                    g.input_dilation[0])
    cols = _touched(g.W, g.Q, g.S, g.dilation[1], g.stride[1], g.padding[1],
                    g.input_dilation[1])
    x = w.input
    if x is not None and x.dim() == 4 and tuple(x.shape[2:]) == (g.H, g.W):
        nnz_in = int(torch.count_nonzero(x[:, :, torch.from_numpy(rows)][
            :, :, :, torch.from_numpy(cols)]))
    else:
        frac = rows.mean() * cols.mean() if rows.size and cols.size else 0.0
        nnz_in = math.floor(_nnz(x, g.input_elems, w.input_density) * frac)
    out = {("input", "read"): nnz_in * bits,
           ("output", "write"): _nnz(w.output, g.output_elems, w.output_density) * bits}
    if g.operand_kind == "weight":
        out[("weight", "read")] = _nnz(w.operand, g.weight_elems, w.operand_density) * bits
    return out


def check_result(w: LayerWorkload, r: LayerResult, spec: Any,
                 info: ModelInfo[Any] | None = None) -> list[str]:
    g = w.gconv
    where = f"{r.model} on {g.name}"
    bad = []
    if r.layer != g.name or r.macs != g.macs:
        bad.append(f"{where}: result names layer {r.layer!r} with {r.macs} MACs, the GConv "
                   f"is {g.name!r} with {g.macs}")
    if not 0 <= r.macs_useful <= g.macs:
        bad.append(f"{where}: useful MACs {r.macs_useful} outside [0, {g.macs}]")
    if r.macs_issued < r.macs_useful:
        bad.append(f"{where}: issued MACs {r.macs_issued} < useful {r.macs_useful}")
    if min(r.macs_skipped, r.macs_gated) < 0 or r.macs_gated > r.macs_issued:
        bad.append(f"{where}: skipped {r.macs_skipped} / gated {r.macs_gated} inconsistent "
                   f"with issued {r.macs_issued}")
    peak = int(spec.compute.macs_per_cycle)
    if r.cycles < math.ceil(r.macs_useful / peak):
        bad.append(f"{where}: {r.cycles} cycles < useful MACs / peak = "
                   f"{math.ceil(r.macs_useful / peak)}")
    for k, v in r.energy_pj.items():
        if not (v >= 0 and math.isfinite(v)):
            bad.append(f"{where}: energy component {k!r} = {v} pJ (must be finite, >= 0)")
    for k, v in r.stall_cycles.items():
        if v < 0 or v > r.cycles:
            bad.append(f"{where}: stall {k!r} = {v} outside [0, cycles = {r.cycles}]")
    for a in r.accesses:
        if min(a.reads, a.writes, a.read_bits, a.write_bits) < 0:
            bad.append(f"{where}: negative access count at {a.level}/{a.tensor}")
    if info is None or info.counts_accesses:
        have: dict[tuple[str, str], int] = {}
        for a in r.accesses:
            if a.level == OUTERMOST:
                have[(a.tensor, "read")] = have.get((a.tensor, "read"), 0) + a.read_bits
                have[(a.tensor, "write")] = have.get((a.tensor, "write"), 0) + a.write_bits
        for key, floor in _compulsory_bits(w, spec).items():
            if have.get(key, 0) < floor:
                bad.append(f"{where}: {OUTERMOST} {key[1]} bits of {key[0]} = "
                           f"{have.get(key, 0)} < compulsory {floor} (non-zeros x operand "
                           "bits)")
    return bad


def check_model(name: str, spec: Any, workloads: Sequence[LayerWorkload]) -> list[str]:
    """Every violation of the kit by model ``name`` on ``spec`` over ``workloads``."""
    info = get_model(name)
    bad: list[str] = []
    for w in workloads:
        try:
            r = info.evaluate(w, spec)
        except UnsupportedLayerError as exc:
            if exc.gconv.name != w.gconv.name or not exc.reason:
                bad.append(f"{name} on {w.gconv.name}: UnsupportedLayerError must name the "
                           "GConv and give a reason")
            continue
        except Exception as exc:
            bad.append(f"{name} on {w.gconv.name}: raised {type(exc).__name__}: {exc} "
                       "(a model may only raise UnsupportedLayerError for a GConv)")
            continue
        bad += check_result(w, r, spec, info)
        if not info.measured:
            again = info.evaluate(w, spec)
            if again.to_dict() != r.to_dict():
                bad.append(f"{name} on {w.gconv.name}: not deterministic")
    return bad
