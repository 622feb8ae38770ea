"""SPOTS: a hardware IM2COL unit overlapped with a tall output-stationary systolic GEMM that
splits into small GEMM units, skipping all-zero weight columns and IM2COL row blocks.

Reference: Soltaniyeh, Martin, Nagarakatte, "An Accelerator for Sparse Convolutional Neural
Networks Leveraging Systolic General Matrix-Matrix Multiplication", ACM TACO 2022
(arXiv 2107.13386). What the paper fixes and what we assumed is in ``docs/spots.md``.

The convolution is the GEMM ``W (Mf x Kd) @ X (Kd x Np)``: W the filter matrix (filters x
R*S*C, input channel fastest, ``sparsity.density.weight_matrix``), X the IM2COL matrix,
Np the output pixels. Per layer the array runs in one of its modes: ``u`` units of
``unit_rows / u`` rows x ``unit_cols`` columns (u = 1 is the tall array). A *pass* holds a
group of at most ``rows_per_unit x result_registers`` filters (each PE row owns
``cpk = ceil(filters / rows_per_unit)`` of them and spends ``cpk`` cycles per k index) and
``u x unit_cols`` output pixels (each unit its own ``unit_cols``; weights are broadcast, so
the units run in lockstep). A k index of a pass is skipped (no cycle, no data movement) when
the pass's weight column is all zero or its IM2COL row block (the pass's pixels) is all
zero; a weight block (``weight_block`` filters at one k) that is all zero inside a kept
column reaches the PEs with a zero flag and its MACs are clock-gated (energy, not cycles).

The IM2COL unit(s) build every patch densely (zeros are only found after IM2COL, by the
compress unit): the patches of one pixel group take ``Kd x unit_cols / (PUs x rate)``
cycles per unit, or longer when the IFM SRAM cannot deliver the elements the PUs fetch. A
double buffer overlaps the IM2COL of the next pixel group with the GEMM passes of the
current one; the IM2COL time the GEMM waits for is reported as ``im2col`` stall.
"""

from __future__ import annotations

import dataclasses
import math
import weakref
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, cast

import torch
import torch.nn.functional as F
from pydantic import Field, model_validator

from accelscope.arch.spec import ArchSpec, MemoryLevel, SpecSection
from accelscope.energy import Pricing, dram_accesses
from accelscope.energy.area import AreaModel, AreaReport
from accelscope.models.array_form import array_form
from accelscope.models.common import footprint_elems, spec_provenance, useful_macs, with_area
from accelscope.models.contract import (
    LayerWorkload,
    ModelInfo,
    NonconvSwitch,
    UnsupportedLayerError,
)
from accelscope.results import Access, LayerResult
from accelscope.workload.execute import prepare_input
from accelscope.workload.gconv import GConv


class SpotsParams(SpecSection):
    """SPOTS-specific parameters (the paper's Table 1 was not available: see docs/spots.md)."""

    unit_rows: int = Field(ge=1, description="Rows of the tall GEMM array [PEs]")
    unit_cols: int = Field(ge=1, description="Columns of the GEMM array (pixels per unit "
                                             "per pass) [PEs]")
    result_registers: int = Field(
        ge=1, description="Result registers per PE: filter rows one PE row can own [count]")
    modes: tuple[int, ...] = Field(
        min_length=1, description="Unit counts the array may split into (1 = tall); the "
                                  "mode with the fewest cycles is chosen per layer [count]")
    im2col_pus: tuple[int, ...] = Field(
        min_length=1, description="Patch units of each IM2COL unit, the main (tall-mode) "
                                  "unit first; split mode u uses the first u units [count]")
    pu_elems_per_cycle: int = Field(
        ge=1, description="Patch elements one PU produces per cycle [elements/cycle]")
    ifm_sram_elems_per_cycle: int = Field(
        ge=1, description="IFM SRAM read bandwidth shared by the IM2COL units "
                          "[elements/cycle]")
    reserve_buffer_elems: int = Field(
        ge=0, description="Reserved-buffer capacity of the main IM2COL unit; vertical reuse "
                          "needs C*W*(R-stride) elements [elements]")
    weight_block: int = Field(ge=1, description="Filters per weight block, the granularity "
                                                "of the zero-block bitmap [filters]")
    skip_zero_weight_columns: bool = Field(description="Skip k indices whose weight column "
                                                       "is all zero [flag]")
    skip_zero_ifm_blocks: bool = Field(description="Skip k indices whose IM2COL row block "
                                                   "is all zero [flag]")
    gate_zero_weight_blocks: bool = Field(description="Clock-gate MACs of all-zero weight "
                                                      "blocks [flag]")
    vector_ops_per_cycle: int = Field(
        ge=1, description="Rate of the unit that runs non-GEMM GConvs (pooling, "
                          "element-wise), our addition: SPOTS evaluates convolutions only "
                          "[ops/cycle]")
    weight_value_bits: int = Field(ge=1, description="Bits of one stored weight value in "
                                                     "the sparse weight format [bits]")
    nonconv_on: Literal["vector", "array"] = Field(
        default="vector",
        description="Where non-GEMM GConvs run: 'vector', the unit at vector_ops_per_cycle; "
                    "'array', the IM2COL unit and systolic GEMM in their GConv form "
                    "(models.systolic.array_form); default 'vector', reported by "
                    "defaults_used() [choice]")


