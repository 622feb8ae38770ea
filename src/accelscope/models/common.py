"""Counting shared by the accelerator models: useful MACs from real data, compulsory
footprints of a GConv's tensors, and the spec-derived provenance (and area) every result
carries."""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable
from typing import Any

import torch

from accelscope.energy.area import AreaReport
from accelscope.models.contract import LayerWorkload
from accelscope.results import LayerResult
from accelscope.workload.execute import gconv_fast


def useful_macs(layer: LayerWorkload) -> int:
    """Map operations of the GConv whose two operands are both non-zero.

    For a multiply GConv with data this runs the GConv once on the non-zero indicators of its
    operands (a count per output of at most C*R*S, exact in float32; summed in float64), so
    padding, dilation, groups and transposed-convolution zero insertion are counted exactly
    as the executor computes them. Without data (statistical mode) it is the expectation
    under independent uniform zeros. Add / pass-through GConvs have no zero to skip: all of
    their operations are useful.
    """
    g = layer.gconv
    if g.map_op != "mul" or g.operand_kind == "none":
        return g.macs
    if layer.input is None or layer.operand is None:
        return round(g.macs * layer.input_density * layer.operand_density)
    plain = dataclasses.replace(g, post_ops=(), pad_value=0.0, mean_pad=(0, 0, 0, 0),
                                reduce_op="sum" if g.reduce_op != "none" else "none")
    xi = (layer.input != 0).to(torch.float32)
    wi = (layer.operand != 0).to(torch.float32)
    counts = gconv_fast(plain, xi, wi)
    return int(counts.to(torch.float64).sum().round().item())


def footprint_elems(layer: LayerWorkload) -> dict[str, int]:
    """Elements of each tensor a GConv touches at least once: input, operand (weight or
    second activation, at its real, possibly broadcast, size) and output."""
    g = layer.gconv
    out = {"input": g.input_elems, "output": g.output_elems}
    if g.operand_kind == "weight":
        out["weight"] = g.weight_elems
    elif g.operand_kind == "tensor":
        out["operand"] = layer.operand_elems
    return out


def pieces(total: int, size: int) -> list[tuple[int, int]]:
    """(piece size, count) when ``total`` is cut into pieces of ``size``: the full pieces and
    the remainder (folds of an array, tiles of a layer)."""
    full, rem = divmod(total, size)
    out = [(size, full)] if full else []
    if rem:
        out.append((rem, 1))
    return out


def spec_provenance(spec: Any) -> dict[str, str]:
    """What every result records about the spec: its source and the defaults it took."""
    prov = {"arch": f"{spec.name} ({spec.source})"}
    defaults = spec.defaults_used() if hasattr(spec, "defaults_used") else []
    if defaults:
        prov["arch.defaults_used"] = ", ".join(defaults)
    return prov


@functools.lru_cache(maxsize=256)
def spec_area(area: Callable[[Any], AreaReport], spec: Any) -> AreaReport:
    """``area(spec)``, computed once per distinct spec (a report is immutable; every layer of
    a network, and every sweep point with the same spec, shares it)."""
    return area(spec)


def with_area(result: LayerResult, area: Callable[[Any], AreaReport], spec: Any
              ) -> LayerResult:
    """``result`` with the spec's area: ``details["area_mm2"]`` (each component and
    ``total``, mm^2) and the constants used in its provenance (``area``, ``area.*``)."""
    try:
        report = spec_area(area, spec)
    except TypeError:  # a spec with an unhashable field (a model of one's own): uncached
        report = area(spec)
    return dataclasses.replace(
        result, details={**result.details, "area_mm2": report.details()},
        provenance={**result.provenance, **report.provenance})
