"""Weight pruning of a lowered chain: unstructured magnitude (per layer or one global
threshold), block / group-wise, filter (channel) and N:M.

Only the static weights of multiply-and-sum GConvs (convolutions, FC, depthwise, transposed)
are pruned; biases, folded batch-norm scales and activations are never touched. Pruning is
one-shot and without retraining, as in the simulators' own studies: the network's accuracy
changes, its shapes do not.

Spec grammar (``parse_prune_spec``), one method then optional per-layer overrides::

    magnitude:D            every layer keeps the fraction D of its weights with largest |w|
    global:D               one |w| threshold across all pruned layers; D of all their weights kept
    block:BKxBX:D          blocks of BK filters x BX consecutive (R*S*C) positions of the filter
                           matrix (input channel fastest); each layer keeps the D fraction of
                           blocks with the largest mean square (BKx1 = SPOTS-style group-wise)
    channel:D              each layer keeps the D fraction of its filters (largest L2 norm)
    nm:N:M                 keep the N largest |w| of every M consecutive input channels at each
                           (filter, kernel position); layers whose C is not a multiple of M stay
                           dense (reported)
    ...,GLOB=D             override: GConvs whose name or module path (or one of the modules
                           fused into it) matches GLOB keep D
                           (``dense`` = 1) with the same method (per-layer magnitude for
                           ``global``; only ``dense`` for ``nm``). Every GLOB must match.

D is the density kept (0.3 keeps 30 % of the weights), so ``magnitude:0.3`` is 70 % sparsity.
A bare number is the other way round, the fraction pruned away: ``0.7`` = ``magnitude:0.3``.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import re
from collections.abc import Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Literal, cast

import torch

from accelscope.errors import AccelscopeError
from accelscope.sparsity.density import (
    block_view,
    density,
    from_weight_matrix,
    weight_matrix,
)
from accelscope.workload.gconv import Chain, GConv

Method = Literal["magnitude", "global", "block", "channel", "nm"]


class PruneSpecError(AccelscopeError):
    """A pruning spec that does not parse, or names no layer."""


@dataclass(frozen=True)
class PruneSpec:
    method: Method
    density: float = 1.0
    block: tuple[int, int] = (1, 1)
    n: int = 0
    m: int = 0
    overrides: tuple[tuple[str, float], ...] = ()
    text: str = ""


@dataclass(frozen=True)
class LayerPrune:
    """What pruning did to one weight: target and achieved density, and why not if skipped."""

    gconv: str
    param: str
    method: str
    target: float
    before: float
    after: float
    note: str = ""


@dataclass(frozen=True)
class PruneResult:
    chain: Chain
    spec: PruneSpec
    layers: tuple[LayerPrune, ...]

    @property
    def density(self) -> float:
        """Density over all pruned weights (element-weighted)."""
        sizes = {lp.param: self.chain.params[lp.param].numel() for lp in self.layers}
        total = sum(sizes.values())
        return sum(lp.after * sizes[lp.param] for lp in self.layers) / total if total else 1.0

    def warnings(self) -> list[str]:
        return [f"{lp.gconv}: {lp.note}" for lp in self.layers if lp.note]


_D = r"(\d*\.?\d+(?:[eE][-+]?\d+)?|dense)"
_METHODS = {
    "magnitude": re.compile(rf"magnitude:{_D}$"),
    "global": re.compile(rf"global:{_D}$"),
    "block": re.compile(rf"block:(\d+)x(\d+):{_D}$"),
    "channel": re.compile(rf"channel:{_D}$"),
    "nm": re.compile(r"nm:(\d+):(\d+)$"),
}
_HELP = ("expected one of magnitude:D, global:D, block:BKxBX:D, channel:D, nm:N:M, then "
         "optional ,GLOB=D overrides, with D a density in [0, 1] or 'dense' (docs/sparsity.md)")


def _density(text: str, token: str) -> float:
    if text == "dense":
        return 1.0
    d = float(text)
    if not 0.0 <= d <= 1.0:
        raise PruneSpecError(f"prune spec token {token!r}: density {d} is not in [0, 1] "
                             "(it is the fraction of weights kept)")
    return d


def parse_prune_spec(text: str) -> PruneSpec:
    """Parse ``METHOD[,GLOB=D]...`` (see the module docstring); errors name the bad token."""
    tokens = [t.strip() for t in str(text).split(",")]
    head, rest = tokens[0], tokens[1:]
    if re.fullmatch(r"\d*\.?\d+", head):  # "--prune 0.7": the fraction pruned away
        sparsity = float(head)
        if not 0.0 <= sparsity <= 1.0:
            raise PruneSpecError(f"prune spec token {head!r}: a bare number is the fraction "
                                 f"of weights pruned away and must be in [0, 1]")
        head = f"magnitude:{round(1.0 - sparsity, 12):g}"
    found = next(((name, rx.match(head)) for name, rx in _METHODS.items() if rx.match(head)),
                 None)
    if found is None:
        raise PruneSpecError(f"prune spec {text!r}: cannot parse {head!r}; {_HELP}")
    method, mt = found
    assert mt is not None  # found only where rx.match(head) matched
    g = mt.groups()
    kw: dict[str, Any] = {}
    if method in ("magnitude", "global", "channel"):
        kw["density"] = _density(g[0], head)
    elif method == "block":
        bk, bx = int(g[0]), int(g[1])
        if bk < 1 or bx < 1:
            raise PruneSpecError(f"prune spec token {head!r}: block sizes must be >= 1")
        kw |= {"block": (bk, bx), "density": _density(g[2], head)}
    else:
        n, m = int(g[0]), int(g[1])
        if not 0 < n <= m:
            raise PruneSpecError(f"prune spec token {head!r}: N:M needs 0 < N <= M")
        kw |= {"n": n, "m": m, "density": n / m}
    overrides = []
    for tok in rest:
        if "=" not in tok or not tok.split("=", 1)[0].strip():
            raise PruneSpecError(f"prune spec {text!r}: override {tok!r} is not GLOB=D; {_HELP}")
        glob, val = (s.strip() for s in tok.split("=", 1))
        if not re.fullmatch(_D, val):
            raise PruneSpecError(f"prune spec {text!r}: override {tok!r}: {val!r} is not a "
                                 "density in [0, 1] or 'dense'")
        d = _density(val, tok)
        if method == "nm" and d != 1.0:
            raise PruneSpecError(f"prune spec {text!r}: override {tok!r}: an nm spec can only "
                                 "leave layers dense (GLOB=dense)")
        overrides.append((glob, d))
    return PruneSpec(method=cast(Method, method), overrides=tuple(overrides), text=str(text),
                     **kw)


def prunable(g: GConv) -> bool:
    """Whether a GConv's operand is a weight that pruning may change."""
    return (g.operand_kind == "weight" and g.map_op == "mul" and g.reduce_op == "sum"
            and not (g.C * g.R * g.S == 1 and g.K == 1))


