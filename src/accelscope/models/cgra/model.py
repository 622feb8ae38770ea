"""The ``cgra`` accelerator model: a GConv of a network runs through the fastest CGRA mapping
that can express it, tiled to fit the SRAM banks; every other GConv runs through the general
im2col path (the ``im2col-ic`` kernel over host-built patches, ``general.py``).

The four CF '24 mappings: multiply-accumulate convolutions with 3x3 windows, stride 1, no
dilation, one group, zero padding (the host writes the padded tile into the banks), any batch
(one image after another). The kernels work on int32 words; the layer's real activations and
weights are quantised to signed 8-bit levels in 32-bit words to drive them (their cycles do
not depend on the values: no kernel skips zeros).

The general path (``mapping: im2col-general``): any other multiply-and-sum GConv with a
weight (depthwise, grouped, 1x1, strided, dilated, 7x7, FC, transposed, reflect-padded)
runs as one dot product per output on the ``im2col-ic`` kernel; a GConv that is not one
(pooling, element-wise add / mul, per-channel scale, point-wise activation, upsampling) runs
in its GConv form (``models.systolic.array_form``): constant, unit or activation-tensor
weights, quantised like any operand. A max reduce has no instruction in the simulated ISA
subset: its cycles and energy are those of the same kernel with unit weights, a stand-in
that the result warns about. A GConv whose single row of one filter over one input channel
does not fit the banks is refused.

Tiling: a layer whose tensors do not fit the banks is cut into tiles of output channels,
output rows (with the 2-row halo) and, for the weight-parallel mapping only (it accumulates
partial sums in place), input channels; the general path's tiling is in ``general.py``. Each
tile's input, weights and (when the input channels are split) partial outputs come from
off-chip memory and its outputs go back, over the spec's DRAM link, not overlapped with the
CGRA (X-HEEP's DMA could overlap them; we do not assume it). Layers run one after another
with their tensors off chip in between. Fused post-ops (bias, scale, activation) are neither
run nor timed, on the CGRA or the host.

Simulation: each distinct tile shape is simulated instruction by instruction; with
``cgra.sample_launches`` > 0 only that many launches of it run and the counts are scaled to
the tile's launches (exact when the launches are identical: no data-dependent control flow in
any kernel and, on the one_to_m bus, no address-dependent latency).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from accelscope.energy import NormalizedTableError, Pricing, dram_accesses
from accelscope.energy.area import AreaModel, AreaReport
from accelscope.errors import ShapeError
from accelscope.models.array_form import array_form
from accelscope.models.cgra.cost import Tally, price_run, sram_pj_per_access
from accelscope.models.cgra.layout import CgraMemoryError, ConvShape
from accelscope.models.cgra.mappings import RUNNERS, MappingRun
from accelscope.models.cgra.sim import Cgra
from accelscope.models.cgra.spec import CgraSpec
from accelscope.models.common import pieces, spec_provenance, useful_macs, with_area
from accelscope.models.contract import LayerWorkload, ModelInfo, UnsupportedLayerError
from accelscope.results import Access, LayerResult
from accelscope.workload.gconv import GConv

MODEL_NAME = "cgra"


def mapping_gap(g: GConv) -> str | None:
    """Why none of the four CF '24 mappings can express the GConv (``None`` when they can):
    they multiply-accumulate 3x3 windows at stride 1, without dilation, over all input
    channels (one group), on a zero-padded input whose padded size gives the output."""
    if g.map_op != "mul" or g.reduce_op != "sum" or g.operand_kind != "weight":
        return (f"it is a {g.map_op}/{g.reduce_op} GConv with operand {g.operand_kind!r}; the "
                "four mappings only multiply-accumulate activations with weights")
    if (g.R, g.S) != (3, 3):
        return f"its window is {g.R}x{g.S}; the four mappings are written for 3x3 filters"
    if g.G != 1:
        return f"it has {g.G} groups; the four mappings convolve all input channels (G = 1)"
    if g.stride != (1, 1) or g.dilation != (1, 1) or g.input_dilation != (1, 1):
        return (f"stride {g.stride}, dilation {g.dilation}, input dilation "
                f"{g.input_dilation}; the four mappings run stride 1 without dilation")
    if g.pad_mode != "zeros" or g.pad_value != 0.0 or any(g.mean_pad):
        return (f"padding mode {g.pad_mode!r} (value {g.pad_value}); the four mappings take "
                "a zero-padded input")
    if any(p < 0 for p in g.padding):
        return f"negative padding (cropping) {g.padding}"
    pt, pl, pb, pr = g.padding
    if (g.H + pt + pb - 2, g.W + pl + pr - 2) != (g.P, g.Q):
        return (f"padded input {g.H + pt + pb}x{g.W + pl + pr} does not give the {g.P}x{g.Q} "
                "output of a 3x3 stride-1 window")
    return None


def _quantise(t: torch.Tensor) -> np.ndarray:
    """Symmetric signed 8-bit levels in int32 words (scale = max |value| / 127)."""
    return _levels(t)[0]


_CHUNK = 1 << 22  # elements quantised at a time (bounds the float64 temporaries)


def _levels(t: torch.Tensor) -> tuple[np.ndarray, float]:
    """``_quantise`` and its max |value| (0 for an all-zero tensor): a value v is the level
    rint(v / max * 127), clipped to +-127, in float64. Non-finite values (an overflowed
    activation) count as 0."""
    flat = t.detach().reshape(-1)
    if flat.is_floating_point() and not bool(torch.isfinite(flat).all()):
        flat = torch.nan_to_num(flat, nan=0.0, posinf=0.0, neginf=0.0)
    n = flat.numel()
    m = float(flat.abs().max()) if n else 0.0  # exact in the tensor's own dtype
    out = np.zeros(n, dtype=np.int32)
    if m != 0.0:
        for i in range(0, n, _CHUNK):
            a = flat[i:i + _CHUNK].to(torch.float64).numpy()
            out[i:i + _CHUNK] = np.clip(np.rint(a / m * 127.0), -127, 127)
    return out.reshape(tuple(t.shape)), m


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


def _price_mapping(mapping: str, g: GConv, x: np.ndarray, w: np.ndarray, spec: CgraSpec
                   ) -> tuple[Tally, _Tile, dict[str, int], int]:
    """Tiles of one image through one mapping: (priced totals, tile, dram words read by
    tensor, dram words written)."""
    C, Hp, Wp = x.shape
    K = w.shape[0]
    Ho = Hp - 2
    tile = choose_tile(mapping, C, K, Hp, Wp, spec)
    sample = spec.cgra.sample_launches
    tally = Tally()
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
                tally.add(run, price_run(run, spec), count)
                rd["input"] += count * ct * (rt + 2) * Wp
                rd["weight"] += count * kt * ct * 9
                wr += count * kt * rt * (Wp - 2)
    if tile.C < C:  # partial outputs of every input-channel tile after the first come back
        rd["output"] += (math.ceil(C / tile.C) - 1) * K * Ho * (Wp - 2)
    return tally, tile, rd, wr


class _NoMappingFitsError(Exception):
    """No CF '24 mapping fits a GConv they can express (``refused``: mapping -> why)."""

    def __init__(self, refused: dict[str, str]):
        self.refused = refused


