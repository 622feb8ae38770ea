"""Counting machinery of the SCNN model (``models/scnn/model.py``): the planar tiling, the
compressed streams of activations and weights, the Cartesian-product step counts per PE and output
group, the accumulator bank conflicts (exact or sampled), and a numerical execution of the
PT-IS-CP schedule that the tests compare with the executor.

Vocabulary (Parashar et al., ISCA 2017, Sec. III-IV):

* a *tile* is the part ``Ht x Wt`` of the input plane one PE holds (all input channels);
  ``pe_rows x pe_cols`` tiles make one *pass*; a plane larger than one pass allows (the
  accumulator cannot hold a tile's outputs) is cut into several passes run one after another,
  and so are the images of a batch;
* an *output group* is ``Kc`` consecutive output channels whose partial sums fit one half of
  the double-buffered accumulator; the PEs meet at a barrier after each group;
* a *stream* is one compressed vector as the hardware stores it: the activations of one
  (image, input channel, tile, phase), the weights of one (output group, input channel,
  phase); an *entry* of a stream is a non-zero or a placeholder zero of the zero-run
  encoding (``sparsity.formats`` ``zrl``), or every element in a dense design;
* a *step* is one multiplier-array cycle without stalls: ``I`` activation entries times
  ``F`` weight entries of the same (channel, phase).

Strides and input dilation: activations and weights are split into ``stride_h x stride_w``
*phases* (DNNsim's scheme) so that every product of a phase lands on an output row/column;
padding is never stored (it is zero); a product whose output falls outside the plane is
still issued (the multiplier cannot know) but never accumulated.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import numpy as np
import torch

from accelscope.sparsity.formats import zero_gaps
from accelscope.workload.execute import gconv_fast
from accelscope.workload.gconv import GConv

SPAN = 16  # zero-run span of the 4-bit run field (15 zeros + the entry)


# -- planar tiling --------------------------------------------------------------------------------
@dataclass(frozen=True)
class Axis:
    """One spatial axis of the tiling: per tile, its input range, the output range its
    products reach (the accumulator region) and the output range it owns."""

    tiles: int                 # tiles along the axis (pe count x temporal factor)
    tile: int                  # input elements per tile (the last ones may be short or empty)
    in_lo: np.ndarray          # (tiles,) first input index of each tile
    in_hi: np.ndarray          # (tiles,) one past the last input index
    reach_lo: np.ndarray       # (tiles,) first output index its products reach
    reach_hi: np.ndarray       # (tiles,) one past the last
    own_lo: np.ndarray         # (tiles,) first output index it owns
    own_hi: np.ndarray         # (tiles,) one past the last

    @property
    def reach(self) -> np.ndarray:
        reach: np.ndarray = np.maximum(self.reach_hi - self.reach_lo, 0)
        return reach

    @property
    def own(self) -> np.ndarray:
        own: np.ndarray = np.maximum(self.own_hi - self.own_lo, 0)
        return own

    def overlap(self) -> np.ndarray:
        """Outputs a tile both reaches and owns."""
        both: np.ndarray = np.maximum(np.minimum(self.reach_hi, self.own_hi)
                                      - np.maximum(self.reach_lo, self.own_lo), 0)
        return both


def make_axis(size: int, tiles: int, k: int, stride: int, dil: int, pad_lo: int,
              in_dil: int, out: int) -> Axis:
    t = -(-size // tiles)
    i = np.arange(tiles)
    lo = np.minimum(i * t, size)
    hi = np.minimum((i + 1) * t, size)
    empty = hi <= lo
    first = lo * in_dil + pad_lo          # padded coordinate of the first input of the tile
    last = (hi - 1) * in_dil + pad_lo
    span = (k - 1) * dil
    r_lo = np.clip(-((span - first) // stride), 0, out)        # ceil((first - span) / stride)
    r_hi = np.clip(np.floor_divide(last, stride) + 1, 0, out)
    r_lo = np.where(empty, 0, r_lo)
    r_hi = np.where(empty, 0, np.maximum(r_hi, r_lo))
    # ownership: an output belongs to the tile holding the centre tap of its window
    centre = span // 2
    o = np.clip(-((centre - first) // stride), 0, out)
    o = np.where(empty, out, o)
    o[0] = 0
    o = np.maximum.accumulate(o)
    own_hi = np.append(o[1:], out)
    return Axis(tiles, t, lo, hi, r_lo, r_hi, o, own_hi)


@dataclass(frozen=True)
class Tiling:
    """The planar tiling of one GConv on a ``pe_rows x pe_cols`` array."""

    rows: Axis
    cols: Axis
    pe_rows: int
    pe_cols: int
    passes_r: int              # temporal passes along rows (tiles = pe_rows * passes_r)
    passes_c: int
    phases_r: int              # stride phases
    phases_c: int
    kc: int                    # output channels per group
    groups_k: int              # output groups (over all G*K output channels)
    region_elems: int          # largest accumulator region of a tile (rows x cols)

    @property
    def n_pe(self) -> int:
        return self.pe_rows * self.pe_cols

    @property
    def phases(self) -> int:
        return self.phases_r * self.phases_c

    def per_tile(self, a: np.ndarray) -> np.ndarray:
        """A (tiles_r, tiles_c) array as (passes_r * passes_c, n_pe): pass-major."""
        t = a.reshape(self.passes_r, self.pe_rows, self.passes_c, self.pe_cols)
        return t.transpose(0, 2, 1, 3).reshape(self.passes_r * self.passes_c, self.n_pe)


def plan(g: GConv, pe_rows: int, pe_cols: int, acc_entries: int) -> Tiling:
    """Tile the input plane over the PEs; add temporal passes until one tile's accumulator
    region fits ``acc_entries``; size the output groups to the accumulator."""
    sh, sw = g.stride
    dh, dw = g.dilation
    ih, iw = g.input_dilation
    tr, tc = 1, 1
    while True:
        rows = make_axis(g.H, pe_rows * tr, g.R, sh, dh, g.padding[0], ih, g.P)
        cols = make_axis(g.W, pe_cols * tc, g.S, sw, dw, g.padding[1], iw, g.Q)
        rr, rc = int(rows.reach.max()), int(cols.reach.max())
        if rr * rc <= acc_entries:
            break
        if rows.tile == 1 and cols.tile == 1:
            raise ValueError(f"one input pixel reaches {rr} x {rc} outputs, more than the "
                             f"{acc_entries} accumulator entries")
        if (rr >= rc and rows.tile > 1) or cols.tile == 1:
            tr += 1
        else:
            tc += 1
    region = max(rr * rc, 1)
    kc = max(1, min(acc_entries // region, g.G * g.K))
    return Tiling(rows, cols, pe_rows, pe_cols, tr, tc, sh, sw, kc, -(-g.G * g.K // kc),
                  region)


def tile_areas(t: Tiling) -> dict[str, np.ndarray]:
    """Per (pass, PE): accumulator region, owned outputs and halo outputs (those it reaches
    but another tile owns), per output channel."""
    reach = np.outer(t.rows.reach, t.cols.reach)
    own = np.outer(t.rows.own, t.cols.own)
    both = np.outer(t.rows.overlap(), t.cols.overlap())
    return {"reach": t.per_tile(reach), "own": t.per_tile(own),
            "halo": t.per_tile(reach - both)}


# -- output-group pairs (grouped convolution) -----------------------------------------------------
@dataclass(frozen=True)
class Pairs:
    """(output group, convolution group) pairs: the output channels ``k0 .. k0+size`` of an
    output group that belong to one convolution group (all of them when G = 1)."""

    kg: np.ndarray     # (n,) output group
    grp: np.ndarray    # (n,) convolution group
    k0: np.ndarray     # (n,) first global output channel
    size: np.ndarray   # (n,) channels
    local0: np.ndarray  # (n,) k0 - kg * Kc: the first channel's index inside the group

    @property
    def n(self) -> int:
        return int(self.kg.size)


def make_pairs(g: GConv, kc: int) -> Pairs:
    kg_l, g_l, k0_l, sz_l = [], [], [], []
    total = g.G * g.K
    for kg in range(-(-total // kc)):
        a, b = kg * kc, min((kg + 1) * kc, total)
        for grp in range(a // g.K, (b - 1) // g.K + 1):
            lo, hi = max(a, grp * g.K), min(b, (grp + 1) * g.K)
            kg_l.append(kg)
            g_l.append(grp)
            k0_l.append(lo)
            sz_l.append(hi - lo)
    kg_a = np.array(kg_l, dtype=np.int64)
    k0 = np.array(k0_l, dtype=np.int64)
    return Pairs(kg_a, np.array(g_l, dtype=np.int64), k0, np.array(sz_l, dtype=np.int64),
                 k0 - kg_a * kc)


# -- streams --------------------------------------------------------------------------------------
def zrl_entries(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Entries of every row of a 2-D non-zero mask in the SCNN zero-run encoding: a
    placeholder after every 16 zeros of a run, then the non-zero. Returns (row_ptr, column,
    is_value): the entries of row ``i`` are ``row_ptr[i]:row_ptr[i+1]``, in order. Entry
    counts equal ``get_format('zrl').row_sizes_bits(mask) / 20``."""
    rows = mask.shape[0]
    r, c, gaps = zero_gaps(mask)
    counts = gaps // SPAN + 1
    total = int(counts.sum())
    ends = np.cumsum(counts)
    within = np.arange(total) - np.repeat(ends - counts, counts)
    col = np.repeat(c - gaps - 1, counts) + SPAN * (within + 1)
    is_value = np.zeros(total, dtype=bool)
    if total:
        col[ends - 1] = c
        is_value[ends - 1] = True
    ptr = np.zeros(rows + 1, dtype=np.int64)
    np.cumsum(np.bincount(np.repeat(r, counts), minlength=rows), out=ptr[1:])
    return ptr, col, is_value


