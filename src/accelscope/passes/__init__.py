"""Passes after evaluation: they take an evaluated network (``NetworkResult``) or the
per-GConv workloads and a spec, read only typed result fields and the registered models'
declarations (``ModelInfo``), and return a new result.

* ``strategies``: how a whole chain runs on one accelerator (gconv, dedicated, host-fallback,
  matrix);
* ``fusion``: intermediates between consecutive accelerator GConvs kept on chip;
* ``codec``: the DCT feature-map codec priced in DRAM traffic, energy and cycles;
* ``fmaps``: a unified on-chip SRAM split per layer, maps that fit kept out of DRAM.

``code_and_place`` applies the last two as ``--compress`` and ``--fmaps-on-chip`` do.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from accelscope.arch import ArchSpec
from accelscope.compress.inloop import parse_compress, parse_hardware
from accelscope.models.contract import LayerWorkload
from accelscope.models.registry import get_model
from accelscope.passes.codec import apply_codec, map_sizes
from accelscope.passes.common import ON_ACCEL, ON_HOST, StrategyError
from accelscope.passes.fmaps import Allocation, allocate, keep_on_chip
from accelscope.passes.fusion import fuse_chain, fusion_capacity, fusion_plan
from accelscope.passes.strategies import (
    STRATEGIES,
    evaluate_strategies,
    evaluate_strategy,
    parse_strategies,
)
from accelscope.results import NetworkResult


@dataclass(frozen=True)
class OnChipSummary:
    """What ``--fmaps-on-chip`` kept, with and without the codec."""

    arch: str
    maps_on_chip: int
    unified_bytes: int
    dram_bits: int
    dense_maps_on_chip: int | None = None  # the same allocation without the codec
    dense_dram_bits: int | None = None

    def line(self) -> str:
        text = (f"{self.arch}: {self.maps_on_chip} of the inter-layer maps stay on chip in "
                f"{self.unified_bytes / 1024:,.0f} KiB of unified SRAM; DRAM "
                f"{self.dram_bits / 8e6:.4g} MB")
        if self.dense_maps_on_chip is not None and self.dense_dram_bits is not None:
            text += (f" (without compression: {self.dense_maps_on_chip} maps on chip, DRAM "
                     f"{self.dense_dram_bits / 8e6:.4g} MB)")
        return text


def check_compress(compress: str | None) -> None:
    """Refuse a bad ``--compress`` setting before any work."""
    if compress is not None:
        parse_compress(compress)
        parse_hardware(compress)


def code_and_place(result: NetworkResult, workloads: Sequence[LayerWorkload], spec: ArchSpec,
                   compress: str | None = None, fmaps_on_chip: bool = False
                   ) -> tuple[NetworkResult, OnChipSummary | None]:
    """``result`` with its inter-layer maps DCT-coded (``compress``, a ``--compress``
    setting) and/or kept on chip where they fit (``fmaps_on_chip``); the summary of what
    stayed on chip (None without ``fmaps_on_chip`` or for a measured model)."""
    if compress is None and not fmaps_on_chip:
        return result, None
    codec = parse_compress(compress) if compress is not None else None
    plain = result
    if codec is not None:
        assert compress is not None  # codec is parsed from it
        result = apply_codec(result, workloads, spec, codec, parse_hardware(compress))
    if not fmaps_on_chip or not get_model(spec.model).counts_accesses:
        return result, None
    alloc = allocate(workloads, spec, map_sizes(workloads, spec, codec), results=plain.layers)
    result = keep_on_chip(result, workloads, spec, alloc)
    dense_kept = dense_bits = None
    if codec is not None:
        dense = allocate(workloads, spec, map_sizes(workloads, spec, None),
                         results=plain.layers)
        dense_kept = len(dense.on_chip)
        dense_bits = keep_on_chip(plain, workloads, spec, dense).level_bits("dram")
    return result, OnChipSummary(spec.name, len(alloc.on_chip), alloc.unified_bytes,
                                 result.level_bits("dram"), dense_kept, dense_bits)


__all__ = ["ON_ACCEL", "ON_HOST", "STRATEGIES", "Allocation", "OnChipSummary", "StrategyError",
           "allocate", "apply_codec", "check_compress", "code_and_place", "evaluate_strategies",
           "evaluate_strategy", "fuse_chain", "fusion_capacity", "fusion_plan", "keep_on_chip",
           "map_sizes", "parse_strategies"]