class SpotsSpec(ArchSpec):
    """SPOTS: IM2COL unit + tall/split output-stationary systolic GEMM with zero skipping."""

    model: Literal["spots"] = Field(description="Always 'spots' for this spec class [name]")
    spots: SpotsParams = Field(description="SPOTS parameters [section]")

    @model_validator(mode="after")
    def _consistent(self) -> SpotsSpec:
        p = self.spots
        if p.weight_block > p.unit_rows * p.result_registers:
            # a block groups filters of one pass; a wider one padded every group to its width
            # (make fuzz: weight_block 1e9 allocated 27 GB)
            raise ValueError(f"spots.weight_block {p.weight_block} exceeds the filters one "
                             f"pass holds (unit_rows x result_registers = "
                             f"{p.unit_rows * p.result_registers})")
        if tuple(self.compute.array) != (p.unit_rows, p.unit_cols):
            raise ValueError(f"compute.array {list(self.compute.array)} must be [unit_rows, "
                             f"unit_cols] = [{p.unit_rows}, {p.unit_cols}]")
        for u in p.modes:
            if u < 1 or p.unit_rows % u:
                raise ValueError(f"spots.modes: {u} units do not divide {p.unit_rows} rows")
            if u > len(p.im2col_pus):
                raise ValueError(f"spots.modes: {u} units need {u} IM2COL units, "
                                 f"im2col_pus lists {len(p.im2col_pus)}")
        for t in ("input", "weight", "output"):
            holders = [m.name for m in self.memory if t in m.holds]
            if len(holders) != 1:
                raise ValueError(f"memory: SPOTS needs exactly one SRAM holding {t}, found "
                                 f"{holders or 'none'}")
        return self

    def sram_for(self, tensor: str) -> MemoryLevel:
        return next(m for m in self.memory if tensor in m.holds)


def is_gemm(g: GConv) -> bool:
    return (g.map_op == "mul" and g.reduce_op == "sum" and g.operand_kind == "weight"
            and not (g.C * g.R * g.S == 1 and g.K == 1))


# -- the IM2COL matrix and its zero structure ---------------------------------------------------
def im2col_matrix(g: GConv, x: torch.Tensor) -> torch.Tensor:
    """X of every group: (G, Kd = R*S*C, Np = N*P*Q), rows in (r, s, c) order with c
    fastest (the order of ``weight_matrix``)."""
    xp = prepare_input(x, g)
    cols = F.unfold(xp, (g.R, g.S), dilation=g.dilation, stride=g.stride)  # N, G*C*R*S, L
    n, _, L = cols.shape
    cols = cols.reshape(n, g.G, g.C, g.R * g.S, L).permute(1, 3, 2, 0, 4)  # G, RS, C, N, L
    return cols.reshape(g.G, g.R * g.S * g.C, n * L)


def weight_matrices(g: GConv, w: torch.Tensor) -> torch.Tensor:
    """W of every group: (G, K, R*S*C), input channel fastest."""
    w4 = w.reshape(g.G, g.K, g.C, g.R, g.S)
    return w4.permute(0, 1, 3, 4, 2).reshape(g.G, g.K, g.R * g.S * g.C)


