"""The general im2col path of the ``cgra`` model: any multiply-and-sum GConv with a weight as
one dot product per output on the ``im2col-ic`` kernel, over patches the host builds.

The host resolves the geometry when it builds a patch: it keeps the *prepared* input in the
banks (padding of any mode, cropping, zero insertion for transposed convolutions and
upsampling, written by the host once per image) and copies, per output (group g, filter k,
pixel), the group's C * R * S window values at the output's stride and dilation into a patch
buffer; the kernel takes the dot product with the filter row (``run_im2col_general``). The
launch order, the overlap of patch building with the CGRA and every host cost are those of
the ``im2col-ic`` mapping.

Tiling (``choose_tile``): groups first, then output channels down to 16, then output rows
(with their window halo), then output channels below 16; when even one output row of one
filter does not fit, the reduction is split first, over input channels and then over filter
rows (a global pooling over a 112 x 112 plane): a reduction tile after the first gets the
earlier tiles' partial outputs back from off-chip memory and the host adds them (the kernel
stores, it does not accumulate).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from accelscope.models.cgra.cost import Tally, price_run
from accelscope.models.cgra.layout import CgraMemoryError, Im2colShape
from accelscope.models.cgra.mappings import (
    GENERAL,
    MappingRun,
    general_layout,
    reference_im2col,
    run_im2col_general,
)
from accelscope.models.cgra.sim import Cgra
from accelscope.models.cgra.spec import CgraSpec
from accelscope.models.common import pieces
from accelscope.workload.gconv import GConv


def prepare(g: GConv, x: np.ndarray) -> np.ndarray:
    """The prepared input of one image, (G*C, Hp, Wp) int64: ``x`` (G*C, H, W) with zeros
    inserted (``input_dilation``) and padded or cropped by ``padding`` in ``pad_mode``
    (``pad_value`` for a constant pad), as the host writes it into the banks."""
    from accelscope.workload.execute import prepare_input

    t = torch.from_numpy(np.asarray(x, dtype=np.float64))[None]  # exact for int32 values
    return prepare_input(t, g)[0].numpy().astype(np.int64)


def im2col_operands(g: GConv, x: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The explicit im2col operand of one image of ``g``: int32 patches (G, P*Q, C*R*S) of the
    prepared input (``prepare``) in (c, r, s) order and filter rows (G, K, C*R*S) in the same
    order, from ``x`` (G*C, H, W) and ``w`` (G*K, C, R, S) (or (1*K, C, R, S) for one set of
    filters shared by every group: returned as (1, K, C*R*S))."""
    from accelscope.errors import ShapeError

    xp = torch.from_numpy(prepare(g, x).astype(np.float64))[None]
    cols = F.unfold(xp, (g.R, g.S), dilation=g.dilation, stride=g.stride)[0]
    window = g.C * g.R * g.S
    if cols.shape != (g.G * window, g.P * g.Q):
        raise ShapeError(f"GConv {g.name}: the prepared input gives {cols.shape[1]} windows, "
                         f"the GConv has {g.P}x{g.Q} outputs")
    patches = cols.numpy().astype(np.int32).reshape(g.G, window, g.P * g.Q).transpose(0, 2, 1)
    wg = w.shape[0] // g.K
    return patches, np.asarray(w, dtype=np.int32).reshape(wg, g.K, window)


@dataclass(frozen=True)
class Tile:
    """A tile of the general path: groups, output channels, output rows, and the reduction
    tile of input channels and filter rows."""

    G: int
    K: int
    rows: int
    C: int
    R: int


def prepared_hw(g: GConv) -> tuple[int, int]:
    """Height and width of the prepared input (zeros inserted, padded or cropped)."""
    pt, pl, pb, pr = g.padding
    ih, iw = g.input_dilation
    return (g.H - 1) * ih + 1 + pt + pb, (g.W - 1) * iw + 1 + pl + pr


def rows_in(g: GConv, rows: int, R: int | None = None) -> int:
    """Prepared-input rows the windows of ``rows`` consecutive output rows span (over ``R``
    filter rows, all by default)."""
    Hp, _ = prepared_hw(g)
    R = g.R if R is None else R
    return min((rows - 1) * g.stride[0] + (R - 1) * g.dilation[0] + 1, Hp)


def tile_shape(g: GConv, t: Tile, *, shared: bool, accumulate: bool = False) -> Im2colShape:
    _, Wp = prepared_hw(g)
    return Im2colShape(G=t.G, K=t.K, pixels=t.rows * g.Q, window=t.C * t.R * g.S,
                       input_words=t.G * t.C * rows_in(g, t.rows, t.R) * Wp,
                       shared_weights=shared, accumulate=accumulate)


