"""The GConv form of a non-GEMM GConv on a GEMM array: how pooling, upsampling, element-wise,
per-channel and point-wise GConvs run as multiply-and-sum GConvs (``array_form``), and how a
result of the form is re-labelled as the original GConv's (``relabel``). Shared by the
systolic engine, SPOTS, SCNN's array form and the CGRA's general path."""

from __future__ import annotations

import dataclasses
from typing import TypedDict, cast

import torch

from accelscope.models.common import useful_macs
from accelscope.models.contract import LayerWorkload
from accelscope.results import LayerResult
from accelscope.workload.gconv import GConv, MapOp, OperandKind, ReduceOp


class _FormFields(TypedDict):
    """The GConv fields ``array_form`` overrides (a multiply-and-sum with a weight)."""

    map_op: MapOp
    reduce_op: ReduceOp
    operand_kind: OperandKind
    operand: str | None
    pad_value: float
    mean_pad: tuple[int, int, int, int]


def is_gemm(g: GConv, per_channel: bool = False) -> bool:
    """Whether a GConv is a GEMM (multiply-and-sum with weights, more than one MAC per
    output element). ``per_channel``: a per-channel scale (K = C = R = S = 1) counts too, as
    a depthwise 1x1 GEMM."""
    if g.map_op != "mul" or g.reduce_op != "sum" or g.operand_kind != "weight":
        return False
    return not (g.C * g.R * g.S == 1 and g.K == 1 and not per_channel)


def broadcast_shape(layer: LayerWorkload) -> tuple[int, int, int, int]:
    """(N, G, P, Q) extents of an element-wise operand (1 where it is broadcast)."""
    g = layer.gconv
    if layer.operand is not None and layer.operand.dim() == 4:
        return cast("tuple[int, int, int, int]", tuple(int(d) for d in layer.operand.shape))
    n = layer.operand_elems
    if n == g.G:
        return (1, g.G, 1, 1)
    if n == g.N * g.G:
        return (g.N, g.G, 1, 1)
    return (g.N, g.G, g.P, g.Q)