def ifm_sram_reads(g: GConv, reserve_elems: int) -> tuple[int, int, int, bool]:
    """(hardware IM2COL SRAM reads, software IM2COL reads, ring transfers, vertical reuse)
    of one group, counting real input elements only (padding is generated, not read).

    Hardware: every element once when the vertical reuse C*W*(R - stride) fits the reserve
    buffer (or the stride is at least the kernel: no overlap); otherwise each round (row of
    windows) re-reads its rows and only horizontal reuse remains. Software: every element of
    every window. Ring: each non-first patch of a round receives its overlap with the
    previous patch, R*(S - stride)*C elements, from its neighbour PU.
    """
    plain = dataclasses.replace(g, C=1, G=1, K=1, post_ops=(), pad_value=0.0)
    real = prepare_input(torch.ones(1, 1, g.H, g.W), plain)  # 1 where a real element lies
    dh, dw = g.dilation
    sh, sw = g.stride
    # rows and columns the windows touch
    span_h = (g.P - 1) * sh + (g.R - 1) * dh + 1
    span_w = (g.Q - 1) * sw + (g.S - 1) * dw + 1
    real = real[0, 0, :span_h, :span_w]
    win = F.unfold(real[None, None], (g.R, g.S), dilation=g.dilation, stride=g.stride)
    software = int(win.sum().item()) * g.C * g.N
    # elements a round (one row of windows) touches: the window rows' touched columns
    col_used = torch.zeros(span_w)
    for s in range(g.S):
        col_used[s * dw: s * dw + (g.Q - 1) * sw + 1: sw] = 1
    row_used = torch.zeros(span_h)
    for r in range(g.R):
        row_used[r * dh: r * dh + (g.P - 1) * sh + 1: sh] = 1
    touched = real * row_used[:, None] * col_used[None, :]
    once = int(touched.sum().item()) * g.C * g.N
    fits = g.R <= sh or g.C * span_w * (g.R - sh) <= reserve_elems
    if fits:
        hw = once
    else:  # each round re-reads all its window rows
        per_round = 0.0
        for p in range(g.P):
            rows = torch.zeros(span_h)
            for r in range(g.R):
                rows[p * sh + r * dh] = 1
            per_round += float((real * rows[:, None] * col_used[None, :]).sum())
        hw = int(per_round) * g.C * g.N
    overlap_w = max(g.S - sw, 0) if dw == 1 else 0
    ring = g.N * g.P * max(g.Q - 1, 0) * g.R * overlap_w * g.C
    return hw, software, ring, fits


# -- the pass schedule ----------------------------------------------------------------------
@dataclass(frozen=True)
class ModeResult:
    units: int
    gemm_cycles: int
    im2col_cycles: int
    cycles: int
    macs_issued: int
    macs_gated: int
    k_total: int          # k steps of all passes without skipping
    k_kept: int           # k steps actually run
    weight_reads: int     # weights streamed into the array (kept k, non-zero blocks)
    imbalance: float      # (max - avg) / max * n / (n - 1) over the PE rows' work


def _geometry(mf: int, np_: int, units: int, p: SpotsParams,
              ) -> tuple[int, int, int, int, int]:
    rows_u = p.unit_rows // units
    fcap = rows_u * p.result_registers
    width = units * p.unit_cols
    return rows_u, fcap, math.ceil(mf / fcap), width, math.ceil(np_ / width)


def _weight_blocks(wnz: torch.Tensor, fcap: int, fg: int, wb: int,
                   ) -> tuple[torch.Tensor, torch.Tensor]:
    """Per group and filter group: column non-zero (B, fg, kd), block non-zero
    (B, fg, nb, kd) over blocks of ``wb`` filters."""
    b, mf, kd = wnz.shape
    wpad = torch.zeros(b, fg * fcap, kd, dtype=torch.bool)
    wpad[:, :mf] = wnz
    wg = wpad.reshape(b, fg, fcap, kd)
    nb = math.ceil(fcap / wb)
    bpad = torch.zeros(b, fg, nb * wb, kd, dtype=torch.bool)
    bpad[:, :, :fcap] = wg
    return wg.any(dim=2), bpad.reshape(b, fg, nb, wb, kd).any(dim=3)


