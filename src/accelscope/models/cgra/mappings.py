"""The four convolution mappings of Carpentieri et al. (CF '24) as CGRA kernels with their
host-side launch loops, run on real data in the simulator.

Each ``run_<mapping>(shape, x, w, cgra)`` places the int32 input ``x`` (C, H, W) and weights
``w`` (K, C, 3, 3) in the CGRA memory, drives the kernel launches the way the host would
(writing each launch's parameter block and column pointers), and returns a ``MappingRun``
with the output read back from the simulated memory, the CGRA's counts summed over all
launches, and the host work the mapping needs (launches, parameter words, memsets, im2col),
which ``cost.py`` prices. The kernels are our own programs written from the mapping
descriptions (docs/cgra.md); they are checked against a NumPy convolution in the tests.

``run_im2col_general`` drives the im2col-ic kernel over an explicit im2col operand (patches
and filter rows built by the host from any GConv: padding, stride, dilation, zero insertion
and groups resolved when the host builds the patch); the ``cgra`` model runs every GConv the
four mappings cannot express through it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from accelscope.models.cgra.isa import Kernel, KernelBuilder
from accelscope.models.cgra.layout import ConvShape, Im2colShape, Layout
from accelscope.models.cgra.sim import Cgra, RunStats

MAPPINGS = ("wp", "oc", "im2col-ic", "im2col-oc")
#: the im2col-ic kernel over host-built patches of any multiply-and-sum GConv
GENERAL = "im2col-general"


@dataclass
class MappingRun:
    """One layer run through one mapping."""

    mapping: str
    shape: ConvShape | Im2colShape
    output: np.ndarray  # (K, Ho, Wo) int32 ((G, K, pixels) for GENERAL), read back from memory
    kernel: Kernel
    stats: RunStats  # CGRA counts summed over all launches
    launches: int
    footprint_bytes: int  # CGRA memory the layer occupies
    host_param_words: int = 0  # words the host writes into parameter blocks, all launches
    host_zero_words: int = 0  # words the host clears before the launches (output init)
    im2col_patches: int = 0  # im2col patches (of R*S*C words) the host CPU builds
    im2col_overlapped: bool = False  # whether the host builds them while the CGRA runs
    launch_cycles: list[int] = field(default_factory=list)  # CGRA cycles per launch run
    sampled_launches: int | None = None  # launches simulated, when fewer than ``launches``
    host_add_words: int = 0  # output words the host adds a partial output into (GENERAL)

    @property
    def complete(self) -> bool:
        return self.sampled_launches is None


class _Launches:
    """Counts of the launches a runner simulates; with ``limit`` it stops after that many
    (the output is then incomplete and the counts are scaled by ``cost.price_run``)."""

    def __init__(self, on_launch: Callable[[int, RunStats], None] | None, limit: int | None):
        self.on_launch, self.limit = on_launch, limit
        self.total = RunStats()
        self.cycles: list[int] = []

    def stop(self) -> bool:
        return self.limit is not None and len(self.cycles) >= self.limit

    def record(self, st: RunStats) -> None:
        self.total.add(st)
        self.cycles.append(st.cycles)
        if self.on_launch is not None:
            self.on_launch(len(self.cycles), st)

    def sampled(self, launches: int) -> int | None:
        return len(self.cycles) if len(self.cycles) < launches else None


def reference_conv(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Exact int64 convolution (stride 1, no padding) wrapped to int32 like the datapath."""
    C, H, W = x.shape
    K, _, R, S = w.shape
    Ho, Wo = H - R + 1, W - S + 1
    xs = x.astype(np.int64)
    out = np.zeros((K, Ho, Wo), dtype=np.int64)
    for r in range(R):
        for s in range(S):
            patch = xs[:, r:r + Ho, s:s + Wo]  # C, Ho, Wo
            out += np.einsum("kc,chw->khw", w[:, :, r, s].astype(np.int64), patch)
    return ((out + 2**31) % 2**32 - 2**31).astype(np.int32)


def _check_operands(shape: ConvShape, x: np.ndarray, w: np.ndarray) -> None:
    from accelscope.errors import ShapeError

    if x.shape != (shape.C, shape.H, shape.W):
        raise ShapeError(f"CGRA input has shape {x.shape}, the layer {shape} needs "
                         f"{(shape.C, shape.H, shape.W)} (C, H, W)")
    if w.shape != (shape.K, shape.C, shape.R, shape.S):
        raise ShapeError(f"CGRA weights have shape {w.shape}, the layer {shape} needs "
                         f"{(shape.K, shape.C, shape.R, shape.S)} (K, C, R, S)")
    if (shape.R, shape.S) != (3, 3):
        raise ShapeError(f"the CGRA kernels are written for 3x3 filters, the layer has "
                         f"{shape.R}x{shape.S}")