def fits(shape: Im2colShape, spec: CgraSpec) -> bool:
    lay, _ = general_layout(shape, spec.cgra.array.timing().memory_bytes)
    return lay.used_bytes <= lay.memory_bytes


def choose_tile(g: GConv, spec: CgraSpec, *, shared: bool) -> Tile:
    """The tile of ``g`` the general path runs (module docstring): the reduction (input
    channels, then filter rows) halved until one output row of one filter fits, then groups,
    output channels down to 16, output rows, output channels below 16 halved until the tile
    fits the banks."""
    def ok(t: Tile) -> bool:
        split = t.C < g.C or t.R < g.R
        return fits(tile_shape(g, t, shared=shared, accumulate=split), spec)

    c, r = g.C, g.R
    while not ok(Tile(1, 1, 1, c, r)):
        if c > 1:
            c = math.ceil(c / 2)
        elif r > 1:
            r = math.ceil(r / 2)
        else:
            one = tile_shape(g, Tile(1, 1, 1, 1, 1), shared=shared,
                             accumulate=g.C * g.R > 1)
            need = general_layout(one, spec.cgra.array.timing().memory_bytes)[0].used_bytes
            raise CgraMemoryError(
                f"{GENERAL}: even one output row ({g.Q} pixels) of one filter over one input "
                f"channel and one filter row needs {need} B of CGRA memory", need)
    t = Tile(g.G, g.K, g.P, c, r)
    while not ok(t):
        if t.G > 1:
            t = dataclasses.replace(t, G=math.ceil(t.G / 2))
        elif t.K > 16:
            t = dataclasses.replace(t, K=math.ceil(t.K / 2))
        elif t.rows > 1:
            t = dataclasses.replace(t, rows=math.ceil(t.rows / 2))
        else:  # t.K > 1: Tile(1, 1, 1, c, r) fits
            t = dataclasses.replace(t, K=math.ceil(t.K / 2))
    return t