def _schedule(wnz: torch.Tensor, xnz: torch.Tensor | None, x_density: float, np_: int,
              units: int, p: SpotsParams, cycles_per_op: int, pipeline_depth: int,
              im2col_elem_cycles: float, sram_reads_per_group: int) -> ModeResult:
    """Cycles and counts of a layer's GEMMs (one per group, run back to back) in one mode.
    ``wnz`` (B, mf, kd): weight non-zero masks; ``xnz`` (B, kd, np_): IM2COL non-zero masks,
    or ``None`` in statistical mode, where a row block of ``cols`` pixels is all zero with
    probability (1 - x_density) ** cols."""
    b, mf, kd = wnz.shape
    rows_u, fcap, fg, width, cg = _geometry(mf, np_, units, p)
    wb = p.weight_block
    sizes = torch.tensor([min(fcap, mf - i * fcap) for i in range(fg)], dtype=torch.float64)
    cpk = torch.ceil(sizes / rows_u)  # cycles per k: filters each PE row owns
    col_nz, block_nz = _weight_blocks(wnz, fcap, fg, wb)
    nb = block_nz.shape[2]
    fidx = torch.arange(nb * wb).reshape(nb, wb)
    real_per_block = (fidx[None] < sizes[:, None, None]).sum(dim=2).double()  # (fg, nb)
    nz_filters = (block_nz.double() * real_per_block[None, :, :, None]).sum(dim=2)  # B,fg,kd
    zero_in_col = sizes[None, :, None] - nz_filters
    ncols = torch.full((cg,), float(width), dtype=torch.float64)
    ncols[-1] = np_ - (cg - 1) * width
    if xnz is not None:
        xpad = torch.zeros(b, kd, cg * width, dtype=torch.bool)
        xpad[:, :, :np_] = xnz
        row_nz = xpad.reshape(b, kd, cg, width).any(dim=3).double()  # (B, kd, cg)
    else:
        row_nz = (1.0 - (1.0 - x_density) ** ncols)[None, None, :].expand(b, kd, cg).double()
    wkeep = col_nz.double() if p.skip_zero_weight_columns else torch.ones(b, fg, kd,
                                                                          dtype=torch.float64)
    xkeep = row_nz if p.skip_zero_ifm_blocks else torch.ones_like(row_nz)
    kept = wkeep @ xkeep  # (B, fg, cg): k steps each pass runs
    fill = rows_u + p.unit_cols - 2 + pipeline_depth
    gemm_pass = kept * cpk[None, :, None] * cycles_per_op + fill
    gemm_seq = gemm_pass.sum(dim=1).reshape(-1)  # pixel groups of all groups, in order
    issued = float((kept * sizes[None, :, None] * ncols[None, None, :]).sum())
    gated = 0.0
    if p.gate_zero_weight_blocks:
        gated = float((((zero_in_col * wkeep) @ xkeep) * ncols[None, None, :]).sum())
    # IM2COL: every patch built densely; the slowest unit and the IFM SRAM set the pace
    per_cg = max(im2col_elem_cycles * kd * p.unit_cols,
                 sram_reads_per_group / cg / p.ifm_sram_elems_per_cycle)
    im2col_seq = torch.full_like(gemm_seq, per_cg)
    nxt = torch.cat([im2col_seq[1:], torch.zeros(1, dtype=torch.float64)])
    total = float(im2col_seq[0]) + float(torch.maximum(gemm_seq, nxt).sum())
    # load imbalance: non-gated MACs per PE row (filter f of a pass on row f % rows_u)
    fmask = (torch.arange(fcap)[None, :] < sizes[:, None]).double()  # (fg, fcap)
    if p.gate_zero_weight_blocks:
        work_f = block_nz.repeat_interleave(wb, dim=2)[:, :, :fcap].double()  # B,fg,fcap,kd
    else:
        work_f = torch.ones(b, fg, fcap, kd, dtype=torch.float64)
    work_f = work_f * fmask[None, :, :, None]
    per_k = (wkeep[..., None] * xkeep[:, None, :, :] * ncols).sum(dim=3)  # (B, fg, kd)
    per_filter = (work_f * per_k[:, :, None, :]).sum(dim=(0, 3))  # (fg, fcap)
    work = torch.zeros(rows_u, dtype=torch.float64)
    work.index_add_(0, torch.arange(fcap) % rows_u, per_filter.sum(dim=0))
    used = work[: min(rows_u, mf)]
    n = used.numel()
    mx = float(used.max()) if n else 0.0
    imbalance = (mx - float(used.mean())) / mx * n / (n - 1) if n > 1 and mx > 0 else 0.0
    weight_reads = float(((nz_filters * wkeep) @ xkeep).sum())
    return ModeResult(units=units, gemm_cycles=round(float(gemm_seq.sum())),
                      im2col_cycles=round(float(im2col_seq.sum())), cycles=math.ceil(total),
                      macs_issued=round(issued), macs_gated=round(gated),
                      k_total=b * fg * cg * kd, k_kept=round(float(kept.sum())),
                      weight_reads=round(weight_reads), imbalance=imbalance)


def execute_schedule(wm: torch.Tensor, xm: torch.Tensor, p: SpotsParams,
                     units: int) -> tuple[torch.Tensor, int]:
    """Run one group's GEMM the way SPOTS schedules it, numerically: pass by pass, only the
    kept k indices, zero-flagged weight blocks contributing nothing. Returns the (mf, np)
    result and the k steps run; equal to ``wm @ xm`` when the skip rules are sound."""
    mf, kd = wm.shape
    np_ = xm.shape[1]
    _, fcap, _, width, _ = _geometry(mf, np_, units, p)
    y = torch.zeros(mf, np_, dtype=torch.promote_types(wm.dtype, xm.dtype))
    steps = 0
    for f0 in range(0, mf, fcap):
        w = wm[f0:f0 + fcap]
        wb = p.weight_block
        blocks = torch.zeros(math.ceil(w.shape[0] / wb) * wb, kd, dtype=torch.bool)
        blocks[: w.shape[0]] = w != 0
        flag = blocks.reshape(-1, wb, kd).any(dim=1).repeat_interleave(wb, dim=0)
        flag = flag[: w.shape[0]]
        for c0 in range(0, np_, width):
            x = xm[:, c0:c0 + width]
            keep = torch.ones(kd, dtype=torch.bool)
            if p.skip_zero_weight_columns:
                keep &= (w != 0).any(dim=0)
            if p.skip_zero_ifm_blocks:
                keep &= (x != 0).any(dim=1)
            wk = w[:, keep]
            if p.gate_zero_weight_blocks:
                wk = wk * flag[:, keep]  # a zero-flagged block's MACs are gated
            y[f0:f0 + fcap, c0:c0 + width] = wk @ x[keep]
            steps += int(keep.sum())
    return y, steps


