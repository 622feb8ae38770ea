"""The PT-IS-CP schedule executed numerically: every product of the Cartesian-product array
scattered into its accumulator bank, so tests can check the schedule computes the GConv."""

from __future__ import annotations

import dataclasses

import numpy as np
import torch

from accelscope.models.scnn import core
from accelscope.models.scnn.spec import ScnnSpec
from accelscope.workload.gconv import GConv


# -- the schedule, executed numerically (for tests and small layers) -------------------------
def execute_schedule(g: GConv, x: torch.Tensor, w: torch.Tensor, spec: ScnnSpec
                     ) -> tuple[torch.Tensor, dict[str, int]]:
    """Run the PT-IS-CP schedule of a convolution numerically: for every pass, output group,
    PE and (input channel, phase), every activation vector times every weight vector of the
    compressed streams, products scattered into the PE's accumulator region (bank occupancy
    counted per step), then halos added into their owners' outputs. Returns the (N, G*K, P, Q)
    output without post-ops and the counts (steps, stall cycles, products). Loops over PEs and
    channels: for small layers only."""
    g = dataclasses.replace(g, post_ops=())
    p, c = spec.scnn, spec.compute
    pr, pc = int(c.array[0]), int(c.array[1])
    F, Iv, A = p.weight_vector, p.activation_vector, p.accumulator_banks
    t = core.plan(g, pr, pc, A * p.accumulator_bank_entries)
    pairs = core.make_pairs(g, t.kc)
    s = core.act_stream_map(g, t)
    vals = core.gather_streams(x.to(torch.float64), s)           # (N*CC, n_sp, L)
    idx = s.index.numpy()
    ws = core.weight_streams(g, w.to(torch.float64), pairs, t)
    y = torch.zeros(g.N, g.G * g.K, g.P, g.Q, dtype=torch.float64)
    stats = {"steps": 0, "stall": 0, "products": 0, "halo_psums": 0}
    CC = g.G * g.C
    for n in range(g.N):
        for tr in range(t.rows.tiles):
            for tc in range(t.cols.tiles):
                r0, r1 = int(t.rows.reach_lo[tr]), int(t.rows.reach_hi[tr])
                c0, c1 = int(t.cols.reach_lo[tc]), int(t.cols.reach_hi[tc])
                for q in range(pairs.n):
                    acc = torch.zeros(t.kc, max(r1 - r0, 0), max(c1 - c0, 0),
                                      dtype=torch.float64)
                    grp = int(pairs.grp[q])
                    for cl in range(g.C):
                        cc = grp * g.C + cl
                        for ph in range(t.phases):
                            sp = (tr * t.cols.tiles + tc) * t.phases + ph
                            av = vals[n * CC + cc, sp]
                            if p.skip_zeros:
                                a_ptr, a_col, _ = core.zrl_entries((av != 0)[None].numpy())
                            else:
                                a_col = np.arange(int(s.length[sp]))
                            wv = ws.values[ph][q, cl]
                            taps = ws.taps[ph]
                            if p.skip_zeros:
                                _, w_col, _ = core.zrl_entries((wv != 0)[None].numpy())
                            else:
                                w_col = np.arange(int(ws.length[q, ph]))
                            pix = idx[sp, a_col]
                            hp = torch.from_numpy(np.stack(
                                [(pix // g.W) * g.input_dilation[0] + g.padding[0],
                                 (pix % g.W) * g.input_dilation[1] + g.padding[1]], 1))
                            kl, w_r, w_s = core.weight_entry_coords(
                                w_col, np.full(w_col.size, q), taps, pairs, g.S)
                            for i0 in range(0, a_col.size, Iv):
                                for j0 in range(0, w_col.size, F):
                                    ai = slice(i0, min(i0 + Iv, a_col.size))
                                    wj = slice(j0, min(j0 + F, w_col.size))
                                    a_val = av[torch.from_numpy(a_col[ai])]
                                    w_val = wv[torch.from_numpy(w_col[wj])]
                                    hh = hp[ai]
                                    rr = torch.from_numpy(w_r[wj])
                                    ss = torch.from_numpy(w_s[wj])
                                    pp = torch.div(hh[:, None, 0] - rr[None] * g.dilation[0],
                                                   g.stride[0], rounding_mode="floor")
                                    qq = torch.div(hh[:, None, 1] - ss[None] * g.dilation[1],
                                                   g.stride[1], rounding_mode="floor")
                                    kk = torch.from_numpy(kl[wj])[None].expand_as(pp)
                                    ok = (pp >= 0) & (pp < g.P) & (qq >= 0) & (qq < g.Q)
                                    prod = a_val[:, None] * w_val[None, :]
                                    bank = core.bank_of(kk, pp.clamp(min=0), qq.clamp(min=0),
                                                        F, A)
                                    occ = torch.bincount(bank[ok], minlength=A)
                                    stats["steps"] += 1
                                    stats["stall"] += max(int(occ.max()), 1) - 1
                                    stats["products"] += prod.numel()
                                    acc.index_put_((kk[ok], pp[ok] - r0, qq[ok] - c0),
                                                   prod[ok], accumulate=True)
                    # PPU: the owned part stays, the rest (the halo) is sent to and added
                    # by the neighbours that own it
                    k0 = int(pairs.k0[q])
                    size = int(pairs.size[q])
                    loc = int(pairs.local0[q])
                    part = acc[loc:loc + size]
                    owned = torch.zeros_like(part, dtype=torch.bool)
                    o_r0 = max(int(t.rows.own_lo[tr]), r0) - r0
                    o_r1 = min(int(t.rows.own_hi[tr]), r1) - r0
                    o_c0 = max(int(t.cols.own_lo[tc]), c0) - c0
                    o_c1 = min(int(t.cols.own_hi[tc]), c1) - c0
                    if o_r1 > o_r0 and o_c1 > o_c0:
                        owned[:, o_r0:o_r1, o_c0:o_c1] = True
                    stats["halo_psums"] += int((~owned).sum())
                    y[n, k0:k0 + size, r0:r1, c0:c1] += torch.where(owned, part, 0.0)
                    y[n, k0:k0 + size, r0:r1, c0:c1] += torch.where(owned, 0.0, part)
    return y, stats