# -- (a) direct convolution, weight parallelism ----------------------------------------------
def wp_kernel() -> Kernel:
    """Weight-parallel direct convolution of one (filter, input channel) plane.

    Cells (r, s), r, s < 3, pin the weight w[r][2-s] in R1 and hold the window value
    x[y+r][x+2-s] in R0; stepping x by one shifts the window right along each row through
    ROUT, so column 0 loads the only three new values per output. Each row sums its three
    products left to right (I3, I4); cell (1,2) adds rows 0 and 1, cell (2,3) adds row 2 and
    the partial sum loaded from the output plane, cell (1,3) adds the two and stores the new
    partial sum one output later (at the next I1: the store of the previous output). The
    first store of a launch rewrites the word before the output plane with the value read
    from it. Cell (3,0) counts outputs in a row (R0) and rows (R2).

    Column pointers: columns 0-2 point at the filter's taps w[k][c][0][2-s] (LWD with a 12 B
    stride reads one tap per filter row); column 3 at the parameter block
    [&x[c][0][0], &x[c][1][0], &x[c][2][0], out-4, out, Wo, Ho].
    """
    k = KernelBuilder("wp")
    rows3 = range(3)
    # setup: weights, row pointers (through column 3 and the torus link to column 0), output
    # pointers and the loop bounds
    k.row({**{(0, s): "LWD R1, 12" for s in rows3}, (0, 3): "LWD ROUT"})
    k.row({**{(1, s): "LWD R1, 12" for s in rows3}, (1, 3): "LWD ROUT",
           (0, 0): "SADD R2, RCL, ZERO"})
    k.row({**{(2, s): "LWD R1, 12" for s in rows3}, (2, 3): "LWD ROUT",
           (1, 0): "SADD R2, RCL, ZERO"})
    k.row({(2, 0): "SADD R2, RCL, ZERO", (1, 3): "LWD R3"})
    k.row({(2, 3): "LWD R2", (1, 3): "LWI ROUT, R3"})
    k.row({(3, 3): "LWD ROUT"})
    k.row({(3, 0): "SADD R1, RCL, ZERO", (3, 3): "LWD ROUT"})
    k.row({(3, 0): "SADD R2, RCL, ZERO"})
    # row prologue: the first two window columns
    k.row({**{(r, 0): "LWI ROUT, R2" for r in rows3}, (3, 0): "SADD R0, R1, ZERO"},
          label="row")
    k.row({**{(r, 0): "SADD R2, R2, 4" for r in rows3},
           **{(r, 1): "SADD ROUT, RCL, ZERO" for r in rows3}, (3, 0): "SSUB R2, R2, 1"})
    k.row({(r, 0): "LWI ROUT, R2" for r in rows3})
    k.row({(r, 0): "SADD R2, R2, 4" for r in rows3})
    # one output per iteration
    k.row({**{(r, 0): "LWI R0, R2" for r in rows3},
           **{(r, s): "SADD R0, RCL, ZERO" for r in rows3 for s in (1, 2)},
           (2, 3): "LWI R1, R2", (1, 3): "SWI SELF, R3"}, label="loop")
    k.row({**{(r, s): "SMUL ROUT, R0, R1" for r in rows3 for s in rows3},
           (2, 3): "SADD R2, R2, 4", (1, 3): "SADD R3, R3, 4"})
    k.row({**{(r, 1): "SADD ROUT, SELF, RCL" for r in rows3},
           **{(r, 0): "SADD ROUT, R0, ZERO" for r in rows3}})
    k.row({**{(r, 2): "SADD ROUT, SELF, RCL" for r in rows3},
           **{(r, 1): "SADD ROUT, R0, ZERO" for r in rows3},
           **{(r, 0): "SADD R2, R2, 4" for r in rows3}})
    k.row({(1, 2): "SADD ROUT, SELF, RCT", (2, 3): "SADD ROUT, RCL, R1",
           (3, 0): "SSUB R0, R0, 1"})
    k.row({(1, 3): "SADD ROUT, RCL, RCB", (3, 0): "BNE R0, ZERO, loop"})
    k.row({(3, 0): "BNE R2, ZERO, row"})
    k.row({(1, 3): "SWI SELF, R3"})
    k.row({(0, 0): "EXIT"})
    return k.build()