def _raw_lines(n_raw: int, dil: int, pad_lo: int, start: int, span: int) -> int:
    """Raw input lines (rows or columns) among prepared lines [start, start + span): a
    prepared line i is raw line (i - pad_lo) / dil where that is a whole line of the input."""
    z = np.arange(start, start + span) - pad_lo
    return int(((z >= 0) & (z % dil == 0) & (z // dil < n_raw)).sum())


def input_words_read(g: GConv, t: Tile) -> int:
    """Raw input words the tiles of one image bring in from off-chip memory: every tile
    brings the raw rows and columns its prepared input covers (the host pads and inserts
    zeros in the banks), once per output-channel tile."""
    _, Wp = prepared_hw(g)
    cols = _raw_lines(g.W, g.input_dilation[1], g.padding[1], 0, Wp)
    rows = 0
    for p0 in range(0, g.P, t.rows):
        pt = min(t.rows, g.P - p0)
        for r0 in range(0, g.R, t.R):
            rt = min(t.R, g.R - r0)
            rows += _raw_lines(g.H, g.input_dilation[0], g.padding[0],
                               p0 * g.stride[0] + r0 * g.dilation[0], rows_in(g, pt, rt))
    return math.ceil(g.K / t.K) * g.G * g.C * rows * cols


@dataclass
class GeneralRun:
    """The general path over one image: priced totals of all tiles, the tile, off-chip
    words by tensor and whether every simulated launch was exact."""

    tally: Tally
    tile: Tile
    dram_words_read: dict[str, int]
    dram_words_written: int
    exact: bool  # every simulated launch's output equals the NumPy dot product (int32)


def _sampled_exact(run: MappingRun, patches: np.ndarray, weights: np.ndarray,
                   partial: np.ndarray | None) -> bool:
    """Whether the outputs of the launches ``run`` simulated (the first ones in launch order:
    group, filter, pixel) equal the exact int32 dot products (plus the partial outputs)."""
    G, K, npix = run.output.shape
    idx = np.arange(len(run.launch_cycles))
    gi, ki, pi = np.unravel_index(idx, (G, K, npix))
    wi = np.zeros_like(gi) if weights.shape[0] == 1 else gi
    want = (patches[gi, pi].astype(np.int64) * weights[wi, ki].astype(np.int64)).sum(1)
    if partial is not None:
        want += partial[gi, ki, pi]
    want = (want + 2**31) % 2**32 - 2**31
    return bool(np.array_equal(run.output.reshape(-1)[idx], want))


def _spans(total: int, size: int) -> list[tuple[int, int, int]]:
    """(start of the first piece, piece size, count): the full pieces and the remainder."""
    return [(0 if i == 0 else total - s, s, n) for i, (s, n) in enumerate(pieces(total, size))]


def run_general(g: GConv, patches: np.ndarray, weights: np.ndarray, spec: CgraSpec, *,
                weight_tensor: str = "weight") -> GeneralRun:
    """Every tile of one image of ``g`` through ``run_im2col_general``: each distinct tile
    shape is simulated once (``cgra.sample_launches`` launches of it, scaled) on the data of
    its first occurrence and counted for all its occurrences. ``patches`` / ``weights`` from
    ``im2col_operands``; weights with one group are shared by all groups (constant weights,
    written by the host, not read from off-chip memory). ``weight_tensor`` names the
    off-chip tensor the filter rows come from ("weight", or "operand" for an activation)."""
    shared = weights.shape[0] == 1 and g.G > 1
    t = choose_tile(g, spec, shared=shared)
    RS = g.R * g.S
    sample = spec.cgra.sample_launches
    tally = Tally()
    exact = True
    # reduction tiles (input channels x filter rows): the first stores its outputs, every
    # later one adds the partial outputs of those before it
    red = [(c0, ct, r0, rt, nc * nr) for c0, ct, nc in _spans(g.C, t.C)
           for r0, rt, nr in _spans(g.R, t.R)]
    parts = [(c0, ct, r0, rt, 1, False) for c0, ct, r0, rt, _ in red[:1]]
    if red[0][4] > 1:
        # the next full reduction tile stands for the other full ones
        nxt = (0, t.C, t.R, t.R) if g.R >= 2 * t.R else (t.C, t.C, 0, t.R)
        parts.append((nxt[0], nxt[1], nxt[2], nxt[3], red[0][4] - 1, True))
    parts += [(c0, ct, r0, rt, n, True) for c0, ct, r0, rt, n in red[1:]]
    win = np.arange(g.C * RS).reshape(g.C, g.R, g.S)
    for g0, gt, ng in _spans(g.G, t.G):
        wsl = slice(0, 1) if shared else slice(g0, g0 + gt)
        for k0, kt, nk in _spans(g.K, t.K):
            for p0, pt, npr in _spans(g.P, t.rows):
                px = slice(p0 * g.Q, (p0 + pt) * g.Q)
                for c0, ct, r0, rt, nred, acc in parts:
                    count = ng * nk * npr * nred
                    shape = tile_shape(g, Tile(gt, kt, pt, ct, rt), shared=shared,
                                       accumulate=acc)
                    if (ct, rt) == (g.C, g.R):  # the whole window: views, no copy
                        wn: slice | np.ndarray = slice(None)
                    else:
                        wn = win[c0:c0 + ct, r0:r0 + rt].reshape(-1)
                    p = patches[g0:g0 + gt, px][:, :, wn]
                    w = weights[wsl, k0:k0 + kt][:, :, wn]
                    partial = None
                    if acc:  # the exact sums of the reduction tiles before this one
                        before = np.zeros(g.C * RS, bool)
                        before[win[:c0].reshape(-1)] = True
                        before[win[c0:c0 + ct, :r0].reshape(-1)] = True
                        partial = reference_im2col(patches[g0:g0 + gt, px][:, :, before],
                                                   weights[wsl, k0:k0 + kt][:, :, before])
                    run: MappingRun = run_im2col_general(
                        shape, p, w, Cgra(spec.cgra.array.timing()),
                        max_launches=sample or None, partial=partial)
                    exact = exact and _sampled_exact(run, p, w, partial)
                    tally.add(run, price_run(run, spec), count)
    n_red = math.ceil(g.C / t.C) * math.ceil(g.R / t.R)
    outputs = g.G * g.K * g.P * g.Q
    rd = {"input": input_words_read(g, t), weight_tensor: 0,
          "output": (n_red - 1) * outputs}
    if not shared:  # the filter rows are read once per output-row tile
        rd[weight_tensor] = math.ceil(g.P / t.rows) * g.G * g.K * g.C * RS
    return GeneralRun(tally=tally, tile=t, dram_words_read=rd,
                      dram_words_written=n_red * outputs, exact=exact)


__all__ = ["GeneralRun", "Tile", "choose_tile", "im2col_operands", "prepare", "run_general"]