def array_form(layer: LayerWorkload) -> tuple[LayerWorkload, str]:
    """The multiply-and-sum GConv a non-GEMM GConv runs as on a GEMM array
    (``nonconv_on: array``), and a one-line description. A GEMM GConv is returned as is.

    * pass-through map (max / average / sum pooling, upsampling over the zero-inserted map,
      channel reductions, point-wise activations): the same geometry with a constant weight
      (1, or 1 / taps for a mean) of shape (G, K, C, R, S): a grouped GConv whose IM2COL
      operand matrix meets an all-ones filter column per group;
    * per-channel affine (weight, K = C = R = S = 1): already a depthwise 1x1 GConv;
    * element-wise add: both operands concatenated along the reduction axis (C = 2 per group,
      the broadcast operand expanded) with unit weights;
    * element-wise mul: the second operand is the weight. Where it is constant over the
      pixels (squeeze-excitation scaling, (N, G, 1, 1)) it is a depthwise 1x1 GConv with one
      group per (n, channel) (per channel when it is shared by the batch); otherwise every
      output is its own 1x1 GConv with a weight of its own (groups = outputs).

    Fused post-ops (activation, scale, bias) stay: the PE's output function applies them.
    With data the input and weight tensors are built too (SPOTS reads their zeros)."""
    g = layer.gconv
    if is_gemm(g):
        return layer, "GEMM"
    base: _FormFields = {"map_op": "mul", "reduce_op": "sum", "operand_kind": "weight",
                         "operand": f"{g.name}.array_weight", "pad_value": 0.0,
                         "mean_pad": (0, 0, 0, 0)}
    x, b = layer.input, layer.operand
    if g.operand_kind == "weight":
        if g.map_op == "mul" and g.reduce_op == "sum":
            return layer, "per-channel 1x1 GConv, the scale as weight"
        # a constant added (or reduced other than by a sum): unit weights, the constant is
        # the PE output function's bias
        w = layer.operand if g.map_op == "mul" else None
        if w is None and g.map_op != "mul":
            w = torch.ones(g.G * g.K, g.C, g.R, g.S)
        fields: _FormFields = {**base, "operand": g.operand}
        gc = dataclasses.replace(g, **fields)
        return dataclasses.replace(layer, gconv=gc, operand=w, params={}), (
            f"GConv with unit weights, map '{g.map_op}' / reduce '{g.reduce_op}' in the PE")
    if g.operand_kind == "none":
        w = torch.full((g.G * g.K, g.C, g.R, g.S),
                       1.0 / (g.R * g.S * g.C) if g.reduce_op == "mean" else 1.0)
        gc = dataclasses.replace(g, **base)
        how = (f"grouped GConv (G={g.G}, K={g.K}, C={g.C}, {g.R}x{g.S}) with a constant "
               f"weight, PE reduce '{g.reduce_op}'")
        return dataclasses.replace(layer, gconv=gc, operand=w, params={},
                                   operand_density=1.0, operand_elems=0), how
    shape = broadcast_shape(layer)
    if g.map_op == "add":
        gc = dataclasses.replace(g, C=2, **base)
        xi = None
        if x is not None and b is not None:
            bb = torch.broadcast_to(b.reshape(shape), (g.N, g.G, g.P, g.Q)).to(x.dtype)
            xi = torch.stack([x, bb], dim=2).reshape(g.N, 2 * g.G, g.H, g.W)
        dens = (layer.input_density + layer.operand_density) / 2
        return dataclasses.replace(
            layer, gconv=gc, input=xi, operand=torch.ones(g.G, 2, 1, 1), params={},
            input_density=dens, operand_density=1.0, operand_elems=0), (
            "1x1 GConv, C = 2 per group: both operands concatenated along the reduction "
            "axis, unit weights")
    # element-wise mul: the second operand as the weight
    if shape[2] == shape[3] == 1 and shape[1] == g.G and (shape[0] == 1 or g.N == 1):
        gc = dataclasses.replace(g, **base)
        w = b.reshape(g.G, 1, 1, 1) if b is not None else None
        how = "depthwise 1x1 GConv, the per-channel operand as weight"
    elif shape[2] == shape[3] == 1 and shape[1] == g.G:
        gc = dataclasses.replace(g, N=1, G=g.N * g.G, **base)
        x = x.reshape(1, g.N * g.G, g.H, g.W) if x is not None else None
        w = b.reshape(g.N * g.G, 1, 1, 1) if b is not None else None
        how = "depthwise 1x1 GConv, one group per (n, channel), the operand as weight"
    else:
        full = g.N * g.G * g.P * g.Q
        gc = dataclasses.replace(g, N=1, G=full, H=1, W=1, P=1, Q=1, **base)
        x = x.reshape(1, full, 1, 1) if x is not None else None
        w = (torch.broadcast_to(b.reshape(shape), (g.N, g.G, g.P, g.Q)).reshape(full, 1, 1, 1)
             if b is not None else None)
        how = "one 1x1 GConv per output, the operand element as its weight"
    return dataclasses.replace(layer, gconv=gc, input=x, operand=w, params={},
                               operand_elems=0), how


def relabel(r: LayerResult, layer: LayerWorkload, form: LayerWorkload, how: str,
            energy: dict[str, float], unit: str, prov: dict[str, str]) -> LayerResult:
    """A result of a GConv form re-labelled as the original ``layer``'s: its name, kind and
    MACs (conserved), useful MACs (at most the form's issued, non-gated ones), ``energy``,
    ``details["array_form"]`` and the provenance of the rewrite (on ``unit``)."""
    g, gf = layer.gconv, form.gconv
    useful = min(useful_macs(layer), r.macs_issued - r.macs_gated)
    details = {**r.details, "unit": "array", "array_form": {
        "how": how, "form_macs": gf.macs, "G": gf.G, "K": gf.K, "C": gf.C, "R": gf.R,
        "S": gf.S, "pe_reduce": g.reduce_op, "pe_map": g.map_op}}
    prov = {**r.provenance, "array_form": f"run on {unit} as its GConv form: {how} "
            "(nonconv_on: array)", **prov}
    return dataclasses.replace(r, layer=g.name, kind=g.kind, macs=g.macs,
                               macs_useful=max(useful, 0),
                               macs_skipped=max(g.macs - r.macs_issued, 0),
                               energy_pj=energy, details=details, provenance=prov)