def evaluate(layer: LayerWorkload, spec: CgraSpec) -> LayerResult:
    g = layer.gconv
    if not isinstance(spec, CgraSpec):
        raise UnsupportedLayerError(MODEL_NAME, g, "the spec is not a CGRA spec (model: cgra)")
    gap = mapping_gap(g)
    if gap is None:
        try:
            r = _evaluate_mappings(layer, spec)
        except _NoMappingFitsError as exc:
            r = _evaluate_general(layer, spec, exc.refused, fallback=True)
    else:
        r = _evaluate_general(layer, spec, {m: gap for m in spec.cgra.mappings})
    return with_area(r, area, spec)


#: Registers of one cell: R0-R3 and ROUT (OpenEdgeCGRA README, docs/cgra.md).
CELL_REGISTERS = 5
#: Width of one cell instruction (OpenEdgeCGRA RTL: 32-bit instructions,
#: shared/references/gconv_dct_cgra.md Sec. 3).
INSTRUCTION_BITS = 32


def area(spec: CgraSpec) -> AreaReport:
    """The cells (a 32-bit ALU adder, a 32-bit multiplier, five 32-bit registers and the
    per-cell context memory of ``max_instructions`` instructions) and the SRAM banks, which
    the CGRA shares with the host [mm2]. Not modelled: the host CPU, the bus, the torus
    links, the shared instruction memory, the ALU's logic and shift paths, control and I/O."""
    c, a = spec.compute, spec.cgra.array
    am = AreaModel(spec.technology_nm)
    bits = int(c.operand_bits)
    n = math.prod(c.array)
    parts = {"cells.alu_adder": n * am.adder_um2(bits),
             "cells.multiplier": n * am.multiplier_um2(bits),
             "cells.registers": n * am.register_um2(CELL_REGISTERS * bits),
             "cells.context_memory": n * am.storage_um2(a.max_instructions
                                                        * INSTRUCTION_BITS / 8)}
    for level in spec.memory:
        parts[f"sram.{level.name}"] = am.level_um2(level)
    return am.report(parts, method=(
        f"{n} cells x ({bits}-bit adder and multiplier, {CELL_REGISTERS} {bits}-bit "
        f"registers, {a.max_instructions} x {INSTRUCTION_BITS}-bit context words) and the "
        "SRAM banks shared with the host; not modelled: host CPU, bus, torus links, shared "
        "instruction memory, logic/shift paths, control, I/O"))