def _filter_group_bits(wnz: torch.Tensor, p: SpotsParams, fcap: int) -> torch.Tensor:
    """(B, filter groups): bits of SPOTS-style sparse weights of each group's filter groups
    of ``fcap`` filters: an M1 bit per weight column, an M2 bit per block of a non-zero
    column, and the non-zero blocks' values (dense inside a block)."""
    b, mf, kd = wnz.shape
    fg = math.ceil(mf / fcap)
    col_nz, block_nz = _weight_blocks(wnz, fcap, fg, p.weight_block)
    m2 = col_nz.sum(dim=2) * block_nz.shape[2]
    values = block_nz.sum(dim=(2, 3)) * p.weight_block * p.weight_value_bits
    bits: torch.Tensor = kd + m2 + values
    return bits


def _weight_storage_bits(wnz: torch.Tensor, p: SpotsParams, fcap: int) -> int:
    """SPOTS-style sparse weights of all groups (``_filter_group_bits`` summed)."""
    return int(_filter_group_bits(wnz, p, fcap).sum())


def scratchpad(g: GConv, spec: SpotsSpec, wnz: torch.Tensor | None, units: int,
               group_bits_max: int | None = None) -> tuple[dict[str, int], str]:
    """On-chip bytes a GEMM layer needs besides its stored feature maps in the chosen mode
    (``units``), and how they were obtained (for a unified-SRAM split,
    ``passes/fmaps.py``). The loop order that reads the weights from DRAM once and the
    input once per filter group keeps one filter group resident while the pixel groups
    stream by:

    * ``weight``: the largest filter group's sparse weights (``_filter_group_bits``, a group
      of ``unit_rows / units x result_registers`` filters), twice when the weight SRAM is
      double-buffered (the next group loads while this one runs), capped by that SRAM
      (``group_bits_max``: that group's bits when already known, else from ``wnz``);
    * ``im2col``: the IM2COL double buffer, two pixel groups of patches, R*S*C x
      ``units x unit_cols`` operand words each (built densely), capped by the IFM SRAM;
    * ``output``: one pass's results drained from the result registers, filters of the pass
      x ``units x unit_cols`` pixels at the operand width, twice when the OFM SRAM is
      double-buffered, capped by it.

    The IM2COL unit's reserve buffer and PU buffers (``reserve_buffer_elems``) are the
    unit's own storage, outside the spec's SRAMs, so they are not part of it."""
    p = spec.spots
    bits = int(spec.compute.operand_bits)
    mf, kd = g.K, g.R * g.S * g.C
    rows_u, fcap, _, width, _ = _geometry(mf, g.N * g.P * g.Q, units, p)
    if group_bits_max is None:  # the largest filter group's sparse weights
        group_bits_max = int(_filter_group_bits(cast(torch.Tensor, wnz), p, fcap).max())
    terms = {"weight": (math.ceil(group_bits_max / 8), spec.sram_for("weight")),
             "im2col": (math.ceil(kd * width * bits / 8), spec.sram_for("input")),
             "output": (math.ceil(min(fcap, mf) * width * bits / 8), spec.sram_for("output"))}
    parts, how = {}, []
    for name, (one, level) in terms.items():
        copies = 2 if level.double_buffered or name == "im2col" else 1
        need = one * copies
        parts[name] = min(need, level.size_bytes)
        how.append(f"{name} {one} B x {copies} = {need} B"
                   + (f" capped at {level.name} {level.size_bytes} B"
                      if need > level.size_bytes else ""))
    text = (f"{'tall' if units == 1 else f'split x{units}'} mode: filter groups of {fcap} "
            f"filters ({rows_u} rows x {p.result_registers} result registers), pixel groups "
            f"of {width}, window {kd}, {bits}-bit operands: " + "; ".join(how)
            + f" -> {sum(parts.values())} B; the IM2COL unit's reserve buffer "
            f"({p.reserve_buffer_elems} elements) is its own storage, not counted")
    return parts, text