# -- the pruning kernels (each returns a boolean keep-mask of the weight's shape) -----------
def _keep_top(scores: torch.Tensor, keep: int) -> torch.Tensor:
    mask = torch.zeros(scores.numel(), dtype=torch.bool)
    if keep > 0:
        mask[torch.topk(scores.flatten().double(), keep, sorted=False).indices] = True
    return mask.reshape(scores.shape)


def magnitude_mask(w: torch.Tensor, d: float) -> torch.Tensor:
    return _keep_top(w.abs(), round(d * w.numel()))


def block_mask(w: torch.Tensor, d: float, block: tuple[int, int]) -> torch.Tensor:
    m = weight_matrix(w.reshape(w.shape[0], -1) if w.dim() not in (2, 4) else w)
    sq = block_view(m.double() ** 2, block)
    ones = block_view(torch.ones_like(m, dtype=torch.float64), block)
    score = sq.sum(dim=(2, 3)) / ones.sum(dim=(2, 3))  # mean square over the real elements
    keep = _keep_top(score, round(d * score.numel()))
    bh, bw = block
    full = keep[:, :, None, None].expand(-1, -1, bh, bw).permute(0, 2, 1, 3)
    full = full.reshape(keep.shape[0] * bh, keep.shape[1] * bw)[: m.shape[0], : m.shape[1]]
    return from_weight_matrix(full, tuple(w.shape)) if w.dim() in (2, 4) else full.reshape(
        w.shape)


