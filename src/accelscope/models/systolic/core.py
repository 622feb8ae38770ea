"""The systolic GEMM engine's compute timing, in closed form, exact against SCALE-Sim v3.

A convolution runs as the GEMM of its IM2COL matrices with SCALE-Sim's operand convention:
the IFMAP matrix is (output pixels) x (R*S*C), the filter matrix (R*S*C) x K, the OFMAP matrix
(output pixels) x K. A dataflow is nothing but data: which GEMM dimension is spatial over the
array rows (``Sr``), which over the columns (``Sc``) and which streams in time (``T``), and
which operand stays in the PEs:

=========  ==================  ===============  ================  ==========================
dataflow   Sr (array rows)     Sc (array cols)  T (time)          fold length (cycles)
=========  ==================  ===============  ================  ==========================
os         output pixels       K                R*S*C             T + rows + cols - 2
ws         R*S*C               K                output pixels     T + 2*rows + cols - 2
is         R*S*C               output pixels    K                 T + 2*rows + cols - 2
=========  ==================  ===============  ================  ==========================

The GEMM is cut into ``ceil(Sr/rows) x ceil(Sc/cols)`` folds that run one after another; a
fold streams T operand vectors with the skew of a systolic array (fill and drain included),
and the stationary dataflows spend ``rows`` extra cycles loading the stationary operand.
These are the lengths of SCALE-Sim's per-fold demand matrices; the layer's compute cycles are
``folds x fold length`` (SCALE-Sim reports one less, the index of the last cycle:
``scalesim_total_cycles``). Mapping
efficiency and compute utilisation are SCALE-Sim's per-fold averages, computed over the four
kinds of fold (full or partial in rows, full or partial in columns) instead of per fold.

Compute timing is a parameter: ``cycles_per_mac`` stretches the streamed dimension (a PE
that needs several cycles per MAC) and ``pipeline_depth`` adds cycles to every fold (a MAC
pipeline deeper than one stage). SCALE-Sim is ``cycles_per_mac = 1, pipeline_depth = 0``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from accelscope.models.common import pieces

Dataflow = Literal["os", "ws", "is"]
DATAFLOWS: tuple[str, ...] = ("os", "ws", "is")


@dataclass(frozen=True)
class Gemm:
    """A GEMM of SCALE-Sim's operand convention: (pixels x window) @ (window x filters),
    repeated ``repeats`` times (the groups of a grouped or depthwise convolution)."""

    pixels: int   # output pixels (rows of the IFMAP and OFMAP matrices), batch included
    window: int   # R*S*C: columns of the IFMAP matrix, rows of the filter matrix
    filters: int  # K: columns of the filter and OFMAP matrices
    repeats: int = 1

    @property
    def macs(self) -> int:
        return self.pixels * self.window * self.filters * self.repeats


@dataclass(frozen=True)
class SystolicTiming:
    """Compute timing of one GEMM (all repeats) on one array and dataflow."""

    dataflow: str
    rows: int
    cols: int
    Sr: int
    Sc: int
    T: int
    row_folds: int
    col_folds: int
    repeats: int
    fold_cycles: int            # length of one fold [cycles]
    compute_cycles: int         # cycles of all folds of all repeats, no stalls
    mapping_efficiency: float   # mean over folds of used PEs / PEs [fraction]
    compute_utilization: float  # mean over folds of MACs / (PEs x fold cycles) [fraction]
    macs: int
    # SRAM operand-matrix accesses as SCALE-Sim counts them (per repeat x repeats) [words]
    ifmap_sram_reads: int
    filter_sram_reads: int
    ofmap_sram_writes: int        # true writes: one per output partial sum leaving the array
    ofmap_sram_writes_scalesim: int  # SCALE-Sim's count (os adds rows + cols per fold)

    @property
    def folds(self) -> int:
        return self.row_folds * self.col_folds

    @property
    def scalesim_total_cycles(self) -> int:
        """SCALE-Sim's "Total Cycles" without stalls: it reports the index of the last cycle,
        one less than the count, for each layer (each channel of a depthwise layer)."""
        return self.compute_cycles - self.repeats

    @property
    def overall_utilization(self) -> float:
        """MACs / (PEs x compute cycles) [fraction]."""
        return self.macs / (self.rows * self.cols * self.compute_cycles)


def map_gemm(gemm: Gemm, dataflow: str) -> tuple[int, int, int]:
    """(Sr, Sc, T) of a GEMM under a dataflow."""
    if dataflow == "os":
        return gemm.pixels, gemm.filters, gemm.window
    if dataflow == "ws":
        return gemm.window, gemm.filters, gemm.pixels
    if dataflow == "is":
        return gemm.window, gemm.pixels, gemm.filters
    raise ValueError(f"dataflow must be one of {', '.join(DATAFLOWS)}, got {dataflow!r}")


def systolic_timing(gemm: Gemm, rows: int, cols: int, dataflow: str, *,
                    cycles_per_mac: int = 1, pipeline_depth: int = 0) -> SystolicTiming:
    """Compute cycles, folds, mapping efficiency, utilisation and SRAM accesses of ``gemm``
    on a ``rows x cols`` array (see the module docstring for the model)."""
    if rows < 1 or cols < 1:
        raise ValueError(f"array must be at least 1x1, got {rows}x{cols}")
    if cycles_per_mac < 1 or pipeline_depth < 0:
        raise ValueError("cycles_per_mac must be >= 1 and pipeline_depth >= 0")
    sr, sc, t = map_gemm(gemm, dataflow)
    if min(sr, sc, t) < 1:
        raise ValueError(f"empty GEMM {gemm}")
    rf, cf = math.ceil(sr / rows), math.ceil(sc / cols)
    tt = t * cycles_per_mac
    if dataflow == "os":
        fold = tt + rows + cols - 2
        util_cycles = fold  # the OFMAP fold: T - 1 + rows rows, skewed over cols
    else:
        fold = tt + 2 * rows + cols - 2
        util_cycles = fold + cols - 1
    fold += pipeline_depth
    util_cycles += pipeline_depth
    folds = rf * cf
    eff = util = 0.0
    for ru, rn in pieces(sr, rows):
        for cu, cn in pieces(sc, cols):
            eff += rn * cn * (ru * cu) / (rows * cols)
            util += rn * cn * (ru * cu * t) / (rows * cols * util_cycles)
    eff /= folds
    util /= folds
    rep = gemm.repeats
    if dataflow == "os":
        ifr, flr = cf * sr * t, rf * t * sc
        ofw = sr * sc
        ofw_ss = ofw + folds * (rows + cols)  # SCALE-Sim adds the padded fold's shape
    elif dataflow == "ws":
        ifr, flr = cf * t * sr, sr * sc
        ofw = ofw_ss = rf * t * sc
    else:
        ifr, flr = sr * sc, cf * sr * t
        ofw = ofw_ss = rf * sc * t
    return SystolicTiming(
        dataflow=dataflow, rows=rows, cols=cols, Sr=sr, Sc=sc, T=t, row_folds=rf, col_folds=cf,
        repeats=rep, fold_cycles=fold, compute_cycles=rep * folds * fold,
        mapping_efficiency=eff, compute_utilization=util, macs=gemm.macs,
        ifmap_sram_reads=rep * ifr, filter_sram_reads=rep * flr, ofmap_sram_writes=rep * ofw,
        ofmap_sram_writes_scalesim=rep * ofw_ss)


def fold_tiles(t: SystolicTiming) -> dict[str, int]:
    """Elements of each operand-matrix tile of the largest fold of one GEMM (one repeat):
    the stationary operand's ``rows x cols`` block, the ``T`` vectors streamed into it and
    the partial sums (or, for ``os``, the outputs held in the PEs) it produces. These are the
    operand tiles a fold keeps in the IFMAP, filter and OFMAP SRAMs (SCALE-Sim's operand
    matrices: IFMAP pixels x R*S*C, filter R*S*C x K, OFMAP pixels x K).

    ========  ==================  =================  =====================
    dataflow  input               weight             output
    ========  ==================  =================  =====================
    os        rows_used x T       T x cols_used      rows_used x cols_used
    ws        T x rows_used       rows_used x cols   T x cols_used
    is        rows_used x cols    T x rows_used      cols_used x T
    ========  ==================  =================  =====================
    """
    ru, cu = min(t.rows, t.Sr), min(t.cols, t.Sc)
    if t.dataflow == "os":
        return {"input": ru * t.T, "weight": t.T * cu, "output": ru * cu}
    if t.dataflow == "ws":
        return {"input": t.T * ru, "weight": ru * cu, "output": t.T * cu}
    return {"input": ru * cu, "weight": t.T * ru, "output": cu * t.T}
