"""Fusion along the chain: point-wise GConvs become post-ops of their producer.

A pass-through point-wise GConv (standalone activation, scalar scale/shift) or a per-channel
affine GConv (batch-norm) whose input has no other consumer is merged into the GConv that
produces that input. A per-channel affine that follows a multiply/sum GConv with static
weights and no post-op other than a bias is folded into the weights and bias (batch-norm
folding); otherwise it becomes ``scale``/``bias`` post-ops. Numerics are unchanged up to
floating-point rounding.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, cast

import torch

from accelscope.workload.gconv import Chain, GConv, Node, PostOp


def _is_pointwise(g: GConv) -> bool:
    return g.map_op == "pass" and g.reduce_op == "none" and g.operand_kind == "none"


def _is_channel_affine(g: GConv) -> bool:
    return (g.map_op == "mul" and g.operand_kind == "weight" and g.K == 1 and g.C == 1
            and g.R == 1 and g.S == 1 and g.stride == (1, 1) and not any(g.padding)
            and g.input_dilation == (1, 1)
            and all(p.kind == "bias" for p in g.post_ops))


def _foldable_into_weights(p: GConv) -> bool:
    return (p.map_op == "mul" and p.reduce_op == "sum" and p.operand_kind == "weight"
            and all(op.kind == "bias" for op in p.post_ops))


def _merge(p: GConv, g: GConv, params: dict[str, torch.Tensor]) -> GConv:
    label: dict[str, Any] = dict(origin_op=f"{p.origin_op}+{g.origin_op}",
                                 module_path=f"{p.module_path}+{g.module_path}", output=g.output)
    if _is_pointwise(g):
        return replace(p, post_ops=p.post_ops + g.post_ops, **label)
    scale = params[cast(str, g.operand)].reshape(-1)  # a channel affine has a weight
    if _foldable_into_weights(p):
        w = params[cast(str, p.operand)]  # foldable: p has a weight operand
        w_new = w * scale.to(w.dtype).reshape(-1, 1, 1, 1)
        wname = f"{p.name}_wfold"
        params[wname] = w_new
        post: list[PostOp] = []
        bias: torch.Tensor | None = None
        for op in p.post_ops:  # all bias: sum them into one per-channel vector
            v = params[op.tensor] if op.tensor is not None else torch.tensor(op.value)
            bias = v if bias is None else bias + v
        if bias is not None:
            bias = (bias * scale).to(w.dtype).expand(p.G * p.K).clone()
        for op in g.post_ops:
            v = params[op.tensor] if op.tensor is not None else torch.tensor(op.value)
            bias = v if bias is None else bias + v
        if bias is not None:
            bname = f"{p.name}_bfold"
            params[bname] = bias.to(w.dtype).expand(p.G * p.K).clone()
            post.append(PostOp("bias", tensor=bname))
        return replace(p, operand=wname, post_ops=tuple(post), **label)
    sname = f"{p.name}_{g.name}_scale"
    params[sname] = scale.clone()
    return replace(p, post_ops=p.post_ops + (PostOp("scale", tensor=sname),) + g.post_ops,
                   **label)


def fuse(chain: Chain) -> Chain:
    """Return a chain with point-wise and per-channel GConvs fused into their producers."""
    params = dict(chain.params)
    nodes: list[Node | None] = list(chain.nodes)
    index = {n.output: i for i, n in enumerate(chain.nodes)}
    consumers = {t: len(info.consumers) for t, info in chain.tensors.items()}
    protected = set(chain.outputs) | set(chain.inputs)
    removed: set[str] = set()
    for i, g in enumerate(list(nodes)):
        if not isinstance(g, GConv) or not (_is_pointwise(g) or _is_channel_affine(g)):
            continue
        if g.input in protected or consumers.get(g.input, 0) != 1 or g.input not in index:
            continue
        j = index[g.input]
        p = nodes[j]
        if not isinstance(p, GConv):
            continue
        nodes[j] = _merge(p, g, params)
        nodes[i] = None
        removed.add(g.input)
        index[g.output] = j
    kept = [n for n in nodes if n is not None]
    shapes = {t: info.shape for t, info in chain.tensors.items() if t not in removed}
    return Chain.build(chain.name, kept, shapes, chain.inputs, chain.outputs, params,
                       chain.source)
