"""Counting shared by the row-stationary model and the comparison dataflows: a GConv in the
paper's letters, the real (unpadded, not zero-inserted) rows a strip reads, and the per-word
energies of the Eyeriss table."""

from __future__ import annotations

import numpy as np

from accelscope.energy import EnergyTable
from accelscope.workload.gconv import GConv


def shape(g: GConv) -> dict[str, int]:
    """The group's dimensions in the paper's letters."""
    return {"N": g.N, "M": g.K, "C": g.C, "E": g.P, "F": g.Q, "R": g.R, "S": g.S,
            "Uh": g.stride[0], "Uw": g.stride[1], "G": g.G,
            "W_in": (g.Q - 1) * g.stride[1] + (g.S - 1) * g.dilation[1] + 1,
            "span_r": (g.R - 1) * g.dilation[0] + 1, "span_s": (g.S - 1) * g.dilation[1] + 1}


def real_count(lo: int | np.ndarray, hi: int | np.ndarray, start: int, n: int, step: int
                ) -> np.ndarray:
    """How many of the real positions start, start + step, ..., start + (n-1)*step lie in
    [lo, hi) (arrays of ranges): inserted zeros and padding are not real."""
    lo_k = np.maximum(-(-(np.asarray(lo) - start) // step), 0)
    hi_k = np.minimum(-(-(np.asarray(hi) - start) // step), n)
    count: np.ndarray = np.clip(hi_k - lo_k, 0, None)
    return count


def real_rows(g: GConv, R: int) -> np.ndarray:
    """For every strip height e (index), the rows of the real input (no padding, no inserted
    zeros) that all strips of a layer read together, strips overlapping by R - stride rows
    (R: the window's span in rows)."""
    E, Uh, top, H, di = g.P, g.stride[0], g.padding[0], g.H, g.input_dilation[0]
    out = np.zeros(E + 1, dtype=np.int64)
    for e in range(1, E + 1):
        lo = np.arange(0, E, e) * Uh  # first padded row of each strip
        hi = lo + (np.minimum(e, E - np.arange(0, E, e)) - 1) * Uh + R
        out[e] = int(real_count(lo, hi, top, H, di).sum())
    return out


def word_energies(table: EnergyTable, bits: int) -> dict[str, float]:
    """Per-word energies of the Eyeriss table at ``bits``-wide words (memory scales with
    width, the MAC does not)."""
    scale = bits / 16
    return {"mac": table.lookup("mac_16b").value,
            "rf": table.lookup("rf_16b").value * scale,
            "array": table.lookup("array_16b").value * scale,
            "glb": table.lookup("glb_16b").value * scale,
            "dram": table.lookup("dram_16b").value * scale}