def nm_mask(w: torch.Tensor, n: int, m: int) -> torch.Tensor:
    """Keep the n largest |w| in every m consecutive input channels (w is (K, C, R, S))."""
    k, c = w.shape[0], w.shape[1]
    mat = w.permute(0, 2, 3, 1) if w.dim() == 4 else w  # (..., C) with C last
    groups = mat.abs().reshape(-1, c // m, m)
    idx = torch.topk(groups, n, dim=-1).indices
    keep = torch.zeros_like(groups, dtype=torch.bool).scatter_(-1, idx, True)
    keep = keep.reshape(mat.shape)
    return keep.permute(0, 3, 1, 2) if w.dim() == 4 else keep.reshape(k, c)


def _w4(g: GConv, w: torch.Tensor) -> torch.Tensor:
    return w.reshape(g.G * g.K, g.C, g.R, g.S)


def prune(chain: Chain, spec: PruneSpec | str) -> PruneResult:
    """Prune the weights of ``chain`` by ``spec``; the chain's shapes are unchanged."""
    spec = parse_prune_spec(spec) if isinstance(spec, str) else spec
    targets: dict[str, tuple[GConv, float, bool]] = {}  # param -> gconv, density, overridden
    used_globs: set[str] = set()
    for g in chain.gconvs:
        if not prunable(g) or g.operand in targets:
            continue
        d, over = spec.density, False
        for glob, od in spec.overrides:
            names = (g.name, g.module_path, *g.module_path.split("+"))
            if any(fnmatch.fnmatchcase(n, glob) for n in names):
                d, over = od, True
                used_globs.add(glob)
        targets[cast(str, g.operand)] = (g, d, over)  # a prunable GConv has a weight
    unused = [glob for glob, _ in spec.overrides if glob not in used_globs]
    if unused:
        layer_names = ", ".join(g.name for g, _, _ in targets.values())
        raise PruneSpecError(f"prune spec {spec.text!r}: override {unused[0]!r} matches no "
                             f"prunable layer of {chain.name}; they are: {layer_names}")
    if not targets:
        raise PruneSpecError(f"{chain.name} has no prunable weights (no convolution or FC)")

    params = dict(chain.params)
    masks: dict[str, torch.Tensor] = {}
    notes: dict[str, str] = {}
    if spec.method == "global":
        pool = [p for p, (_, _, over) in targets.items() if not over]
        if pool:
            flat = torch.cat([params[p].detach().abs().flatten().double() for p in pool])
            keep = _keep_top(flat, round(spec.density * flat.numel()))
            start = 0
            for p in pool:
                n = params[p].numel()
                masks[p] = keep[start:start + n].reshape(params[p].shape)
                start += n
    for p, (g, d, _) in targets.items():
        if p in masks:
            continue
        w = _w4(g, params[p].detach())
        if d >= 1.0:
            masks[p] = torch.ones_like(w, dtype=torch.bool)
        elif spec.method in ("magnitude", "global"):
            masks[p] = magnitude_mask(w, d)
        elif spec.method == "block":
            masks[p] = block_mask(w, d, spec.block)
        elif spec.method == "channel":
            masks[p] = block_mask(w, d, (1, g.C * g.R * g.S))
        else:  # nm
            if g.C % spec.m:
                masks[p] = torch.ones_like(w, dtype=torch.bool)
                notes[p] = (f"left dense: {g.C} input channels per group is not a multiple "
                            f"of M={spec.m}")
            else:
                masks[p] = nm_mask(w, spec.n, spec.m)
    layers = []
    for p, (g, d, _) in targets.items():
        old = params[p]
        new = old * masks[p].reshape(old.shape).to(old.dtype)
        params[p] = new
        layers.append(LayerPrune(g.name, p, spec.method, d, density(old), density(new),
                                 notes.get(p, "")))
    pruned = dataclasses.replace(chain, params=MappingProxyType(params))
    return PruneResult(pruned, spec, tuple(layers))


def prune_chain(chain: Chain, spec: PruneSpec | str) -> Chain:
    """``prune(chain, spec).chain``: the chain with pruned weights."""
    return prune(chain, spec).chain


def prune_report(result: PruneResult) -> Sequence[dict[str, Any]]:
    """One row per pruned weight (for tables and CSV)."""
    return [dataclasses.asdict(lp) for lp in result.layers]