def _evaluate_mappings(layer: LayerWorkload, spec: CgraSpec) -> LayerResult:
    """A 3x3 stride-1 one-group convolution through the fastest of the spec's mappings."""
    g = layer.gconv
    pt, pl, pb, pr = g.padding
    Hp, Wp = g.H + pt + pb, g.W + pl + pr
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
    pad_words = g.C * Hp * Wp if any(g.padding) else 0

    best = None
    per_mapping: dict[str, int] = {}
    refused: dict[str, str] = {}
    for m in spec.cgra.mappings:
        if m not in RUNNERS:
            refused[m] = "no kernel"
            continue
        try:
            got = _price_mapping(m, g, x, w, spec)
        except (CgraMemoryError, ShapeError) as exc:  # banks, or a kernel immediate
            refused[m] = str(exc)
            continue
        per_mapping[m] = got[0].cycles
        if best is None or got[0].cycles < best[1][0].cycles:
            best = (m, got)
    if best is None:
        raise _NoMappingFitsError(refused)
    mapping, (tally, tile, rd, wr) = best
    return _result(layer, spec, n=g.N, tally=tally, rd=rd, wr=wr, pad_words=pad_words,
                   macs_issued=g.macs, macs_useful=useful_macs(layer), data=data,
                   details={"mapping": mapping, "cycles_by_mapping": per_mapping,
                            "refused": refused,
                            "tile": {"C": tile.C, "K": tile.K, "rows": tile.rows},
                            "tiles": tally.tiles * g.N})


def _general_operands(layer: LayerWorkload, form: LayerWorkload, synthetic: bool
                      ) -> tuple[np.ndarray, np.ndarray, GConv, bool, str]:
    """One image's int32 input (G*C, H, W) and weights (G*K or K, C, R, S) of the GConv
    form, with the form's GConv (its constant pad value quantised with the input), whether
    the weights are one set shared by every group, and what drove the kernel."""
    gf = form.gconv
    if form.input is not None:
        xq, scale = _levels(form.input[:1])
        x0 = xq[0].reshape(gf.G * gf.C, gf.H, gf.W)
        data = "real activations"
    else:
        rng = np.random.default_rng(layer.index)
        x0 = rng.integers(-127, 128, (gf.G * gf.C, gf.H, gf.W)).astype(np.int32)
        scale = 127.0
        data = "seeded random 8-bit activations (statistical mode: no tensors)"
    if gf.pad_mode == "zeros" and gf.pad_value != 0.0:
        level = 0 if scale == 0.0 else int(np.clip(np.rint(gf.pad_value / scale * 127.0),
                                                   -127, 127))
        gf = dataclasses.replace(gf, pad_value=float(level))
    if form.operand is not None:
        w = _quantise(form.operand).reshape(-1, gf.C, gf.R, gf.S)
        data += (", constant weights of the GConv form" if synthetic else
                 ", real weights" if layer.gconv.operand_kind == "weight" else
                 ", the second activation as weights")
    else:
        rng = np.random.default_rng(layer.index + 1)
        w = rng.integers(-127, 128, (gf.G * gf.K, gf.C, gf.R, gf.S)).astype(np.int32)
        data += ", seeded random 8-bit weights"
    shared = False
    if synthetic and gf.G > 1:
        per = w.reshape(gf.G, gf.K, -1)
        if (per == per[:1]).all():
            w, shared = w[:gf.K], True
    return x0, w, gf, shared, data + ", quantised to 8-bit levels"


