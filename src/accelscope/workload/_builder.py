"""Emit GConv and View nodes for framework operators. Shared by the PyTorch and ONNX front ends.

Each method takes tensor names (already in the builder), computes the output shape from the
GConv formulas, appends the node(s) and returns the output tensor name. The lowering rules
(how each layer becomes one or more GConvs) live here and only here.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch

from accelscope.errors import ShapeError, UnsupportedOpError
from accelscope.workload.gconv import (
    Chain,
    GConv,
    PostOp,
    View,
    ViewOp,
    act,
    conv_out_size,
    shape4,
)


@dataclass(frozen=True)
class Origin:
    """Where a node came from: a name hint, the framework op and the module path / node name."""

    name: str
    op: str
    path: str = ""

    def where(self) -> str:
        return f"{self.op} at {self.path or self.name}"


def pool_extra_pad(size: int, k: int, stride: int, pad: int, dilation: int,
                   ceil_mode: bool) -> tuple[int, int]:
    """Output length of a pooling window and the extra high-side padding ceil_mode needs.

    Follows PyTorch: with ``ceil_mode`` the last window may overhang the right/bottom edge
    but must start inside the input or its left padding.
    """
    span = size + 2 * pad - dilation * (k - 1) - 1
    if span < 0:
        raise ShapeError(f"pooling window {k} (dilation {dilation}) is larger than the padded "
                         f"input ({size} + 2*{pad})")
    if ceil_mode:
        out = -(-span // stride) + 1
        if (out - 1) * stride >= size + pad:
            out -= 1
    else:
        out = span // stride + 1
    extra = max(0, (out - 1) * stride + dilation * (k - 1) + 1 - (size + 2 * pad))
    return out, extra


class ChainBuilder:
    """Accumulates nodes, tensor shapes and parameters; ``finish`` returns the ``Chain``."""

    def __init__(self, name: str, source: str):
        self.name = name
        self.source = source
        self.nodes: list[GConv | View] = []
        self.shapes: dict[str, tuple[int, ...]] = {}
        self.params: dict[str, torch.Tensor] = {}
        self.inputs: list[str] = []
        self._used: set[str] = set()

    # -- names, tensors, parameters --------------------------------------------------------
    def unique(self, hint: str) -> str:
        base = re.sub(r"[^0-9A-Za-z_]+", "_", hint).strip("_") or "t"
        name, i = base, 1
        while name in self._used:
            i += 1
            name = f"{base}_{i}"
        self._used.add(name)
        return name

    def add_input(self, hint: str, shape: Sequence[int]) -> str:
        name = self.unique(hint)
        self.shapes[name] = tuple(int(s) for s in shape)
        self.inputs.append(name)
        return name

    def add_param(self, hint: str, value: torch.Tensor) -> str:
        name = self.unique(hint)
        self.params[name] = value.detach().to("cpu").clone().contiguous()
        return name

    def finish(self, outputs: Sequence[str]) -> Chain:
        return Chain.build(self.name, self.nodes, self.shapes, self.inputs, outputs,
                           self.params, self.source)

    def _s4(self, x: str) -> tuple[int, int, int, int]:
        return shape4(self.shapes[x])

    def _emit(self, node: GConv | View, shape: Sequence[int]) -> str:
        self.shapes[node.output] = tuple(int(s) for s in shape)
        self.nodes.append(node)
        return node.output

    def _gconv(self, at: Origin, x: str, out_shape: Sequence[int], **fields: Any) -> str:
        name = self.unique(at.name)
        N, CI, H, W = self._s4(x)
        node = GConv(name=name, N=N, H=H, W=W, input=x, output=name,
                     origin_op=at.op, module_path=at.path, **fields)
        if node.P < 1 or node.Q < 1:
            raise ShapeError(f"{at.where()}: the output plane would be {node.P} x {node.Q} "
                             f"for an input of {H} x {W}; the input is too small for this layer")
        return self._emit(node, out_shape)

    # -- convolutions ----------------------------------------------------------------------
    def conv2d(self, at: Origin, x: str, weight: torch.Tensor, bias: torch.Tensor | None,
               stride: Sequence[int], padding: Sequence[int], dilation: Sequence[int],
               groups: int, pad_mode: str = "zeros") -> str:
        """``padding`` is (top, left, bottom, right)."""
        N, CI, H, W = self._s4(x)
        if weight.dim() != 4:
            raise UnsupportedOpError(f"{at.where()}: only 2-D convolutions are supported "
                                     f"(weight of shape {tuple(weight.shape)})")
        KT, CG, R, S = (int(v) for v in weight.shape)
        if CI != groups * CG or KT % groups:
            raise ShapeError(f"{at.where()}: input has {CI} channels but the weight "
                             f"{tuple(weight.shape)} with groups={groups} expects {groups * CG}")
        pt, pl, pb, pr = (int(p) for p in padding)
        P = conv_out_size(H, R, stride[0], dilation[0], pt, pb)
        Q = conv_out_size(W, S, stride[1], dilation[1], pl, pr)
        post: list[PostOp] = []
        if bias is not None:
            post.append(PostOp("bias", tensor=self.add_param(f"{at.name}_bias", bias)))
        wname = self.add_param(f"{at.name}_weight", weight)
        return self._gconv(
            at, x, (N, KT, P, Q), G=groups, K=KT // groups, C=CG, P=P, Q=Q, R=R, S=S,
            map_op="mul", reduce_op="sum", operand=wname, operand_kind="weight",
            stride=(int(stride[0]), int(stride[1])), dilation=(int(dilation[0]), int(dilation[1])),
            padding=(pt, pl, pb, pr), pad_mode=pad_mode, post_ops=tuple(post))

    def conv_transpose2d(self, at: Origin, x: str, weight: torch.Tensor,
                         bias: torch.Tensor | None, stride: Sequence[int],
                         padding: Sequence[int], output_padding: Sequence[int], groups: int,
                         dilation: Sequence[int]) -> str:
        """Transposed convolution as a stride-1 GConv on the zero-inserted input.

        ``padding``/``output_padding`` are (h, w) as in PyTorch. The equivalent convolution
        pads ``dilation*(k-1) - padding`` on each side (plus ``output_padding`` at the bottom
        and right) and uses the flipped, transposed weights.
        """
        N, CI, H, W = self._s4(x)
        CIN, KG, R, S = (int(v) for v in weight.shape)
        if CIN != CI or CIN % groups:
            raise ShapeError(f"{at.where()}: input has {CI} channels, the weight "
                             f"{tuple(weight.shape)} expects {CIN}")
        cg = CIN // groups
        w = weight.reshape(groups, cg, KG, R, S).transpose(1, 2).flip(-1, -2)
        w = w.reshape(groups * KG, cg, R, S)
        dh, dw = int(dilation[0]), int(dilation[1])
        pad = (dh * (R - 1) - int(padding[0]), dw * (S - 1) - int(padding[1]),
               dh * (R - 1) - int(padding[0]) + int(output_padding[0]),
               dw * (S - 1) - int(padding[1]) + int(output_padding[1]))
        sh, sw = int(stride[0]), int(stride[1])
        P = conv_out_size(H, R, 1, dh, pad[0], pad[2], sh)
        Q = conv_out_size(W, S, 1, dw, pad[1], pad[3], sw)
        post: list[PostOp] = []
        if bias is not None:
            post.append(PostOp("bias", tensor=self.add_param(f"{at.name}_bias", bias)))
        wname = self.add_param(f"{at.name}_weight", w)
        return self._gconv(
            at, x, (N, groups * KG, P, Q), G=groups, K=KG, C=cg, P=P, Q=Q, R=R, S=S,
            map_op="mul", reduce_op="sum", operand=wname, operand_kind="weight",
            dilation=(dh, dw), padding=pad, input_dilation=(sh, sw), post_ops=tuple(post))

    def linear(self, at: Origin, x: str, weight: torch.Tensor, bias: torch.Tensor | None) -> str:
        shape = self.shapes[x]
        if len(shape) != 2:
            raise UnsupportedOpError(
                f"{at.where()}: a fully connected layer is lowered for inputs of shape "
                f"(N, features); got {shape}. Flatten the input first.")
        N, F = shape
        out_f, in_f = (int(v) for v in weight.shape)
        if in_f != F:
            raise ShapeError(f"{at.where()}: input has {F} features, weight {tuple(weight.shape)}")
        post: list[PostOp] = []
        if bias is not None:
            post.append(PostOp("bias", tensor=self.add_param(f"{at.name}_bias", bias)))
        wname = self.add_param(f"{at.name}_weight", weight.reshape(out_f, in_f, 1, 1))
        return self._gconv(at, x, (N, out_f), G=1, K=out_f, C=F, P=1, Q=1, R=1, S=1, map_op="mul",
                           reduce_op="sum", operand=wname, operand_kind="weight",
                           post_ops=tuple(post))

    # -- per-channel and point-wise --------------------------------------------------------
    def pointwise(self, at: Origin, x: str, post_ops: Sequence[PostOp]) -> str:
        """A pass-through GConv that only applies post-ops (standalone activation, x*2+1, ...)."""
        N, CH, H, W = self._s4(x)
        return self._gconv(at, x, self.shapes[x], G=CH, K=1, C=1, P=H, Q=W, R=1, S=1,
                           map_op="pass", reduce_op="none", post_ops=tuple(post_ops))

    def activation(self, at: Origin, x: str, fn: str, **params: float) -> str:
        return self.pointwise(at, x, [act(fn, **params)])

    def affine(self, at: Origin, x: str, scale: torch.Tensor | float | None,
               bias: torch.Tensor | float | None) -> str:
        """``x * scale + bias`` with per-channel tensors (shape (C,)) or scalars.

        A per-channel scale is a depthwise 1x1 GConv (a multiplier per element); scalar
        factors and a lone bias are post-ops of a pass-through GConv.
        """
        N, CH, H, W = self._s4(x)
        post: list[PostOp] = []
        if isinstance(bias, torch.Tensor):
            bias = bias.reshape(-1)
            if bias.numel() == 1:
                bias = float(bias)
            elif bias.numel() != CH:
                raise ShapeError(f"{at.where()}: per-channel bias of {bias.numel()} values for "
                                 f"{CH} channels")
        if isinstance(scale, torch.Tensor):
            scale = scale.reshape(-1)
            if scale.numel() == 1:
                scale = float(scale)
            elif scale.numel() != CH:
                raise ShapeError(f"{at.where()}: per-channel scale of {scale.numel()} values "
                                 f"for {CH} channels")
        if isinstance(bias, torch.Tensor):
            post.append(PostOp("bias", tensor=self.add_param(f"{at.name}_bias", bias)))
        elif bias is not None:
            post.append(PostOp("bias", value=float(bias)))
        if isinstance(scale, torch.Tensor):
            wname = self.add_param(f"{at.name}_scale", scale.reshape(CH, 1, 1, 1))
            return self._gconv(at, x, self.shapes[x], G=CH, K=1, C=1, P=H, Q=W, R=1, S=1,
                               map_op="mul", reduce_op="sum", operand=wname,
                               operand_kind="weight", post_ops=tuple(post))
        if scale is not None:
            post.insert(0, PostOp("scale", value=float(scale)))
        return self.pointwise(at, x, post)

    def batch_norm(self, at: Origin, x: str, mean: torch.Tensor, var: torch.Tensor,
                   weight: torch.Tensor | None, bias: torch.Tensor | None, eps: float) -> str:
        inv = 1.0 / torch.sqrt(var.double() + eps)
        scale = inv if weight is None else weight.double() * inv
        shift = -mean.double() * scale
        if bias is not None:
            shift = shift + bias.double()
        dtype = mean.dtype
        return self.affine(at, x, scale.to(dtype), shift.to(dtype))

    # -- pooling ---------------------------------------------------------------------------
    def _pool(self, at: Origin, x: str, reduce_op: str, k: Sequence[int], stride: Sequence[int],
              padding: Sequence[int], dilation: Sequence[int],
              mean_pad: Sequence[int] = (0, 0, 0, 0)) -> str:
        N, CH, H, W = self._s4(x)
        R, S = int(k[0]), int(k[1])
        pt, pl, pb, pr = (int(p) for p in padding)
        P = conv_out_size(H, R, stride[0], dilation[0], pt, pb)
        Q = conv_out_size(W, S, stride[1], dilation[1], pl, pr)
        out_shape = (N, CH, P, Q) if len(self.shapes[x]) == 4 else None
        if out_shape is None:
            raise UnsupportedOpError(f"{at.where()}: pooling needs an (N, C, H, W) input, got "
                                     f"{self.shapes[x]}")
        return self._gconv(
            at, x, out_shape, G=CH, K=1, C=1, P=P, Q=Q, R=R, S=S, map_op="pass",
            reduce_op=reduce_op, stride=(int(stride[0]), int(stride[1])),
            dilation=(int(dilation[0]), int(dilation[1])), padding=(pt, pl, pb, pr),
            pad_value=-math.inf if reduce_op == "max" else 0.0,
            mean_pad=tuple(int(v) for v in mean_pad) if reduce_op == "mean" else (0, 0, 0, 0))

    def max_pool2d(self, at: Origin, x: str, k: Sequence[int], stride: Sequence[int],
                   padding: Sequence[int], dilation: Sequence[int], ceil_mode: bool) -> str:
        _, _, H, W = self._s4(x)
        _, eh = pool_extra_pad(H, k[0], stride[0], padding[0], dilation[0], ceil_mode)
        _, ew = pool_extra_pad(W, k[1], stride[1], padding[1], dilation[1], ceil_mode)
        pad = (padding[0], padding[1], padding[0] + eh, padding[1] + ew)
        return self._pool(at, x, "max", k, stride, pad, dilation)

    def avg_pool2d(self, at: Origin, x: str, k: Sequence[int], stride: Sequence[int],
                   padding: Sequence[int], ceil_mode: bool, count_include_pad: bool,
                   divisor_override: int | None = None) -> str:
        _, _, H, W = self._s4(x)
        _, eh = pool_extra_pad(H, k[0], stride[0], padding[0], 1, ceil_mode)
        _, ew = pool_extra_pad(W, k[1], stride[1], padding[1], 1, ceil_mode)
        pad = (padding[0], padding[1], padding[0] + eh, padding[1] + ew)
        if divisor_override:
            out = self._pool(at, x, "sum", k, stride, pad, (1, 1))
            node = self.nodes[-1]
            assert isinstance(node, GConv)
            self.nodes[-1] = _replace(node, post_ops=(PostOp("scale",
                                                             value=1.0 / divisor_override),))
            return out
        counted = (padding[0], padding[1], padding[0], padding[1]) if count_include_pad \
            else (0, 0, 0, 0)
        return self._pool(at, x, "mean", k, stride, pad, (1, 1), mean_pad=counted)

    def adaptive_pool2d(self, at: Origin, x: str, out_hw: Sequence[int | None],
                        reduce_op: str) -> str:
        """Adaptive pooling where the output evenly divides the input (else unsupported)."""
        N, CH, H, W = self._s4(x)
        oh = H if out_hw[0] is None else int(out_hw[0])
        ow = W if out_hw[1] is None else int(out_hw[1])
        if H % oh or W % ow:
            raise UnsupportedOpError(
                f"{at.where()}: adaptive pooling from {H}x{W} to {oh}x{ow} has windows of "
                "unequal size, which is not one GConv. Choose an input size whose feature map "
                f"here is a multiple of {oh}x{ow}.")
        kh, kw = H // oh, W // ow
        if kh == 1 and kw == 1:
            return x  # an identity: no node
        return self._pool(at, x, reduce_op, (kh, kw), (kh, kw), (0, 0, 0, 0), (1, 1))

    def global_pool(self, at: Origin, x: str, reduce_op: str, keep_dims: bool) -> str:
        N, CH, H, W = self._s4(x)
        out = self._pool(at, x, reduce_op, (H, W), (1, 1), (0, 0, 0, 0), (1, 1))
        if not keep_dims:
            self.shapes[out] = (N, CH)
        return out

    # -- element-wise ----------------------------------------------------------------------
    def eltwise(self, at: Origin, a: str, b: str, op: str,
                post_ops: Sequence[PostOp] = ()) -> str:
        """``a (op) b`` for two activations, broadcasting the smaller one (op: add or mul)."""
        sa, sb = self.shapes[a], self.shapes[b]
        try:
            # torch.broadcast_shapes is unannotated
            out_shape = tuple(torch.broadcast_shapes(sa, sb))  # type: ignore[no-untyped-call]
        except RuntimeError as exc:
            raise ShapeError(f"{at.where()}: shapes {sa} and {sb} do not broadcast") from exc
        if sa != out_shape:
            if sb != out_shape:
                raise UnsupportedOpError(
                    f"{at.where()}: element-wise {op} where both operands broadcast ({sa} and "
                    f"{sb}) is not supported; one operand must have the full shape {out_shape}")
            a, b = b, a
            sa, sb = sb, sa
        if len(sb) < len(sa):
            raise UnsupportedOpError(
                f"{at.where()}: element-wise {op} of {sa} with a lower-rank tensor {sb}")
        N, CH, H, W = self._s4(a)
        return self._gconv(at, a, out_shape, G=CH, K=1, C=1, P=H, Q=W, R=1, S=1, map_op=op,
                           reduce_op="none", operand=b, operand_kind="tensor",
                           post_ops=tuple(post_ops))

    # -- layout ----------------------------------------------------------------------------
    def _view(self, at: Origin, op: ViewOp, inputs: Sequence[str], shape: Sequence[int],
              params: Sequence[int], moves_data: bool) -> str:
        name = self.unique(at.name)
        return self._emit(View(name, op, tuple(inputs), name, tuple(int(p) for p in params),
                               moves_data, at.op, at.path), shape)

    def reshape(self, at: Origin, x: str, shape: Sequence[int]) -> str:
        shape = tuple(int(s) for s in shape)
        if shape == self.shapes[x]:
            return x
        if math.prod(shape) != math.prod(self.shapes[x]):
            raise ShapeError(f"{at.where()}: cannot reshape {self.shapes[x]} to {shape}")
        return self._view(at, "reshape", [x], shape, shape, False)

    def permute(self, at: Origin, x: str, dims: Sequence[int]) -> str:
        src = self.shapes[x]
        dims = tuple(int(d) % len(src) for d in dims)
        if dims == tuple(range(len(src))):
            return x
        shape = tuple(src[d] for d in dims)
        # Moving only size-1 axes is addressing, not a copy.
        moved = [d for d in dims if src[d] != 1]
        return self._view(at, "permute", [x], shape, dims, moved != sorted(moved))

    def concat(self, at: Origin, xs: Sequence[str], dim: int) -> str:
        shapes = [self.shapes[x] for x in xs]
        rank = len(shapes[0])
        dim = dim % rank
        if any(len(s) != rank or any(s[d] != shapes[0][d] for d in range(rank) if d != dim)
               for s in shapes):
            raise ShapeError(f"{at.where()}: cannot concatenate shapes {shapes} along dim {dim}")
        if len(xs) == 1:
            return xs[0]
        out = list(shapes[0])
        out[dim] = sum(s[dim] for s in shapes)
        return self._view(at, "concat", xs, out, (dim,), dim > 1)

    def slice(self, at: Origin, x: str, dim: int, start: int, stop: int, step: int) -> str:
        src = self.shapes[x]
        dim = dim % len(src)
        start, stop, step = range(src[dim])[start:stop:step].start, \
            range(src[dim])[start:stop:step].stop, step
        n = len(range(start, min(stop, src[dim]), step))
        if n == src[dim]:
            return x
        shape = tuple(n if d == dim else s for d, s in enumerate(src))
        return self._view(at, "slice", [x], shape, (dim, start, stop, step),
                          not (dim <= 1 and step == 1))

    # -- composite layers ------------------------------------------------------------------
    def upsample_nearest(self, at: Origin, x: str, sh: int, sw: int) -> str:
        """Nearest upsampling by integer factors: a pass/sum GConv over the zero-inserted
        input with an sh x sw window (the transposed-convolution form)."""
        N, CH, H, W = self._s4(x)
        if len(self.shapes[x]) != 4:
            raise UnsupportedOpError(f"{at.where()}: upsampling needs (N, C, H, W)")
        return self._gconv(at, x, (N, CH, H * sh, W * sw), G=CH, K=1, C=1, P=H * sh,
                           Q=W * sw, R=sh, S=sw, map_op="pass", reduce_op="sum",
                           padding=(sh - 1, sw - 1, sh - 1, sw - 1), input_dilation=(sh, sw))

    def softmax(self, at: Origin, x: str, dim: int) -> str:
        """Softmax over channels as four GConvs: channel max (negated), add + exp, channel sum
        + reciprocal, multiply."""
        shape = self.shapes[x]
        if dim % len(shape) != 1:
            raise UnsupportedOpError(f"{at.where()}: softmax is lowered over the channel "
                                     f"dimension (dim=1) only; got dim={dim} for shape {shape}")
        N, CH, H, W = self._s4(x)
        red_shape = (N, 1, *shape[2:])

        def reduce(suffix: str, src: str, op: str, post: PostOp) -> str:
            sub = Origin(f"{at.name}_{suffix}", at.op, at.path)
            return self._gconv(sub, src, red_shape, G=1, K=1, C=CH, P=H, Q=W, R=1, S=1,
                               map_op="pass", reduce_op=op, post_ops=(post,))

        neg_max = reduce("max", x, "max", PostOp("scale", value=-1.0))
        e = self.eltwise(Origin(f"{at.name}_exp", at.op, at.path), x, neg_max, "add",
                         [act("exp")])
        inv_sum = reduce("sum", e, "sum", act("reciprocal"))
        return self.eltwise(Origin(at.name, at.op, at.path), e, inv_sum, "mul")

    def local_response_norm(self, at: Origin, x: str, size: int, alpha: float, beta: float,
                            k: float) -> str:
        """LRN across channels: square, a banded 1x1 GConv summing each channel window
        (weights alpha/size), ``(k + .)^-beta`` as post-ops, then a multiply."""
        N, CH, H, W = self._s4(x)
        sq = self.eltwise(Origin(f"{at.name}_sq", at.op, at.path), x, x, "mul")
        c = torch.arange(CH)
        lo, hi = c - size // 2, c + (size - 1) // 2
        band = ((c[None, :] >= lo[:, None]) & (c[None, :] <= hi[:, None])).float() * (alpha / size)
        wname = self.add_param(f"{at.name}_band", band.reshape(CH, CH, 1, 1))
        den = self._gconv(Origin(f"{at.name}_den", at.op, at.path), sq, self.shapes[x], G=1,
                          K=CH, C=CH, P=H, Q=W, R=1, S=1, map_op="mul", reduce_op="sum",
                          operand=wname, operand_kind="weight",
                          post_ops=(PostOp("bias", value=float(k)), act("pow", exponent=-beta)))
        return self.eltwise(at, x, den, "mul")


def _replace(node: GConv, **changes: Any) -> GConv:
    from dataclasses import replace

    return replace(node, **changes)