def evaluate(layer: LayerWorkload, spec: SpotsSpec) -> LayerResult:
    g = layer.gconv
    if not isinstance(spec, SpotsSpec):
        raise UnsupportedLayerError("spots", g, "the spec is not a SPOTS spec (model: spots)")
    from accelscope.models.systolic.model import as_original, pricing_for

    p = spec.spots
    pricing = pricing_for("spots", g, spec)
    prov = spec_provenance(spec)
    if not is_gemm(g):
        if p.nonconv_on == "vector":
            return with_area(_vector_layer(layer, spec, pricing, prov), area, spec)

        form, how = array_form(layer)
        run_spec = spec
        if g.reduce_op == "max" and p.skip_zero_ifm_blocks:
            # a zero may be the maximum of a window: an all-zero block cannot be dropped
            run_spec = spec.model_copy(update={"spots": p.model_copy(
                update={"skip_zero_ifm_blocks": False})})
        r = _gemm_layer(form, run_spec, pricing, prov)
        return with_area(as_original(r, layer, form, how, pricing), area, spec)
    return with_area(_gemm_layer(layer, spec, pricing, prov), area, spec)


def area(spec: SpotsSpec) -> AreaReport:
    """The GEMM array (a MAC unit, its result registers and two operand registers per PE),
    the main IM2COL unit's reserve buffers, the vector unit and the SRAMs [mm2]. Not
    modelled: the patch units' new/neighbour buffers and control (their sizes are in the
    paper's Table 1, which was not available), the three per-PE FIFOs beyond one word each,
    the compress unit, the split-mode multiplexers, DRAM interface and I/O."""
    c, p = spec.compute, spec.spots
    am = AreaModel(spec.technology_nm)
    op, acc = int(c.operand_bits), int(c.accumulator_bits)
    mac = am.mac_um2(op, acc, c.number)
    n_pe = math.prod(c.array)
    pus = max(p.im2col_pus[0], 1)
    reserve_bytes = p.reserve_buffer_elems * op / 8
    parts = {"pe_array.mac": c.macs_per_cycle * mac,
             "pe_array.registers": n_pe * am.register_um2(p.result_registers * acc + 2 * op),
             "im2col.reserve_buffers": pus * am.storage_um2(reserve_bytes / pus),
             "vector_unit": p.vector_ops_per_cycle * mac}
    for level in spec.memory:
        parts[f"sram.{level.name}"] = am.level_um2(level)
    return am.report(parts, method=(
        f"{n_pe} PEs x (a {op}x{op}-bit MAC with a {acc}-bit adder, {p.result_registers} "
        f"result registers of {acc} bits, 2 operand registers), the main IM2COL unit's "
        f"reserve buffer ({p.reserve_buffer_elems} elements in {pus} PU buffers), a "
        f"{p.vector_ops_per_cycle}-lane vector unit (ours), the SRAMs; not modelled: patch "
        "units' other buffers and control, FIFOs beyond one word, the compress unit, "
        "split-mode multiplexers, DRAM interface, I/O (the paper's Table 1 was not "
        "available)"))


@dataclass(frozen=True)
class _Timing:
    """What a GEMM layer's cycles and counts depend on, computed once per (layer, SPOTS
    parameters, compute timing): the schedule of every mode and the sparse weights' sizes.
    The memory sizes and the DRAM link, which sweeps vary most, do not enter it."""

    results: dict[int, ModeResult]
    weight_bits: int
    group_bits_max: dict[int, int]
    hw_reads: int
    sw_reads: int
    ring: int
    fits: bool


_TIMINGS: dict[tuple[int, str, int, int], tuple[weakref.ref[LayerWorkload], _Timing]] = {}
_TIMINGS_MAX = 4096
"""Layers remembered per process (a sweep evaluates the same workloads on many specs)."""


def _timing(layer: LayerWorkload, p: SpotsParams, cycles_per_op: int,
            pipeline_depth: int) -> _Timing:
    """``_Timing`` of ``layer``, memoised by the layer object itself (a weak reference: the
    entry dies with the workload) and the values it depends on, so that points of a sweep
    that differ only in memory sizes or DRAM bandwidth share it. The result is the same as
    computing it afresh; the memo changes only the time."""
    key = (id(layer), p.model_dump_json(), cycles_per_op, pipeline_depth)
    hit = _TIMINGS.get(key)
    if hit is not None and hit[0]() is layer:
        return hit[1]
    g = layer.gconv
    w = layer.operand if layer.operand is not None else layer.params[cast(str, g.operand)]
    np_ = g.N * g.P * g.Q
    hw_reads, sw_reads, ring, fits = ifm_sram_reads(g, p.reserve_buffer_elems)  # per group
    wnz = weight_matrices(g, w) != 0
    xnz = im2col_matrix(g, layer.input) != 0 if layer.input is not None else None
    w_bits_total = _weight_storage_bits(wnz, p, p.unit_rows * p.result_registers)
    results: dict[int, ModeResult] = {}
    for u in p.modes:
        if g.stride[0] >= g.R and g.stride[1] >= g.S:  # no overlap: the PUs are bypassed
            elem_cycles = 0.0
        else:
            elem_cycles = max(1.0 / (n * p.pu_elems_per_cycle) for n in p.im2col_pus[:u])
        results[u] = _schedule(wnz, xnz, layer.input_density, np_, u, p, cycles_per_op,
                               pipeline_depth, elem_cycles, hw_reads)
    best = min(p.modes, key=lambda u: (results[u].cycles, u))
    fcap = _geometry(g.K, np_, best, p)[1]
    t = _Timing(results, w_bits_total, {best: int(_filter_group_bits(wnz, p, fcap).max())},
                hw_reads, sw_reads, ring, fits)
    if len(_TIMINGS) >= _TIMINGS_MAX:
        _TIMINGS.clear()
    _TIMINGS[key] = (weakref.ref(layer), t)
    return t