def run_wp(shape: ConvShape, x: np.ndarray, w: np.ndarray, cgra: Cgra,
           on_launch: Callable[[int, RunStats], None] | None = None,
           max_launches: int | None = None) -> MappingRun:
    """C * K launches, each accumulating one input channel's contribution into one output
    plane (read-modify-write of the partial sums); the host clears the output first."""
    _check_operands(shape, x, w)
    C, H, W, K, Ho, Wo = shape.C, shape.H, shape.W, shape.K, shape.Ho, shape.Wo
    lay = Layout(cgra.timing.memory_bytes, f"layer {shape} with the wp mapping")
    params = lay.alloc("parameters", 8)
    xa = lay.alloc("input", C * H * W)
    wa = lay.alloc("weights", K * C * 9)
    oa = lay.alloc("output", K * Ho * Wo)
    lay.check()
    cgra.write_words(xa, x.reshape(-1).tolist())
    cgra.write_words(wa, w.reshape(-1).tolist())
    cgra.write_words(oa, [0] * (K * Ho * Wo))
    kern = wp_kernel()
    lc = _Launches(on_launch, max_launches)
    n_params = 7
    for kk in range(K):
        out = oa + 4 * kk * Ho * Wo
        for c in range(C):
            if lc.stop():
                break
            x0 = xa + 4 * c * H * W
            cgra.write_words(params, [x0, x0 + 4 * W, x0 + 8 * W, out - 4, out, Wo, Ho])
            taps = wa + 4 * (kk * C + c) * 9
            lc.record(cgra.run(kern, [taps + 8, taps + 4, taps, params]))
    y = np.array(cgra.read_words(oa, K * Ho * Wo), dtype=np.int32).reshape(K, Ho, Wo)
    return MappingRun("wp", shape, y, kern, lc.total, launches=K * C,
                      footprint_bytes=lay.used_bytes, host_param_words=n_params * K * C,
                      host_zero_words=K * Ho * Wo, launch_cycles=lc.cycles,
                      sampled_launches=lc.sampled(K * C))


# -- shared helpers ---------------------------------------------------------------------------
_IMM = 13  # immediate width of the kernels' constants (isa.assemble's default)


def _imm(value: int, what: str) -> int:
    """A layer constant the kernel text carries as an immediate; it must fit the field."""
    from accelscope.errors import ShapeError

    lo, hi = -(1 << (_IMM - 1)), (1 << (_IMM - 1)) - 1
    if not lo <= value <= hi:
        raise ShapeError(f"CGRA kernel constant {what} = {value} does not fit the {_IMM}-bit "
                         f"immediate field [{lo}, {hi}]; the layer is too large for this kernel")
    return value


def _patch_rsc(x: np.ndarray, y: int, xx: int) -> list[int]:
    """The im2col patch of output pixel (y, xx) in tap-major HWC order: for r, s: for c."""
    return x[:, y:y + 3, xx:xx + 3].transpose(1, 2, 0).reshape(-1).tolist()


def _w_rsc(w: np.ndarray) -> np.ndarray:
    """Filters as rows of 9C taps in the (r, s, c) order of ``_patch_rsc``."""
    return w.transpose(0, 2, 3, 1).reshape(w.shape[0], -1)


# -- (b) / (d) output-channel parallelism -----------------------------------------------------
def _oc_j(r: int, c: int) -> int:
    """Filter slot (0-15 within a group of 16) of cell (r, c) in the OC kernels: the stores of
    a column go rows 1, 2, 3, 0, so row 1 holds slots 0-3 and row 0 slots 12-15."""
    return 4 * ((r - 1) % 4) + c


