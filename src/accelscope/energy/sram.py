"""SRAM energy per access as a function of capacity and access width, at 45 nm.

The model is a power law in capacity with energy linear in width::

    E_access_pj = width_bits * a * (capacity_bytes / 1024) ** b

``a`` is the energy per bit of a 1 KiB array and ``b`` says how fast the per-bit energy grows
with capacity (longer word and bit lines, deeper decoders, more H-tree wire). ``a`` and ``b`` are
fitted by least squares on ``log(E / width)`` against ``log(capacity)`` over
``SRAM_FIT_POINTS``; ``fit_sram_model(SRAM_FIT_POINTS)`` reproduces the stored constants.

Scaling to other technology nodes lives in ``energy.tables`` (``sram_access_pj``), which
multiplies this 45 nm model by the logic scaling factor of the target node.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import cast

import numpy as np

from accelscope.errors import AccelscopeError

HOROWITZ_2014 = (
    'M. Horowitz, "Computing\'s energy problem (and what we can do about it)", '
    "ISSCC 2014, Fig. 1.1.9 (45 nm, 0.9 V)"
)
SPARSELOOP_EYERISS_ERT = (
    "Sparseloop MICRO'22 artifact, Eyeriss setup, 45 nm ERT "
    "(Accelergy-Project/micro22-sparseloop-artifact: "
    "table7_eyeriss_setup/ert_art/ERT_summary.yaml), as recorded in "
    "shared/references/spots_scnn_eyeriss.md"
)

#: Capacity (bytes) the coefficient ``a`` refers to.
SRAM_REFERENCE_CAPACITY_BYTES = 1024
#: Node (nm) the fitted coefficients describe.
SRAM_FIT_NODE_NM = 45


class SramModelError(AccelscopeError):
    """Bad input to the SRAM energy model (non-positive capacity or width, too few points)."""


@dataclass(frozen=True)
class SramPoint:
    """One published SRAM access energy: the array, the access width and the energy."""

    capacity_bytes: float
    width_bits: int
    energy_pj: float
    citation: str
    note: str = ""

    @property
    def pj_per_bit(self) -> float:
        return self.energy_pj / self.width_bits


@dataclass(frozen=True)
class SramFit:
    """Coefficients of ``E = width_bits * a * (capacity_bytes / 1024) ** b``."""

    a_pj_per_bit: float
    b_exponent: float

    def access_pj(self, capacity_bytes: float, width_bits: float) -> float:
        _check_positive(capacity_bytes, width_bits)
        scale = capacity_bytes / SRAM_REFERENCE_CAPACITY_BYTES
        # float ** float is typed Any
        return cast(float, width_bits * self.a_pj_per_bit * scale**self.b_exponent)

    def relative_errors(self, points: Sequence[SramPoint]) -> list[float]:
        """``model / published - 1`` for each point, in order."""
        return [self.access_pj(p.capacity_bytes, p.width_bits) / p.energy_pj - 1.0 for p in points]


#: The data the stored coefficients were fitted on (all 45 nm).
SRAM_FIT_POINTS: tuple[SramPoint, ...] = (
    SramPoint(8 * 1024, 64, 10.0, HOROWITZ_2014, "8 KB cache, 64-bit access"),
    SramPoint(32 * 1024, 64, 20.0, HOROWITZ_2014, "32 KB cache, 64-bit access"),
    SramPoint(1024 * 1024, 64, 100.0, HOROWITZ_2014, "1 MB cache, 64-bit access"),
    SramPoint(
        224 * 2,
        16,
        0.710,
        SPARSELOOP_EYERISS_ERT,
        "Eyeriss weight scratchpad, 224 x 16-bit SRAM (448 B), read energy per 16-bit word "
        "(a CACTI-style estimate, not a measurement)",
    ),
)

#: Fitted coefficients (reproduced by ``fit_sram_model(SRAM_FIT_POINTS)``).
SRAM_FIT = SramFit(a_pj_per_bit=0.0630426683659063, b_exponent=0.460733631430662)

#: Largest ``|model / published - 1|`` over ``SRAM_FIT_POINTS`` (the 8 KB point, +5.2 %),
#: rounded up. Outside 448 B .. 1 MiB the model extrapolates.
SRAM_FIT_MAX_REL_ERROR = 0.06
SRAM_FIT_RANGE_BYTES = (448, 1024 * 1024)


def fit_sram_model(points: Sequence[SramPoint]) -> SramFit:
    """Least-squares fit of ``log(E / width) = log(a) + b * log(capacity / 1024)``.

    Needs at least two points with different capacities.
    """
    if len({p.capacity_bytes for p in points}) < 2:
        raise SramModelError(
            f"fit_sram_model needs points at two or more capacities, got {len(points)} "
            "point(s); add published SRAM energies at other sizes"
        )
    for p in points:
        _check_positive(p.capacity_bytes, p.width_bits)
        if p.energy_pj <= 0:
            raise SramModelError(f"SRAM point {p!r} has a non-positive energy; fix the data")
    x = np.log([p.capacity_bytes / SRAM_REFERENCE_CAPACITY_BYTES for p in points])
    y = np.log([p.pj_per_bit for p in points])
    design = np.column_stack([np.ones_like(x), x])
    (log_a, b), *_ = np.linalg.lstsq(design, y, rcond=None)
    return SramFit(a_pj_per_bit=float(math.exp(log_a)), b_exponent=float(b))


def sram_access_pj_45nm(capacity_bytes: float, width_bits: float) -> float:
    """Energy (pJ) of one ``width_bits`` access to an SRAM of ``capacity_bytes`` at 45 nm."""
    return SRAM_FIT.access_pj(capacity_bytes, width_bits)


def _check_positive(capacity_bytes: float, width_bits: float) -> None:
    if not capacity_bytes > 0 or not width_bits > 0:
        raise SramModelError(
            f"SRAM capacity_bytes={capacity_bytes!r} and width_bits={width_bits!r} must both "
            "be positive; pass the array size in bytes and the access width in bits"
        )
