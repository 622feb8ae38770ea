"""Run a ``Chain`` numerically from the GConv definitions alone.

Each GConv is evaluated by the semantics in ``gconv.py``; common cases take a fast path through
one PyTorch kernel (``conv2d`` for multiply/sum, ``max_pool2d`` for max), everything else a
general im2col path (``gconv_reference``) that tests check the fast paths against.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal, cast, overload

import torch
import torch.nn.functional as F

from accelscope.errors import ShapeError
from accelscope.workload.gconv import Chain, GConv, PostOp, View, shape4


def prepare_input(x: torch.Tensor, g: GConv) -> torch.Tensor:
    """Insert zeros (input dilation) and pad/crop: the tensor the window slides over."""
    ih, iw = g.input_dilation
    if (ih, iw) != (1, 1):
        n, c, h, w = x.shape
        z = x.new_zeros(n, c, (h - 1) * ih + 1, (w - 1) * iw + 1)
        z[:, :, ::ih, ::iw] = x
        x = z
    pt, pl, pb, pr = g.padding
    if any(g.padding):
        if g.pad_mode == "zeros":
            x = F.pad(x, (pl, pr, pt, pb), value=g.pad_value)
        else:
            x = F.pad(x, (pl, pr, pt, pb), mode=g.pad_mode)
    return x


def _window_count(g: GConv, like: torch.Tensor) -> torch.Tensor:
    """Per output position, the number of window taps inside the (zero-inserted) input
    extended by ``mean_pad``; at least 1, so a window of padding alone averages to 0."""
    pt, pl, pb, pr = g.padding
    mt, ml, mb, mr = g.mean_pad
    dh = (g.H - 1) * g.input_dilation[0] + 1
    dw = (g.W - 1) * g.input_dilation[1] + 1
    h, w = dh + pt + pb, dw + pl + pr
    mask = like.new_zeros(1, 1, h, w)
    mask[:, :, max(pt - mt, 0):min(pt + dh + mb, h), max(pl - ml, 0):min(pl + dw + mr, w)] = 1
    ones = like.new_ones(1, 1, g.R, g.S)
    return F.conv2d(mask, ones, stride=g.stride, dilation=g.dilation).clamp(min=1)


def _apply_post_ops(y: torch.Tensor, post_ops: Sequence[PostOp],
                    params: Mapping[str, torch.Tensor]) -> torch.Tensor:
    for p in post_ops:
        if p.kind in ("scale", "bias"):
            v: torch.Tensor | float
            if p.tensor is not None:
                v = params[p.tensor].to(y.dtype).reshape(1, -1, *([1] * (y.dim() - 2)))
            else:
                v = cast(float, p.value)  # a scale or bias without a tensor has a value
            y = y * v if p.kind == "scale" else y + v
        else:
            y = _ACT[cast(str, p.fn)](y, **dict(p.params))  # an activation names its fn
    return y


_ACT: dict[str, Callable[..., torch.Tensor]] = {
    "relu": lambda y: F.relu(y),
    "clip": lambda y, min, max: torch.clamp(y, min, max),
    "leaky_relu": lambda y, negative_slope: F.leaky_relu(y, negative_slope),
    "silu": lambda y: F.silu(y),
    "hardswish": lambda y: F.hardswish(y),
    "hardsigmoid": lambda y: F.hardsigmoid(y),
    "sigmoid": lambda y: torch.sigmoid(y),
    "gelu": lambda y: F.gelu(y),
    "gelu_tanh": lambda y: F.gelu(y, approximate="tanh"),
    "tanh": lambda y: torch.tanh(y),
    "exp": lambda y: torch.exp(y),
    "reciprocal": lambda y: torch.reciprocal(y),
    "pow": lambda y, exponent: torch.pow(y, exponent),
}


def _operand(g: GConv, params: Mapping[str, torch.Tensor], env: Mapping[str, torch.Tensor],
             dtype: torch.dtype) -> torch.Tensor | None:
    # a weight or tensor operand is named (g.operand is set)
    if g.operand_kind == "weight":
        return params[cast(str, g.operand)].to(dtype)
    if g.operand_kind == "tensor":
        return env[cast(str, g.operand)].reshape(shape4(env[cast(str, g.operand)].shape))
    return None


def gconv_reference(g: GConv, x: torch.Tensor, operand: torch.Tensor | None) -> torch.Tensor:
    """The GConv loop nest by im2col, for any map/reduce combination (no post-ops).

    Memory grows with N*G*K*C*R*S*P*Q: meant for checking and for the rare combinations the
    fast paths do not cover.
    """
    xp = prepare_input(x, g)
    cols = F.unfold(xp, (g.R, g.S), dilation=g.dilation, stride=g.stride)  # N, G*C*R*S, L
    cols = cols.reshape(g.N, g.G, 1, g.C * g.R * g.S, g.P * g.Q)
    # a weight or tensor operand is passed in; a mul or add map has one
    b: torch.Tensor | None
    if g.operand_kind == "weight":
        b = cast(torch.Tensor, operand).reshape(1, g.G, g.K, g.C * g.R * g.S, 1)
    elif g.operand_kind == "tensor":
        b = cast(torch.Tensor, operand).expand(g.N, g.G, g.P, g.Q).reshape(g.N, g.G, 1, 1,
                                                                             g.P * g.Q)
    else:
        b = None
    if g.map_op == "mul":
        m = cols * cast(torch.Tensor, b)
    elif g.map_op == "add":
        m = cols + cast(torch.Tensor, b)
    else:
        m = cols.expand(g.N, g.G, g.K, g.C * g.R * g.S, g.P * g.Q)
    if g.reduce_op == "max":
        y = m.amax(3)
    elif g.reduce_op in ("sum", "mean", "none"):
        y = m.sum(3)
    else:  # pragma: no cover - the checker rejects other ops
        raise ValueError(g.reduce_op)
    y = y.reshape(g.N, g.G * g.K, g.P, g.Q)
    if g.reduce_op == "mean":
        y = y / _window_count(g, x)
    return y


def gconv_fast(g: GConv, x: torch.Tensor, operand: torch.Tensor | None) -> torch.Tensor:
    if g.operand_kind == "tensor":
        t = cast(torch.Tensor, operand)  # a tensor operand is passed in
        return x * t if g.map_op == "mul" else x + t
    if g.map_op == "pass" and g.reduce_op == "none":
        return x
    simple_pad = (g.pad_mode == "zeros" and g.input_dilation == (1, 1) and g.pad_value == 0
                  and g.padding[0] == g.padding[2] and g.padding[1] == g.padding[3]
                  and min(g.padding) >= 0)
    if g.map_op == "mul" and g.reduce_op == "sum" and g.operand_kind == "weight":
        weight = cast(torch.Tensor, operand)  # a weight operand is passed in
        if simple_pad:
            return F.conv2d(x, weight, None, g.stride, (g.padding[0], g.padding[1]),
                            g.dilation, g.G)
        return F.conv2d(prepare_input(x, g), weight, None, g.stride, 0, g.dilation, g.G)
    if g.map_op == "pass" and g.reduce_op == "max":
        pt, pl, pb, pr = g.padding
        if (g.C == 1 and g.K == 1 and g.R * g.S > 1 and g.pad_mode == "zeros"
                and g.input_dilation == (1, 1) and pt == pb and pl == pr
                and g.pad_value == float("-inf") and 0 <= pt <= g.R // 2
                and 0 <= pl <= g.S // 2):
            # PyTorch pads max pooling with -inf itself: skip the padded copy.
            return F.max_pool2d(x, (g.R, g.S), g.stride, (pt, pl), g.dilation)
        xp = prepare_input(x, g)
        if g.C > 1:
            n, _, h, w = xp.shape
            xp = xp.reshape(n, g.G, g.C, h, w).amax(2)
        y = F.max_pool2d(xp, (g.R, g.S), g.stride, 0, g.dilation) if g.R * g.S > 1 else \
            xp[:, :, ::g.stride[0], ::g.stride[1]][:, :, :g.P, :g.Q]
        return y.repeat_interleave(g.K, 1) if g.K > 1 else y
    if g.map_op == "pass" and g.reduce_op in ("sum", "mean"):
        if g.P == 1 and g.Q == 1 and g.R == g.H and g.S == g.W and not any(g.padding) \
                and g.C == 1 and g.K == 1 and g.input_dilation == (1, 1):
            y = x.sum((2, 3), keepdim=True)
            return y / (g.R * g.S) if g.reduce_op == "mean" else y
        ones = x.new_ones(g.G * g.K, g.C, g.R, g.S)
        xp = x if simple_pad else prepare_input(x, g)
        pad = (g.padding[0], g.padding[1]) if simple_pad else 0
        y = F.conv2d(xp, ones, None, g.stride, pad, g.dilation, g.G)
        return y / _window_count(g, x) if g.reduce_op == "mean" else y
    return gconv_reference(g, x, operand)


def run_gconv(g: GConv, x: torch.Tensor, params: Mapping[str, torch.Tensor],
              env: Mapping[str, torch.Tensor] | None = None,
              reference: bool = False) -> torch.Tensor:
    """Evaluate one GConv on its input (any shape whose canonical form is (N, G*C, H, W))."""
    x4 = x.reshape(shape4(x.shape))
    operand = _operand(g, params, env or {}, x.dtype)
    if operand is not None and g.operand_kind == "tensor":
        operand = operand.to(x.dtype)
    y = gconv_reference(g, x4, operand) if reference else gconv_fast(g, x4, operand)
    return _apply_post_ops(y, g.post_ops, params)


def run_view(v: View, xs: Sequence[torch.Tensor]) -> torch.Tensor:
    if v.op == "reshape":
        return xs[0].reshape(v.params)
    if v.op == "permute":
        return xs[0].permute(v.params)
    if v.op == "concat":
        return torch.cat(list(xs), v.params[0])
    if v.op == "slice":
        dim, start, stop, step = v.params
        return xs[0][(slice(None),) * dim + (slice(start, stop, step),)]
    raise ValueError(f"unknown view op {v.op!r}")  # pragma: no cover


@overload
def execute(chain: Chain, inputs: torch.Tensor | Sequence[torch.Tensor], *,
            keep_intermediates: Literal[False] = ..., dtype: torch.dtype | None = ...,
            reference: bool = ..., transform: Any = ...) -> torch.Tensor: ...


@overload
def execute(chain: Chain, inputs: torch.Tensor | Sequence[torch.Tensor], *,
            keep_intermediates: Literal[True], dtype: torch.dtype | None = ...,
            reference: bool = ..., transform: Any = ...
            ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]: ...


def execute(chain: Chain, inputs: torch.Tensor | Sequence[torch.Tensor], *,
            keep_intermediates: bool = False, dtype: torch.dtype | None = None,
            reference: bool = False, transform: Any = None
            ) -> (torch.Tensor | tuple[torch.Tensor, ...]
                  | tuple[torch.Tensor | tuple[torch.Tensor, ...], dict[str, torch.Tensor]]):
    """Run ``chain`` on ``inputs`` and return its output (a tuple if it has several).

    ``keep_intermediates=True`` returns ``(output, tensors)`` where ``tensors`` maps every
    tensor name (inputs included) to its value: the real activations later stages use.
    ``dtype`` (e.g. ``torch.float64``) casts inputs and parameters first. ``reference=True``
    evaluates every GConv by the general im2col path instead of the fast kernels.
    ``transform(name, tensor) -> tensor``, when given, replaces every tensor a node produces
    before later nodes read it (a feature-map codec in the loop, for instance).
    """
    if isinstance(inputs, torch.Tensor):
        inputs = (inputs,)
    if not isinstance(inputs, Sequence):
        raise ShapeError(f"execute: the inputs of chain {chain.name!r} are a torch.Tensor or a "
                         f"sequence of them, got {type(inputs).__name__}")
    inputs = tuple(inputs)
    if dtype is not None and not (isinstance(dtype, torch.dtype) and dtype.is_floating_point):
        raise ShapeError(f"execute: dtype must be a floating-point torch dtype (torch.float32, "
                         f"torch.float64), got {dtype}")
    if len(inputs) != len(chain.inputs):
        raise ShapeError(f"chain {chain.name!r} takes {len(chain.inputs)} input(s) "
                         f"{list(chain.inputs)}, got {len(inputs)}")
    env: dict[str, torch.Tensor] = {}
    device = next((p.device for p in chain.params.values()), torch.device("cpu"))
    for name, value in zip(chain.inputs, inputs, strict=True):
        if not isinstance(value, torch.Tensor):
            raise ShapeError(f"input {name!r} of chain {chain.name!r} must be a torch.Tensor, "
                             f"got {type(value).__name__}; convert it with torch.as_tensor")
        if not value.is_floating_point():
            raise ShapeError(f"input {name!r} of chain {chain.name!r} is a {value.dtype} "
                             "tensor; the chain computes in floating point (its weights are "
                             "float): pass x.float() (or dtype=torch.float64)")
        if value.device != device:
            raise ShapeError(f"input {name!r} of chain {chain.name!r} is on device "
                             f"{value.device}, the chain's weights on {device}; move it with "
                             f"x.to({str(device)!r})")
        want = chain.tensors[name].shape
        if tuple(value.shape) != tuple(want):
            raise ShapeError(f"input {name!r} of chain {chain.name!r} must have shape "
                             f"{tuple(want)}, got {tuple(value.shape)}; lower the network again "
                             "with this input shape (accelscope lower ... --input-shape)")
        env[name] = value.to(dtype) if dtype is not None else value
    work_dtype = env[chain.inputs[0]].dtype if chain.inputs else torch.float32
    params = {k: (v.to(work_dtype) if v.is_floating_point() else v)
              for k, v in chain.params.items()}
    remaining = {t: len(info.consumers) for t, info in chain.tensors.items()}
    keep = set(chain.outputs)
    with torch.no_grad():
        for node in chain.nodes:
            if isinstance(node, GConv):
                y = run_gconv(node, env[node.input], params, env, reference)
                ins: tuple[str, ...] = (node.input, cast(str, node.operand)) \
                    if node.operand_kind == "tensor" else (node.input,)  # a tensor is named
            else:
                y = run_view(node, [env[t] for t in node.inputs])
                ins = node.inputs
            y = y.reshape(chain.tensors[node.output].shape)
            if transform is not None:
                y = transform(node.output, y)
            env[node.output] = y
            if not keep_intermediates:
                for t in ins:
                    remaining[t] -= 1
                    if remaining[t] <= 0 and t not in keep:
                        env.pop(t, None)
    outs = tuple(env[t] for t in chain.outputs)
    out = outs[0] if len(outs) == 1 else outs
    if keep_intermediates:
        return out, env
    return out


def relative_error(got: torch.Tensor, want: torch.Tensor) -> float:
    """max |got - want| / max |want| (0 for two zero tensors)."""
    got, want = got.double(), want.double()
    scale = want.abs().max().item()
    err = (got - want).abs().max().item()
    if scale == 0:
        return err
    return err / scale if math.isfinite(err) else math.inf