def _oc_family_kernel(name: str, shape: ConvShape, wb: int, im2col: bool) -> Kernel:
    C, W, K = shape.C, shape.W, shape.K
    G = -(-K // 16)
    k = KernelBuilder(name)
    cols = range(4)
    steps = [4, 4, 4] if im2col else [4, 4, _imm(4 * W - 8, "4W-8 (input row step)")]
    # setup: rows 1-3 point at their filters' weights (the weight block starts at wb, low in
    # memory, so the addresses are immediates); row 3 holds the channel step; (2,0) counts
    # filter groups
    k.row({(r, c): f"SADD R0, ZERO, {_imm(wb + 4 * _oc_j(r, c), 'weight address')}"
           for r in (1, 2, 3) for c in cols})
    s1 = {(2, 0): f"SADD R2, ZERO, {_imm(G, 'filter groups')}"}
    if not im2col:
        s1.update({(3, c): "LWI R2, 4" for c in cols})
    k.row(s1)
    # group head: row 3 loads the first tap's input address; accumulators cleared (row 0
    # adds its previous product at the first tap, so R3 = -R2)
    k.row({**{(3, c): "LWI ROUT, 0" for c in cols},
           **{(0, c): "SSUB R3, ZERO, R2" for c in cols},
           **{(r, c): "SADD R3, ZERO, ZERO" for r in (1, 2) for c in cols}}, label="group")
    g1 = {(3, c): "SADD R3, ZERO, ZERO" for c in cols}
    if im2col:
        g1[(0, 0)] = f"SADD R0, ZERO, {_imm(3 * C, '3C (loop count)')}"
    else:
        g1[(0, 0)] = "SADD R0, ZERO, 3"
        g1[(0, 1)] = f"SADD R0, ZERO, {_imm(C, 'C (loop count)')}"
    k.row(g1)
    # body: three taps, five instructions each
    for s in range(3):
        k.row({**{(0, c): "LWD R1, 64" for c in cols},
               **{(r, c): "LWI R1, R0" for r in (1, 2, 3) for c in cols}},
              label="loop" if s == 0 else None)
        k.row({**{(0, c): "LWI ROUT, RCT" for c in cols},
               **{(r, c): "SADD R0, R0, 64" for r in (1, 2, 3) for c in cols}})
        k.row({**{(0, c): "SADD R3, R3, R2" for c in cols},
               **{(1, c): "SADD ROUT, RCT, ZERO" for c in cols},
               **{(3, c): f"SADD ROUT, SELF, {steps[s]}" for c in cols}})
        k.row({**{(0, c): "SMUL R2, R1, SELF" for c in cols},
               **{(1, c): "SMUL R1, R1, SELF" for c in cols},
               **{(2, c): "SMUL R1, R1, RCT" for c in cols},
               **{(3, c): "SMUL R1, R1, RCB" for c in cols}})
        t4 = {(r, c): "SADD R3, R3, R1" for r in (1, 2, 3) for c in cols}
        if s == 0:
            t4[(0, 0)] = "SADD R0, R0, -1"
        if s == 2:
            t4[(0, 0)] = "BNE R0, ZERO, loop"
        k.row(t4)
    if not im2col:
        # channel tail: step to the next input channel, count channels
        k.row({**{(3, c): "SADD ROUT, SELF, R2" for c in cols},
               (0, 0): "SADD R0, ZERO, 3", (0, 1): "SADD R0, R0, -1"})
        k.row({(0, 1): "BNE R0, ZERO, loop"})
    # group tail: row 0 adds its last product; the 16 sums go out column by column
    k.row({**{(0, c): "SADD R3, R3, R2" for c in cols},
           **{(1, c): "SWD R3, 16" for c in cols}, (2, 0): "SADD R2, R2, -1"})
    k.row({(2, c): "SWD R3, 16" for c in cols})
    k.row({(3, c): "SWD R3, 16" for c in cols})
    k.row({**{(0, c): "SWD R3, 16" for c in cols}, (2, 0): "BNE R2, ZERO, group"})
    k.row({(0, 0): "EXIT"})
    return k.build()


def oc_kernel(shape: ConvShape, wb: int) -> Kernel:
    """Direct convolution, output-channel parallelism: all K outputs of one output pixel.

    Cell (r, c) owns filter slot j = ``_oc_j(r, c)`` of each group of 16 filters. The host
    re-lays the weights once per layer (an offline cost) as ``[group][c][r][s][16 slots]``
    (zero filters pad K to a multiple of 16), so at every tap the 16 cells read 16
    consecutive words: rows 1-3 by LWI through their own pointer R0 (+64 B a tap), row 0 by
    LWD through its column pointer (+64 B), which frees row 0 for the loop counters. Row 3
    holds the tap's input address in ROUT (a CHW walk: +4, +4, +4W-8 within a window row,
    +4HW-12W from one channel to the next, the latter from the parameter block); the four
    row-0 cells load the input value from that address (the same word, four loads, as in the
    reference kernel) into ROUT, row 1 copies it (RCT), row 2 reads row 1 (RCT) and row 3
    reads row 0 through the torus (RCB).

    One tap, five instructions, 16 MACs: [16 weight loads] -> [4 input loads | rows 1-3
    pointer +64] -> [row 1 copy | row 3 address step | row 0 adds its previous product] ->
    [16 SMUL] -> [rows 1-3 accumulate | loop counter / branch in (0,0)]. Row 0's product
    waits in R2 and is added at the next tap (its R3 starts at -R2 to cancel the stale one).
    The body holds the three taps of one window row (counter (0,0)); a channel tail steps to
    the next channel (counter (0,1)); after C channels the group tail stores the 16 sums
    with SWD (columns' output pointers, +16 B: slots j = c, 4+c, 8+c, 12+c of the pixel's
    output vector, layout HWC padded to 16 per group) and (2,0) loops over the groups.

    Parameter block (address 0): [&x[0][y][x] (written per launch), 4HW-12W (per layer)].
    Column pointers: in = row 0's weight stream, out = the pixel's output vector.
    """
    return _oc_family_kernel("oc", shape, wb, im2col=False)


def im2col_oc_kernel(shape: ConvShape, wb: int) -> Kernel:
    """Im2col + output-channel parallelism: ``oc_kernel`` streaming the input from the
    contiguous im2col patch (9C words in (r, s, c) order) instead of the CHW tensor.

    Same cells, registers and five-instruction tap as ``oc_kernel``; the input address in
    row 3 simply steps +4 a tap, so one flat loop of 3C iterations (three taps each, counter
    in (0,0)) covers the patch and there is no channel tail. Weights re-laid once per layer as
    ``[group][r][s][c][16 slots]``. Parameter block (address 0): [&patch] (once per layer).
    """
    return _oc_family_kernel("im2col-oc", shape, wb, im2col=True)


def _oc_weights(w: np.ndarray, order: str) -> tuple[list[int], int]:
    """Host's offline re-layout: [group][tap][16 slots], zero filters padding K to 16 G."""
    K, C = w.shape[:2]
    G = -(-K // 16)
    rows = w.reshape(K, 9 * C) if order == "crs" else _w_rsc(w)
    pad = np.zeros((16 * G, 9 * C), dtype=np.int64)
    pad[:K] = rows
    return pad.reshape(G, 16, 9 * C).transpose(0, 2, 1).reshape(-1).tolist(), G


def _run_oc_family(mapping: str, shape: ConvShape, x: np.ndarray, w: np.ndarray, cgra: Cgra,
                   on_launch: Callable[[int, RunStats], None] | None,
                   max_launches: int | None = None) -> MappingRun:
    _check_operands(shape, x, w)
    im2col = mapping == "im2col-oc"
    C, H, W, K, Ho, Wo = shape.C, shape.H, shape.W, shape.K, shape.Ho, shape.Wo
    wl, G = _oc_weights(w, "rsc" if im2col else "crs")
    Kp = 16 * G
    lay = Layout(cgra.timing.memory_bytes, f"layer {shape} with the {mapping} mapping")
    params = lay.alloc("parameters", 1 if im2col else 2)
    wb = lay.alloc("weights", len(wl))
    xa = lay.alloc("input", C * H * W)
    pa = lay.alloc("im2col patch", 9 * C) if im2col else -1
    oa = lay.alloc("output", Ho * Wo * Kp)
    lay.check()
    cgra.write_words(wb, wl)
    cgra.write_words(xa, x.reshape(-1).tolist())
    kern = (im2col_oc_kernel if im2col else oc_kernel)(shape, wb)
    if im2col:
        cgra.write_words(params, [pa])
        n_params = 1
    else:
        cgra.write_words(params + 4, [4 * H * W - 12 * W])
        n_params = 1
    in_ptrs = [wb + 4 * _oc_j(0, c) for c in range(4)]
    lc = _Launches(on_launch, max_launches)
    for yy in range(Ho):
        for xx in range(Wo):
            if lc.stop():
                break
            if im2col:
                cgra.write_words(pa, _patch_rsc(x, yy, xx))
            else:
                cgra.write_words(params, [xa + 4 * (yy * W + xx)])
            out = oa + 4 * Kp * (yy * Wo + xx)
            lc.record(cgra.run(kern, in_ptrs, [out + 4 * c for c in range(4)]))
    if not im2col:
        n_params += Ho * Wo  # one pixel address per launch
    y = np.array(cgra.read_words(oa, Ho * Wo * Kp), dtype=np.int32).reshape(Ho, Wo, Kp)
    return MappingRun(mapping, shape, np.ascontiguousarray(y[:, :, :K].transpose(2, 0, 1)),
                      kern, lc.total, launches=Ho * Wo, footprint_bytes=lay.used_bytes,
                      host_param_words=n_params, host_zero_words=0,
                      im2col_patches=Ho * Wo if im2col else 0, im2col_overlapped=False,
                      launch_cycles=lc.cycles, sampled_launches=lc.sampled(Ho * Wo))


def run_oc(shape: ConvShape, x: np.ndarray, w: np.ndarray, cgra: Cgra,
           on_launch: Callable[[int, RunStats], None] | None = None,
           max_launches: int | None = None) -> MappingRun:
    """Ho * Wo launches, each computing all K outputs of one output pixel (``oc_kernel``).
    K is padded to a multiple of 16 with zero filters: 16 * ceil(K/16) - K of every 16 G
    cell-MACs and output words of a pixel are waste (their outputs land in the padded slots
    of the HWC output buffer, which the host drops). Host: one parameter word per launch."""
    return _run_oc_family("oc", shape, x, w, cgra, on_launch, max_launches)


def run_im2col_oc(shape: ConvShape, x: np.ndarray, w: np.ndarray, cgra: Cgra,
                  on_launch: Callable[[int, RunStats], None] | None = None,
                  max_launches: int | None = None) -> MappingRun:
    """Ho * Wo launches; before each the host builds the pixel's 9C-word im2col patch (not
    overlapped with the CGRA); ``im2col_oc_kernel`` computes all K outputs of the pixel."""
    return _run_oc_family("im2col-oc", shape, x, w, cgra, on_launch, max_launches)


# -- (c) im2col, input-channel parallelism ----------------------------------------------------
def _torus_tree(n_rows: int = 4, n_cols: int = 4) -> dict[tuple[int, int], tuple[int, str]]:
    """Breadth-first broadcast tree from cell (0,0) on the torus: cell -> (level, the
    neighbour source its parent is to it)."""
    tree: dict[tuple[int, int], tuple[int, str]] = {(0, 0): (0, "")}
    frontier = [(0, 0)]
    level = 0
    while frontier:
        level += 1
        nxt = []
        for r, c in frontier:
            for (dr, dc), src in (((1, 0), "RCT"), ((-1, 0), "RCB"), ((0, 1), "RCL"),
                                  ((0, -1), "RCR")):
                cell = ((r + dr) % n_rows, (c + dc) % n_cols)
                if cell not in tree:
                    tree[cell] = (level, src)
                    nxt.append(cell)
        frontier = nxt
    return tree


def im2col_ic_kernel(L: int) -> Kernel:
    """One output (one filter, one pixel) as a 16 L-long dot product split over the 16 cells.

    The host pads the 9C-word patch and each filter row with zeros to 16 L words (L =
    ceil(9C/16)); cell (r, c), j = 4r + c, takes the strided share of elements 16t + j,
    t < L. The patch streams through the columns' input pointers: column c's pointer starts
    at patch + 4c and row r's LWD (+16 B) reads element 16t + 4r + c, rows in turn; each cell
    loads its weight with LWI through its own pointer R0 (+64 B a step).

    Setup: (0,0) loads the filter's base address from the parameter block and a breadth-first
    tree of neighbour copies over the torus hands it to all cells (4 hops), each adding 4j;
    the accumulators (ROUT) are cleared behind the wave. One step, seven instructions, 16
    MACs: [16 weight LWI] -> [row 0 LWD x | rows 1-3 pointer +64] -> [row 1 LWD | row 0
    pointer] -> [row 2 LWD | rows 0, 1 SMUL] -> [row 3 LWD | rows 0, 1 accumulate | row 2
    SMUL] -> [row 3 SMUL | row 2 accumulate | (0,0) counts] -> [row 3 accumulate | (0,0)
    branches]. Reduction: columns 1 and 3 add their left neighbour, column 2 adds columns 1
    and 3 (RCL + RCR), (1,2) and (3,2) add the cell above, (2,2) adds (1,2) and (3,2) and
    stores the sum with SWD through column 2's output pointer.

    Parameter block (address 0): [&weights of filter k]. Column pointers: in = the patch,
    out[2] = &y[k][y][x].
    """
    k = KernelBuilder("im2col-ic")
    tree = _torus_tree()
    depth = max(lv for lv, _ in tree.values())
    for i in range(depth + 3):
        row: dict[tuple[int, int], str] = {}
        for (r, c), (lv, src) in tree.items():
            if lv == i:
                row[(r, c)] = "LWI ROUT, 0" if i == 0 else f"SADD ROUT, {src}, ZERO"
            elif lv == i - 1:
                row[(r, c)] = f"SADD R0, SELF, {4 * (4 * r + c)}"
            elif lv == i - 2:
                row[(r, c)] = "SADD ROUT, ZERO, ZERO"
        if i == 3:
            row[(0, 0)] = f"SADD R3, ZERO, {_imm(L, 'L (loop count)')}"
        k.row(row)
    cols = range(4)
    k.row({(r, c): "LWI R1, R0" for r in range(4) for c in cols}, label="loop")
    k.row({**{(0, c): "LWD R2, 16" for c in cols},
           **{(r, c): "SADD R0, R0, 64" for r in (1, 2, 3) for c in cols}})
    k.row({**{(1, c): "LWD R2, 16" for c in cols}, **{(0, c): "SADD R0, R0, 64" for c in cols}})
    k.row({**{(2, c): "LWD R2, 16" for c in cols},
           **{(r, c): "SMUL R1, R1, R2" for r in (0, 1) for c in cols}})
    k.row({**{(3, c): "LWD R2, 16" for c in cols},
           **{(r, c): "SADD ROUT, SELF, R1" for r in (0, 1) for c in cols},
           **{(2, c): "SMUL R1, R1, R2" for c in cols}})
    k.row({**{(3, c): "SMUL R1, R1, R2" for c in cols},
           **{(2, c): "SADD ROUT, SELF, R1" for c in cols}, (0, 0): "SADD R3, R3, -1"})
    k.row({**{(3, c): "SADD ROUT, SELF, R1" for c in cols}, (0, 0): "BNE R3, ZERO, loop"})
    # reduction tree and store
    k.row({(r, c): "SADD ROUT, SELF, RCL" for r in range(4) for c in (1, 3)})
    k.row({(r, 2): "SADD ROUT, RCL, RCR" for r in range(4)})
    k.row({(1, 2): "SADD ROUT, SELF, RCT", (3, 2): "SADD ROUT, SELF, RCT"})
    k.row({(2, 2): "SADD ROUT, RCT, RCB"})
    k.row({(2, 2): "SWD SELF", (0, 0): "EXIT"})
    return k.build()


def run_im2col_ic(shape: ConvShape, x: np.ndarray, w: np.ndarray, cgra: Cgra,
                  on_launch: Callable[[int, RunStats], None] | None = None,
                  max_launches: int | None = None) -> MappingRun:
    """K * Ho * Wo launches in the reference order (for k: for y: for x), one output each.
    The host builds every launch's im2col patch ((r, s, c) order, K * Ho * Wo patches: the
    loop over filters is outermost, so each pixel's patch is rebuilt K times) into one of two
    buffers while the CGRA runs the previous launch (overlapped), and writes the filter's
    weight address into the parameter block when the filter changes (K words). Filters are
    re-laid once per layer as zero-padded rows of 16 L words in (r, s, c) order; the pads of
    the two patch buffers are cleared once (counted as host_zero_words)."""
    _check_operands(shape, x, w)
    C, H, W, K, Ho, Wo = shape.C, shape.H, shape.W, shape.K, shape.Ho, shape.Wo
    L = -(-9 * C // 16)
    n = 16 * L
    wl = np.zeros((K, n), dtype=np.int64)
    wl[:, :9 * C] = _w_rsc(w)
    lay = Layout(cgra.timing.memory_bytes, f"layer {shape} with the im2col-ic mapping")
    params = lay.alloc("parameters", 1)
    wa = lay.alloc("weights", K * n)
    xa = lay.alloc("input", C * H * W)
    bufs = [lay.alloc("im2col patch A", n), lay.alloc("im2col patch B", n)]
    oa = lay.alloc("output", K * Ho * Wo)
    lay.check()
    cgra.write_words(wa, wl.reshape(-1).tolist())
    cgra.write_words(xa, x.reshape(-1).tolist())
    for b in bufs:
        cgra.write_words(b + 36 * C, [0] * (n - 9 * C))
    kern = im2col_ic_kernel(L)
    lc = _Launches(on_launch, max_launches)
    for kk in range(K):
        cgra.write_words(params, [wa + 4 * n * kk])
        for yy in range(Ho):
            for xx in range(Wo):
                if lc.stop():
                    break
                buf = bufs[len(lc.cycles) % 2]
                cgra.write_words(buf, _patch_rsc(x, yy, xx))
                out = oa + 4 * ((kk * Ho + yy) * Wo + xx)
                lc.record(cgra.run(kern, [buf + 4 * c for c in range(4)], [0, 0, out, 0]))
    y = np.array(cgra.read_words(oa, K * Ho * Wo), dtype=np.int32).reshape(K, Ho, Wo)
    return MappingRun("im2col-ic", shape, y, kern, lc.total, launches=K * Ho * Wo,
                      footprint_bytes=lay.used_bytes, host_param_words=K,
                      host_zero_words=2 * (n - 9 * C), im2col_patches=K * Ho * Wo,
                      im2col_overlapped=True, launch_cycles=lc.cycles,
                      sampled_launches=lc.sampled(K * Ho * Wo))


def general_layout(shape: Im2colShape, memory_bytes: int) -> tuple[Layout, dict[str, int]]:
    """The banks' layout of ``run_im2col_general`` for one tile (checked by the caller):
    parameter word, filter rows (16 L words each), the host's prepared input, two patch
    buffers, the outputs and, when accumulating, the earlier tiles' partial outputs."""
    n = 16 * shape.L
    lay = Layout(memory_bytes, f"im2col tile {shape} with the {GENERAL} mapping")
    at = {"params": lay.alloc("parameters", 1),
          "weights": lay.alloc("weights", shape.weight_rows * n),
          "input": lay.alloc("input", shape.input_words),
          "patch A": lay.alloc("im2col patch A", n),
          "patch B": lay.alloc("im2col patch B", n),
          "output": lay.alloc("output", shape.outputs)}
    if shape.accumulate:
        at["partial"] = lay.alloc("partial outputs", shape.outputs)
    return lay, at


def reference_im2col(patches: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Exact int64 dot products of ``patches`` (G, pixels, window) with ``weights`` (G or 1,
    K, window), wrapped to int32 like the datapath: (G, K, pixels)."""
    out: np.ndarray = np.einsum("gpw,gkw->gkp", patches.astype(np.int64),
                                np.broadcast_to(weights, (patches.shape[0], *weights.shape[1:]))
                                .astype(np.int64))
    return ((out + 2**31) % 2**32 - 2**31).astype(np.int32)


def run_im2col_general(shape: Im2colShape, patches: np.ndarray, weights: np.ndarray,
                       cgra: Cgra, on_launch: Callable[[int, RunStats], None] | None = None,
                       max_launches: int | None = None,
                       partial: np.ndarray | None = None) -> MappingRun:
    """``im2col_ic_kernel(L)`` over an explicit im2col operand: one launch per output, G * K *
    pixels launches in the im2col-ic order (for group: for filter: for pixel; each pixel's
    patch is rebuilt for every filter), L = ceil(window / 16).

    ``patches`` (G, pixels, window) int32: per group and output pixel, the window of the
    group's C * R * S prepared-input values, built by the host (padding, stride, dilation,
    zero insertion resolved); ``weights`` (G, K, window), or (1, K, window) with
    ``shape.shared_weights``, in the same element order; ``partial`` (G, K, pixels) with
    ``shape.accumulate``: the earlier input-channel tiles' partial outputs, added by the host
    after the launches. Host work as ``run_im2col_ic``: each launch's patch built into one of
    two buffers while the CGRA runs the previous launch (overlapped), a filter address
    written into the parameter block when the filter changes, filter rows re-laid once as
    zero-padded rows of 16 L words (offline, as for the other mappings; shared constant rows
    are written by the host: parameter words, a store and an ALU instruction each), the pads
    of the two patch buffers cleared once.
    The prepared input block is placed for the footprint; the patches come from the caller.
    Returns the (G, K, pixels) outputs read back from the simulated memory."""
    from accelscope.errors import ShapeError

    G, K, npix, win = shape.G, shape.K, shape.pixels, shape.window
    wg = 1 if shape.shared_weights else G
    if patches.shape != (G, npix, win):
        raise ShapeError(f"im2col patches have shape {patches.shape}, the tile {shape} needs "
                         f"{(G, npix, win)} (groups, pixels, window)")
    if weights.shape != (wg, K, win):
        raise ShapeError(f"im2col weights have shape {weights.shape}, the tile {shape} needs "
                         f"{(wg, K, win)} (groups, filters, window)")
    if shape.accumulate != (partial is not None) or (
            partial is not None and partial.shape != (G, K, npix)):
        raise ShapeError(f"im2col tile {shape}: partial outputs of shape (G, K, pixels) are "
                         "needed exactly when the tile accumulates")
    L = shape.L
    n = 16 * L
    lay, at = general_layout(shape, cgra.timing.memory_bytes)
    lay.check()
    wl = np.zeros((wg * K, n), dtype=np.int64)
    wl[:, :win] = weights.reshape(wg * K, win)
    wa, oa = at["weights"], at["output"]
    cgra.write_words(wa, wl.reshape(-1).tolist())
    bufs = [at["patch A"], at["patch B"]]
    for b in bufs:
        cgra.write_words(b + 4 * win, [0] * (n - win))
    kern = im2col_ic_kernel(L)
    lc = _Launches(on_launch, max_launches)
    total = G * K * npix
    for g in range(G):
        for kk in range(K):
            if lc.stop():
                break
            row = kk if shape.shared_weights else g * K + kk
            cgra.write_words(at["params"], [wa + 4 * n * row])
            for p in range(npix):
                if lc.stop():
                    break
                buf = bufs[len(lc.cycles) % 2]
                cgra.write_words(buf, patches[g, p].tolist())
                out = oa + 4 * ((g * K + kk) * npix + p)
                lc.record(cgra.run(kern, [buf + 4 * c for c in range(4)], [0, 0, out, 0]))
    y = np.array(cgra.read_words(oa, total), dtype=np.int64).reshape(G, K, npix)
    if partial is not None:
        cgra.write_words(at["partial"], partial.reshape(-1).tolist())
        y = y + partial.astype(np.int64)
    y = ((y + 2**31) % 2**32 - 2**31).astype(np.int32)
    # the filter address changes with every (group, filter) unless one shared row serves all
    addr_words = 1 if shape.shared_weights and K == 1 else G * K
    const_words = K * win if shape.shared_weights else 0
    return MappingRun(GENERAL, shape, y, kern, lc.total, launches=total,
                      footprint_bytes=lay.used_bytes,
                      host_param_words=addr_words + const_words,
                      host_zero_words=2 * (n - win), im2col_patches=total,
                      im2col_overlapped=True, launch_cycles=lc.cycles,
                      sampled_launches=lc.sampled(total),
                      host_add_words=total if shape.accumulate else 0)


RUNNERS: dict[str, Callable[..., MappingRun]] = {
    "wp": run_wp, "oc": run_oc, "im2col-ic": run_im2col_ic, "im2col-oc": run_im2col_oc}


def run_mapping(mapping: str, shape: ConvShape, x: np.ndarray, w: np.ndarray,
                cgra: Cgra) -> MappingRun:
    from accelscope.errors import AccelscopeError

    if mapping not in RUNNERS:
        raise AccelscopeError(f"unknown CGRA mapping {mapping!r}; use one of "
                              f"{', '.join(MAPPINGS)}")
    return RUNNERS[mapping](shape, x, w, cgra)
