"""The DCT codec priced on an accelerator: every inter-layer feature map's DRAM traffic at the
coded size of its real tensor, the codec's energy and, where it is slower than the layer, its
cycles (``apply_codec``); the bytes each map takes coded or dense (``map_sizes``)."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence

import torch

from accelscope.arch import ArchSpec
from accelscope.compress.dct import DctCodec, DctError
from accelscope.compress.inloop import DctHardware, coded_bits, describe
from accelscope.energy import get_table, rescale_dram
from accelscope.models.contract import LayerWorkload
from accelscope.models.registry import get_model
from accelscope.passes.common import expanded_input
from accelscope.results import NetworkResult
from accelscope.workload.gconv import GConv


def apply_codec(result: NetworkResult, workloads: Sequence[LayerWorkload], spec: ArchSpec,
                codec: DctCodec, hw: DctHardware | None = None) -> NetworkResult:
    """The NetworkResult with every inter-layer feature map's DRAM traffic at its DCT-coded
    size: each layer's DRAM input / output (and second-operand) bits are scaled by the coded
    size of the real tensor over its size at the operand width; the DRAM energy follows; the
    codec's energy (``hw.macs_per_block`` MACs per 8x8 block encoded or decoded, priced at
    the preset's MAC) is added as ``dct``; a layer whose blocks take longer through the
    encoders and decoders (``hw``, overlapped with compute) than its own cycles gets the
    difference as ``dct_codec`` stall cycles. Needs actual-mode workloads."""
    hw = hw or DctHardware()
    info = get_model(spec.model)
    if not info.counts_accesses:
        # a measured baseline has no DRAM model to re-price: left as measured, and said so
        return dataclasses.replace(result, details={
            **result.details, "compress": f"not applied: {spec.name} is measured, it has no "
                                          "DRAM traffic to re-price"})
    why = info.own_fmap_coding(spec)
    if why:
        raise DctError(f"--compress on {spec.name!r}: {why}; the DCT codec would code the "
                       "maps twice. Copy the preset with that option off (dense feature maps) "
                       "to compare the codecs")
    if any(w.input is None or w.output is None for w in workloads):
        raise DctError("--compress needs the real tensors: use --mode actual")
    table = get_table(spec.energy_table)
    bits = int(spec.compute.operand_bits)
    mac_pj = (table.lookup("mac_16b").value if "mac_16b" in table.entries
              else table.mac_pj(bits, acc_bits=spec.compute.accumulator_bits))
    cache: dict[tuple[int, tuple[int, ...]], tuple[float, int]] = {}

    def coded(t: torch.Tensor) -> tuple[float, int]:
        key = (t.data_ptr(), tuple(t.shape))
        if key not in cache:
            cb, nb = coded_bits(codec, t)
            cache[key] = (cb / (t.numel() * bits), nb)
        return cache[key]

    area = hw.area_mm2(int(spec.technology_nm))
    layers = []
    for w, r in zip(workloads, result.layers, strict=True):
        g: GConv = w.gconv
        assert w.input is not None and w.output is not None  # checked above
        scale: dict[str, float] = {}
        dec = enc = 0
        if not w.input_is_network_input and w.input.dim() == 4:
            f, nb = coded(w.input)
            dec += nb
            if not expanded_input(r):
                scale["input"] = f
        if g.operand_kind == "tensor" and w.operand is not None and w.operand.dim() == 4:
            scale["operand"], nb = coded(w.operand)
            dec += nb
        if w.output.dim() == 4:
            scale["output"], nb = coded(w.output)
            enc += nb
        blocks = dec + enc
        old_bits = r.level_bits("dram")
        rescaled = rescale_dram(r, scale, word_bits=spec.dram.word_bits)
        energy = dict(rescaled.energy_pj)
        energy["dct"] = blocks * hw.macs_per_block * mac_pj
        codec_cycles = hw.cycles(enc, dec)
        stalls = dict(r.stall_cycles)
        cycles = r.cycles
        if codec_cycles > cycles:
            stalls["dct_codec"] = codec_cycles - cycles
            cycles = codec_cycles
        details = {**r.details, "dct_ratio": {k: 1 / v for k, v in scale.items() if v},
                   "dct_blocks": blocks, "dct_codec_cycles": codec_cycles,
                   "dram_bits_uncompressed": old_bits}
        prov = {**r.provenance, "compress": (
            f"DCT feature-map codec {describe(codec)}: DRAM feature-map bits at the coded "
            f"sizes of the real tensors; {hw.macs_per_block} MACs per block at {mac_pj:.4g} "
            f"pJ; {hw.units} encoder/decoder pair(s) at {hw.blocks_per_cycle:g} blocks/cycle, "
            f"latency {hw.latency} cycles, overlapped with compute (docs/dct.md)"
            + ("; the DRAM input is the software IM2COL matrix, left uncoded"
               if expanded_input(r) else ""))}
        layers.append(dataclasses.replace(r, accesses=rescaled.accesses, energy_pj=energy,
                                          stall_cycles=stalls, cycles=cycles,
                                          details=details, provenance=prov))
    return dataclasses.replace(
        result, layers=tuple(layers),
                         provenance={**result.provenance, "compress": describe(codec),
                                     "compress.area": (
                                         f"codec area estimate {area:.4f} mm2 at "
                                         f"{spec.technology_nm} nm (SCNN Table 4 unit areas, "
                                         "scaled by node squared)")},
                         details={**result.details, "compress": describe(codec),
                                  "dct_area_mm2": area})


def map_sizes(workloads: Sequence[LayerWorkload], spec: ArchSpec, codec: DctCodec | None
              ) -> dict[str, int]:
    """Bytes each inter-layer map takes in the buffer: coded (with ``codec``) or dense at the
    operand width."""
    bits = int(spec.compute.operand_bits)
    out = {}
    for w in workloads:
        t = w.output
        if t is None:
            raise DctError("keeping maps on chip needs the real tensors: use --mode actual")
        if codec is not None and t.dim() == 4:
            out[w.gconv.output] = math.ceil(coded_bits(codec, t)[0] / 8)
        else:
            out[w.gconv.output] = math.ceil(t.numel() * bits / 8)
    return out