def _evaluate_general(layer: LayerWorkload, spec: CgraSpec, refused: dict[str, str], *,
                      fallback: bool = False) -> LayerResult:
    """A GConv the four mappings cannot run (or that none of them fits) through the general
    im2col path, in its GConv form where it is not a multiply-and-sum GConv with a weight."""
    from accelscope.models.cgra import general
    from accelscope.models.cgra.mappings import GENERAL

    g = layer.gconv
    why = "; ".join(sorted(set(refused.values()))) if not fallback else "no mapping fits"
    if "im2col-ic" not in spec.cgra.mappings:
        raise UnsupportedLayerError(MODEL_NAME, g, f"{why}; the general im2col path runs the "
                                    "im2col-ic kernel, which cgra.mappings leaves out: add "
                                    "im2col-ic to cgra.mappings or run it on another "
                                    "accelerator model")
    plain = g.map_op == "mul" and g.reduce_op == "sum" and g.operand_kind == "weight"
    form, how = (layer, "") if plain else array_form(layer)
    gf = form.gconv
    if gf.map_op != "mul" or gf.reduce_op != "sum" or gf.operand_kind != "weight":
        raise UnsupportedLayerError(MODEL_NAME, g, f"{why}, and it has no multiply-and-sum GConv "
                                    f"form ({how}); run it on another accelerator model")
    synthetic = not (g.map_op == "mul" and g.operand_kind in ("weight", "tensor"))
    x0, w, gq, shared, data = _general_operands(layer, form, synthetic)
    patches, weights = general.im2col_operands(gq, x0, w)
    data_operand = g.operand_kind == "tensor" and g.map_op == "mul"
    try:
        run = general.run_general(gq, patches, weights, spec,
                                  weight_tensor="operand" if data_operand else "weight")
    except CgraMemoryError as exc:
        raise UnsupportedLayerError(MODEL_NAME, g, f"{why}; the general im2col path does not fit "
                                    f"either: {exc}; give the CGRA more memory "
                                    "(cgra.array.n_banks or bank_bytes) or run it on "
                                    "another accelerator model") from None
    rd = dict(run.dram_words_read)
    if g.operand_kind == "tensor" and g.map_op == "add":
        # the form's channels alternate (input, operand) per group: half the words are each
        rd["operand"] = rd["input"] // 2
        rd["input"] -= rd["operand"]
    Hp, Wp = general.prepared_hw(gf)
    prepared = any(gf.padding) or gf.input_dilation != (1, 1)
    pad_words = gf.G * gf.C * Hp * Wp if prepared else 0
    t = run.tile
    details = {"mapping": GENERAL, "kernel": "im2col-ic",
               "cycles_by_mapping": {GENERAL: run.tally.cycles}, "refused": refused,
               "tile": {"G": t.G, "K": t.K, "rows": t.rows, "C": t.C, "R": t.R},
               "tiles": run.tally.tiles * gf.N, "window": gf.C * gf.R * gf.S,
               "L": math.ceil(gf.C * gf.R * gf.S / 16),
               "shared_weights": shared, "exact": run.exact,
               "host_cycles_by_cause": {k: v * gf.N
                                        for k, v in run.tally.host_cycles.items()}}
    prov: dict[str, str] = {
        "cgra.general": f"{GENERAL}: the im2col-ic kernel, one {gf.C * gf.R * gf.S}-element "
                        "dot product per output over a host-built patch of the prepared "
                        "input (padding, stride, dilation, zero insertion and groups resolved "
                        "by the host)"}
    warnings: list[str] = []
    if fallback:
        warnings.append("no CF '24 mapping fits the banks (" + "; ".join(
            f"{m}: {r}" for m, r in refused.items()) + f"); ran on {GENERAL}")
    if not plain:
        details["array_form"] = {"how": how, "form_macs": gf.macs, "G": gf.G, "K": gf.K,
                                 "C": gf.C, "R": gf.R, "S": gf.S, "pe_reduce": g.reduce_op,
                                 "pe_map": g.map_op, "stand_in": g.reduce_op == "max"}
        prov["array_form"] = f"run on the CGRA as its GConv form: {how}"
    if g.reduce_op == "mean":
        prov["cgra.mean"] = ("mean as a sum with the constant weight 1/taps, quantised like "
                             "every operand (the level 127 at scale 1/(127 taps)); the "
                             "division by the window count (a post-op) is not run, and border "
                             "windows whose padding is not counted get 1/taps too")
    if g.reduce_op == "max":
        msg = ("max reduce: no max instruction in the simulated ISA subset; the cycles and "
               "energy are the im2col-ic kernel's with unit weights (SMUL + SADD per element "
               "where a real kernel would use SSUB and a select), a stand-in; the kernel's "
               "output is the window sum, not the maximum")
        warnings.append(msg)
        prov["cgra.max"] = msg
    issued = gf.macs
    return _result(layer, spec, n=gf.N, tally=run.tally, rd=rd, wr=run.dram_words_written,
                   pad_words=pad_words, macs_issued=issued,
                   macs_useful=min(useful_macs(layer), issued), data=data,
                   details=details, prov=prov, warnings=warnings)


