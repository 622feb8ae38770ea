"""The ``cgra`` accelerator model: a GConv of a network runs through the fastest CGRA mapping
that can express it, tiled to fit the SRAM banks.

What runs: multiply-accumulate convolutions with 3x3 windows, stride 1, no dilation, one
group, zero padding (the host writes the padded tile into the banks), any batch (one image
after another). The kernels work on int32 words; the layer's real activations and weights are
quantised to signed 8-bit levels in 32-bit words to drive them (their cycles do not depend on
the values: no kernel skips zeros). Everything else (pooling, element-wise, depthwise, 1x1
and FC layers, strided convolutions) is refused with the reason: the four mappings of the CF
'24 study do not express it.

Tiling: a layer whose tensors do not fit the banks is cut into tiles of output channels,
output rows (with the 2-row halo) and, for the weight-parallel mapping only (it accumulates
partial sums in place), input channels; each tile's input, weights and (when the input
channels are split) partial outputs come from off-chip memory and its outputs go back, over
the spec's DRAM link, not overlapped with the CGRA (X-HEEP's DMA could overlap them; we do
not assume it). Layers run one after another with their tensors off chip in between.

Simulation: each distinct tile shape is simulated instruction by instruction; with
``cgra.sample_launches`` > 0 only that many launches of it run and the counts are scaled to
the tile's launches (exact when the launches are identical: no data-dependent control flow in
any kernel and, on the one_to_m bus, no address-dependent latency).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from accelscope.energy import get_table
from accelscope.energy import provenance as energy_provenance
from accelscope.models._common import pieces, spec_provenance, useful_macs
from accelscope.models.base import LayerWorkload, UnsupportedLayerError, register_model
from accelscope.models.cgra.cost import Priced, price_run, sram_pj_per_access
from accelscope.models.cgra.layout import CgraMemoryError, ConvShape
from accelscope.models.cgra.mappings import RUNNERS, MappingRun
from accelscope.models.cgra.sim import Cgra
from accelscope.models.cgra.spec import CgraSpec
from accelscope.results import Access, LayerResult

MODEL = "cgra"


def check_supported(g) -> None:
    """Raise ``UnsupportedLayerError`` unless a CGRA mapping can express the GConv."""
    why = None
    if g.map_op != "mul" or g.reduce_op != "sum" or g.operand_kind != "weight":
        why = (f"it is a {g.map_op}/{g.reduce_op} GConv with operand {g.operand_kind!r}; the "
               "CGRA mappings only multiply-accumulate activations with weights")
    elif (g.R, g.S) != (3, 3):
        why = f"its window is {g.R}x{g.S}; the CGRA kernels are written for 3x3 filters"
    elif g.G != 1:
        why = f"it has {g.G} groups; the CGRA kernels convolve all input channels (G = 1)"
    elif g.stride != (1, 1) or g.dilation != (1, 1) or g.input_dilation != (1, 1):
        why = (f"stride {g.stride}, dilation {g.dilation}, input dilation "
               f"{g.input_dilation}; the CGRA kernels run stride 1 without dilation")
    elif g.pad_mode != "zeros" or g.pad_value != 0.0 or any(g.mean_pad):
        why = f"padding mode {g.pad_mode!r} (value {g.pad_value}); only zero padding is done"
    elif any(p < 0 for p in g.padding):
        why = f"negative padding (cropping) {g.padding}"
    if why is not None:
        raise UnsupportedLayerError(MODEL, g, why + "; run it on another accelerator model")


def _quantise(t: torch.Tensor) -> np.ndarray:
    """Symmetric signed 8-bit levels in int32 words (scale = max |value| / 127)."""
    a = t.detach().to(torch.float64).numpy()
    m = float(np.abs(a).max()) if a.size else 0.0
    if m == 0.0:
        return np.zeros(a.shape, dtype=np.int32)
    return np.clip(np.rint(a / m * 127.0), -127, 127).astype(np.int32)


@dataclass(frozen=True)
class _Tile:
    C: int
    K: int
    rows: int  # output rows


def _fits(mapping: str, shape: ConvShape, spec: CgraSpec) -> bool:
    cgra = Cgra(spec.cgra.array.timing())
    x = np.zeros((shape.C, shape.H, shape.W), np.int32)
    w = np.zeros((shape.K, shape.C, 3, 3), np.int32)
    try:
        RUNNERS[mapping](shape, x, w, cgra, max_launches=0)
    except CgraMemoryError:
        return False
    return True


def choose_tile(mapping: str, C: int, K: int, Hp: int, Wp: int, spec: CgraSpec) -> _Tile:
    """The largest tile (output channels first kept whole, then output rows, then input
    channels, the last only for ``wp``) whose tensors fit the banks."""
    Ho = Hp - 2
    t = _Tile(C, K, Ho)
    while not _fits(mapping, ConvShape(t.rows + 2, Wp, t.C, t.K), spec):
        if t.K > 16:
            t = _Tile(t.C, math.ceil(t.K / 2), t.rows)
        elif t.rows > 1:
            t = _Tile(t.C, t.K, math.ceil(t.rows / 2))
        elif t.C > 1 and mapping == "wp":
            t = _Tile(math.ceil(t.C / 2), t.K, t.rows)
        elif t.K > 1:
            t = _Tile(t.C, math.ceil(t.K / 2), t.rows)
        else:
            raise CgraMemoryError(
                f"mapping {mapping}: even a one-row tile of {t.C} input channels and width "
                f"{Wp} does not fit the CGRA banks")
    return t


def _price_mapping(mapping: str, g, x: np.ndarray, w: np.ndarray, spec: CgraSpec):
    """Tiles of one image through one mapping: (priced totals, tile, tiles, launches,
    sampled, dram words read, dram words written)."""
    C, Hp, Wp = x.shape
    K = w.shape[0]
    Ho = Hp - 2
    tile = choose_tile(mapping, C, K, Hp, Wp, spec)
    sample = spec.cgra.sample_launches
    totals: dict[str, float] = {}
    cycles = cgra_cycles = host_active = sram = 0
    launches = sampled = n_tiles = 0
    rd = {"input": 0, "weight": 0, "output": 0}
    wr = 0
    for ct, nc in pieces(C, tile.C):
        for kt, nk in pieces(K, tile.K):
            for rt, nr in pieces(Ho, tile.rows):
                count = nc * nk * nr
                shape = ConvShape(rt + 2, Wp, ct, kt)
                cgra = Cgra(spec.cgra.array.timing())
                run: MappingRun = RUNNERS[mapping](
                    shape, np.ascontiguousarray(x[:ct, :rt + 2, :]),
                    np.ascontiguousarray(w[:kt, :ct]), cgra,
                    max_launches=sample or None)
                p: Priced = price_run(run, spec)
                cycles += count * p.cycles
                cgra_cycles += count * p.cgra_cycles
                host_active += count * p.host_active_cycles
                sram += count * p.sram_accesses
                for k, v in p.energy_pj.items():
                    totals[k] = totals.get(k, 0.0) + count * v
                launches += count * run.launches
                sampled += run.launches if run.complete else run.sampled_launches
                n_tiles += count
                rd["input"] += count * ct * (rt + 2) * Wp
                rd["weight"] += count * kt * ct * 9
                wr += count * kt * rt * (Wp - 2)
    if tile.C < C:  # partial outputs of every input-channel tile after the first come back
        rd["output"] += (math.ceil(C / tile.C) - 1) * K * Ho * (Wp - 2)
    return (totals, cycles, cgra_cycles, host_active, sram, tile, n_tiles, launches, sampled,
            rd, wr)


@register_model(MODEL, description="OpenEdgeCGRA 4x4: instruction-level simulation of the "
                "CF '24 convolution mappings (best per layer, tiled to the banks) with the "
                "host CPU's launches, parameters and im2col", uses_data=False)
def evaluate(layer: LayerWorkload, spec: CgraSpec) -> LayerResult:
    g = layer.gconv
    check_supported(g)
    pt, pl, pb, pr = g.padding
    Hp, Wp = g.H + pt + pb, g.W + pl + pr
    if (Hp - 2, Wp - 2) != (g.P, g.Q):
        raise UnsupportedLayerError(MODEL, g, f"padded input {Hp}x{Wp} does not give the "
                                    f"{g.P}x{g.Q} output of a 3x3 stride-1 window")
    if layer.input is not None and layer.operand is not None:
        x0 = _quantise(layer.input[:1])[0]
        w = _quantise(layer.operand).reshape(g.K, g.C, 3, 3)
        data = "real activations and weights, quantised to 8-bit levels"
    else:
        rng = np.random.default_rng(layer.index)
        x0 = rng.integers(-127, 128, (g.C, g.H, g.W)).astype(np.int32)
        w = rng.integers(-127, 128, (g.K, g.C, 3, 3)).astype(np.int32)
        data = "seeded random 8-bit levels (statistical mode: no tensors)"
    x = np.zeros((g.C, Hp, Wp), np.int32)
    x[:, pt:pt + g.H, pl:pl + g.W] = x0
    h = spec.cgra.host
    pad_words = g.C * Hp * Wp if any(g.padding) else 0
    pad_cycles = pad_words * (h.load_cycles + h.store_cycles + h.alu_cycles)

    best = None
    per_mapping: dict[str, int] = {}
    refused: dict[str, str] = {}
    for m in spec.cgra.mappings:
        if m not in RUNNERS:
            refused[m] = "no kernel"
            continue
        try:
            got = _price_mapping(m, g, x, w, spec)
        except CgraMemoryError as exc:
            refused[m] = str(exc)
            continue
        per_mapping[m] = got[1]
        if best is None or got[1] < best[1][1]:
            best = (m, got)
    if best is None:
        raise UnsupportedLayerError(MODEL, g, "no mapping fits: " + "; ".join(
            f"{m}: {r}" for m, r in refused.items()))
    mapping, (energy, cyc, cgra_cyc, host_active, sram, tile, n_tiles, launches, sampled,
              rd, wr) = best
    n = g.N
    energy = {k: v * n for k, v in energy.items()}
    dram_rd = {t: 32 * v * n for t, v in rd.items()}
    dram_bits_rd, dram_bits_wr = sum(dram_rd.values()), 32 * wr * n
    d = spec.dram
    dram_cycles = math.ceil((dram_bits_rd + dram_bits_wr) / d.bandwidth_bits_per_cycle)
    table = get_table(spec.energy_table)
    dram_pj = d.energy_pj_per_bit if d.energy_pj_per_bit is not None else table.dram_pj_per_bit
    energy["dram"] = (dram_bits_rd + dram_bits_wr) * dram_pj
    energy["host.active"] = energy.get("host.active", 0.0) + \
        n * pad_cycles * h.active_pj_per_cycle
    pj_acc, sram_src = sram_pj_per_access(spec)
    energy["sram"] = energy.get("sram", 0.0) + n * 2 * pad_words * pj_acc
    cycles = n * (cyc + pad_cycles) + dram_cycles
    sram_acc = n * (sram + 2 * pad_words)
    prov = {**spec_provenance(spec), **energy_provenance(table),
            "cgra.cells": "per-operation cell power: cgra.energy.op_power_w (ESL-CGRA-"
                          "simulator characterisation, 2025)",
            "cgra.sram": sram_src,
            "cgra.host": "host cycles: cgra.host (cv32e20-like timing, launch overhead "
                         f"{h.launch_overhead_cycles} cycles)",
            "cgra.data": data,
            "dram": f"{dram_pj:.4g} pJ/bit, {d.bandwidth_bits_per_cycle} bit/cycle, not "
                    "overlapped"}
    warnings = []
    if sampled < launches / n:
        warnings.append(f"simulated {sampled} of {launches // n} launches per image "
                        "instruction by instruction and scaled the counts (identical "
                        "launches; cgra.sample_launches)")
    return LayerResult(
        layer=g.name, kind=g.kind, model=MODEL, arch=spec.name, clock_hz=float(spec.clock_hz),
        peak_macs_per_cycle=int(spec.compute.macs_per_cycle), cycles=int(cycles),
        macs=g.macs, macs_issued=g.macs, macs_useful=useful_macs(layer),
        accesses=(Access("sram", "all", reads=sram_acc, read_bits=32 * sram_acc),
                  *(Access("dram", t, reads=math.ceil(b / d.word_bits), read_bits=b)
                    for t, b in dram_rd.items() if t != "output"),
                  Access("dram", "output", reads=math.ceil(dram_rd["output"] / d.word_bits),
                         writes=math.ceil(dram_bits_wr / d.word_bits),
                         read_bits=dram_rd["output"], write_bits=dram_bits_wr)),
        energy_pj=energy,
        stall_cycles={"dram_transfer": dram_cycles, "host": int(cycles - dram_cycles -
                                                                 n * cgra_cyc)},
        details={"mapping": mapping, "cycles_by_mapping": per_mapping, "refused": refused,
                 "tile": {"C": tile.C, "K": tile.K, "rows": tile.rows}, "tiles": n_tiles * n,
                 "launches": launches * n, "simulated_launches": sampled * n,
                 "cgra_cycles": n * cgra_cyc, "host_active_cycles": n * host_active,
                 "padding_copy_cycles": n * pad_cycles},
        provenance=prov, warnings=tuple(warnings))
