"""SCALE-Sim v3.0.0's memory system for one convolution, vectorised and exact.

SCALE-Sim (``scalesim==3.0.0``) replays the per-cycle demand matrices of the systolic array
through three double-buffered scratchpads (IFMAP and FILTER read buffers, OFMAP write buffer)
and their DRAM interfaces, one Python call per cycle; a ResNet-18 takes about ten minutes per
array and dataflow. :func:`scalesim_memory` gives the same report values (COMPUTE_REPORT cycle
counts, DETAILED_ACCESS_REPORT start/stop cycles and counts, BANDWIDTH_REPORT averages) in
milliseconds, bit for bit, in both of SCALE-Sim's bandwidth modes. ``docs/systolic_memory.md``
explains the model, every SCALE-Sim quirk it reproduces and the measured parity.

The layer uses SCALE-Sim's convention: no padding (``ifmap_h``/``ifmap_w`` are the padded
size), output size ``ceil((H - R + stride) / stride)`` (windows that run past the input read
nothing there), one batch, word = 1 byte, operand offsets 0 / 10,000,000 / 20,000,000, one
SRAM bank, no custom layout, no sparsity, no Ramulator trace.

How it is computed (all of it pure numpy, no per-cycle loop):

* **Demand streams.** Every read operand's demand is a list of *visits*: a run of consecutive
  channels of one pixel (IFMAP) or one filter (FILTER) read on consecutive cycles, one element
  per cycle, in one array column (``os`` / IS-IFMAP / WS-FILTER) or along the array diagonal
  (WS-IFMAP / IS-FILTER). A visit covers up to C (or R*S*C) elements, so the work is per visit,
  not per element. The OFMAP stream is a skewed rectangle per fold, counted in closed form.
* **CALC mode** (``read_buffer_estimate_bw``): the read buffer counts an address as a DRAM read
  when it has not been seen since the current *epoch* began; an epoch ends at its
  ``50 * floor(SRAM words / 100)``-th such address. Visits are cut into *pieces* whose previous
  occurrence of every element lies in one other visit, at a constant key distance; then
  "not seen since the epoch began" is a threshold on the element index of each piece, the
  number of DRAM reads of any stretch of the stream is a sum of clipped linear functions, and
  each epoch end is located exactly by a sweep over the pieces of one fold. The report needs
  only the first and the last epoch end and the total count.
* **OFMAP write buffer** (both modes): a drain starts when more than the active half of the
  buffer is occupied and no drain is running; the event loop jumps from drain to drain (and,
  in USER mode, to stalls) using the closed-form OFMAP element counts per cycle.
* **USER mode** (``read_buffer`` with prefetch matrices): each miss in the active window of
  the prefetched lines issues one prefetch of the other half, chained in time from the first;
  misses are found by a vectorised scan of the element stream against the line numbers of
  every address (this mode works per element, so it is the slower one), stalls then follow
  row by row at the miss rows only.

Known gaps: none found. Every quantity is exact on every case compared so far (the reference
CSVs ``bench/scalesim_ref/*.csv`` and randomised small layers against live SCALE-Sim, see
``docs/systolic_memory.md``). The ``read_request_buffer`` / ``write_request_buffer`` inputs are
accepted for completeness but, as in SCALE-Sim without a Ramulator trace, change nothing.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, fields
from typing import overload

import numpy as np
import numpy.typing as npt

__all__ = ["ScaleSimMemoryReport", "scalesim_memory"]

_DATAFLOWS = ("os", "ws", "is")
_NONE = -(2 ** 62)  # "no previous occurrence": below every key
_ESTIMATE_BW_WORDS = 10  # SCALE-Sim's CALC mode fetches 10 words per cycle (hard-coded)


@dataclass(frozen=True)
class ScaleSimMemoryReport:
    """SCALE-Sim v3.0.0's report values for one layer. Cycles are SCALE-Sim cycle indices
    (negative for prefetches before the first compute cycle); counts are in words (1 word =
    1 byte, SCALE-Sim's word size)."""

    total_cycles_incl_prefetch: int
    """COMPUTE_REPORT ``Total Cycles (incl. prefetch)``: last OFMAP DRAM write cycle minus
    the earliest IFMAP/FILTER DRAM read cycle [cycles]."""
    total_cycles: int
    """COMPUTE_REPORT ``Total Cycles``: the last cycle at which an OFMAP row is serviced
    (one less than the number of compute cycles plus stalls) [cycles]."""
    stall_cycles: int
    """COMPUTE_REPORT ``Stall Cycles``: cycles the array waits for the memories [cycles]."""
    ifmap_sram_start_cycle: int
    """First cycle the IFMAP SRAM serves a read [cycle]."""
    ifmap_sram_stop_cycle: int
    """Last cycle the IFMAP SRAM serves a read [cycle]."""
    ifmap_sram_reads: int
    """IFMAP SRAM reads as SCALE-Sim counts them (operand-matrix entries streamed, including
    the ones outside the input) [words]."""
    filter_sram_start_cycle: int
    """First cycle the FILTER SRAM serves a read [cycle]."""
    filter_sram_stop_cycle: int
    """Last cycle the FILTER SRAM serves a read [cycle]."""
    filter_sram_reads: int
    """FILTER SRAM reads as SCALE-Sim counts them [words]."""
    ofmap_sram_start_cycle: int
    """First cycle the OFMAP SRAM accepts a write [cycle]."""
    ofmap_sram_stop_cycle: int
    """Last cycle the OFMAP SRAM accepts a write [cycle]."""
    ofmap_sram_writes: int
    """OFMAP SRAM writes as SCALE-Sim counts them (``os`` adds rows + cols per fold) [words]."""
    ifmap_dram_start_cycle: int
    """First cycle of an IFMAP DRAM read (the initial prefetch is before cycle 0) [cycle]."""
    ifmap_dram_stop_cycle: int
    """Last cycle of an IFMAP DRAM read [cycle]."""
    ifmap_dram_reads: int
    """IFMAP DRAM reads (USER mode counts whole prefetch lines, padding included) [words]."""
    filter_dram_start_cycle: int
    """First cycle of a FILTER DRAM read [cycle]."""
    filter_dram_stop_cycle: int
    """Last cycle of a FILTER DRAM read [cycle]."""
    filter_dram_reads: int
    """FILTER DRAM reads [words]."""
    ofmap_dram_start_cycle: int
    """First cycle of an OFMAP DRAM write [cycle]."""
    ofmap_dram_stop_cycle: int
    """Last cycle of an OFMAP DRAM write [cycle]."""
    ofmap_dram_writes: int
    """OFMAP DRAM writes (counts the padding of partial lines flushed early) [words]."""
    avg_ifmap_sram_bw_words_per_cycle: float = field(init=False)
    """BANDWIDTH_REPORT: IFMAP SRAM reads / total_cycles [words/cycle]."""
    avg_filter_sram_bw_words_per_cycle: float = field(init=False)
    """BANDWIDTH_REPORT: FILTER SRAM reads / total_cycles [words/cycle]."""
    avg_ofmap_sram_bw_words_per_cycle: float = field(init=False)
    """BANDWIDTH_REPORT: OFMAP SRAM writes / total_cycles [words/cycle]."""
    avg_ifmap_dram_bw_words_per_cycle: float = field(init=False)
    """BANDWIDTH_REPORT: IFMAP DRAM reads / (stop - start + 1) [words/cycle]."""
    avg_filter_dram_bw_words_per_cycle: float = field(init=False)
    """BANDWIDTH_REPORT: FILTER DRAM reads / (stop - start + 1) [words/cycle]."""
    avg_ofmap_dram_bw_words_per_cycle: float = field(init=False)
    """BANDWIDTH_REPORT: OFMAP DRAM writes / (stop - start + 1) [words/cycle]."""

    def __post_init__(self) -> None:
        # the same float divisions SCALE-Sim does, so the values are bit-identical
        tc = self.total_cycles
        set_ = object.__setattr__
        set_(self, "avg_ifmap_sram_bw_words_per_cycle", self.ifmap_sram_reads / tc)
        set_(self, "avg_filter_sram_bw_words_per_cycle", self.filter_sram_reads / tc)
        set_(self, "avg_ofmap_sram_bw_words_per_cycle", self.ofmap_sram_writes / tc)
        for t, n in (("ifmap", "reads"), ("filter", "reads"), ("ofmap", "writes")):
            span = getattr(self, f"{t}_dram_stop_cycle") - getattr(self, f"{t}_dram_start_cycle")
            set_(self, f"avg_{t}_dram_bw_words_per_cycle",
                 getattr(self, f"{t}_dram_{n}") / (span + 1))

    def as_scalesim_row(self) -> dict[str, float]:
        """The values under SCALE-Sim's report column names as ``bench/scalesim_reference.py``
        stores them (``avg_*_bw`` without the unit suffix)."""
        return {f.name.replace("_words_per_cycle", ""): getattr(self, f.name)
                for f in fields(self)}


# --------------------------------------------------------------------------------------------
# layer geometry and the dataflow's fold structure
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Layer:
    df: str
    R: int  # array rows
    C: int  # array cols
    ih: int
    iw: int
    fh: int
    fw: int
    ch: int
    K: int
    s: int
    eh: int
    ew: int
    P: int
    W: int
    Sr: int
    Sc: int
    T: int
    rf: int
    cf: int
    flen: int  # rows (cycles) of one fold's demand matrices
    M: int  # key = row * M + column orders demand elements as SCALE-Sim serves them

    @property
    def folds(self) -> int:
        return self.rf * self.cf

    @property
    def n_rows(self) -> int:
        return self.folds * self.flen

    def ru(self, fr: npt.ArrayLike) -> np.ndarray:
        used: np.ndarray = np.minimum(self.R, self.Sr - np.asarray(fr) * self.R)
        return used

    def cu(self, fc: npt.ArrayLike) -> np.ndarray:
        used: np.ndarray = np.minimum(self.C, self.Sc - np.asarray(fc) * self.C)
        return used


def _layer(df: str, R: int, C: int, ih: int, iw: int, fh: int, fw: int, ch: int, K: int,
           s: int) -> _Layer:
    eh = math.ceil((ih - fh + s) / s)
    ew = math.ceil((iw - fw + s) / s)
    P, W = eh * ew, fh * fw * ch
    if df == "os":
        Sr, Sc, T = P, K, W
        flen = T + R + C - 2
    elif df == "ws":
        Sr, Sc, T = W, K, P
        flen = T + 2 * R + C - 2
    else:
        Sr, Sc, T = W, P, K
        flen = T + 2 * R + C - 2
    return _Layer(df, R, C, ih, iw, fh, fw, ch, K, s, eh, ew, P, W, Sr, Sc, T,
                  math.ceil(Sr / R), math.ceil(Sc / C), flen, max(R, C) + 1)


def _sram_counts(L: _Layer) -> tuple[int, int, int]:
    """SCALE-Sim's compute-side SRAM access counters (operand-matrix shapes, so the IFMAP
    entries outside the input count too; ``os`` counts the padded fold's rows + cols extra)."""
    if L.df == "os":
        return L.cf * L.P * L.W, L.rf * L.W * L.K, L.P * L.K + L.folds * (L.R + L.C)
    if L.df == "ws":
        return L.cf * L.P * L.W, L.W * L.K, L.rf * L.P * L.K
    return L.W * L.P, L.cf * L.W * L.K, L.rf * L.P * L.K


# --------------------------------------------------------------------------------------------
# read-operand demand as visits
# --------------------------------------------------------------------------------------------
@dataclass
class _Visits:
    """Runs of consecutive channels read one per cycle: element u (0 <= u < n) reads channel
    ``lo + u`` of line ``sigma`` (address ``sigma * cdim + channel``, channels possibly
    mirrored, see ``flip``) at row ``row0 + u``, column ``col0 + dc * u``. Arrays are for one
    *pass* (``folds_per_pass`` folds); the stream is ``n_passes`` copies of it, each shifted by
    ``folds_per_pass * flen`` rows."""

    sigma: np.ndarray
    lo: np.ndarray
    n: np.ndarray
    row0: np.ndarray
    col0: np.ndarray
    fold: np.ndarray  # fold index within the pass
    dc: int
    cdim: int
    flip: bool  # channel stored as cdim - 1 - real channel
    folds_per_pass: int
    n_passes: int


def _row_segments(L: _Layer, j0: npt.ArrayLike, ju: npt.ArrayLike,
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Split window-index chunks [j0, j0 + ju) at filter-row boundaries: per segment the
    chunk index, the filter row r and the offsets [a, b] within that filter row's fw*C
    window indices (which read fw*C consecutive input addresses)."""
    j0, ju = np.asarray(j0), np.asarray(ju)
    span = L.fw * L.ch
    r_first, r_last = j0 // span, (j0 + ju - 1) // span
    nseg = r_last - r_first + 1
    idx = np.repeat(np.arange(len(j0)), nseg)
    r = r_first[idx] + (np.arange(nseg.sum()) - np.repeat(np.cumsum(nseg) - nseg, nseg))
    a = np.maximum(j0[idx], r * span) - r * span
    b = np.minimum(j0[idx] + ju[idx] - 1, r * span + span - 1) - r * span
    return idx, r, a, b


def _window_rows(L: _Layer, p: np.ndarray, r: np.ndarray,
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Input row read by pixel p at filter row r, the pixel's first input column, and how
    many of the filter row's fw*C window indices fall inside the input (0: none)."""
    oy, ox = np.divmod(p, L.ew)
    iy, ix0 = oy * L.s + r, ox * L.s
    nvalid = np.where(iy < L.ih, np.minimum(np.maximum(L.iw - ix0, 0), L.fw), 0) * L.ch
    return iy, ix0 * L.ch, nvalid


def _ifmap_visits(L: _Layer) -> _Visits:
    """IFMAP demand as visits over input rows: line = input row iy, "channel" = ix*C + c
    (so one filter row of a window reads one run of fw*C consecutive channels)."""
    R, C, flen = L.R, L.C, L.flen
    cdim = L.iw * L.ch
    if L.df == "os":
        # fold fr: pixels fr*R + c stream their whole window down column c from row c
        p = np.repeat(np.arange(L.P), L.fh)
        r = np.tile(np.arange(L.fh), L.P)
        iy, lo, nv = _window_rows(L, p, r)
        fr, c = np.divmod(p, R)
        row0 = fr * flen + c + r * L.fw * L.ch
        v = nv > 0
        return _Visits(iy[v], lo[v], nv[v], row0[v], c[v], fr[v], 0, cdim, False, L.rf, L.cf)
    fr_all = np.arange(L.rf)
    idx, r_s, a_s, b_s = _row_segments(L, fr_all * R, L.ru(fr_all))
    fr_s = fr_all[idx]
    nsg = len(r_s)
    p = np.tile(np.arange(L.P), nsg)
    k = np.repeat(np.arange(nsg), L.P)
    fr, r, a, b = fr_s[k], r_s[k], a_s[k], b_s[k]
    iy, lo, nv = _window_rows(L, p, r)
    top = np.minimum(b, nv - 1)  # the last window index of the segment inside the input
    n = top - a + 1
    v = n > 0
    seg0 = r * L.fw * L.ch - fr * R  # column (ws) / bottom-up row (is) of offset 0
    if L.df == "ws":
        # fold fr: column c holds window index fr*R + c; pixel p enters at row R + p + c
        ca = seg0 + a
        row0 = fr * flen + R + p + ca
        return _Visits(iy[v], (lo + a)[v], n[v], row0[v], ca[v], fr[v], 1, cdim, False,
                       L.rf, L.cf)
    # is: fold (fc, fr): column c holds pixel fc*C + c, window indices stream bottom-up
    fc, c = np.divmod(p, C)
    fold = fc * L.rf + fr
    row0 = fold * flen + R - 1 - (seg0 + top)
    return _Visits(iy[v], (cdim - 1 - lo - top)[v], n[v], row0[v], c[v], fold[v], 0, cdim,
                   True, L.folds, 1)


def _filter_visits(L: _Layer) -> _Visits:
    R, C, flen = L.R, L.C, L.flen
    if L.df == "is":
        # fold fr: column c holds window index fr*R + c; filter k enters at row R + k + c
        fr = np.repeat(np.arange(L.rf), L.K)
        k = np.tile(np.arange(L.K), L.rf)
        return _Visits(k, fr * R, L.ru(fr), fr * flen + R + k, np.zeros_like(k), fr, 1, L.W,
                       False, L.rf, L.cf)
    # os / ws: column d of fold (fc, fr) holds filter fc*C + d
    fc = np.repeat(np.arange(L.cf), L.C)
    d = np.tile(np.arange(L.C), L.cf)
    keep = d < L.cu(fc)
    fc, d = fc[keep], d[keep]
    nfc = len(fc)
    fr = np.tile(np.arange(L.rf), nfc)
    fc, d = np.repeat(fc, L.rf), np.repeat(d, L.rf)
    fold = fc * L.rf + fr
    k = fc * C + d
    if L.df == "os":
        return _Visits(k, np.zeros_like(k), np.full(len(k), L.W, np.int64),
                       fold * flen + d, d, fold, 0, L.W, False, L.folds, 1)
    ru = L.ru(fr)  # ws: the R filter rows of the fold, flipped: the last window index first
    return _Visits(k, L.W - fr * R - ru, ru, fold * flen + R - ru, d, fold, 0, L.W, True,
                   L.folds, 1)


# --------------------------------------------------------------------------------------------
# CALC mode: read_buffer_estimate_bw
# --------------------------------------------------------------------------------------------
@dataclass
class _Pieces:
    """Visits cut so that every element's previous occurrence (same address, earlier in the
    stream) is in one other visit: element u of a piece has key ``key0 + u*delta`` and its
    previous occurrence has key ``prev0 + u*delta``. For one pass, sorted by ``key0``."""

    key0: np.ndarray
    n: np.ndarray
    prev0: np.ndarray  # pass-relative; _NONE if never seen before
    cross: np.ndarray  # True: previous occurrence is in the previous pass (none in pass 0)


def _pieces(V: _Visits, L: _Layer) -> _Pieces:
    """Cut the visits of one line (input row / filter) at every channel where another visit
    of that line starts or ends; order each segment's readers by time; the previous reader
    of a segment is the previous occurrence of all its elements. Adjacent segments of one
    visit with the same previous reader are merged again."""
    M = L.M
    delta = M + V.dc
    key0 = V.row0 * M + V.col0
    base = key0 - V.lo * delta  # the key channel 0 would have: orders the readers of a line
    cd1 = V.cdim + 1
    lo_k = V.sigma * cd1 + V.lo
    hi_k = lo_k + V.n
    bp = np.sort(np.concatenate([lo_k, hi_k]))
    bp = bp[np.concatenate([[True], bp[1:] != bp[:-1]])]
    i_lo = np.searchsorted(bp, lo_k)
    nseg = np.searchsorted(bp, hi_k) - i_lo
    nv = len(key0)
    if np.all(nseg == 1):
        vis = np.arange(nv)
        seg = i_lo
    else:
        vis = np.repeat(np.arange(nv), nseg)
        seg = i_lo[vis] + (np.arange(len(vis)) - np.repeat(np.cumsum(nseg) - nseg, nseg))
    nr = len(vis)
    ch0 = bp[seg] - V.sigma[vis] * cd1
    seg_n = bp[seg + 1] - bp[seg]
    vbase = base[vis]
    span = int(vbase.max() - vbase.min()) + 1
    if (int(seg.max()) + 1) * span < 2 ** 62:
        order = np.argsort(seg * span + (vbase - vbase.min()), kind="stable")
    else:
        order = np.lexsort((vbase, seg))
    sseg, svis = seg[order], vis[order]
    first = np.ones(nr, bool)
    first[1:] = sseg[1:] != sseg[:-1]
    pvis = np.empty(nr, np.int64)  # previous reader (visit id) in time order
    pvis[1:] = svis[:-1]
    cross = np.zeros(nr, bool)
    lam = V.folds_per_pass * L.flen * M
    if V.n_passes > 1:
        # the first reader in a pass follows the last one of the previous pass
        last = np.ones(nr, bool)
        last[:-1] = sseg[1:] != sseg[:-1]
        grp_last = np.flatnonzero(last)[np.cumsum(first) - 1]
        pvis = np.where(first, svis[grp_last], pvis)
        cross = first
    else:
        pvis = np.where(first, -1, pvis)
    # back to (visit, channel) order, where adjacent segments of a visit can merge
    rec_pvis = np.empty(nr, np.int64)
    rec_pvis[order] = pvis
    rec_cross = np.empty(nr, bool)
    rec_cross[order] = cross
    start = np.ones(nr, bool)
    start[1:] = (vis[1:] != vis[:-1]) | (rec_pvis[1:] != rec_pvis[:-1]) | \
        (rec_cross[1:] != rec_cross[:-1])
    st = np.flatnonzero(start)
    pv = rec_pvis[st]
    k0 = vbase[st] + ch0[st] * delta
    prev0 = np.where(pv >= 0, base[np.maximum(pv, 0)] + ch0[st] * delta, _NONE)
    cr = rec_cross[st]
    prev0 = np.where(cr, prev0 - lam, prev0)
    n = np.add.reduceat(seg_n, st)
    o = np.argsort(k0, kind="stable")
    return _Pieces(k0[o], n[o], prev0[o], cr[o])


@overload
def _ceil_div(a: int, b: int) -> int: ...
@overload
def _ceil_div(a: np.ndarray, b: int) -> np.ndarray: ...
def _ceil_div(a: int | np.ndarray, b: int) -> int | np.ndarray:
    return -((-a) // b)


def _clip0(a: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """clip(a, 0, hi) without np.clip's per-call overhead."""
    clipped: np.ndarray = np.minimum(np.maximum(a, 0), hi)
    return clipped


def _kth(ts: npt.ArrayLike, r0: np.ndarray, cnt: np.ndarray, c0: np.ndarray, dc: int,
         M: int) -> np.ndarray:
    """Keys of the t-th (1-based, t in the sorted ``ts``) smallest elements, in (row,
    column) order, of the runs ``row r0 + u, column c0 + dc*u`` for 0 <= u < cnt."""
    m = cnt > 0
    r0, cnt, c0 = r0[m], cnt[m], c0[m]
    ts = np.asarray(ts, np.int64)
    lo_row = int(r0.min())
    nrows = int((r0 + cnt).max()) - lo_row
    if nrows <= 4 * len(r0) + 4096:
        # runs covering each row, by counting starts and ends (no sort)
        per_row = np.cumsum(np.bincount(r0 - lo_row, minlength=nrows + 1)
                            - np.bincount(r0 + cnt - lo_row, minlength=nrows + 1))[:nrows]
        cum = np.cumsum(per_row)  # elements on rows <= lo_row + i
        i = np.searchsorted(cum, ts, "left")
        g = lo_row + i
        rank = ts - (cum[i] - per_row[i]) - 1
    else:
        x = np.concatenate([r0, r0 + cnt])
        d = np.concatenate([np.ones(len(r0), np.int64), -np.ones(len(r0), np.int64)])
        o = np.argsort(x, kind="stable")
        x, d = x[o], d[o]
        act = np.cumsum(d)  # runs covering rows [x_i, x_i+1)
        cum = np.concatenate([[0], np.cumsum(act[:-1] * np.diff(x))])  # elements before x_i
        i = np.searchsorted(cum, ts, "left") - 1
        off = ts - cum[i] - 1
        g = x[i] + off // act[i]
        rank = off % act[i]
    # the runs crossing each target row (rows ascending with the targets), by column
    newg = np.concatenate([[True], g[1:] != g[:-1]])  # g ascends with the targets
    gu, inv = g[newg], np.cumsum(newg) - 1
    j_lo = np.searchsorted(gu, r0, "left")
    nj = np.searchsorted(gu, r0 + cnt, "left") - j_lo
    run = np.repeat(np.arange(len(r0)), nj)
    j = j_lo[run] + (np.arange(len(run)) - np.repeat(np.cumsum(nj) - nj, nj))
    col = c0[run] + dc * (gu[j] - r0[run])
    o = np.lexsort((col, j))
    j, col = j[o], col[o]
    grp = np.searchsorted(j, np.arange(len(gu)), "left")
    keys: np.ndarray = g * M + col[grp[inv] + rank]
    return keys


def _calc_read(V: _Visits, L: _Layer, sram_kb: int,
               cyc: Callable[[int], int]) -> tuple[int, int, int]:
    """DRAM (start, stop, reads) of the IFMAP read buffer in CALC mode; ``cyc(row)`` maps a
    demand row to its cycle (rows shift by the stalls before them).

    An element is a DRAM read when its previous occurrence is before the current epoch's
    first key ``s``; the epoch ends at its E-th read. The stream is scanned in key windows
    sized like the last epoch, so each epoch costs about its own number of pieces."""
    items = (sram_kb * 1024) // 100  # addresses per set
    E = 50 * items  # an epoch: the active half, 50 sets
    Pc = _pieces(V, L)
    M, dc = L.M, V.dc
    delta = M + dc
    npass = V.n_passes
    lam = V.folds_per_pass * L.flen * M
    end_key = npass * lam
    maxspan = int(((Pc.n - 1) * delta).max())

    def window(klo: int, khi: int) -> Sequence[np.ndarray]:
        """Pieces (of any pass) that have elements with keys in [klo, khi]."""
        parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        for m in range(max(0, (klo - maxspan) // lam), min(npass - 1, khi // lam) + 1):
            a = int(np.searchsorted(Pc.key0, klo - maxspan - m * lam, "left"))
            b = int(np.searchsorted(Pc.key0, khi - m * lam, "right"))
            pv = Pc.prev0[a:b] + m * lam
            if m == 0:
                pv = np.where(Pc.cross[a:b], _NONE, pv)
            parts.append((Pc.key0[a:b] + m * lam, Pc.n[a:b], pv))
        if len(parts) == 1:
            return parts[0]
        return [np.concatenate(x) for x in zip(*parts, strict=True)]

    s = 0  # epoch start key: an element is new when its previous occurrence is before s
    q_floor = -1  # elements with key <= q_floor are done
    e_cnt = N = nb = 0
    last_q = -1
    span = max(delta, E * delta // max(L.R, L.C))
    while q_floor < end_key - 1:
        x = min(q_floor + span, end_key - 1)
        k0, n, pv = window(q_floor + 1, x)
        u0 = _clip0((q_floor - k0) // delta + 1, n)
        nn = _clip0(_ceil_div(s - pv, delta), n)  # new: a prefix of every piece
        ux = _clip0((x - k0) // delta + 1, n)
        cnt_x = np.maximum(np.minimum(nn, ux) - u0, 0)
        tot = e_cnt + int(cnt_x.sum())
        if tot < E:
            N += tot - e_cnt
            e_cnt = tot
            q_floor = x
            span *= 2
            if nb == 0 and npass > 1 and q_floor >= lam - 1:
                break  # a pass holds fewer than E addresses: every later one is a hit
            continue
        t = E - e_cnt
        # elements before the first one that is not new are new for this epoch and for the
        # epochs that start before it: there an epoch ends every E elements
        late = nn < n
        x_bad = x + 1
        if late.any():
            x_bad = min(x_bad, int((k0[late] + np.maximum(nn, u0)[late] * delta).min()))
        pre = np.maximum(_clip0(_ceil_div(x_bad - k0, delta), n) - u0, 0)
        n_pre = int(pre.sum())
        if n_pre >= t:
            ts = np.arange(t, n_pre + 1, E)
            cnt = pre
        else:
            ts = np.array([t])
            cnt = np.maximum(nn - u0, 0)
        r0, c0 = np.divmod(k0 + u0 * delta, M)
        q = int(_kth(ts, r0, cnt, c0, dc, M)[-1])
        N += int(ts[-1])
        nb += len(ts)
        # size the next window like the last epoch, larger while epochs come in runs
        span = max(delta, (q - q_floor) * 2 if len(ts) > 1 else (q - q_floor) * 5 // 4)
        last_q = q
        s = q_floor = q
        s += 1
        e_cnt = 0
    first_row = int(V.row0.min())
    if nb == 0:
        nsets = math.ceil(N / items)
        return -math.ceil(nsets * items / _ESTIMATE_BW_WORDS), -1, N
    return (cyc(first_row) - math.ceil(50 * items / _ESTIMATE_BW_WORDS),
            cyc(last_q // M) + 1, N)


def _calc_read_filter(V: _Visits, L: _Layer, sram_kb: int,
                      cyc: Callable[[int], int]) -> tuple[int, int, int]:
    """CALC-mode FILTER read buffer in closed form. Filter addresses are all distinct within
    a *group* of folds that repeats back to back: ``os`` one fold per column fold, repeated
    for every row fold; ``ws`` the whole stream once; ``is`` all row folds, repeated for
    every column fold. An epoch that starts inside a group sees new addresses for the next G
    elements (G = the group's size), then only hits until the group ends."""
    items = (sram_kb * 1024) // 100
    E = 50 * items
    fold_n = np.bincount(V.fold, V.n, minlength=V.folds_per_pass).astype(np.int64)
    if L.df == "os":
        groups = [(int(fold_n[fc * L.rf]), L.rf) for fc in range(L.cf)]
    else:
        groups = [(int(fold_n.sum()), V.n_passes)]
    e = N = nb = 0
    last = (0, 0)  # (group, element index in the group) of the last epoch end
    for g, (G, rep) in enumerate(groups):
        total, pos, cov = G * rep, 0, 0
        while pos < total:
            need, room = E - e, G - cov
            if need <= room and pos + need <= total:
                pos += need
                N += need
                nb += 1
                e = cov = 0
                if E <= G:  # from here on an epoch ends every E elements
                    k = (total - pos) // E
                    pos += k * E
                    N += k * E
                    nb += k
                last = (g, pos - 1)
                continue
            take = min(room, total - pos)
            pos += take
            N += take
            e += take
            cov += take
            if cov == G:
                break  # the epoch holds the whole group: the rest of it is hits
    if nb == 0:
        nsets = math.ceil(N / items)
        return -math.ceil(nsets * items / _ESTIMATE_BW_WORDS), -1, N
    g, idx = last
    G = groups[g][0]
    m, i = divmod(idx, G)
    if L.df == "os":
        fold, shift = g * L.rf + m, 0
    else:
        cum = np.cumsum(fold_n)
        fold = int(np.searchsorted(cum, i, "right"))
        i -= int(cum[fold - 1]) if fold else 0
        shift = m * V.folds_per_pass * L.flen
    sel = V.fold == fold
    key = int(_kth([i + 1], V.row0[sel], V.n[sel], V.col0[sel], V.dc, L.M)[0])
    first_row = int(V.row0.min())
    return (cyc(first_row) - math.ceil(50 * items / _ESTIMATE_BW_WORDS),
            cyc(key // L.M + shift) + 1, N)


# --------------------------------------------------------------------------------------------
# OFMAP demand: a skewed rectangle per fold, counted in closed form
# --------------------------------------------------------------------------------------------
def _tri(z: int) -> int:
    return z * (z + 1) // 2 if z > 0 else 0


class _Ofmap:
    """Valid OFMAP writes per demand row. Fold f holds the rectangle (i, d), i0 <= i < i0+ni,
    0 <= d < nd, element (i, d) on fold row i + d."""

    def __init__(self, L: _Layer):
        self.L = L
        fc, fr = np.divmod(np.arange(L.folds), L.rf)
        nd = L.cu(fc)
        if L.df == "os":
            ni = L.ru(fr)
            i0 = L.T - 1 + L.R - ni
        else:
            ni = np.full(L.folds, L.P if L.df == "ws" else L.K)
            i0 = np.full(L.folds, 2 * L.R - 1)
        self.ni, self.nd, self.i0 = ni.astype(np.int64), nd.astype(np.int64), i0.astype(np.int64)
        self.cum = np.concatenate([[0], np.cumsum(self.ni * self.nd)])
        self.total = int(self.cum[-1])

    def _h(self, f: int, x: int) -> int:
        """Elements of fold f on fold rows <= x."""
        m = x - int(self.i0[f]) + 1
        ni, nd = int(self.ni[f]), int(self.nd[f])
        return _tri(m) - _tri(m - nd) - _tri(m - ni) + _tri(m - ni - nd)

    def count_lt(self, row: int) -> int:
        """Elements on rows < row."""
        if row <= 0:
            return 0
        if row >= self.L.n_rows:
            return self.total
        f, x = divmod(row - 1, self.L.flen)
        return int(self.cum[f]) + self._h(f, x)

    def row_of(self, e: int) -> int:
        """Row of the e-th (0-based) element."""
        f = int(np.searchsorted(self.cum, e, "right")) - 1
        want = e - int(self.cum[f]) + 1
        lo, hi = int(self.i0[f]), int(self.i0[f] + self.ni[f] + self.nd[f]) - 2
        while lo < hi:
            mid = (lo + hi) // 2
            if self._h(f, mid) >= want:
                hi = mid
            else:
                lo = mid + 1
        return f * self.L.flen + lo


# --------------------------------------------------------------------------------------------
# USER mode: read_buffer with prefetch matrices (element level)
# --------------------------------------------------------------------------------------------
def _elements(V: _Visits, L: _Layer) -> tuple[np.ndarray, np.ndarray]:
    """(row, address) of every valid demand element, in service order."""
    lam_rows = V.folds_per_pass * L.flen
    n = V.n
    tot = int(n.sum())
    vi = np.repeat(np.arange(len(n)), n)
    u = np.arange(tot) - np.repeat(np.cumsum(n) - n, n)
    row = V.row0[vi] + u
    col = V.col0[vi] + V.dc * u
    ch = V.lo[vi] + u
    if V.flip:
        ch = V.cdim - 1 - ch
    addr = V.sigma[vi] * V.cdim + ch
    key = row * L.M + col
    o = np.argsort(key, kind="stable")
    row, addr = row[o], addr[o]
    if V.n_passes > 1:
        row = (row[None, :] + lam_rows * np.arange(V.n_passes)[:, None]).ravel()
        addr = np.tile(addr, V.n_passes)
    return row, addr


def _ifmap_matrix(L: _Layer, p: np.ndarray, j: np.ndarray) -> np.ndarray:
    """IFMAP operand-matrix entries (address without offset), -1 outside the input."""
    r, t = np.divmod(j, L.fw * L.ch)
    iy, lo, nv = _window_rows(L, p, r)
    return np.where(t < nv, (iy * L.iw) * L.ch + lo + t, -1)


def _diag_rollout(M_: np.ndarray) -> np.ndarray:
    """SCALE-Sim's prefetch order: anti-diagonals, each from the bottom row up."""
    nr, nc = M_.shape
    rr, cc = np.meshgrid(np.arange(nr, dtype=np.int64), np.arange(nc, dtype=np.int64),
                         indexing="ij")
    return M_.ravel()[np.argsort(((rr + cc) * nc + cc).ravel(), kind="stable")]


def _stack_folds(nf: int, size: int, total: int, block: Callable[[int, int], np.ndarray],
                 height: int) -> np.ndarray:
    mats = []
    for f in range(nf):
        st = f * size
        used = min(size, total - st)
        m = block(st, used)
        if used < size:
            m = np.concatenate([m, -np.ones((height, size - used), np.int64)], 1)
        mats.append(m)
    return np.concatenate(mats, 0)


def _prefetch_sequences(L: _Layer) -> tuple[np.ndarray, np.ndarray]:
    """The IFMAP and FILTER prefetch matrices, flattened in SCALE-Sim's order (with -1)."""
    P, W, K = L.P, L.W, L.K
    fa: Callable[[np.ndarray, np.ndarray], np.ndarray] = lambda j, k: k * W + j  # noqa: E731
    if L.df == "os":
        def ib(st: int, used: int) -> np.ndarray:
            pp, jj = np.meshgrid(np.arange(st, st + used), np.arange(W), indexing="ij")
            return _ifmap_matrix(L, pp, jj).T

        def fb(st: int, used: int) -> np.ndarray:
            jj, kk = np.meshgrid(np.arange(W), np.arange(st, st + used), indexing="ij")
            return fa(jj, kk)

        return (_diag_rollout(_stack_folds(L.rf, L.R, P, ib, W)),
                _diag_rollout(_stack_folds(L.cf, L.C, K, fb, W)))
    if L.df == "ws":
        def ib(st: int, used: int) -> np.ndarray:
            pp, jj = np.meshgrid(np.arange(P), np.arange(st, st + used), indexing="ij")
            return _ifmap_matrix(L, pp, jj)

        def fb(st: int, used: int) -> np.ndarray:
            jj, kk = np.meshgrid(np.arange(W), np.arange(st, st + used), indexing="ij")
            return fa(jj, kk)

        return (_diag_rollout(_stack_folds(L.rf, L.R, W, ib, P)),
                _stack_folds(L.cf, L.C, K, fb, W).ravel())

    def ib_is(st: int, used: int) -> np.ndarray:
        jj, pp = np.meshgrid(np.arange(W), np.arange(st, st + used), indexing="ij")
        return _ifmap_matrix(L, pp, jj)

    def fb_is(st: int, used: int) -> np.ndarray:
        kk, jj = np.meshgrid(np.arange(K), np.arange(st, st + used), indexing="ij")
        return fa(jj, kk)

    return (_stack_folds(L.cf, L.C, P, ib_is, W).ravel(),
            _diag_rollout(_stack_folds(L.rf, L.R, W, fb_is, K)))


@dataclass
class _UserRead:
    miss_rows: np.ndarray  # one entry per prefetch (new_prefetch call), in order
    first_lines: int  # lines of the initial prefetch of the active half
    lines: int  # lines per later prefetch
    bw: int


def _user_read(V: _Visits, L: _Layer, pf: np.ndarray, bw: int, sram_kb: int) -> _UserRead:
    """Which demand rows miss in read_buffer's active window (each miss = one prefetch)."""
    total = sram_kb * 1024
    act = math.ceil(total * 0.5)
    pre = total - act
    eps = math.ceil(total / 100)  # elements per hashed line
    valid = pf[pf != -1]
    nlines = len(valid) // eps + 1
    A = min(math.ceil(act / eps), nlines)
    step = min(math.ceil(pre / eps), nlines - A)
    first_lines = min(math.ceil(act / bw), math.ceil(len(pf) / bw))
    lines = math.ceil(pre / bw)
    rows, addr = _elements(V, L)
    # (address id, line) pairs, sorted: the lines each address was prefetched into
    o = np.argsort(valid, kind="stable")
    sv = valid[o]
    newa = np.concatenate([[True], sv[1:] != sv[:-1]])
    ua = sv[newa]
    big = nlines + 1
    keys = (np.cumsum(newa) - 1) * big + o // eps
    keys = keys[np.concatenate([[True], keys[1:] != keys[:-1]])]
    uid = np.searchsorted(ua, addr)
    if len(ua) == 0 or np.any(ua[np.minimum(uid, len(ua) - 1)] != addr):
        raise AssertionError("a demanded address is missing from the prefetch matrix")
    kstart = np.searchsorted(keys, np.arange(len(ua) + 1) * big)
    lines_u = keys % big
    first_u, last_u = lines_u[kstart[:-1]], lines_u[kstart[1:] - 1]
    # an address whose lines are never A apart is in a window iff the window meets the
    # range of its lines; the others need a look at every line
    gap = np.diff(lines_u)
    gap[kstart[1:-1] - 1] = 0
    wide = np.maximum.reduceat(np.concatenate([gap, [0]]), kstart[:-1]) >= A
    first_line, span_line, wide = first_u[uid], (last_u - first_u)[uid], wide[uid]
    nk = len(keys)
    # the window positions after 1, 2, ... further prefetches (they cycle)
    cyc_len = nlines // math.gcd(step, nlines) if step else 1
    adv = np.arange(1, cyc_len + 1, dtype=np.int64) * step

    def in_window(lo: int, hi: int, w: int) -> np.ndarray:
        fl = first_line[lo:hi]
        ok: np.ndarray = ((fl - w) % nlines < A) | ((w - fl) % nlines <= span_line[lo:hi])
        mu = np.flatnonzero(wide[lo:hi] & ok)
        if len(mu):
            u = uid[lo + mu]
            k = np.minimum(np.searchsorted(keys, u * big + w), nk - 1)
            ok[mu] = ((fl[mu] - w) % nlines < A) | \
                ((keys[k] // big == u) & (keys[k] % big < w + A))
        return ok

    misses = []
    w, pos, n, chunk = 0, 0, len(addr), 1024
    while pos < n:
        hi = min(n, pos + chunk)
        ok = in_window(pos, hi, w)
        if ok.all():
            pos, chunk = hi, chunk * 2
            continue
        i = pos + int(np.argmin(ok))
        chunk = max(64, (i - pos) * 2)
        # how many prefetches until a window holds one of the address's lines
        u = int(uid[i])
        ls = keys[kstart[u]:kstart[u + 1]] % big
        ws = (w + adv) % nlines
        hit = (((ls[None, :] - ws[:, None]) % nlines) < A).any(1)
        if not hit.any():
            raise AssertionError("read_buffer prefetch window never reaches an address")
        m = int(np.argmax(hit)) + 1
        w = int(ws[m - 1])
        misses.extend([int(rows[i])] * m)
        pos = i + 1
    return _UserRead(np.asarray(misses, np.int64), first_lines, lines, bw)


# --------------------------------------------------------------------------------------------
# the row loop: OFMAP write buffer, stalls
# --------------------------------------------------------------------------------------------
def _read_offset(kidx: list[int], lines: int, cyc: int) -> int:
    """read_buffer.service_reads' offset for a row whose misses are the kidx-th prefetches
    (1-based). SCALE-Sim adds a positive potential stall twice and a negative one once."""
    off = 1
    for k in kidx:
        ps = -1 + k * (lines + 1) - (cyc + off)
        off += ps
        if ps > 0:
            off += ps
    return off


def _run(L: _Layer, of: _Ofmap, osz_kb: int, obw: int, reads: dict[str, _UserRead],
         ) -> tuple[int, int, list[tuple[int, int, int]], Callable[[int, int], int],
                    Callable[[int], int]]:
    """Walk the demand rows event by event (OFMAP drains and stalls, read misses)."""
    total = osz_kb * 1024
    act = math.ceil(total * 0.5)
    lw = math.ceil((total - act) / obw)  # lines per drain
    miss_at: dict[int, dict[str, list[int]]] = {}
    for name, ur in reads.items():
        for k, r in enumerate(ur.miss_rows.tolist(), 1):
            miss_at.setdefault(r, {}).setdefault(name, []).append(k)
    miss_rows = sorted(miss_at)
    nel = of.total
    F, D, S, e, flushed = total, 0, 0, 0, 0
    seg_cum: list[int] = []  # trace-matrix lines after each flushed segment
    seg_rem: list[int] = []  # valid words in the segment's last line (0: full)
    lines_total = start_line = 0
    drains: list[tuple[int, int, int]] = []  # (start cycle, lines, words)
    row_out: dict[int, tuple[int, int, int, int]] = {}  # row: (S before, if, fl, of offsets)
    ev_rows: list[int] = []
    ev_S: list[int] = []

    def flush(upto: int) -> None:
        nonlocal flushed, lines_total
        n = upto - flushed
        if n > 0:
            lines_total += _ceil_div(n, obw)
            seg_cum.append(lines_total)
            seg_rem.append(n % obw)
        flushed = upto

    def drain(cyc: int) -> int:
        nonlocal start_line, F
        nl = min(lw, lines_total - start_line)
        last = start_line + nl - 1
        g = int(np.searchsorted(seg_cum, last, "right"))
        valid = seg_rem[g] if (last == seg_cum[g] - 1 and seg_rem[g] > 0) else obw
        words = nl * obw - (obw - valid)
        F += words
        drains.append((cyc, nl, words))
        start_line += nl
        return cyc + nl - 1

    def offsets(r: int, cyc: int) -> dict[str, int]:
        return {nm: _read_offset(kl, reads[nm].lines, cyc) for nm, kl in miss_at[r].items()}

    ri = 0
    while True:
        row_evt = None
        if e < nel:
            e_a = e + max(0, F - act)  # occupancy passes the active half: drain
            e_0 = e + max(0, F - 1)  # buffer full: stall while a drain runs
            e_d = max(e, of.count_lt(D - S))  # first element at or after the drain end
            ev = e_0 if e_0 < e_d else max(e_a, e_d)
            if ev < nel:
                row_evt = of.row_of(ev)
        nr = miss_rows[ri] if ri < len(miss_rows) else None
        if row_evt is None and nr is None:
            break
        if row_evt is None or (nr is not None and nr < row_evt):
            assert nr is not None  # both None broke out above
            cyc = nr + S
            offs = offsets(nr, cyc)
            row_out[nr] = (S, offs.get("ifmap", 1), offs.get("filter", 1), 0)
            S += max([o - 1 for o in offs.values()] + [0])
            ev_rows.append(nr)
            ev_S.append(S)
            ri += 1
            # the OFMAP writes up to this row met no event: they only took space; later
            # rows run under the new stall count
            a = of.count_lt(nr + 1)
            if a > e:
                F -= a - e
                e = a
            continue
        r = row_evt
        cyc = cc = r + S
        a, b = of.count_lt(r), of.count_lt(r + 1)
        F -= a - e
        for ei in range(a, b):
            F -= 1
            if cc < D:
                if F <= 0:
                    cc = D
            elif F < act:
                flush(ei + 1)
                D = drain(cc)
        e = b
        offs = {}
        if nr == r:
            offs = offsets(r, cyc)
            ri += 1
        row_out[r] = (S, offs.get("ifmap", 1), offs.get("filter", 1), cc - cyc)
        S += max([o - 1 for o in offs.values()] + [cc - cyc, 0])
        ev_rows.append(r)
        ev_S.append(S)
    ev_r = np.asarray(ev_rows, np.int64)
    ev_s = np.asarray(ev_S, np.int64)

    def s_before(r: int) -> int:
        i = int(np.searchsorted(ev_r, r, "left"))
        return int(ev_s[i - 1]) if i else 0

    def out_cycle(r: int, which: int) -> int:
        """Serviced cycle of row r: which = 1 ifmap, 2 filter, 3 ofmap."""
        if r in row_out:
            return r + row_out[r][0] + row_out[r][which]
        return r + s_before(r) + (0 if which == 3 else 1)

    last_out = out_cycle(L.n_rows - 1, 3)
    flush(nel)
    cyc = last_out
    while start_line < lines_total:
        cyc = drain(cyc) + 1
    return S, last_out, drains, out_cycle, lambda r: r + s_before(r)


# --------------------------------------------------------------------------------------------
# public entry point
# --------------------------------------------------------------------------------------------
def _check(name: str, value: int, minimum: int) -> None:
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < minimum:
        raise ValueError(f"scalesim_memory: {name} must be an integer >= {minimum}, "
                         f"got {value!r}")


def scalesim_memory(*, dataflow: str, array_rows: int, array_cols: int, ifmap_h: int,
                    ifmap_w: int, filter_h: int, filter_w: int, channels: int, num_filter: int,
                    stride: int, ifmap_sram_kb: int, filter_sram_kb: int, ofmap_sram_kb: int,
                    bandwidth_mode: str = "calc", ifmap_dram_bw_words: int = 10,
                    filter_dram_bw_words: int = 10, ofmap_dram_bw_words: int = 10,
                    read_request_buffer: int = 512,
                    write_request_buffer: int = 512) -> ScaleSimMemoryReport:
    """SCALE-Sim v3.0.0's memory-system report values for one convolution layer.

    Arguments are SCALE-Sim's: the topology row (``ifmap_h/w`` already padded, output size
    ``ceil((H - R + stride) / stride)``), the array and dataflow, the three SRAM sizes [KiB]
    and the interface bandwidth mode: ``"calc"`` (``InterfaceBandwidth: CALC``; the DRAM
    bandwidth arguments are ignored, SCALE-Sim fixes 10 words/cycle for reads and
    ``array_cols`` for writes) or ``"user"`` (``InterfaceBandwidth: USER``;
    ``ifmap_dram_bw_words`` / ``filter_dram_bw_words`` are SCALE-Sim's
    ``[layout] IfmapSRAMBankBandwidth`` / ``FilterSRAMBankBandwidth``, ``ofmap_dram_bw_words``
    its ``Bandwidth``) [words/cycle]. The request-buffer sizes only matter with a Ramulator
    trace, which this model (like SCALE-Sim by default) does not use.
    """
    if dataflow not in _DATAFLOWS:
        raise ValueError(f"scalesim_memory: dataflow must be one of {', '.join(_DATAFLOWS)}, "
                         f"got {dataflow!r}")
    mode = str(bandwidth_mode).lower()
    if mode not in ("calc", "user"):
        raise ValueError(f"scalesim_memory: bandwidth_mode must be 'calc' or 'user', "
                         f"got {bandwidth_mode!r}")
    for name, v, lo in (("array_rows", array_rows, 1), ("array_cols", array_cols, 1),
                        ("ifmap_h", ifmap_h, 1), ("ifmap_w", ifmap_w, 1),
                        ("filter_h", filter_h, 1), ("filter_w", filter_w, 1),
                        ("channels", channels, 1), ("num_filter", num_filter, 1),
                        ("stride", stride, 1), ("ifmap_sram_kb", ifmap_sram_kb, 1),
                        ("filter_sram_kb", filter_sram_kb, 1), ("ofmap_sram_kb", ofmap_sram_kb, 1),
                        ("ifmap_dram_bw_words", ifmap_dram_bw_words, 1),
                        ("filter_dram_bw_words", filter_dram_bw_words, 1),
                        ("ofmap_dram_bw_words", ofmap_dram_bw_words, 1),
                        ("read_request_buffer", read_request_buffer, 1),
                        ("write_request_buffer", write_request_buffer, 1)):
        _check(name, v, lo)
    if filter_h > ifmap_h or filter_w > ifmap_w:
        raise ValueError(f"scalesim_memory: the {filter_h}x{filter_w} filter is larger than "
                         f"the {ifmap_h}x{ifmap_w} input; pass the padded input size")
    L = _layer(dataflow, int(array_rows), int(array_cols), int(ifmap_h), int(ifmap_w),
               int(filter_h), int(filter_w), int(channels), int(num_filter), int(stride))
    vi, vf = _ifmap_visits(L), _filter_visits(L)
    of = _Ofmap(L)
    user = mode == "user"
    reads: dict[str, _UserRead] = {}
    if user:
        pf_i, pf_f = _prefetch_sequences(L)
        reads["ifmap"] = _user_read(vi, L, pf_i, int(ifmap_dram_bw_words), int(ifmap_sram_kb))
        reads["filter"] = _user_read(vf, L, pf_f, int(filter_dram_bw_words),
                                     int(filter_sram_kb))
    obw = int(ofmap_dram_bw_words) if user else L.C
    S, last_out, drains, out_cycle, cyc = _run(L, of, int(ofmap_sram_kb), obw, reads)
    dram = {}
    for name, V, kb in (("ifmap", vi, ifmap_sram_kb), ("filter", vf, filter_sram_kb)):
        if user:
            ur = reads[name]
            nm = len(ur.miss_rows)
            dram[name] = (-ur.first_lines, -1 + nm * (ur.lines + 1),
                          ur.bw * (ur.first_lines + nm * ur.lines))
        elif name == "ifmap":
            dram[name] = _calc_read(V, L, int(kb), cyc)
        else:
            dram[name] = _calc_read_filter(V, L, int(kb), cyc)
    sram = {}
    for name, V, which in (("ifmap", vi, 1), ("filter", vf, 2)):
        last_row = int((V.row0 + V.n - 1).max()) + (V.n_passes - 1) * V.folds_per_pass * L.flen
        sram[name] = (out_cycle(int(V.row0.min()), which), out_cycle(last_row, which))
    sram["ofmap"] = (out_cycle(of.row_of(0), 3), out_cycle(of.row_of(of.total - 1), 3))
    o_start = min(d[0] for d in drains)
    o_stop = max(d[0] + d[1] - 1 for d in drains)
    i_reads, f_reads, o_writes = _sram_counts(L)
    return ScaleSimMemoryReport(
        total_cycles_incl_prefetch=o_stop - min(dram["ifmap"][0], dram["filter"][0]),
        total_cycles=last_out, stall_cycles=S,
        ifmap_sram_start_cycle=sram["ifmap"][0], ifmap_sram_stop_cycle=sram["ifmap"][1],
        ifmap_sram_reads=i_reads,
        filter_sram_start_cycle=sram["filter"][0], filter_sram_stop_cycle=sram["filter"][1],
        filter_sram_reads=f_reads,
        ofmap_sram_start_cycle=sram["ofmap"][0], ofmap_sram_stop_cycle=sram["ofmap"][1],
        ofmap_sram_writes=o_writes,
        ifmap_dram_start_cycle=dram["ifmap"][0], ifmap_dram_stop_cycle=dram["ifmap"][1],
        ifmap_dram_reads=dram["ifmap"][2],
        filter_dram_start_cycle=dram["filter"][0], filter_dram_stop_cycle=dram["filter"][1],
        filter_dram_reads=dram["filter"][2],
        ofmap_dram_start_cycle=o_start, ofmap_dram_stop_cycle=o_stop,
        ofmap_dram_writes=sum(d[2] for d in drains))