@dataclass(frozen=True)
class ActStreams:
    """The activation streams of a layer: rows (image, channel, tile_r, tile_c, phase)."""

    index: torch.Tensor       # (n_sp, Lmax) flat pixel (h*W + w) of each stream position; H*W = pad
    length: np.ndarray        # (n_sp,) real pixels per spatial stream
    n_sp: int                 # tiles_r * tiles_c * phases


def act_stream_map(g: GConv, t: Tiling) -> ActStreams:
    h = np.arange(g.H)
    w = np.arange(g.W)
    tr = np.minimum(h // t.rows.tile, t.rows.tiles - 1)
    tcl = np.minimum(w // t.cols.tile, t.cols.tiles - 1)
    phr = (h * g.input_dilation[0] + g.padding[0]) % t.phases_r
    phc = (w * g.input_dilation[1] + g.padding[1]) % t.phases_c
    key = (((tr[:, None] * t.cols.tiles + tcl[None, :]) * t.phases_r + phr[:, None])
           * t.phases_c + phc[None, :]).ravel()
    n_sp = t.rows.tiles * t.cols.tiles * t.phases
    order = np.argsort(key, kind="stable")
    ks = key[order]
    counts = np.bincount(key, minlength=n_sp)
    starts = np.cumsum(counts) - counts
    rank = np.arange(key.size) - starts[ks]
    lmax = max(int(counts.max()), 1)
    idx = np.full((n_sp, lmax), g.H * g.W, dtype=np.int64)
    idx[ks, rank] = order
    return ActStreams(torch.from_numpy(idx), counts, n_sp)


def gather_streams(x4: torch.Tensor, s: ActStreams) -> torch.Tensor:
    """(N * CC, n_sp, Lmax) values of every activation stream (zero past its end)."""
    n, cc, h, w = x4.shape
    flat = torch.cat([x4.reshape(n * cc, h * w), x4.new_zeros(n * cc, 1)], dim=1)
    return flat[:, s.index]


@dataclass(frozen=True)
class WeightStreams:
    """The weight streams: rows (pair, input channel, phase), each the phase's taps in
    row-major (r, s) order (slowest) x the pair's output channels (fastest), so that a
    vector of F consecutive entries spans output channels, as in DNNsim."""

    values: list[torch.Tensor]   # per phase: (n_pairs, C, size_max * taps_ph), zero past the end
    taps: list[np.ndarray]       # per phase: tap indices r * S + s
    length: np.ndarray           # (n_pairs, phases) dense entries per stream (channels x taps)


def weight_streams(g: GConv, w: torch.Tensor, pairs: Pairs, t: Tiling) -> WeightStreams:
    lmax = int(pairs.size.max())
    kk = pairs.k0[:, None] + np.arange(lmax)[None, :]
    valid = np.arange(lmax)[None, :] < pairs.size[:, None]
    kk = np.where(valid, kk, 0)
    w4 = w.reshape(g.G * g.K, g.C, g.R * g.S)
    wp = w4[torch.from_numpy(kk)] * torch.from_numpy(valid)[:, :, None, None].to(w4.dtype)
    wp = wp.permute(0, 2, 3, 1).reshape(pairs.n, g.C, g.R * g.S * lmax)  # (pairs, C, tap*l)
    wp = torch.cat([wp, wp.new_zeros(pairs.n, g.C, 1)], dim=2)
    pad = g.R * g.S * lmax
    r = np.arange(g.R)[:, None]
    s = np.arange(g.S)[None, :]
    ph = (((r * g.dilation[0]) % t.phases_r) * t.phases_c
          + (s * g.dilation[1]) % t.phases_c).ravel()
    size = torch.from_numpy(pairs.size)[:, None]
    values, taps = [], []
    length = np.zeros((pairs.n, t.phases), dtype=np.int64)
    for p in range(t.phases):
        tp = np.flatnonzero(ph == p)
        taps.append(tp)
        pos = torch.arange(lmax * tp.size)[None, :]
        ti, li = torch.div(pos, size, rounding_mode="floor"), pos % size
        inside = ti < tp.size
        src = torch.from_numpy(tp)[ti.clamp(max=max(tp.size - 1, 0))] * lmax + li \
            if tp.size else torch.zeros_like(pos)
        src = torch.where(inside, src, pad)                       # (pairs, lmax * taps)
        values.append(torch.gather(wp, 2, src[:, None, :].expand(-1, g.C, -1)))
        length[:, p] = pairs.size * tp.size
    return WeightStreams(values, taps, length)


def weight_entry_coords(col: np.ndarray, q: np.ndarray, taps: np.ndarray, pairs: Pairs,
                        s_width: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(output channel inside the group, r, s) of weight-stream positions ``col`` of pairs
    ``q`` in a phase with ``taps``."""
    size = pairs.size[q]
    tap = taps[col // size] if taps.size else np.zeros_like(col)
    return pairs.local0[q] + col % size, tap // s_width, tap % s_width


# -- step counts ----------------------------------------------------------------------------------
def fill_classes(entries: torch.Tensor, width: int) -> torch.Tensor:
    """Per stream, how many vectors of each fill 1..width it makes: (..., width), index
    ``f - 1`` for fill ``f`` (full vectors at ``width - 1``)."""
    full = torch.div(entries, width, rounding_mode="floor")
    rem = entries - full * width
    out = torch.nn.functional.one_hot(rem.long(), width + 1)[..., 1:].to(torch.float64)
    out[..., width - 1] += full.to(torch.float64)
    return out


def binomial_fill_classes(n: np.ndarray, p: np.ndarray | float, width: int) -> np.ndarray:
    """Expected vectors of each fill 1..width (as ``fill_classes``) of a stream whose entry
    count is Binomial(n, p), per stream; ``p`` a rate per stream or one for all. Their sum
    is E[ceil(X / width)] (``sparsity.density.expected_ceil_div``)."""
    n = np.asarray(n, dtype=np.int64)
    rate = np.broadcast_to(np.asarray(p, dtype=np.float64), n.shape)
    out = np.zeros((n.size, width))
    memo: dict[tuple[int, float], np.ndarray] = {}
    for i, (ni, pi) in enumerate(zip(n.tolist(), rate.tolist(), strict=True)):
        key = (ni, pi)
        if key not in memo:
            memo[key] = _binomial_fills(ni, pi, width)
        out[i] = memo[key]
    return out


def binomial_vectors_var(n: np.ndarray, p: np.ndarray | float, width: int) -> np.ndarray:
    """Var[ceil(X / width)] for X ~ Binomial(n, p), per stream."""
    n = np.asarray(n, dtype=np.int64)
    rate = np.broadcast_to(np.asarray(p, dtype=np.float64), n.shape)
    out = np.zeros(n.size)
    memo: dict[tuple[int, float], float] = {}
    for i, (ni, pi) in enumerate(zip(n.tolist(), rate.tolist(), strict=True)):
        if (ni, pi) not in memo:
            if ni <= 0 or pi <= 0.0 or pi >= 1.0:
                memo[(ni, pi)] = 0.0
            else:
                xs = torch.arange(ni + 1, dtype=torch.float64)
                pmf = torch.exp(math.lgamma(ni + 1) - torch.lgamma(xs + 1)
                                - torch.lgamma(ni - xs + 1) + xs * math.log(pi)
                                + (ni - xs) * math.log1p(-pi))
                v = torch.ceil(xs / width)
                memo[(ni, pi)] = float((pmf * v * v).sum() - (pmf * v).sum() ** 2)
        out[i] = memo[(ni, pi)]
    return out


def expected_max_normal(n: int) -> float:
    """Expected largest of ``n`` independent standard normals (Blom's approximation
    Phi^-1((n - 0.375) / (n + 0.25)), within 1 % for n >= 2)."""
    if n <= 1:
        return 0.0
    from statistics import NormalDist

    return NormalDist().inv_cdf((n - 0.375) / (n + 0.25))


def _binomial_fills(n: int, p: float, width: int) -> np.ndarray:
    out = np.zeros(width)
    if n <= 0:
        return out
    if p >= 1.0 or p <= 0.0:
        x = round(n * min(max(p, 0.0), 1.0))
        if x % width:
            out[x % width - 1] = 1.0
        out[width - 1] += x // width
        return out
    xs = torch.arange(n + 1, dtype=torch.float64)
    logpmf = (math.lgamma(n + 1) - torch.lgamma(xs + 1) - torch.lgamma(n - xs + 1)
              + xs * math.log(p) + (n - xs) * math.log1p(-p))
    pmf = torch.exp(logpmf)
    full = torch.div(xs, width, rounding_mode="floor")
    rem = (xs - full * width).long()
    out[width - 1] = float((pmf * full).sum())
    for f in range(1, width):
        out[f - 1] += float(pmf[rem == f].sum())
    return out


def arrange_x(a: torch.Tensor, n: int, groups: int, t: Tiling) -> torch.Tensor:
    """Per-stream activation data (N, G*C, n_sp, *rest) as (X, G, C * phases, *rest) with
    X = (image, pass_r, pass_c, PE) and the channel-phase index j = c * phases + phase."""
    rest = tuple(a.shape[3:])
    cc = a.shape[1]
    a = a.reshape(n, cc, t.passes_r, t.pe_rows, t.passes_c, t.pe_cols, t.phases, *rest)
    perm = (0, 2, 4, 3, 5, 1, 6) + tuple(range(7, 7 + len(rest)))
    x = n * t.passes_r * t.passes_c * t.n_pe
    return a.permute(perm).reshape(x, groups, (cc // groups) * t.phases, *rest)


def pair_contract(a: torch.Tensor, b: torch.Tensor, grp: torch.Tensor) -> torch.Tensor:
    """``out[x, q] = sum_j a[x, grp[q], j] * b[q, j]``: a (X, G, J), b (Q, J)."""
    if a.shape[1] == 1:
        return a[:, 0, :] @ b.T
    return torch.einsum("xqj,qj->xq", a[:, grp, :], b)


# -- accumulator banks ----------------------------------------------------------------------------
def bank_of(k: torch.Tensor, p: torch.Tensor, q: torch.Tensor, f: int, banks: int) -> torch.Tensor:
    """Accumulator bank of output (k inside its group, row p, column q): DNNsim's SCNN hash
    generalised to F weights and ``banks`` banks (``banks`` a multiple of 4F):
    ``k mod F + F*(q & 1) + 2F*(p & 1) + 4F*(((k div F) ^ (p >> 1) ^ (q >> 1)) mod (banks/4F))``;
    for F = 4 and 32 banks it is DNNsim's ``((k&4)<<2 ^ (x&2)<<3 ^ (y&2)<<3) + (x&1)<<3 +
    (y&1)<<2 + (k&3)`` with x = p, y = q."""
    top = banks // (4 * f)
    return (k % f + f * (q & 1) + 2 * f * (p & 1)
            + 4 * f * (((k // f) ^ (p >> 1) ^ (q >> 1)) % top))


def step_occupancy(act_hp: torch.Tensor, act_ok: torch.Tensor, w_kl: torch.Tensor,
                   w_rs: torch.Tensor, w_ok: torch.Tensor, g: GConv, f: int,
                   banks: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Products of each step per accumulator bank. ``act_hp`` (n, I, 2) padded coordinates
    (h', w') of the step's activation entries, ``w_kl`` (n, F) local output channel and
    ``w_rs`` (n, F, 2) tap (r, s) of its weight entries; ``*_ok`` mark real entries. Returns
    (occupancy (n, banks), in-plane products (n,)); products off the output plane reach no
    bank."""
    sh, sw = g.stride
    dh, dw = g.dilation
    p = torch.div(act_hp[:, :, None, 0] - w_rs[:, None, :, 0] * dh, sh, rounding_mode="floor")
    q = torch.div(act_hp[:, :, None, 1] - w_rs[:, None, :, 1] * dw, sw, rounding_mode="floor")
    ok = (act_ok[:, :, None] & w_ok[:, None, :] & (p >= 0) & (p < g.P) & (q >= 0)
          & (q < g.Q))
    k = w_kl[:, None, :].expand_as(p)
    b = bank_of(k, p.clamp(min=0), q.clamp(min=0), f, banks)
    n = b.shape[0]
    occ = torch.zeros(n, banks, dtype=torch.int32)
    occ.scatter_add_(1, b.reshape(n, -1), ok.reshape(n, -1).to(torch.int32))
    return occ, ok.reshape(n, -1).sum(dim=1)


def stall_rule_cycles(occ: torch.Tensor) -> torch.Tensor:
    """Cycles of each step without crossbar queues (DNNsim's rule): the largest number of
    its products in one bank (``occ`` (n, banks) from ``step_occupancy``), at least 1."""
    return occ.amax(dim=1).clamp(min=1)


def queue_cycles(occ: np.ndarray, run: np.ndarray, depth: int) -> tuple[np.ndarray, np.ndarray]:
    """Cycles of steps issued through per-bank crossbar queues of ``depth`` products.

    ``occ`` (n, banks): products of each step per bank; ``run`` (n,): the run (a PE's output
    group, between two barriers) each step belongs to; within a run the steps are issued in
    their order in the arrays. Every bank retires one product per cycle. A step issues when
    every bank's backlog of earlier products is at most ``depth``; with backlog ``B`` before
    it and ``a`` products of its own, the next step can issue ``max(1, max_b(B_b + a_b) -
    depth)`` cycles later, and the backlog left is ``max(B + a - that, 0)``. Depth 0 is
    DNNsim's stall rule (a step takes as many cycles as its busiest bank). At the end of a
    run the backlog drains before the barrier. Returns (cycles per step, drain cycles per
    run id 0 .. max(run))."""
    n, banks = occ.shape
    n_runs = int(run.max()) + 1 if n else 0
    cycles = np.zeros(n, dtype=np.int64)
    backlog = np.zeros((n_runs, banks), dtype=np.int64)
    if n == 0:
        return cycles, np.zeros(0, dtype=np.int64)
    order = np.argsort(run, kind="stable")
    r_sorted = run[order]
    first = np.searchsorted(r_sorted, r_sorted, side="left")
    pos = np.empty(n, dtype=np.int64)
    pos[order] = np.arange(n) - first
    by_pos = np.lexsort((run, pos))
    bounds = np.searchsorted(pos[by_pos], np.arange(int(pos.max()) + 2))
    occ64 = occ.astype(np.int64)
    for i in range(len(bounds) - 1):
        idx = by_pos[bounds[i]:bounds[i + 1]]
        r = run[idx]
        after = backlog[r] + occ64[idx]
        d = np.maximum(after.max(axis=1) - depth, 1)
        backlog[r] = np.maximum(after - d[:, None], 0)
        cycles[idx] = d
    return cycles, backlog.max(axis=1)


def dense_in_plane_products(g: GConv) -> int:
    """Products of a dense operand pair that land on an output: the GConv's MACs without the
    taps that read padding or inserted zeros."""
    plain = dataclasses.replace(g, N=1, G=1, K=1, C=1, post_ops=(), pad_value=0.0,
                                pad_mode="zeros", mean_pad=(0, 0, 0, 0), reduce_op="sum",
                                map_op="mul", operand_kind="weight")
    taps = gconv_fast(plain, torch.ones(1, 1, g.H, g.W, dtype=torch.float64),
                       torch.ones(1, 1, g.R, g.S, dtype=torch.float64))
    return round(float(taps.sum())) * g.N * g.G * g.K * g.C
