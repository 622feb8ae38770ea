"""Density of real tensors (per tensor, per channel, per block) and statistical density models.

Measured densities describe the tensors a network really produces; the statistical models
(``UniformDensity``: every element non-zero independently; ``NMDensity``: exactly N non-zeros
in every group of M) stand in for them in sweeps, and give exact expectations of the counts
sparse accelerators round up (``expected_ceil_div``: E[ceil(X / k)] for a binomial X).

Weight matrices follow the GEMM convention of the systolic models: a conv weight
(K_total, C, R, S) is viewed as the (K_total, R*S*C) filter matrix with the input channel
varying fastest (``weight_matrix``), so that a block spans consecutive input channels at one
kernel position, as an IM2COL row does.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from accelscope.errors import AccelscopeError


class DensityError(AccelscopeError):
    """A density outside [0, 1], an impossible block or N:M pattern."""


def _t(x: Any) -> torch.Tensor:
    return x if isinstance(x, torch.Tensor) else torch.as_tensor(np.asarray(x))


def check_density(d: float, where: str = "density") -> float:
    d = float(d)
    if not 0.0 <= d <= 1.0 or math.isnan(d):
        raise DensityError(f"{where} must be in [0, 1], got {d}")
    return d


def density(x: Any) -> float:
    """Fraction of non-zero elements (1.0 for an empty tensor)."""
    t = _t(x)
    return float(torch.count_nonzero(t)) / t.numel() if t.numel() else 1.0


def density_per_channel(x: Any, dim: int = 1) -> np.ndarray:
    """Density of every slice along ``dim`` (dim 1 = channels of an NCHW activation; use
    dim 0 for the output channels of a weight)."""
    t = _t(x)
    if not -t.dim() <= dim < t.dim():
        raise DensityError(f"dim {dim} out of range for a tensor of shape {tuple(t.shape)}")
    moved = t.movedim(dim, 0).reshape(t.shape[dim], -1)
    n = max(moved.shape[1], 1)
    return (torch.count_nonzero(moved, dim=1).double() / n).numpy()


def weight_matrix(w: Any) -> torch.Tensor:
    """A weight of shape (K, C, R, S) (or (K, C) for FC) as the (K, R*S*C) filter matrix,
    input channel fastest."""
    t = _t(w)
    if t.dim() == 2:
        return t
    if t.dim() != 4:
        raise DensityError(f"a weight must be 2-D (K, C) or 4-D (K, C, R, S), got shape "
                           f"{tuple(t.shape)}")
    return t.permute(0, 2, 3, 1).reshape(t.shape[0], -1)


def from_weight_matrix(m: torch.Tensor, shape: tuple[int, ...]) -> torch.Tensor:
    """Inverse of :func:`weight_matrix` for a weight of ``shape``."""
    if len(shape) == 2:
        return m.reshape(shape)
    k, c, r, s = shape
    return m.reshape(k, r, s, c).permute(0, 3, 1, 2).contiguous()


def block_view(m: torch.Tensor, block: tuple[int, int]) -> torch.Tensor:
    """A 2-D tensor zero-padded to whole blocks and viewed as (rows_b, cols_b, bh, bw)."""
    bh, bw = block
    if bh < 1 or bw < 1:
        raise DensityError(f"block sizes must be >= 1, got {bh}x{bw}")
    if m.dim() != 2:
        raise DensityError(f"block_view needs a 2-D tensor, got shape {tuple(m.shape)}")
    rows, cols = m.shape
    rb, cb = -(-rows // bh), -(-cols // bw)
    padded = torch.nn.functional.pad(m, (0, cb * bw - cols, 0, rb * bh - rows))
    return padded.reshape(rb, bh, cb, bw).permute(0, 2, 1, 3)


def density_per_block(m: Any, block: tuple[int, int]) -> np.ndarray:
    """Density of every ``bh x bw`` block of a 2-D tensor (edge blocks over their real
    elements). ``(density_per_block(...) == 0).mean()`` is the fraction of all-zero blocks."""
    t = _t(m)
    blocks = block_view(t, block)
    ones = block_view(torch.ones_like(t, dtype=torch.float64), block)
    nnz = torch.count_nonzero(blocks, dim=(2, 3)).double()
    return (nnz / ones.sum(dim=(2, 3))).numpy()


@dataclass(frozen=True)
class UniformDensity:
    """Every element non-zero independently with probability ``density``."""

    density: float

    def __post_init__(self) -> None:
        check_density(self.density)

    def expected_nnz(self, numel: int) -> float:
        return numel * self.density

    def prob_all_zero(self, elems: int) -> float:
        """Probability that a group of ``elems`` elements is entirely zero."""
        return (1.0 - self.density) ** elems

    def sample(self, shape: tuple[int, ...], seed: int = 0) -> torch.Tensor:
        """A boolean non-zero mask of ``shape`` with exactly round(density * numel) ones
        at uniformly random positions."""
        n = math.prod(shape)
        g = torch.Generator().manual_seed(seed)
        mask = torch.zeros(n, dtype=torch.bool)
        mask[torch.randperm(n, generator=g)[: round(self.density * n)]] = True
        return mask.reshape(shape)


@dataclass(frozen=True)
class NMDensity:
    """Exactly ``n`` non-zeros in every group of ``m`` consecutive elements of the last axis."""

    n: int
    m: int

    def __post_init__(self) -> None:
        if not 0 <= self.n <= self.m or self.m < 1:
            raise DensityError(f"N:M needs 0 <= N <= M and M >= 1, got {self.n}:{self.m}")

    @property
    def density(self) -> float:
        return self.n / self.m

    def expected_nnz(self, numel: int) -> float:
        return numel * self.density

    def prob_all_zero(self, elems: int) -> float:
        """Probability that ``elems`` consecutive elements inside one group are all zero
        (hypergeometric), 0 when they span a whole group and n > 0."""
        if elems > self.m:
            return 0.0 if self.n else 1.0
        return math.comb(self.m - elems, self.n) / math.comb(self.m, self.n)

    def sample(self, shape: tuple[int, ...], seed: int = 0) -> torch.Tensor:
        if not shape or shape[-1] % self.m:
            raise DensityError(f"the last axis of {shape} is not a multiple of M={self.m}")
        g = torch.Generator().manual_seed(seed)
        groups = math.prod(shape) // self.m
        order = torch.rand(groups, self.m, generator=g).argsort(dim=1)
        mask = order < self.n
        return mask.reshape(shape)


def expected_ceil_div(n: int, p: float, k: int) -> float:
    """E[ceil(X / k)] for X ~ Binomial(n, p), exactly (the pmf summed in float64)."""
    if k < 1:
        raise DensityError(f"k must be >= 1, got {k}")
    check_density(p, "p")
    if n <= 0:
        return 0.0
    if p in (0.0, 1.0):
        return float(-(-round(n * p) // k))
    x = torch.arange(n + 1, dtype=torch.float64)
    logpmf = (torch.lgamma(torch.tensor(n + 1.0, dtype=torch.float64)) - torch.lgamma(x + 1)
              - torch.lgamma(n - x + 1) + x * math.log(p) + (n - x) * math.log1p(-p))
    return float((torch.exp(logpmf) * torch.ceil(x / k)).sum())