def _result(layer: LayerWorkload, spec: CgraSpec, *, n: int, tally: Tally,
            rd: dict[str, int], wr: int, pad_words: int, macs_issued: int, macs_useful: int,
            data: str, details: dict[str, Any], prov: dict[str, str] | None = None,
            warnings: list[str] | None = None) -> LayerResult:
    """The layer's result from the totals of one image (scaled to ``n`` images): the host's
    padding copy, off-chip transfers (not overlapped), energy, accesses and provenance."""
    g = layer.gconv
    h = spec.cgra.host
    energy, cycles, cgra_cycles = tally.energy_pj, tally.cycles, tally.cgra_cycles
    sram, launches, sampled = tally.sram_accesses, tally.launches, tally.simulated_launches
    pad_cycles = pad_words * (h.load_cycles + h.store_cycles + h.alu_cycles)
    energy = {k: v * n for k, v in energy.items()}
    dram_rd = {t: 32 * v * n for t, v in rd.items()}
    dram_bits_rd, dram_bits_wr = sum(dram_rd.values()), 32 * wr * n
    d = spec.dram
    dram_cycles = math.ceil((dram_bits_rd + dram_bits_wr) / d.bandwidth_bits_per_cycle)
    try:
        pricing = Pricing.of(spec)
    except NormalizedTableError as exc:
        raise UnsupportedLayerError(MODEL_NAME, g, str(exc)) from None
    dram_pj = pricing.dram_pj_per_bit()
    energy["dram"] = (dram_bits_rd + dram_bits_wr) * dram_pj
    energy["host.active"] = energy.get("host.active", 0.0) + \
        n * pad_cycles * h.active_pj_per_cycle
    pj_acc, sram_src = sram_pj_per_access(spec)
    energy["sram"] = energy.get("sram", 0.0) + n * 2 * pad_words * pj_acc
    total = n * (cycles + pad_cycles) + dram_cycles
    sram_acc = n * (sram + 2 * pad_words)
    prov = {**spec_provenance(spec), **pricing.provenance,
            "cgra.cells": "per-operation cell power: cgra.energy.op_power_w (ESL-CGRA-"
                          "simulator characterisation, 2025)",
            "cgra.sram": sram_src,
            "cgra.host": "host cycles: cgra.host (cv32e20-like timing, launch overhead "
                         f"{h.launch_overhead_cycles} cycles)",
            "cgra.data": data,
            "dram": f"{dram_pj:.4g} pJ/bit, {d.bandwidth_bits_per_cycle} bit/cycle, not "
                    "overlapped", **(prov or {})}
    warnings = list(warnings or [])
    if sampled < launches:
        warnings.append(f"simulated {sampled} of {launches} launches per image "
                        "instruction by instruction and scaled the counts (identical "
                        "launches; cgra.sample_launches)")
    return LayerResult(
        layer=g.name, kind=g.kind, model=MODEL_NAME, arch=spec.name, clock_hz=float(spec.clock_hz),
        peak_macs_per_cycle=int(spec.compute.macs_per_cycle), cycles=int(total),
        macs=g.macs, macs_issued=macs_issued, macs_useful=max(macs_useful, 0),
        macs_skipped=max(g.macs - macs_issued, 0),
        accesses=(Access("sram", "all", reads=sram_acc, read_bits=32 * sram_acc),
                  *dram_accesses(dram_rd, {"output": dram_bits_wr}, d.word_bits)),
        energy_pj=energy,
        stall_cycles={"dram_transfer": dram_cycles, "host": int(total - dram_cycles -
                                                                 n * cgra_cycles)},
        details={**details, "launches": launches * n, "simulated_launches": sampled * n,
                 "cgra_cycles": n * cgra_cycles,
                 "host_active_cycles": n * tally.host_active_cycles,
                 "padding_copy_cycles": n * pad_cycles},
        provenance=prov, warnings=tuple(warnings))


MODEL = ModelInfo(
    name=MODEL_NAME, spec_class=CgraSpec, evaluate=evaluate,
    description="OpenEdgeCGRA 4x4: instruction-level simulation of the "
                "CF '24 convolution mappings (best per layer, tiled to the banks) and of the "
                "im2col-ic kernel over host-built patches for every other GConv, with the "
                "host CPU's launches, parameters and im2col", uses_data=False, area=area,
)
