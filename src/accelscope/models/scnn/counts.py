"""What SCNN's PT-IS-CP dataflow does on one GConv, counted from the real tensors or their
densities: which unit runs it (``route``), the planar tiling's steps, compressed entries,
accumulator bank conflicts (exact or sampled, with or without crossbar queues), halos, DRAM
traffic and the tiling's scratchpad; the FC and post-processing-unit paths."""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Literal, cast

import numpy as np
import torch

from accelscope.models.common import useful_macs
from accelscope.models.contract import (
    LayerWorkload,
)
from accelscope.models.scnn import core
from accelscope.models.scnn.spec import ScnnParams, ScnnSpec
from accelscope.sparsity.formats import SCNNZeroRun, get_format
from accelscope.workload.gconv import GConv


# -- layer routing -----------------------------------------------------------------------------
def route(g: GConv, per_channel: bool = False) -> Literal["conv", "fc", "ppu"]:
    """Where a GConv runs: the Cartesian-product array (convolutions), the FC mapping, or the
    PPUs (pooling, element-wise, per-channel and point-wise layers). ``per_channel``: a
    per-channel scale (K = C = R = S = 1) runs on the array as a depthwise 1x1 convolution
    (``nonconv_on: array``)."""
    if g.map_op != "mul" or g.reduce_op != "sum" or g.operand_kind != "weight":
        return "ppu"
    if g.C * g.R * g.S == 1 and g.K == 1 and not per_channel:
        return "ppu"  # a per-channel scale: one multiply per element
    if g.H == 1 and g.W == 1 and g.R == 1 and g.S == 1 and g.P == 1 and g.Q == 1:
        return "fc"
    return "conv"


# -- counts ------------------------------------------------------------------------------------
@dataclass
class Counts:
    """What one layer did on the array; ``_result`` turns it into a ``LayerResult``."""

    cycles: float
    stalls: dict[str, float]
    products: float            # issued multiplier products (Cartesian, incl. useless ones)
    nz_products: float         # of them, non-zero x non-zero
    acc_updates: float         # products accumulated (landing on an output)
    steps: float               # multiplier-array cycles without stalls, all PEs
    iaram_write_bits: float
    iaram_read_bits: float
    fifo_write_bits: float
    fifo_read_bits: float
    oaram_write_bits: float
    acc_drain_reads: float     # accumulator entries read by the PPU (owned + halo)
    halo_psums: float
    ppu_ops: float
    dram_bits: dict[str, float]
    details: dict[str, Any] = field(default_factory=dict)


def _zrl(p: ScnnParams, value_bits: int) -> SCNNZeroRun:
    return cast(SCNNZeroRun, get_format("zrl", value_bits=value_bits, run_bits=p.run_bits))


_CHUNK_ELEMS = 1 << 22  # rows are encoded in chunks of about this many elements (memory)