def _gemm_layer(layer: LayerWorkload, spec: SpotsSpec, pricing: Pricing,
                prov: Mapping[str, str]) -> LayerResult:
    """A multiply-and-sum GConv on the IM2COL unit and the systolic GEMM."""
    g = layer.gconv
    p, c = spec.spots, spec.compute
    bits = int(c.operand_bits)
    prov = dict(prov)
    if g.operand is None or (layer.operand is None and g.operand not in layer.params):
        raise UnsupportedLayerError("spots", g, "the weights are needed (SPOTS skips on the "
                                    "real weight matrix)")
    tm = _timing(layer, p, c.cycles_per_op, c.pipeline_depth)
    results = tm.results
    hw_reads, sw_reads, ring, fits = tm.hw_reads, tm.sw_reads, tm.ring, tm.fits
    w_bits_total = tm.weight_bits
    totals: dict[int, dict[str, Any]] = {
        u: {"cycles": m.cycles, "gemm": m.gemm_cycles, "im2col": m.im2col_cycles,
            "issued": m.macs_issued, "gated": m.macs_gated, "k_total": m.k_total,
            "k_kept": m.k_kept, "wreads": m.weight_reads, "imb": [m.imbalance]}
        for u, m in results.items()}
    best = min(p.modes, key=lambda u: (totals[u]["cycles"], u))
    t = totals[best]
    cycles = max(int(t["cycles"]), 1)
    stall = max(cycles - int(t["gemm"]), 0)
    issued = int(t["issued"])
    useful = useful_macs(layer)
    if layer.input is not None and useful > issued - int(t["gated"]):
        raise AssertionError(f"SPOTS on {g.name}: {useful} useful MACs but only "
                             f"{issued - int(t['gated'])} issued and not gated: a skip rule "
                             "dropped a non-zero product")
    useful = min(useful, issued - int(t["gated"]))  # statistical estimates may overshoot
    macs_skipped = g.macs - issued
    details: dict[str, Any] = {"mode": "tall" if best == 1 else f"split x{best}", "units": best,
               "gemm_cycles": int(t["gemm"]), "im2col_cycles": int(t["im2col"]),
               "k_steps": int(t["k_total"]), "k_steps_kept": int(t["k_kept"]),
               "load_imbalance": max(t["imb"]) if t["imb"] else 0.0,
               "ifm_sram_reads_hw_im2col": hw_reads * g.G,
               "ifm_sram_reads_sw_im2col": sw_reads * g.G, "ring_transfers": ring * g.G,
               "vertical_reuse": fits,
               "cycles_by_mode": {("tall" if u == 1 else f"split x{u}"): int(totals[u]["cycles"])
                                  for u in p.modes}}
    details["scratchpad"], prov["scratchpad"] = scratchpad(g, spec, None, best,
                                                           tm.group_bits_max[best])
    details["scratchpad_bytes"] = sum(details["scratchpad"].values())
    # accesses and energy
    accesses: list[Access] = []
    energy: dict[str, float] = {}
    op_pj, how = pricing.mac_pj()
    energy["compute"] = (issued - int(t["gated"])) * op_pj  # gated MACs: clock-gated, 0 pJ
    prov["energy.op"] = f"{how}; gated MACs 0 pJ"
    out_elems = g.output_elems
    sram = {"input": (hw_reads * g.G, 0), "weight": (int(t["wreads"]), 0),
            "output": (0, out_elems)}
    for tensor, (rd, wr) in sram.items():
        level = spec.sram_for(tensor)
        accesses.append(Access(level.name, tensor, reads=rd, writes=wr, read_bits=rd * bits,
                               write_bits=wr * bits))
        energy[level.name] = (energy.get(level.name, 0.0)
                              + pricing.level_pj(level, rd * bits, wr * bits))
    # IM2COL ring transfers, priced as accesses of a PU buffer-sized SRAM
    pu_bytes = max(p.reserve_buffer_elems * bits // 8 // max(p.im2col_pus[0], 1), 64)
    ring_pj = pricing.table.sram_pj_per_bit(pu_bytes, bits)
    energy["im2col"] = ring * g.G * bits * ring_pj
    prov["energy.im2col"] = f"ring transfers at {ring_pj:.4g} pJ/bit ({pu_bytes} B buffer)"
    # DRAM: IFM once (again per filter group when it does not fit its SRAM), sparse weights,
    # OFM once
    d = spec.dram
    in_bits = footprint_elems(layer)["input"] * bits
    fcap_best = (p.unit_rows // best) * p.result_registers
    refetch = 1 if in_bits <= spec.sram_for("input").size_bytes * 8 else math.ceil(g.K / fcap_best)
    dram = {"input": in_bits * refetch, "weight": w_bits_total, "output": out_elems * bits}
    accesses.extend(dram_accesses({t: b for t, b in dram.items() if t != "output"},
                                  {"output": dram["output"]}, d.word_bits))
    energy["dram"] = sum(dram.values()) * pricing.dram_pj_per_bit()
    stalls = {"im2col": stall} if stall else {}
    dram_cycles = math.ceil(sum(dram.values()) / d.bandwidth_bits_per_cycle)
    if dram_cycles > cycles:
        stalls["dram_bandwidth"] = dram_cycles - cycles
        cycles = dram_cycles
    prov["memory"] = ("DRAM: IFM once (per filter group if it exceeds its SRAM), weights in "
                      "the sparse format, OFM once; overlapped with compute")
    return LayerResult(
        layer=g.name, kind=g.kind, model="spots", arch=spec.name,
        clock_hz=float(spec.clock_hz), peak_macs_per_cycle=int(c.macs_per_cycle),
        cycles=cycles, macs=g.macs, macs_issued=issued, macs_useful=useful,
        macs_skipped=macs_skipped, macs_gated=int(t["gated"]), accesses=tuple(accesses),
        energy_pj=energy, stall_cycles=stalls,
        scratchpad_bytes=details.pop("scratchpad_bytes"), details=details,
        provenance={**prov, **pricing.provenance})


def _vector_layer(layer: LayerWorkload, spec: SpotsSpec, pricing: Pricing,
                  prov: Mapping[str, str]) -> LayerResult:
    """Pooling, element-wise and per-channel layers: on the vector unit (our addition)."""
    g = layer.gconv
    c, p = spec.compute, spec.spots
    bits = int(c.operand_bits)
    cycles = math.ceil(g.macs / p.vector_ops_per_cycle) * c.cycles_per_op + c.pipeline_depth
    foot = footprint_elems(layer)
    op_pj, how = pricing.op_pj(g)
    energy = {"compute": g.macs * op_pj}
    accesses = []
    d = spec.dram
    rd_bits: dict[str, int] = {}
    wr_bits: dict[str, int] = {}
    for tensor, n in foot.items():
        wr = tensor == "output"
        level = spec.sram_for("input" if tensor == "operand" else tensor)
        b = n * bits
        accesses.append(Access(level.name, tensor, reads=0 if wr else n, writes=n if wr else 0,
                               read_bits=0 if wr else b, write_bits=b if wr else 0))
        energy[level.name] = (energy.get(level.name, 0.0)
                              + pricing.level_pj(level, 0 if wr else b, b if wr else 0))
        (wr_bits if wr else rd_bits)[tensor] = b
    accesses.extend(dram_accesses(rd_bits, wr_bits, d.word_bits))
    dram_bits = sum(rd_bits.values()) + sum(wr_bits.values())
    energy["dram"] = dram_bits * pricing.dram_pj_per_bit()
    stalls = {}
    dram_cycles = math.ceil(dram_bits / d.bandwidth_bits_per_cycle)
    if dram_cycles > cycles:
        stalls["dram_bandwidth"] = dram_cycles - cycles
        cycles = dram_cycles
    return LayerResult(
        layer=g.name, kind=g.kind, model="spots", arch=spec.name,
        clock_hz=float(spec.clock_hz), peak_macs_per_cycle=int(c.macs_per_cycle),
        cycles=max(cycles, 1), macs=g.macs, macs_issued=g.macs, macs_useful=useful_macs(layer),
        accesses=tuple(accesses), energy_pj=energy, stall_cycles=stalls,
        details={"unit": "vector", "scratchpad": {}}, scratchpad_bytes=0,
        provenance={**prov, **pricing.provenance, "energy.op": f"{how} on the vector unit",
                    "scratchpad": "vector unit: operands stream through it element by "
                                  "element, no tile is kept (0 B)"})


MODEL = ModelInfo(
    name="spots", spec_class=SpotsSpec, evaluate=evaluate,
    description="SPOTS (TACO 2022): hardware IM2COL + tall/split "
                "output-stationary systolic GEMM skipping zero weight columns and IM2COL row "
                "blocks", uses_data=True,
    nonconv=NonconvSwitch(section='spots', unit='vector'), area=area,
)