def _row_chunks(rows: int, width: int) -> Iterator[tuple[int, int]]:
    step = max(1, _CHUNK_ELEMS // max(width, 1))
    for a in range(0, rows, step):
        yield a, min(a + step, rows)


def _entries_rows(mask2d: np.ndarray, p: ScnnParams, value_bits: int) -> np.ndarray:
    """zrl entries (non-zeros + placeholders) of every row, via the format's exact sizes."""
    fmt = _zrl(p, value_bits)
    out = np.zeros(mask2d.shape[0], dtype=np.int64)
    for a, b in _row_chunks(*mask2d.shape):
        out[a:b] = fmt.row_sizes_bits(mask2d[a:b]) // (value_bits + p.run_bits)
    return out


def _vector_conflicts(mask2d: np.ndarray, entries: np.ndarray, f: int, spec: ScnnSpec
                      ) -> tuple[np.ndarray, dict[str, Any]]:
    """Per row of an FC weight mask (one stream per row, position = output channel inside
    the PE): extra cycles of its F-entry vectors, whose products all land on output row and
    column 0, so the output channel alone picks the bank. Exact when the layer has at most
    ``conflict_exact_max_steps`` vectors; otherwise the mean extra cycles per vector fill
    from ``conflict_samples`` vectors of randomly drawn rows, times each row's vectors."""
    p = spec.scnn
    n_vec = -(-entries // f)
    total = int(n_vec.sum())
    if total <= p.conflict_exact_max_steps:
        return (_row_vector_extra(mask2d, f, p.accumulator_banks, p.crossbar_queue_depth)[0],
                {"mode": "exact", "steps": total})
    gen = np.random.default_rng(p.sample_seed)
    order = gen.permutation(mask2d.shape[0])
    upto = int(np.searchsorted(np.cumsum(n_vec[order]), p.conflict_samples)) + 1
    rows = np.sort(order[:upto])
    _, extra, fills = _row_vector_extra(mask2d[rows], f, p.accumulator_banks,
                                        p.crossbar_queue_depth)
    rate = np.zeros(f + 1)
    for fl in range(1, f + 1):
        sel = fills == fl
        rate[fl] = float(extra[sel].mean()) if sel.any() else 0.0
    full, rem = entries // f, entries % f
    per_row = full * rate[f] + rate[rem] * (rem > 0)
    return per_row, {"mode": "sampled", "samples": int(extra.size), "steps": total}


def _row_vector_extra(mask2d: np.ndarray, f: int, banks: int, depth: int = 0,
                      ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(extra cycles per row, extra cycles per vector, fill per vector), exactly. With
    crossbar queues (``depth`` > 0) each row's vectors go through the queues in order, the
    queues empty at the row's start; the backlog left at a row's end is not charged (at most
    ``depth`` cycles per PE and image: the next row's products join it)."""
    out = np.zeros(mask2d.shape[0], dtype=np.float64)
    extras, fills = [], []
    for a, b in _row_chunks(*mask2d.shape):
        ptr, col, _ = core.zrl_entries(mask2d[a:b])
        n_e = np.diff(ptr)
        if not col.size:
            continue
        n_vec_row = -(-n_e // f)
        rank = np.arange(col.size) - np.repeat(ptr[:-1], n_e)
        vec = np.repeat(np.cumsum(n_vec_row) - n_vec_row, n_e) + rank // f
        slots = np.tile(-1 - np.arange(f), (int(n_vec_row.sum()), 1))  # distinct fillers
        k = torch.from_numpy(col)
        slots[vec, rank % f] = core.bank_of(k, torch.zeros_like(k), torch.zeros_like(k), f,
                                            banks).numpy()
        if depth == 0:
            occ = (slots[:, :, None] == slots[:, None, :]).sum(-1).max(-1) - 1
        else:
            hits = np.zeros((slots.shape[0], banks), dtype=np.int64)
            vv, ll = np.nonzero(slots >= 0)
            np.add.at(hits, (vv, slots[vv, ll]), 1)
            row_of_vec = np.repeat(np.arange(b - a), n_vec_row)
            occ = core.queue_cycles(hits, row_of_vec, depth)[0] - 1
        out[a:b] = np.bincount(np.repeat(np.arange(b - a), n_vec_row), weights=occ,
                               minlength=b - a)
        extras.append(occ)
        fills.append(np.bincount(vec, minlength=occ.size))
    if not extras:
        return out, np.zeros(0), np.zeros(0, dtype=np.int64)
    return out, np.concatenate(extras), np.concatenate(fills)


def _expected_entries(n: np.ndarray, d: float, p: ScnnParams, value_bits: int) -> np.ndarray:
    fmt = _zrl(p, value_bits)
    cache: dict[int, float] = {}
    out = np.zeros(n.shape, dtype=np.float64)
    for v in np.unique(n):
        cache[int(v)] = fmt.expected_entries(int(v), d) if v > 0 else 0.0
    for v, e in cache.items():
        out[n == v] = e
    return out


def conv_counts(layer: LayerWorkload, spec: ScnnSpec, w: torch.Tensor) -> Counts:
    g = layer.gconv
    p, c = spec.scnn, spec.compute
    pr, pc = int(c.array[0]), int(c.array[1])
    n_pe = pr * pc
    F, Iv = p.weight_vector, p.activation_vector
    bits = int(c.operand_bits)
    acc_entries = p.accumulator_banks * p.accumulator_bank_entries
    t = core.plan(g, pr, pc, acc_entries)
    pairs = core.make_pairs(g, t.kc)
    s = core.act_stream_map(g, t)
    statistical = layer.input is None
    sparse = p.skip_zeros
    CC, C, G = g.G * g.C, g.C, g.G
    n_passes = g.N * t.passes_r * t.passes_c
    X = n_passes * n_pe
    nph = t.phases

    # -- activation entries per stream (N, CC, n_sp) --------------------------------------------
    dense_len = torch.from_numpy(s.length.astype(np.float64))  # (n_sp,)
    if statistical:
        d = float(layer.input_density)
        ent_sp = _expected_entries(s.length, d, p, bits)
        a_nnz = (dense_len * d)[None, None, :].expand(g.N, CC, -1)
        a_zrl = torch.from_numpy(ent_sp)[None, None, :].expand(g.N, CC, -1)
        if sparse:
            # entries ~ Binomial(length, entries / length): exact for the non-zeros, the
            # placeholders folded into the rate
            p_eff = np.where(s.length > 0, ent_sp / np.maximum(s.length, 1), 0.0).clip(0, 1)
            a_ent = a_zrl
            fill_sp = core.binomial_fill_classes(s.length, p_eff, Iv)
            a_fill = torch.from_numpy(fill_sp)[None, None].expand(g.N, CC, -1, -1)
            a_var = torch.from_numpy(core.binomial_vectors_var(s.length, p_eff, Iv))
        else:
            a_ent = dense_len[None, None, :].expand(g.N, CC, -1)
            a_fill = core.fill_classes(a_ent, Iv)
    else:
        assert layer.input is not None  # not statistical
        vals = core.gather_streams(layer.input.to(torch.float32), s)  # (N*CC, n_sp, L)
        mask = vals != 0
        del vals
        a_nnz = mask.sum(-1).to(torch.float64).reshape(g.N, CC, s.n_sp)
        m2 = mask.reshape(-1, mask.shape[-1]).numpy()
        a_zrl = torch.from_numpy(_entries_rows(m2, p, bits).astype(np.float64)).reshape(
            g.N, CC, s.n_sp)
        a_ent = a_zrl if sparse else dense_len[None, None, :].expand(g.N, CC, -1)
        a_fill = core.fill_classes(a_ent, Iv)

    # -- weight entries per stream (pairs, C, phases) ------------------------------------------
    ws = core.weight_streams(g, w.to(torch.float32), pairs, t)
    w_dense = torch.from_numpy(ws.length.astype(np.float64))[:, None, :].expand(-1, C, -1)
    w_nnz = torch.stack([(v != 0).sum(-1) for v in ws.values], dim=-1).to(torch.float64)
    w_zrl = torch.stack([torch.from_numpy(_entries_rows(
        (v != 0).reshape(pairs.n * C, v.shape[-1]).numpy(), p, bits).astype(np.float64))
        .reshape(pairs.n, C) for v in ws.values], dim=-1)
    w_ent = w_zrl if sparse else w_dense
    w_fill = core.fill_classes(w_ent, F)  # (Q, C, ph, F)

    # -- arrange activations by (pass, PE) ----------------------------------------------------
    def by_x(a: torch.Tensor) -> torch.Tensor:
        return core.arrange_x(a, g.N, G, t)

    grp = torch.from_numpy(pairs.grp)
    A_fill = by_x(a_fill)                                    # (X, G, J, I)
    W_fill = w_fill.reshape(pairs.n, C * nph, F)             # (Q, J, F)
    va = A_fill.sum(-1)
    vw = W_fill.sum(-1)
    steps_xq = core.pair_contract(va, vw, grp)               # (X, Q)
    ea = by_x(a_ent.to(torch.float64))
    products_xq = core.pair_contract(ea, w_ent.reshape(pairs.n, -1), grp)
    nz_products = float(core.pair_contract(by_x(a_nnz.to(torch.float64)),
                                           w_nnz.reshape(pairs.n, -1), grp).sum())
    products = float(products_xq.sum())

    # -- bank conflicts -------------------------------------------------------------------------
    stall_xq = torch.zeros_like(steps_xq)
    conflict_info: dict[str, Any] = {"mode": "none (fixed routing)"}
    if p.scatter_crossbar:
        stall_xq, conflict_info = _conflicts(layer, spec, w, t, pairs, s, A_fill, W_fill,
                                             steps_xq, statistical)

    kg_idx = torch.from_numpy(pairs.kg)
    steps = torch.zeros(X, t.groups_k, dtype=torch.float64).index_add_(1, kg_idx, steps_xq)
    stall = torch.zeros(X, t.groups_k, dtype=torch.float64).index_add_(1, kg_idx, stall_xq)
    busy = (steps + stall).reshape(n_passes, n_pe, t.groups_k)
    compute = busy.amax(dim=1)                                 # (passes, groups): barrier
    if statistical and sparse:
        # the barrier waits for the slowest PE: E[max] over PEs whose times vary with the
        # random activations, ~ max(mean + sd * z_n) with z_n the expected normal maximum
        var_x = by_x(a_var[None, None, :].expand(g.N, CC, -1))        # (X, G, J)
        var_xq = core.pair_contract(var_x, vw * vw, grp)
        var = torch.zeros(X, t.groups_k, dtype=torch.float64).index_add_(1, kg_idx, var_xq)
        scale = torch.where(steps > 0, (steps + stall) / steps.clamp(min=1e-12), 1.0)
        sd = (var.sqrt() * scale).reshape(n_passes, n_pe, t.groups_k)
        active_pe = int((busy > 0).any(dim=2).sum(dim=1).max())
        compute = (busy + sd * core.expected_max_normal(active_pe)).amax(dim=1)
    active = compute > 0
    compute = compute + active * c.pipeline_depth

    # -- PPU drain: halos + activation + compression, overlapped by the second buffer ----------
    areas = core.tile_areas(t)
    kc_act = torch.tensor([min(t.kc, g.G * g.K - k * t.kc) for k in range(t.groups_k)],
                          dtype=torch.float64)
    halo = torch.from_numpy(areas["halo"].astype(np.float64))     # (passes_rc, n_pe)
    own = torch.from_numpy(areas["own"].astype(np.float64))
    halo_cyc = torch.ceil(halo[:, :, None] * kc_act / p.halo_psums_per_cycle)
    ppu_cyc = torch.ceil(own[:, :, None] * kc_act / p.ppu_ops_per_cycle)
    drain = (halo_cyc + ppu_cyc).amax(dim=1).repeat(g.N, 1)      # (passes, groups)
    seq_c = compute.reshape(-1)
    seq_d = drain.reshape(-1)
    if p.accumulator_double_buffered:
        prev = torch.cat([torch.zeros(1, dtype=torch.float64), seq_d[:-1]])
        total = float(torch.maximum(seq_c, prev).sum() + seq_d[-1])
    else:
        total = float((seq_c + seq_d).sum())
    total = max(total, 1.0)
    busy_mean = busy.mean(dim=1)
    mean_steps = float(steps.reshape(n_passes, n_pe, -1).mean(dim=1).sum())
    mean_stall = float(stall.reshape(n_passes, n_pe, -1).mean(dim=1).sum())
    barrier = float((busy.amax(dim=1) - busy_mean).sum())
    pipeline = float(active.sum()) * c.pipeline_depth
    exposed = total - float(compute.sum())
    stalls = {"bank_conflict": mean_stall, "barrier": barrier, "pipeline": pipeline,
              "halo_ppu": max(exposed, 0.0)}

    # -- storage, SRAM and DRAM traffic ---------------------------------------------------------
    zrl_bits = bits + p.run_bits
    a_zrl_x = by_x(a_zrl.to(torch.float64)).sum(dim=(1, 2))      # (X,) zrl entries per tile
    a_dense_x = by_x(dense_len[None, None, :].expand(g.N, CC, -1)).sum(dim=(1, 2))
    onchip_in = (a_zrl_x * zrl_bits if p.onchip_activation_format == "zrl"
                 else a_dense_x * bits)
    dram_in = float((a_zrl_x * zrl_bits).sum() if p.dram_activation_format == "zrl"
                    else (a_dense_x * bits).sum())
    w_bits_stream = (w_zrl * zrl_bits if p.weight_format == "zrl" else w_dense * bits)
    w_bits = float(w_bits_stream.sum())
    w_entry_bits = zrl_bits if p.weight_format == "zrl" else bits
    kg_per_group = max(1, math.ceil(pairs.n / G))
    iaram_cap = spec.per_pe_bytes("iaram") * 8
    over = (onchip_in - iaram_cap).clamp(min=0)
    spill_in = float(over.sum()) * (kg_per_group - 1)
    # weight blocks larger than the FIFO are re-streamed for every activation vector
    fifo_cap = p.weight_fifo_entries * F
    w_tot = w_ent.sum(-1)                                           # (Q, C)
    w_over = (w_tot - fifo_cap).clamp(min=0)
    va_tot = va.reshape(n_passes, n_pe, G, C, nph).sum(-1).amax(dim=1)   # (passes, G, C)
    refetch_vec = (va_tot[:, grp, :] - 1).clamp(min=0)                 # (passes, Q, C)
    refetch_bits = float((refetch_vec * w_over[None]).sum()) * w_entry_bits
    dram_w = w_bits * n_passes + refetch_bits
    out_bits_x, out_dense_bits = _output_bits(layer, spec, t)
    onchip_out = out_bits_x if p.onchip_activation_format == "zrl" else out_dense_bits
    oaram_cap = spec.per_pe_bytes("oaram") * 8
    spill_out = float((onchip_out - oaram_cap).clamp(min=0).sum())
    dram_out = float(out_bits_x.sum() if p.dram_activation_format == "zrl"
                     else out_dense_bits.sum())
    if p.inter_layer == "dram":
        dram = {"input": dram_in + spill_in, "weight": dram_w, "output": dram_out}
    else:
        first = dram_in if layer.input_is_network_input else 0.0
        frac = spill_out / max(float(onchip_out.sum()), 1.0)
        dram = {"input": first + spill_in, "weight": dram_w, "output": dram_out * frac}

    # accumulations: in-plane products (exact for non-zeros; placeholders and dense zeros in
    # the proportion a dense operand pair lands in the plane)
    dense_products = float(core.pair_contract(by_x(dense_len[None, None, :].expand(
        g.N, CC, -1)), w_dense.reshape(pairs.n, -1), grp).sum())
    in_plane_dense = core.dense_in_plane_products(g)
    f_in = in_plane_dense / dense_products if dense_products else 0.0
    useful = useful_macs(layer)
    if sparse:
        acc_updates = min(useful, nz_products) + (products - nz_products) * f_in
    elif p.gate_zero_products:
        acc_updates = float(min(useful, nz_products))
    else:
        acc_updates = float(in_plane_dense)
    fifo_read_entries = float(core.pair_contract(va, w_ent.reshape(pairs.n, -1), grp).sum())
    n_kg_reads = kg_per_group
    owned_total = float(own.sum()) * g.N * g.G * g.K
    halo_total = float(halo.sum()) * g.N * g.G * g.K
    details = {
        "path": "conv (PT-IS-CP)",
        "tiles": [t.rows.tiles, t.cols.tiles], "tile_in": [t.rows.tile, t.cols.tile],
        "passes": n_passes, "phases": t.phases, "kc": t.kc, "output_groups": t.groups_k,
        "accumulator_region": t.region_elems,
        "multiplier_steps": float(steps.sum()),
        "idle_multiplier_slots": float(steps.sum()) * F * Iv - products,
        "bank_conflict_cycles": float(stall.sum()),
        "bank_conflicts": conflict_info,
        "load_imbalance": barrier / max(float(busy.amax(dim=1).sum()), 1.0),
        "halo_psums": halo_total,
        "compressed_bits": {"input": float((a_zrl_x * zrl_bits).sum()),
                            "weight": float((w_zrl * zrl_bits).sum()),
                            "output": float(out_bits_x.sum())},
        "iaram_overflow_pes": int((over > 0).sum()),
        "oaram_overflow_pes": int((onchip_out > oaram_cap).sum()),
        "fifo_refetch_bits": refetch_bits,
        "mean_pe_steps": mean_steps,
        "scratchpad": _scratchpad(spec, t.kc * t.region_elems, float(w_tot.max()),
                                  w_entry_bits, f"Kc {t.kc} x region {t.region_elems}"),
    }
    return Counts(
        cycles=total, stalls=stalls, products=products, nz_products=nz_products,
        acc_updates=acc_updates, steps=float(steps.sum()),
        iaram_write_bits=float(onchip_in.sum()),
        iaram_read_bits=float(onchip_in.sum()) * n_kg_reads,
        fifo_write_bits=dram_w, fifo_read_bits=fifo_read_entries * w_entry_bits,
        oaram_write_bits=float(onchip_out.sum()), acc_drain_reads=owned_total + halo_total,
        halo_psums=halo_total, ppu_ops=owned_total, dram_bits=dram, details=details)


def _output_bits(layer: LayerWorkload, spec: ScnnSpec, t: core.Tiling,
                 ) -> tuple[torch.Tensor, torch.Tensor]:
    """Per (pass, PE): compressed bits of the outputs it owns (zrl per owned tile and output
    channel) and their dense bits."""
    g = layer.gconv
    p = spec.scnn
    bits = int(spec.compute.operand_bits)
    rows_owner = np.searchsorted(t.rows.own_hi, np.arange(g.P), side="right")
    cols_owner = np.searchsorted(t.cols.own_hi, np.arange(g.Q), side="right")
    key = (rows_owner[:, None] * t.cols.tiles + cols_owner[None, :]).ravel()
    n_t = t.rows.tiles * t.cols.tiles
    counts = np.bincount(key, minlength=n_t)
    KK = g.G * g.K
    dense = torch.from_numpy(t.per_tile(counts.reshape(t.rows.tiles, t.cols.tiles))
                             .astype(np.float64)).repeat(g.N, 1).reshape(-1) * KK * bits
    if layer.output is None:
        e = _expected_entries(counts, float(layer.output_density), p, bits)
        ent_t = torch.from_numpy(t.per_tile(e.reshape(t.rows.tiles, t.cols.tiles)))
        return ent_t.repeat(g.N, 1).reshape(-1) * KK * (bits + p.run_bits), dense
    order = np.argsort(key, kind="stable")
    starts = np.cumsum(counts) - counts
    rank = np.arange(key.size) - starts[key[order]]
    idx = np.full((n_t, max(int(counts.max()), 1)), g.P * g.Q, dtype=np.int64)
    idx[key[order], rank] = order
    y = layer.output.reshape(g.N, KK, g.P * g.Q)
    flat = torch.cat([y, y.new_zeros(g.N, KK, 1)], dim=2) != 0
    m = flat[:, :, torch.from_numpy(idx)]                          # (N, KK, n_t, L)
    ent = _entries_rows(m.reshape(-1, m.shape[-1]).numpy(), p, bits).reshape(g.N, KK, n_t)
    per_tile = ent.sum(axis=1)                                      # (N, n_t)
    arranged = np.stack([t.per_tile(per_tile[n].reshape(t.rows.tiles, t.cols.tiles))
                         for n in range(g.N)])
    return torch.from_numpy(arranged.reshape(-1).astype(np.float64)) * (bits + p.run_bits), \
        dense


# -- bank conflicts -----------------------------------------------------------------------------
def _conflicts(layer: LayerWorkload, spec: ScnnSpec, w: torch.Tensor, t: core.Tiling,
               pairs: core.Pairs, s: core.ActStreams, A_fill: torch.Tensor, W_fill: torch.Tensor,
               steps_xq: torch.Tensor, statistical: bool) -> tuple[torch.Tensor, dict[str, Any]]:
    """Bank-conflict stall cycles per (pass*PE, pair): exact when the layer is small, else
    per-class rates from sampled steps times each block's steps of that class."""
    p = spec.scnn
    g = layer.gconv
    total_steps = float(steps_xq.sum())
    if total_steps == 0:
        return torch.zeros_like(steps_xq), {"mode": "exact", "steps": 0}
    if not statistical and total_steps <= p.conflict_exact_max_steps:
        # not statistical: the layer has its input
        ent = _entry_tables(g, cast(torch.Tensor, layer.input), w, t, pairs, s, spec)
        stall = _exact_stall(g, t, pairs, ent, spec, steps_xq.shape)
        info: dict[str, Any] = {"mode": "exact", "steps": total_steps}
        if p.crossbar_queue_depth:
            info["queue_depth"] = p.crossbar_queue_depth
        return stall, info
    if statistical:
        # the rates come from synthetic i.i.d. activations at the layer's density
        gen = torch.Generator().manual_seed(p.sample_seed)
        x_syn = (torch.rand(g.N, g.G * g.C, g.H, g.W, generator=gen)
                 < float(layer.input_density)).to(torch.float32)
        ent = _entry_tables(g, x_syn, w, t, pairs, s, spec)
        A_s = _fill_from_entries(g, t, ent, spec)
    else:
        ent = _entry_tables(g, cast(torch.Tensor, layer.input), w, t, pairs, s, spec)
        A_s = A_fill
    tail = 0.0
    if p.crossbar_queue_depth == 0:
        rho, n_samp = _sample_rates(g, t, pairs, ent, A_s, W_fill, spec)
    else:
        rho, n_samp, tail = _sample_queue_rates(g, t, pairs, ent, spec)
    # stall[x, q] = sum_j sum_af A[x, g(q), j, af] * sum_wf W[q, j, wf] * rho[wf, af]
    wr = torch.einsum("qjw,wa->qja", W_fill, rho).reshape(W_fill.shape[0], -1)
    a = A_fill.reshape(A_fill.shape[0], A_fill.shape[1], -1)
    stall = core.pair_contract(a, wr, torch.from_numpy(pairs.grp))
    if tail:
        # each PE's output group ends by draining the backlog: charged to the group's first
        # pair that has steps
        kg = torch.from_numpy(pairs.kg)
        busy = steps_xq > 0
        seen = torch.zeros(steps_xq.shape[0], t.groups_k, dtype=torch.bool)
        for q in range(steps_xq.shape[1]):
            add = busy[:, q] & ~seen[:, kg[q]]
            stall[:, q] += add.to(torch.float64) * tail
            seen[:, kg[q]] |= add
    info = {"mode": "sampled", "samples": n_samp, "steps": total_steps,
            "mean_extra_cycles_full_step": float(rho[-1, -1])}
    if p.crossbar_queue_depth:
        info["queue_depth"] = p.crossbar_queue_depth
        info["mean_drain_per_group"] = tail
    return stall, info


@dataclass
class _Entries:
    a_ptr: np.ndarray
    a_hp: torch.Tensor        # (n, 2) padded coordinates of each activation entry
    w_ptr: np.ndarray
    w_kl: torch.Tensor        # (n,) output channel inside the group
    w_rs: torch.Tensor        # (n, 2) tap
    a_fill_ent: torch.Tensor  # (N, CC, n_sp) entries per activation stream


def _entry_tables(g: GConv, x4: torch.Tensor, w: torch.Tensor, t: core.Tiling, pairs: core.Pairs,
                  s: core.ActStreams, spec: ScnnSpec) -> _Entries:
    """Coordinates of every stream entry (non-zeros and placeholders, in stream order)."""
    p = spec.scnn
    vals = core.gather_streams(x4.to(torch.float32), s)
    mask = (vals != 0).reshape(-1, vals.shape[-1]).numpy()
    a_ptr, a_col, _ = core.zrl_entries(mask)
    rows = np.repeat(np.arange(mask.shape[0]), np.diff(a_ptr))
    sp = rows % s.n_sp
    pix = s.index.numpy()[sp, a_col]
    hp = np.stack([(pix // g.W) * g.input_dilation[0] + g.padding[0],
                   (pix % g.W) * g.input_dilation[1] + g.padding[1]], axis=1)
    ent = np.diff(a_ptr).reshape(g.N, g.G * g.C, s.n_sp)
    del p
    ws = core.weight_streams(g, w.to(torch.float32), pairs, t)
    row_l, kl_l, r_l, s_l = [], [], [], []
    C = g.C
    for ph, (v, taps) in enumerate(zip(ws.values, ws.taps, strict=True)):
        m = (v != 0).reshape(pairs.n * C, v.shape[-1]).numpy()
        ptr, col, _ = core.zrl_entries(m)
        rr = np.repeat(np.arange(m.shape[0]), np.diff(ptr))   # q * C + c
        kl, r_, s_ = core.weight_entry_coords(col, rr // C, taps, pairs, g.S)
        row_l.append(rr * t.phases + ph)
        kl_l.append(kl)
        r_l.append(r_)
        s_l.append(s_)
    wrow = np.concatenate(row_l)
    order = np.argsort(wrow, kind="stable")
    n_rows = pairs.n * C * t.phases
    w_ptr = np.zeros(n_rows + 1, dtype=np.int64)
    np.cumsum(np.bincount(wrow, minlength=n_rows), out=w_ptr[1:])
    return _Entries(a_ptr, torch.from_numpy(hp), w_ptr,
                    torch.from_numpy(np.concatenate(kl_l)[order]),
                    torch.from_numpy(np.stack([np.concatenate(r_l)[order],
                                               np.concatenate(s_l)[order]], axis=1)),
                    torch.from_numpy(ent.astype(np.float64)))


def _fill_from_entries(g: GConv, t: core.Tiling, ent: _Entries, spec: ScnnSpec,
                       ) -> torch.Tensor:
    return core.arrange_x(core.fill_classes(ent.a_fill_ent, spec.scnn.activation_vector),
                          g.N, g.G, t)


def _x_to_tile(x: torch.Tensor, g: GConv, t: core.Tiling, pr: int, pc: int,
               ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(pass*PE index) -> (image, tile row, tile col)."""
    n_pe = pr * pc
    pe = x % n_pe
    ps = x // n_pe
    b = ps % t.passes_c
    a = (ps // t.passes_c) % t.passes_r
    n = ps // (t.passes_c * t.passes_r)
    return n, a * pr + pe // pc, b * pc + pe % pc


def _gather_steps(g: GConv, t: core.Tiling, pairs: core.Pairs, ent: _Entries, spec: ScnnSpec,
                  x: torch.Tensor, q: torch.Tensor, j: torch.Tensor, i_vec: torch.Tensor,
                  j_vec: torch.Tensor, af: torch.Tensor, wf: torch.Tensor,
                  ) -> tuple[torch.Tensor, torch.Tensor]:
    """Bank occupancy (n, banks) and in-plane products of the steps (x, pair q,
    channel-phase j, activation vector i_vec, weight vector j_vec) with fills af, wf."""
    p = spec.scnn
    F, Iv = p.weight_vector, p.activation_vector
    pr, pc = int(spec.compute.array[0]), int(spec.compute.array[1])
    n, tr, tc = _x_to_tile(x, g, t, pr, pc)
    grp = torch.from_numpy(pairs.grp)[q]
    c = j // t.phases
    ph = j % t.phases
    cc = grp * g.C + c
    sp = (tr * t.cols.tiles + tc) * t.phases + ph
    arow = (n * (g.G * g.C) + cc) * (t.rows.tiles * t.cols.tiles * t.phases) + sp
    wrow = (q * g.C + c) * t.phases + ph
    u = torch.arange(Iv)
    v = torch.arange(F)
    a_idx = torch.from_numpy(ent.a_ptr)[arow][:, None] + i_vec[:, None] * Iv + u[None, :]
    a_ok = u[None, :] < af[:, None]
    w_idx = torch.from_numpy(ent.w_ptr)[wrow][:, None] + j_vec[:, None] * F + v[None, :]
    w_ok = v[None, :] < wf[:, None]
    a_idx = torch.where(a_ok, a_idx, 0)
    w_idx = torch.where(w_ok, w_idx, 0)
    hp = ent.a_hp[a_idx] if ent.a_hp.numel() else torch.zeros(*a_idx.shape, 2, dtype=torch.long)
    kl = ent.w_kl[w_idx]
    rs = ent.w_rs[w_idx]
    return core.step_occupancy(hp, a_ok, kl, rs, w_ok, g, F, p.accumulator_banks)


def _block_entries(g: GConv, t: core.Tiling, pairs: core.Pairs, ent: _Entries,
                   spec: ScnnSpec) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Per block (pass*PE, pair, channel-phase): activation entries, weight entries of the
    pair (Q, J) and steps ``ceil(a/I) * ceil(w/F)``."""
    p = spec.scnn
    ea_ent = core.arrange_x(ent.a_fill_ent, g.N, g.G, t)    # (X, G, J) entries
    w_ent = torch.from_numpy(np.diff(ent.w_ptr).astype(np.float64)).reshape(
        pairs.n, g.C * t.phases)
    a_q = ea_ent[:, torch.from_numpy(pairs.grp), :]         # (X, Q, J)
    nsteps = torch.ceil(a_q / p.activation_vector) * torch.ceil(w_ent / p.weight_vector)[None]
    return a_q, w_ent, nsteps


def _expand_blocks(t: core.Tiling, pairs: core.Pairs, ent: _Entries, spec: ScnnSpec, g: GConv,
                   bx: torch.Tensor, bq: torch.Tensor, bj: torch.Tensor,
                   ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Every step of the blocks (pass*PE bx, pair bq, channel-phase bj), in loop order
    (activation vector outer, weight vector inner): (block index, i_vec, j_vec, af, wf)."""
    p = spec.scnn
    F, Iv = p.weight_vector, p.activation_vector
    a_q, w_ent, _ = _block_entries(g, t, pairs, ent, spec)
    a_ent = a_q[bx, bq, bj]
    we = w_ent[bq, bj]
    va = torch.ceil(a_ent / Iv).long()
    vw = torch.ceil(we / F).long()
    cnt = va * vw
    b = torch.repeat_interleave(torch.arange(bx.shape[0]), cnt)
    start = torch.cumsum(cnt, 0) - cnt
    off = torch.arange(int(cnt.sum())) - start[b]
    i_vec = off // vw[b]
    j_vec = off % vw[b]
    af = (a_ent.long()[b] - i_vec * Iv).clamp(max=Iv)
    wf = (we.long()[b] - j_vec * F).clamp(max=F)
    return b, i_vec, j_vec, af, wf


def _exact_stall(g: GConv, t: core.Tiling, pairs: core.Pairs, ent: _Entries, spec: ScnnSpec,
                 shape: torch.Size) -> torch.Tensor:
    """Extra cycles per (pass*PE, pair) of every step, counted one by one (and, with
    crossbar queues, the backlog drained at the end of each PE's output group)."""
    p = spec.scnn
    X, Q = shape
    _, _, nsteps = _block_entries(g, t, pairs, ent, spec)
    blk = torch.nonzero(nsteps > 0)
    if blk.numel() == 0:
        return torch.zeros(shape, dtype=torch.float64)
    bx, bq, bj = blk[:, 0], blk[:, 1], blk[:, 2]
    b, i_vec, j_vec, af, wf = _expand_blocks(t, pairs, ent, spec, g, bx, bq, bj)
    occ, _ = _gather_steps(g, t, pairs, ent, spec, bx[b], bq[b], bj[b], i_vec, j_vec, af, wf)
    sx, sq = bx[b], bq[b]
    stall = torch.zeros(X * Q, dtype=torch.float64)
    if p.crossbar_queue_depth == 0:
        cyc_t = core.stall_rule_cycles(occ)
        stall.index_add_(0, sx * Q + sq, (cyc_t - 1).to(torch.float64))
        return stall.reshape(X, Q)
    run = (sx * t.groups_k + torch.from_numpy(pairs.kg)[sq]).numpy()
    cyc, tail = core.queue_cycles(occ.numpy(), run, p.crossbar_queue_depth)
    stall.index_add_(0, sx * Q + sq, torch.from_numpy(cyc - 1).to(torch.float64))
    # the drain of a run's backlog is charged to the pair of its last step
    last = np.full(tail.shape[0], -1, dtype=np.int64)
    np.maximum.at(last, run, np.arange(run.shape[0]))
    has = last >= 0
    li = torch.from_numpy(last[has])
    stall.index_add_(0, sx[li] * Q + sq[li], torch.from_numpy(tail[has]).to(torch.float64))
    return stall.reshape(X, Q)


def _sample_rates(g: GConv, t: core.Tiling, pairs: core.Pairs, ent: _Entries, A_fill: torch.Tensor,
                  W_fill: torch.Tensor, spec: ScnnSpec) -> tuple[torch.Tensor, int]:
    """Mean extra cycles of a step per (weight fill, activation fill) class, from
    ``conflict_samples`` steps in all, shared among the classes in proportion to their step
    counts (at least 32 each), each drawn uniformly among its class's steps."""
    p = spec.scnn
    F, Iv = p.weight_vector, p.activation_vector
    X, G, J, _ = A_fill.shape
    Q = W_fill.shape[0]
    grp = torch.from_numpy(pairs.grp)
    gen = torch.Generator().manual_seed(p.sample_seed)
    rho = torch.zeros(F, Iv, dtype=torch.float64)
    onehot = torch.nn.functional.one_hot(grp, G).to(torch.float64)  # (Q, G)
    full_a = A_fill[..., Iv - 1]                      # (X, G, J) full vectors per stream
    full_w = W_fill[..., F - 1]                       # (Q, J)
    Sa = A_fill.sum(0)                                # (G, J, Iv)
    Sw = torch.einsum("qg,qjw->gjw", onehot, W_fill)  # (G, J, F)
    mass = torch.einsum("gja,gjw->wa", Sa, Sw)        # steps per class
    total = float(mass.sum())
    n_total = 0
    for af in range(1, Iv + 1):
        A = A_fill[..., af - 1]                                   # (X, G, J)
        cum_a = torch.cumsum(A.permute(1, 2, 0).reshape(G * J, X), dim=1)
        for wf in range(1, F + 1):
            if mass[wf - 1, af - 1] <= 0:
                continue
            W = W_fill[..., wf - 1]                               # (Q, J)
            M = (Sa[..., af - 1] * Sw[..., wf - 1]).reshape(-1)
            n = max(32, round(p.conflict_samples * float(mass[wf - 1, af - 1]) / total))
            gj = torch.multinomial(M / M.sum(), n, replacement=True, generator=gen)
            gg, jj = gj // J, gj % J
            ua = torch.rand(n, generator=gen, dtype=torch.float64) * cum_a[gj, -1]
            x = torch.searchsorted(cum_a[gj], ua[:, None], right=True)[:, 0].clamp(max=X - 1)
            # a pair of the sampled group, in proportion to its vectors of this fill
            wq = W[:, jj].T * onehot[:, gg].T                    # (n, Q)
            cum_w = torch.cumsum(wq, dim=1)
            uw = torch.rand(n, generator=gen, dtype=torch.float64) * cum_w[:, -1]
            q = torch.searchsorted(cum_w, uw[:, None], right=True)[:, 0].clamp(max=Q - 1)
            fa = full_a[x, gg, jj].long()
            fw = full_w[q, jj].long()
            i_vec = _uniform_below(fa, gen) if af == Iv else fa
            j_vec = _uniform_below(fw, gen) if wf == F else fw
            occ, _ = _gather_steps(g, t, pairs, ent, spec, x, q, jj, i_vec, j_vec,
                                   torch.full((n,), af), torch.full((n,), wf))
            cyc = core.stall_rule_cycles(occ)
            rho[wf - 1, af - 1] = float((cyc - 1).to(torch.float64).mean())
            n_total += n
    return rho, n_total


def _sample_queue_rates(g: GConv, t: core.Tiling, pairs: core.Pairs, ent: _Entries,
                        spec: ScnnSpec) -> tuple[torch.Tensor, int, float]:
    """With crossbar queues a step's extra cycles depend on the backlog earlier steps left,
    so steps are sampled in *windows*: a window starts at a block (PE, pair, channel-phase)
    drawn in proportion to its steps and follows the loop order through the next channels
    of that PE and pair for ``warm + 48`` steps; the queues start empty and the first
    ``warm`` steps (2 x depth, at least 8) are not measured. Returns (mean extra cycles per
    (weight fill, activation fill) class, measured steps, mean backlog at a window's end
    -- what a PE's output group drains before its barrier)."""
    p = spec.scnn
    F, Iv, depth = p.weight_vector, p.activation_vector, p.crossbar_queue_depth
    Q, J = pairs.n, g.C * t.phases
    warm = max(8, 2 * depth)
    length = warm + 48
    n_win = max(1, -(-p.conflict_samples // 48))
    _, _, nsteps = _block_entries(g, t, pairs, ent, spec)           # (X, Q, J)
    flat = nsteps.reshape(-1)
    gen = torch.Generator().manual_seed(p.sample_seed)
    starts = torch.multinomial(flat / flat.sum(), n_win, replacement=True, generator=gen)
    cum = torch.cumsum(nsteps, dim=2)                                   # (X, Q, J)
    bx_l, bq_l, bj_l, win_l = [], [], [], []
    for wi, st in enumerate(starts.tolist()):
        x, rem = divmod(st, Q * J)
        q, j = divmod(rem, J)
        before = float(cum[x, q, j - 1]) if j else 0.0
        stop = int(torch.searchsorted(cum[x, q], torch.tensor(before + length,
                                                              dtype=torch.float64)))
        js = torch.arange(j, min(stop + 1, J))
        js = js[nsteps[x, q, js] > 0]
        bx_l.append(torch.full_like(js, x))
        bq_l.append(torch.full_like(js, q))
        bj_l.append(js)
        win_l.append(torch.full_like(js, wi))
    bx, bq, bj, win = (torch.cat(v) for v in (bx_l, bq_l, bj_l, win_l))
    b, i_vec, j_vec, af, wf = _expand_blocks(t, pairs, ent, spec, g, bx, bq, bj)
    run = win[b].numpy()
    first = np.searchsorted(run, run, side="left")          # windows are contiguous
    pos = np.arange(run.shape[0]) - first
    keep = torch.from_numpy(pos < length)
    b, i_vec, j_vec, af, wf = (v[keep] for v in (b, i_vec, j_vec, af, wf))
    run, pos = run[keep.numpy()], pos[keep.numpy()]
    occ, _ = _gather_steps(g, t, pairs, ent, spec, bx[b], bq[b], bj[b], i_vec, j_vec, af, wf)
    cyc, tail = core.queue_cycles(occ.numpy(), run, depth)
    extra = torch.from_numpy(cyc - 1).to(torch.float64)
    meas = torch.from_numpy(pos >= warm)
    if not bool(meas.any()):
        meas = torch.ones_like(meas)
    cls = (wf - 1) * Iv + (af - 1)
    tot = torch.zeros(F * Iv, dtype=torch.float64).index_add_(0, cls[meas], extra[meas])
    cnt = torch.zeros(F * Iv, dtype=torch.float64).index_add_(0, cls[meas],
                                                              torch.ones(int(meas.sum()),
                                                                         dtype=torch.float64))
    mean = float(extra[meas].mean())
    rho = torch.where(cnt > 0, tot / cnt.clamp(min=1), mean).reshape(F, Iv)
    full = np.zeros(tail.shape[0], dtype=bool)
    np.logical_or.at(full, run, pos >= length - 1)
    tail_mean = float(tail[full].mean()) if full.any() else float(tail.mean())
    return rho, int(meas.sum()), tail_mean


def _uniform_below(n: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """A uniform integer in [0, n) per element (n >= 1)."""
    u = torch.rand(n.shape, generator=gen, dtype=torch.float64)
    return torch.minimum((u * n).long(), (n - 1).clamp(min=0))


# -- FC ----------------------------------------------------------------------------------------
def fc_counts(layer: LayerWorkload, spec: ScnnSpec, w: torch.Tensor) -> Counts:
    """Output channels spread over the PEs (``Kp`` each), the input vector broadcast: each
    activation entry meets ``F`` weight entries of its column per cycle, the other I - 1
    activation lanes idle."""
    g = layer.gconv
    p, c = spec.scnn, spec.compute
    n_pe = spec.n_pe
    F = p.weight_vector
    bits = int(c.operand_bits)
    zb = bits + p.run_bits
    KK, CC = g.G * g.K, g.G * g.C
    kp = -(-KK // n_pe)
    w2 = w.reshape(KK, g.C) != 0
    nzm = torch.zeros(n_pe * kp, CC, dtype=torch.bool)   # block-diagonal over the groups
    for grp in range(g.G):
        nzm[grp * g.K:(grp + 1) * g.K, grp * g.C:(grp + 1) * g.C] = w2[grp * g.K:(grp + 1) * g.K]
    # weight streams per (PE, input channel): the PE's output channels of that column
    wm = nzm.reshape(n_pe, kp, CC).permute(0, 2, 1)                     # (PE, CC, kp)
    kk = torch.arange(n_pe * kp)
    per_grp = torch.zeros(n_pe, g.G, dtype=torch.float64)
    real = kk < KK
    per_grp.index_put_((kk[real] // kp, kk[real] // g.K), torch.ones(int(real.sum()),
                       dtype=torch.float64), accumulate=True)
    w_dense = per_grp[:, torch.arange(CC) // g.C]                       # (PE, CC)
    w_zrl = torch.from_numpy(_entries_rows(wm.reshape(-1, kp).numpy(), p, bits)
                             .astype(np.float64)).reshape(n_pe, CC)
    w_nnz = wm.sum(-1).to(torch.float64)
    w_ent = w_zrl if p.skip_zeros else w_dense
    vw = torch.ceil(w_ent / F)
    # activation entries per (image, channel)
    if layer.input is None:
        d = float(layer.input_density)
        e = _zrl(p, bits).expected_entries(CC, d) / CC if CC else 0.0
        a_ent = torch.full((g.N, CC), e if p.skip_zeros else 1.0, dtype=torch.float64)
        a_nnz = torch.full((g.N, CC), d, dtype=torch.float64)
        a_zrl_bits = torch.full((g.N,), _zrl(p, bits).expected_entries(CC, d) * zb,
                                dtype=torch.float64)
    else:
        x = layer.input.reshape(g.N, CC) != 0
        ptr, col, _ = core.zrl_entries(x.numpy())
        a_mark = torch.zeros(g.N, CC, dtype=torch.float64)
        rows = np.repeat(np.arange(g.N), np.diff(ptr))
        a_mark[torch.from_numpy(rows), torch.from_numpy(col)] = 1.0
        a_ent = a_mark if p.skip_zeros else torch.ones(g.N, CC, dtype=torch.float64)
        a_nnz = x.to(torch.float64)
        a_zrl_bits = torch.from_numpy(np.diff(ptr).astype(np.float64)) * zb
    steps = a_ent @ vw.T                                                 # (N, PE)
    stall = torch.zeros_like(steps)
    info: dict[str, Any] = {"mode": "none (fixed routing)"}
    if p.scatter_crossbar:
        # exact: the F weights of a vector hash to banks by their output channel alone
        per_row, info = _vector_conflicts(wm.reshape(-1, kp).numpy(),
                                          w_ent.reshape(-1).numpy().astype(np.int64), F, spec)
        stall = a_ent @ torch.from_numpy(per_row).reshape(n_pe, CC).T
    busy = steps + stall
    drain = math.ceil(kp / p.ppu_ops_per_cycle)
    per_image = busy.amax(dim=1) + c.pipeline_depth * (busy.amax(dim=1) > 0) + drain
    total = max(float(per_image.sum()), 1.0)
    products = float((a_ent @ w_ent.T).sum())
    nz_products = float((a_nnz @ w_nnz.T).sum())
    useful = useful_macs(layer)
    if p.skip_zeros:
        acc_updates = float(products)
    elif p.gate_zero_products:
        acc_updates = float(min(useful, nz_products))
    else:
        acc_updates = products
    w_bits = float((w_zrl * zb).sum() if p.weight_format == "zrl" else (w_dense * bits).sum())
    w_entry_bits = zb if p.weight_format == "zrl" else bits
    in_zrl = float(a_zrl_bits.sum())
    in_dense = float(g.N * CC * bits)
    onchip_in = in_zrl if p.onchip_activation_format == "zrl" else in_dense
    dram_in = in_zrl if p.dram_activation_format == "zrl" else in_dense
    if layer.output is None:
        out_zrl = _zrl(p, bits).expected_bits(KK, float(layer.output_density)) * g.N
    else:
        out_zrl = float(_zrl(p, bits).row_sizes_bits(
            (layer.output.reshape(g.N, KK) != 0).numpy()).sum())
    out_dense = float(g.N * KK * bits)
    dram_out = out_zrl if p.dram_activation_format == "zrl" else out_dense
    if p.inter_layer == "dram":
        dram = {"input": dram_in, "weight": w_bits * g.N, "output": dram_out}
    else:
        dram = {"input": dram_in if layer.input_is_network_input else 0.0,
                "weight": w_bits * g.N, "output": 0.0}
    mean_b = busy.mean(dim=1)
    stalls = {"bank_conflict": float(stall.mean(dim=1).sum()),
              "barrier": float((busy.amax(dim=1) - mean_b).sum()),
              "pipeline": float(c.pipeline_depth * (busy.amax(dim=1) > 0).sum()),
              "halo_ppu": float(drain * g.N)}
    details = {"path": "fc (outputs over PEs, input broadcast)", "outputs_per_pe": kp,
               "multiplier_steps": float(steps.sum()),
               "idle_multiplier_slots": float(steps.sum()) * F * p.activation_vector - products,
               "bank_conflict_cycles": float(stall.sum()), "bank_conflicts": info,
               "compressed_bits": {"input": in_zrl, "weight": float((w_zrl * zb).sum()),
                                   "output": out_zrl},
               "scratchpad": _scratchpad(spec, kp, float(w_ent.max()) if w_ent.numel() else 0.0,
                                         w_entry_bits, f"{kp} outputs per PE")}
    return Counts(
        cycles=total, stalls=stalls, products=products, nz_products=nz_products,
        acc_updates=acc_updates, steps=float(steps.sum()),
        iaram_write_bits=onchip_in * n_pe, iaram_read_bits=onchip_in * n_pe,
        fifo_write_bits=w_bits * g.N,
        fifo_read_bits=float((a_ent @ w_ent.T).sum()) * w_entry_bits,
        oaram_write_bits=out_zrl if p.onchip_activation_format == "zrl" else out_dense,
        acc_drain_reads=float(g.N * KK), halo_psums=0.0, ppu_ops=float(g.N * KK),
        dram_bits=dram, details=details)


def _scratchpad(spec: ScnnSpec, acc_entries: int, block_entries: float, entry_bits: int,
                what: str) -> tuple[dict[str, int], str]:
    """On-chip bytes the PT-IS-CP tiling of a layer needs besides its activations (which the
    IARAM / OARAM, the feature-map buffer of a unified SRAM, hold), for
    ``passes/fmaps.py``: every PE's accumulator region of one output group
    (``acc_entries`` partial sums, in both halves when double-buffered) and its weight FIFO
    filled with the largest weight block of one (output group, input channel), at most the
    FIFO's depth (a larger block is re-streamed). Returns ((bytes per level), how)."""
    p, c = spec.scnn, spec.compute
    n_pe = spec.n_pe
    halves = 2 if p.accumulator_double_buffered else 1
    acc_b = int(c.accumulator_bits)
    cap = p.weight_fifo_entries * p.weight_vector
    fifo = min(math.ceil(block_entries), cap)
    parts = {"accumulator": min(math.ceil(n_pe * halves * acc_entries * acc_b / 8),
                                spec.level("accumulator").size_bytes),
             "weight_fifo": min(math.ceil(n_pe * fifo * entry_bits / 8),
                                spec.level("weight_fifo").size_bytes)}
    text = (f"{n_pe} PEs x (accumulator: {halves} half(s) x {acc_entries} partial sums "
            f"({what}) x {acc_b} b = {parts['accumulator']} B; weight FIFO: largest block "
            f"{math.ceil(block_entries)} entries, FIFO depth {cap}, x {entry_bits} b = "
            f"{parts['weight_fifo']} B); IARAM / OARAM hold the feature maps")
    return parts, text


# -- PPU layers ----------------------------------------------------------------------------------
def _tensor_bits(t: torch.Tensor | None, elems: int, density: float, fmt: str,
                 p: ScnnParams, bits: int, row: int) -> float:
    if fmt == "dense":
        return float(elems * bits)
    if t is None:
        rows = max(elems // max(row, 1), 1)
        return _zrl(p, bits).expected_bits(row, density) * rows
    return float(_zrl(p, bits).row_sizes_bits((t.reshape(-1, row) != 0).numpy()).sum())


def ppu_counts(layer: LayerWorkload, spec: ScnnSpec) -> Counts:
    """Pooling, element-wise, per-channel and point-wise GConvs: every operation in the PPUs of
    all PEs at ``ppu_ops_per_cycle`` each (the input plane tiled as for a convolution)."""
    g = layer.gconv
    p, c = spec.scnn, spec.compute
    bits = int(c.operand_bits)
    ops = g.macs
    cycles = math.ceil(ops / (spec.n_pe * p.ppu_ops_per_cycle)) + c.pipeline_depth
    plane_in, plane_out = g.H * g.W, g.P * g.Q
    fmt_on, fmt_dram = p.onchip_activation_format, p.dram_activation_format
    in_on = _tensor_bits(layer.input, g.input_elems, layer.input_density, fmt_on, p, bits,
                         plane_in)
    in_dram = _tensor_bits(layer.input, g.input_elems, layer.input_density, fmt_dram, p, bits,
                           plane_in)
    out_on = _tensor_bits(layer.output, g.output_elems, layer.output_density, fmt_on, p, bits,
                          plane_out)
    out_dram = _tensor_bits(layer.output, g.output_elems, layer.output_density, fmt_dram, p,
                            bits, plane_out)
    opnd = 0.0
    if g.operand_kind == "tensor":
        n_op = max(layer.operand_elems, 1)
        row = plane_in if n_op % max(plane_in, 1) == 0 else n_op
        opnd = _tensor_bits(layer.operand, n_op, layer.operand_density, fmt_dram, p, bits, row)
    elif g.operand_kind == "weight":
        opnd = float(g.weight_elems * bits)
    if p.inter_layer == "dram":
        dram = {"input": in_dram, "output": out_dram}
        if g.operand_kind == "tensor":
            dram["operand"] = opnd
    else:
        dram = {"input": in_dram if layer.input_is_network_input else 0.0, "output": 0.0}
    if g.operand_kind == "weight":
        dram["weight"] = opnd
    details = {"path": "ppu", "ppu_ops": ops}
    return Counts(
        cycles=float(cycles), stalls={}, products=float(ops), nz_products=float(ops),
        acc_updates=0.0, steps=0.0, iaram_write_bits=in_on, iaram_read_bits=in_on,
        fifo_write_bits=opnd if g.operand_kind == "weight" else 0.0,
        fifo_read_bits=opnd if g.operand_kind == "weight" else 0.0,
        oaram_write_bits=out_on, acc_drain_reads=0.0, halo_psums=0.0, ppu_ops=float(ops),
        dram_bits=dram, details=details)
