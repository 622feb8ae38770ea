"""PyTorch front end: a torch.fx interpreter pass that lowers an ``nn.Module`` into a Chain.

The module is traced with ``torch.fx.symbolic_trace`` and then *run* on the example input
node by node. Every node is evaluated for real (so sizes, ``x.size(0)`` and other Python-level
values are concrete) and, where it touches a tensor derived from the network input, lowered
into GConv / View nodes by the shared ``ChainBuilder``. After each node the builder's shape is
checked against the real output, so a lowering rule that gets a shape wrong fails at once.
"""

from __future__ import annotations

import copy
import math
import operator
from collections.abc import Callable, Mapping, Sequence
from typing import Any, cast

import torch
import torch.fx as fx
import torch.nn as nn
import torch.nn.functional as F
from torch.fx.node import map_arg

from accelscope.errors import LoweringError, ShapeError, UnsupportedOpError
from accelscope.workload._builder import ChainBuilder, Origin
from accelscope.workload.fuse import fuse
from accelscope.workload.gconv import Chain, PostOp, act

try:  # torchvision is a dependency, but keep the front end importable without it
    from torchvision.ops import stochastic_depth as _tv_stochastic_depth
except Exception:  # pragma: no cover
    _tv_stochastic_depth = None


def _pair(v: Any) -> tuple[int, int]:
    if isinstance(v, (tuple, list)):
        if len(v) == 1:
            return int(v[0]), int(v[0])
        return int(v[0]), int(v[1])
    return int(v), int(v)


def _is_names(v: Any) -> bool:
    """True when a name structure refers to at least one chain tensor."""
    if isinstance(v, str):
        return True
    if isinstance(v, (tuple, list)):
        return any(_is_names(x) for x in v)
    if isinstance(v, dict):
        return any(_is_names(x) for x in v.values())
    return False


def _has_tensor(v: Any) -> bool:
    if isinstance(v, torch.Tensor):
        return True
    if isinstance(v, (tuple, list)):
        return any(_has_tensor(x) for x in v)
    return False


class _Root(nn.Module):
    """Wraps a single leaf layer so that fx records it as a module call."""

    def __init__(self, layer: nn.Module):
        super().__init__()
        self.layer = layer

    def forward(self, x: torch.Tensor) -> Any:
        return self.layer(x)


class _Args:
    """Positional/keyword access to a call's real values and chain names, by position+name."""

    def __init__(self, args: Sequence[Any], kwargs: Mapping[str, Any], nargs: Sequence[Any],
                 nkwargs: Mapping[str, Any]) -> None:
        self.args, self.kwargs, self.nargs, self.nkwargs = args, kwargs, nargs, nkwargs

    def value(self, i: int, key: str | None = None, default: Any = None) -> Any:
        if i < len(self.args):
            return self.args[i]
        if key is not None and key in self.kwargs:
            return self.kwargs[key]
        return default

    def name(self, i: int, key: str | None = None) -> Any:
        if i < len(self.nargs):
            return self.nargs[i]
        if key is not None and key in self.nkwargs:
            return self.nkwargs[key]
        return None


_ACT_MODULES: dict[type, Callable[[nn.Module], tuple[str, dict[str, Any]]]] = {
    nn.ReLU: lambda m: ("relu", {}),
    nn.ReLU6: lambda m: ("clip", {"min": 0.0, "max": 6.0}),
    nn.Hardtanh: lambda m: ("clip", {"min": m.min_val, "max": m.max_val}),
    nn.LeakyReLU: lambda m: ("leaky_relu", {"negative_slope": m.negative_slope}),
    nn.SiLU: lambda m: ("silu", {}),
    nn.Hardswish: lambda m: ("hardswish", {}),
    nn.Hardsigmoid: lambda m: ("hardsigmoid", {}),
    nn.Sigmoid: lambda m: ("sigmoid", {}),
    nn.GELU: lambda m: ("gelu_tanh" if m.approximate == "tanh" else "gelu", {}),
    nn.Tanh: lambda m: ("tanh", {}),
}

_IDENTITY_MODULES = (nn.Dropout, nn.Dropout2d, nn.Dropout1d, nn.AlphaDropout,
                     nn.FeatureAlphaDropout, nn.Identity)


class _Lowerer(fx.Interpreter):
    def __init__(self, gm: fx.GraphModule, builder: ChainBuilder):
        super().__init__(gm)
        self.b = builder
        self.tn: dict[fx.Node, Any] = {}
        self.outputs: list[str] = []

    # -- the per-node driver -----------------------------------------------------------
    def run_node(self, n: fx.Node) -> Any:
        with self._set_current_node(n):
            args, kwargs = self.fetch_args_kwargs_from_env(n)
            value = getattr(self, n.op)(n.target, args, kwargs)
            nargs = map_arg(n.args, lambda a: self.tn.get(a))
            nkwargs = map_arg(n.kwargs, lambda a: self.tn.get(a))
            if n.op == "placeholder":
                if not isinstance(value, torch.Tensor):
                    raise LoweringError(f"input {n.name!r} is not a tensor ({type(value)})")
                self.tn[n] = self.b.add_input(n.name, value.shape)
            elif n.op == "get_attr":
                self.tn[n] = None
            elif n.op == "output":
                self.outputs = self._flatten_outputs(nargs, n)
            elif not _is_names((nargs, nkwargs)) or not _has_tensor(value):
                # A constant, or a Python-level value (x.shape, x.size(0), x.dim()).
                self.tn[n] = None
            else:
                at = self._origin(n)
                try:
                    names = self._lower(n, at, _Args(args, kwargs, nargs, nkwargs), value)
                except (LoweringError, ShapeError):
                    raise
                except Exception as exc:  # a bug or an odd argument: name the place
                    raise LoweringError(f"{at.where()} (fx node {n.name!r}): lowering failed: "
                                        f"{type(exc).__name__}: {exc}") from exc
                self.tn[n] = names
                self._check_shapes(n, at, names, value)
            return value

    def _origin(self, n: fx.Node) -> Origin:
        if n.op == "call_module":
            mod = self.module.get_submodule(cast(str, n.target))  # a module call names it
            return Origin(n.name, type(mod).__name__, str(n.target))
        stack = n.meta.get("nn_module_stack") or {}
        path = next(reversed(stack.values()))[0] if stack else ""
        op = n.target if isinstance(n.target, str) else getattr(n.target, "__name__",
                                                                  str(n.target))
        return Origin(n.name, op, f"{path}:{n.name}" if path else n.name)

    def _check_shapes(self, n: fx.Node, at: Origin, names: Any, value: Any) -> None:
        if isinstance(names, str) and isinstance(value, torch.Tensor):
            got = self.b.shapes[names]
            if got != tuple(value.shape):
                raise LoweringError(f"{at.where()} (fx node {n.name!r}): the lowered shape "
                                    f"{got} differs from PyTorch's {tuple(value.shape)}; "
                                    "this is a bug in accelscope's lowering rule for this op")

    def _flatten_outputs(self, nargs: Any, n: fx.Node) -> list[str]:
        out: list[str] = []

        def walk(v: Any) -> None:
            if isinstance(v, str):
                out.append(v)
            elif isinstance(v, (tuple, list)):
                for x in v:
                    walk(x)
            elif isinstance(v, dict):
                for x in v.values():
                    walk(x)
            elif v is None:
                raise LoweringError("the network returns a value that does not depend on its "
                                    "input (a constant); only input-dependent tensors can be "
                                    "chain outputs")
        walk(nargs[0])
        if not out:
            raise LoweringError("the network output does not depend on its input")
        return out

    # -- dispatch ------------------------------------------------------------------------
    def _lower(self, n: fx.Node, at: Origin, a: _Args, value: Any) -> Any:
        if n.op == "call_module":
            mod = self.module.get_submodule(cast(str, n.target))  # a module call names it
            out = self._lower_module(mod, at, a, value)
        elif n.op == "call_function":
            out = self._lower_function(n.target, at, a, value)
        elif n.op == "call_method":
            out = self._lower_method(cast(str, n.target), at, a, value)  # a method name
        else:  # pragma: no cover
            raise UnsupportedOpError(f"fx node kind {n.op!r}")
        if self._is_inplace(n, a) and isinstance(n.args[0], fx.Node) and isinstance(out, str):
            self.tn[n.args[0]] = out  # later readers of the mutated tensor see the new value
        return out

    def _is_inplace(self, n: fx.Node, a: _Args) -> bool:
        if n.op == "call_method":
            meth = cast(str, n.target)  # a method call names the method
            return meth.endswith("_") and not meth.endswith("__")
        if n.op == "call_module":
            return bool(getattr(self.module.get_submodule(cast(str, n.target)), "inplace",
                                False))
        if n.target in (operator.iadd, operator.imul, operator.isub, operator.itruediv):
            return True
        return bool(a.kwargs.get("inplace", False))

    def _unsupported(self, at: Origin, what: str, hint: str = "") -> UnsupportedOpError:
        msg = f"unsupported op {what} ({at.where()}, fx node {at.name!r})"
        if hint:
            msg += f": {hint}"
        return UnsupportedOpError(msg)

    def _x(self, at: Origin, a: _Args, i: int = 0, key: str = "input") -> str:
        name = a.name(i, key)
        if not isinstance(name, str):
            raise self._unsupported(at, at.op, "its main operand is not an activation tensor")
        return name

    # -- modules -------------------------------------------------------------------------
    def _lower_module(self, m: nn.Module, at: Origin, a: _Args, value: Any) -> Any:
        x = self._x(at, a)
        if isinstance(m, nn.Conv2d):
            return self._conv(at, x, m.weight, m.bias, m.stride, m.padding, m.dilation,
                              m.groups, m.padding_mode)
        if isinstance(m, nn.ConvTranspose2d):
            if len(a.args) > 1:
                raise self._unsupported(at, "ConvTranspose2d(output_size=...)",
                                        "give output_padding in the module instead")
            # ConvTranspose2d takes no string padding: it is a tuple of ints
            return self.b.conv_transpose2d(at, x, m.weight, m.bias, m.stride,
                                           cast(tuple[int, ...], m.padding),
                                           m.output_padding, m.groups, m.dilation)
        if isinstance(m, nn.Linear):
            return self.b.linear(at, x, m.weight, m.bias)
        if isinstance(m, nn.BatchNorm2d):
            if m.training or m.running_mean is None:
                raise self._unsupported(at, "BatchNorm2d in training mode / without running "
                                        "statistics", "call model.eval() before lowering")
            # running_var is registered together with running_mean
            return self.b.batch_norm(at, x, m.running_mean, cast(torch.Tensor, m.running_var),
                                     m.weight if m.affine else None,
                                     m.bias if m.affine else None, m.eps)
        for cls, spec in _ACT_MODULES.items():
            if type(m) is cls:
                fn, params = spec(m)
                return self.b.activation(at, x, fn, **params)
        if isinstance(m, nn.MaxPool2d):
            if m.return_indices:
                raise self._unsupported(at, "MaxPool2d(return_indices=True)")
            return self.b.max_pool2d(at, x, _pair(m.kernel_size),
                                     _pair(m.stride or m.kernel_size), _pair(m.padding),
                                     _pair(m.dilation), m.ceil_mode)
        if isinstance(m, nn.AvgPool2d):
            return self.b.avg_pool2d(at, x, _pair(m.kernel_size),
                                     _pair(m.stride or m.kernel_size), _pair(m.padding),
                                     m.ceil_mode, m.count_include_pad, m.divisor_override)
        if isinstance(m, nn.AdaptiveAvgPool2d):
            return self.b.adaptive_pool2d(at, x, _pair_opt(m.output_size), "mean")
        if isinstance(m, nn.AdaptiveMaxPool2d):
            if m.return_indices:
                raise self._unsupported(at, "AdaptiveMaxPool2d(return_indices=True)")
            return self.b.adaptive_pool2d(at, x, _pair_opt(m.output_size), "max")
        if isinstance(m, _IDENTITY_MODULES):
            return x
        if isinstance(m, nn.Flatten):
            return self.b.reshape(at, x, value.shape)
        if isinstance(m, nn.Unflatten):
            return self.b.reshape(at, x, value.shape)
        if isinstance(m, nn.Upsample):
            return self._upsample(at, x, m.mode, value)
        if isinstance(m, nn.Softmax):
            return self.b.softmax(at, x, m.dim if m.dim is not None else 1)
        if isinstance(m, nn.LocalResponseNorm):
            return self.b.local_response_norm(at, x, m.size, m.alpha, m.beta, m.k)
        if isinstance(m, nn.ChannelShuffle):
            return self._channel_shuffle(at, x, m.groups)
        raise self._unsupported(
            at, f"module {type(m).__name__}",
            "accelscope lowers Conv2d, ConvTranspose2d, Linear, BatchNorm2d, the common "
            "activations, pooling, Dropout, Flatten, Upsample(nearest), Softmax, "
            "LocalResponseNorm and ChannelShuffle; see docs/lowering.md for the full list")

    def _conv(self, at: Origin, x: str, weight: torch.Tensor, bias: torch.Tensor | None,
              stride: int | Sequence[int], padding: str | int | Sequence[int],
              dilation: int | Sequence[int], groups: int, padding_mode: str) -> str:
        if weight.dim() != 4:
            raise self._unsupported(at, f"{weight.dim() - 2}-D convolution",
                                    "only 2-D convolutions are lowered")
        stride, dilation = _pair(stride), _pair(dilation)
        R, S = int(weight.shape[2]), int(weight.shape[3])
        if isinstance(padding, str):
            if padding == "valid":
                pad = (0, 0, 0, 0)
            else:  # "same": PyTorch puts the odd pixel at the bottom/right
                th, tw = dilation[0] * (R - 1), dilation[1] * (S - 1)
                pad = (th // 2, tw // 2, th - th // 2, tw - tw // 2)
        else:
            ph, pw = _pair(padding)
            pad = (ph, pw, ph, pw)
        return self.b.conv2d(at, x, weight, bias, stride, pad, dilation, groups, padding_mode)

    def _upsample(self, at: Origin, x: str, mode: str, value: torch.Tensor) -> str:
        if mode != "nearest":
            raise self._unsupported(at, f"upsampling mode {mode!r}",
                                    "only mode='nearest' with integer factors is lowered")
        _, _, H, W = self.b.shapes[x]
        oh, ow = value.shape[2], value.shape[3]
        if oh % H or ow % W:
            raise self._unsupported(at, f"nearest resize {H}x{W} -> {oh}x{ow}",
                                    "only integer scale factors are lowered")
        return self.b.upsample_nearest(at, x, oh // H, ow // W)

    def _channel_shuffle(self, at: Origin, x: str, groups: int) -> str:
        n, c, h, w = self.b.shapes[x]
        r = self.b.reshape(Origin(f"{at.name}_split", at.op, at.path), x,
                           (n, groups, c // groups, h, w))
        p = self.b.permute(Origin(f"{at.name}_swap", at.op, at.path), r, (0, 2, 1, 3, 4))
        return self.b.reshape(at, p, (n, c, h, w))

    # -- functions -----------------------------------------------------------------------
    def _lower_function(self, fn: Any, at: Origin, a: _Args, value: Any) -> Any:
        b = self.b
        if fn in _BINARY:
            return self._binary(at, _BINARY[fn], a)
        if fn is operator.neg or fn is torch.neg:
            return b.affine(at, self._x(at, a), -1.0, None)
        if fn is operator.getitem:
            return self._getitem(at, a, value)
        if fn is F.conv2d or fn is torch.conv2d:
            return self._conv(at, self._x(at, a), a.value(1, "weight"), a.value(2, "bias"),
                              a.value(3, "stride", 1), a.value(4, "padding", 0),
                              a.value(5, "dilation", 1), a.value(6, "groups", 1), "zeros")
        if fn is F.linear:
            return b.linear(at, self._x(at, a), a.value(1, "weight"), a.value(2, "bias"))
        act_spec = _ACT_FUNCTIONS.get(fn)
        if act_spec is not None:
            fname, params = act_spec(a)
            return b.activation(at, self._x(at, a), fname, **params)
        if fn in (torch.clamp, torch.clip):
            return self._clamp(at, a)
        if fn is F.max_pool2d or fn is torch.max_pool2d:
            if a.value(6, "return_indices", False):
                raise self._unsupported(at, "max_pool2d(return_indices=True)")
            k = _pair(a.value(1, "kernel_size"))
            return b.max_pool2d(at, self._x(at, a), k, _pair(a.value(2, "stride") or k),
                                _pair(a.value(3, "padding", 0)), _pair(a.value(4, "dilation", 1)),
                                bool(a.value(5, "ceil_mode", False)))
        if fn is F.avg_pool2d or fn is torch._C._nn.avg_pool2d:
            k = _pair(a.value(1, "kernel_size"))
            return b.avg_pool2d(at, self._x(at, a), k, _pair(a.value(2, "stride") or k),
                                _pair(a.value(3, "padding", 0)),
                                bool(a.value(4, "ceil_mode", False)),
                                bool(a.value(5, "count_include_pad", True)),
                                a.value(6, "divisor_override"))
        if fn is F.adaptive_avg_pool2d:
            return b.adaptive_pool2d(at, self._x(at, a), _pair_opt(a.value(1, "output_size")),
                                     "mean")
        if fn is F.adaptive_max_pool2d:
            return b.adaptive_pool2d(at, self._x(at, a), _pair_opt(a.value(1, "output_size")),
                                     "max")
        if fn in (F.dropout, F.dropout2d, F.dropout1d, F.alpha_dropout,
                  F.feature_alpha_dropout, torch.dropout):
            if a.value(2, "training", False) if fn is not torch.dropout else a.value(2, "train"):
                raise self._unsupported(at, "dropout in training mode", "call model.eval()")
            return self._x(at, a)
        if _tv_stochastic_depth is not None and fn is _tv_stochastic_depth:
            if a.value(3, "training", True) and a.value(1, "p", 0.0) > 0:
                raise self._unsupported(at, "stochastic_depth in training mode",
                                        "call model.eval()")
            return self._x(at, a)
        if fn in (torch.flatten, torch.reshape, torch.squeeze, torch.unsqueeze):
            return b.reshape(at, self._x(at, a), value.shape)
        if fn in (torch.cat, torch.concat, torch.concatenate):
            xs = a.name(0, "tensors")
            if not all(isinstance(t, str) for t in xs):
                raise self._unsupported(at, "cat of an activation with a constant tensor")
            return b.concat(at, list(xs), int(a.value(1, "dim", 0)))
        if fn is torch.permute:
            return b.permute(at, self._x(at, a), a.value(1, "dims"))
        if fn is torch.transpose:
            return self._transpose(at, self._x(at, a), a.value(1, "dim0"), a.value(2, "dim1"))
        if fn in (F.softmax, torch.softmax):
            return b.softmax(at, self._x(at, a), int(a.value(1, "dim")))
        if fn is torch.mean:
            return self._mean(at, self._x(at, a), a.value(1, "dim"),
                              bool(a.value(2, "keepdim", False)), value)
        if fn is F.batch_norm:
            if a.value(5, "training", False):
                raise self._unsupported(at, "batch_norm in training mode", "call model.eval()")
            return b.batch_norm(at, self._x(at, a), a.value(1, "running_mean"),
                                a.value(2, "running_var"), a.value(3, "weight"),
                                a.value(4, "bias"), float(a.value(7, "eps", 1e-5)))
        if fn is F.local_response_norm:
            return b.local_response_norm(at, self._x(at, a), int(a.value(1, "size")),
                                         float(a.value(2, "alpha", 1e-4)),
                                         float(a.value(3, "beta", 0.75)),
                                         float(a.value(4, "k", 1.0)))
        if fn is F.interpolate:
            mode = a.value(3, "mode", "nearest")
            return self._upsample(at, self._x(at, a), mode, value)
        if fn in (F.channel_shuffle, torch.channel_shuffle, torch.native_channel_shuffle):
            return self._channel_shuffle(at, self._x(at, a), int(a.value(1, "groups")))
        if fn in (torch.chunk, torch.split):
            return self._split(at, self._x(at, a), value, a.value(2, "dim", 0))
        raise self._unsupported(at, f"function {getattr(fn, '__module__', '')}."
                                f"{getattr(fn, '__name__', fn)}",
                                "see docs/lowering.md for the supported operators")

    # -- methods -------------------------------------------------------------------------
    def _lower_method(self, meth: str, at: Origin, a: _Args, value: Any) -> Any:
        b = self.b
        x = self._x(at, a, 0, "self")
        base = meth.rstrip("_") if meth.endswith("_") and not meth.endswith("__") else meth
        if base in ("view", "reshape", "flatten", "squeeze", "unsqueeze", "view_as",
                    "reshape_as", "expand_as") and isinstance(value, torch.Tensor):
            if base == "expand_as" and tuple(value.shape) != b.shapes[x]:
                raise self._unsupported(at, "expand_as that broadcasts")
            return b.reshape(at, x, value.shape)
        if base in ("contiguous", "clone", "detach"):
            return x
        if base in ("float", "to", "type", "type_as"):
            if isinstance(value, torch.Tensor) and value.dtype == a.value(0).dtype:
                return x
            raise self._unsupported(at, f"dtype change .{meth}()",
                                    "lower the model in one floating-point dtype")
        if base == "permute":
            dims = a.args[1:] if len(a.args) > 2 or not isinstance(a.value(1), (tuple, list)) \
                else a.value(1)
            return b.permute(at, x, dims)
        if base == "transpose":
            return self._transpose(at, x, a.value(1), a.value(2))
        if base in _BINARY_METHODS:
            return self._binary(at, _BINARY_METHODS[base], a)
        if base == "neg":
            return b.affine(at, x, -1.0, None)
        if base == "mean":
            return self._mean(at, x, a.value(1, "dim"), bool(a.value(2, "keepdim", False)),
                              value)
        if base == "softmax":
            return b.softmax(at, x, int(a.value(1, "dim")))
        if base in ("clamp", "clip", "clamp_min", "clamp_max"):
            return self._clamp(at, a, base)
        if base in ("chunk", "split"):
            return self._split(at, x, value, a.value(2, "dim", 0))
        spec = _ACT_METHODS.get(base)
        if spec is not None:
            return b.activation(at, x, spec[0], **spec[1])
        raise self._unsupported(at, f"tensor method .{meth}()",
                                "see docs/lowering.md for the supported operators")

    # -- shared helpers ------------------------------------------------------------------
    def _transpose(self, at: Origin, x: str, d0: int, d1: int) -> str:
        rank = len(self.b.shapes[x])
        dims = list(range(rank))
        d0, d1 = d0 % rank, d1 % rank
        dims[d0], dims[d1] = dims[d1], dims[d0]
        return self.b.permute(at, x, dims)

    def _mean(self, at: Origin, x: str, dim: Any, keepdim: bool, value: torch.Tensor) -> str:
        rank = len(self.b.shapes[x])
        dims = {d % rank for d in (dim if isinstance(dim, (tuple, list)) else [dim])} \
            if dim is not None else set(range(rank))
        if rank != 4 or dims != {2, 3}:
            raise self._unsupported(at, f"mean over dims {sorted(dims)}",
                                    "only the spatial mean (dims 2, 3) is lowered, as global "
                                    "average pooling")
        return self.b.global_pool(at, x, "mean", keepdim)

    def _clamp(self, at: Origin, a: _Args, which: str = "clamp") -> str:
        x = self._x(at, a)
        lo = a.value(1, "min") if which != "clamp_max" else None
        hi = a.value(2, "max") if which == "clamp" else (a.value(1, "max")
                                                          if which == "clamp_max" else None)
        if isinstance(lo, torch.Tensor) or isinstance(hi, torch.Tensor):
            raise self._unsupported(at, "clamp with tensor bounds")
        if lo == 0 and hi is None:
            return self.b.activation(at, x, "relu")
        return self.b.activation(at, x, "clip", min=-math.inf if lo is None else float(lo),
                                 max=math.inf if hi is None else float(hi))

    def _split(self, at: Origin, x: str, value: Sequence[torch.Tensor],
               dim: int) -> tuple[str, ...]:
        outs, start = [], 0
        for i, part in enumerate(value):
            size = part.shape[dim]
            outs.append(self.b.slice(Origin(f"{at.name}_{i}", at.op, at.path), x, dim, start,
                                     start + size, 1))
            start += size
        return tuple(outs)

    def _getitem(self, at: Origin, a: _Args, value: Any) -> Any:
        container, idx = a.name(0), a.value(1)
        if isinstance(container, (tuple, list)):
            return container[idx]
        if not isinstance(container, str):
            raise self._unsupported(at, "indexing")
        idx = idx if isinstance(idx, tuple) else (idx,)
        out = container
        for dim, s in enumerate(idx):
            if s is Ellipsis or not isinstance(s, slice):
                raise self._unsupported(at, f"tensor indexing with {s!r}",
                                        "only basic slices (x[:, a:b]) are lowered")
            if s == slice(None):
                continue
            step = s.step or 1
            if step < 1:
                raise self._unsupported(at, "negative-step slicing")
            n = self.b.shapes[out][dim]
            rng = range(n)[s]
            out = self.b.slice(at, out, dim, rng.start, rng.stop, step)
        return out

    def _binary(self, at: Origin, op: str, a: _Args) -> str:
        lhs_n, rhs_n = a.name(0, "input"), a.name(1, "other")
        lhs, rhs = a.value(0, "input"), a.value(1, "other")
        alpha = a.kwargs.get("alpha", 1)
        if op == "sub":
            if isinstance(rhs_n, str):
                neg = self.b.affine(Origin(f"{at.name}_neg", at.op, at.path), rhs_n,
                                    -float(alpha), None)
                if isinstance(lhs_n, str):
                    return self.b.eltwise(at, lhs_n, neg, "add")
                return self._const_op(at, neg, lhs, "add")
            return self._const_op(at, lhs_n, rhs * alpha, "sub")
        if op == "div":
            if isinstance(rhs_n, str):
                inv = self.b.activation(Origin(f"{at.name}_inv", at.op, at.path), rhs_n,
                                        "reciprocal")
                if isinstance(lhs_n, str):
                    return self.b.eltwise(at, lhs_n, inv, "mul")
                return self._const_op(at, inv, lhs, "mul")
            return self._const_op(at, lhs_n, rhs, "div")
        if alpha != 1 and op == "add":
            if not isinstance(rhs_n, str):
                return self._const_op(at, lhs_n, rhs * alpha, "add")
            rhs_n = self.b.affine(Origin(f"{at.name}_alpha", at.op, at.path), rhs_n,
                                  float(alpha), None)
        if isinstance(lhs_n, str) and isinstance(rhs_n, str):
            return self.b.eltwise(at, lhs_n, rhs_n, op)
        if isinstance(lhs_n, str):
            return self._const_op(at, lhs_n, rhs, op)
        return self._const_op(at, rhs_n, lhs, op)  # add and mul commute

    def _const_op(self, at: Origin, x: str, c: Any, op: str) -> str:
        """``x (op) c`` for a constant ``c`` (a number or a per-channel tensor)."""
        shape = self.b.shapes[x]
        if isinstance(c, torch.Tensor):
            if c.numel() == 1:
                c = float(c)
            else:
                chans = shape[1] if len(shape) >= 2 else 0
                squeezed = c.reshape(-1)
                per_channel = (c.dim() <= len(shape) and squeezed.numel() == chans and
                               # torch.broadcast_shapes is unannotated
                               tuple(torch.broadcast_shapes(  # type: ignore[no-untyped-call]
                                   c.shape, shape)) == shape and
                               c.shape[c.dim() - len(shape) + 1 if c.dim() == len(shape) else 0]
                               == chans)
                if not per_channel:
                    raise self._unsupported(
                        at, f"element-wise op with a constant tensor of shape {tuple(c.shape)}",
                        "only scalars and per-channel constants are lowered")
                c = squeezed
        if op == "add":
            return self.b.affine(at, x, None, c)
        if op == "sub":
            return self.b.affine(at, x, None, -c)
        if op == "mul":
            return self.b.affine(at, x, c, None)
        if op == "div":
            return self.b.affine(at, x, 1.0 / c, None)
        raise self._unsupported(at, f"binary op {op}")  # pragma: no cover


def _pair_opt(v: Any) -> tuple[int | None, int | None]:
    if isinstance(v, (tuple, list)):
        return (v[0], v[1]) if len(v) == 2 else (v[0], v[0])
    return v, v


_BINARY: dict[Any, str] = {
    operator.add: "add", operator.iadd: "add", torch.add: "add",
    operator.mul: "mul", operator.imul: "mul", torch.mul: "mul", torch.multiply: "mul",
    operator.sub: "sub", operator.isub: "sub", torch.sub: "sub", torch.subtract: "sub",
    operator.truediv: "div", operator.itruediv: "div", torch.div: "div", torch.true_divide: "div",
}
_BINARY_METHODS = {"add": "add", "mul": "mul", "sub": "sub", "div": "div",
                   "__add__": "add", "__mul__": "mul", "__sub__": "sub", "__truediv__": "div",
                   "__radd__": "add", "__rmul__": "mul"}

_ACT_FUNCTIONS: dict[Any, Callable[[_Args], tuple[str, dict[str, float]]]] = {
    F.relu: lambda a: ("relu", {}),
    torch.relu: lambda a: ("relu", {}),
    torch.relu_: lambda a: ("relu", {}),
    F.relu_: lambda a: ("relu", {}),
    F.relu6: lambda a: ("clip", {"min": 0.0, "max": 6.0}),
    F.hardtanh: lambda a: ("clip", {"min": float(a.value(1, "min_val", -1.0)),
                                    "max": float(a.value(2, "max_val", 1.0))}),
    F.leaky_relu: lambda a: ("leaky_relu",
                             {"negative_slope": float(a.value(1, "negative_slope", 0.01))}),
    F.silu: lambda a: ("silu", {}),
    F.hardswish: lambda a: ("hardswish", {}),
    F.hardsigmoid: lambda a: ("hardsigmoid", {}),
    torch.sigmoid: lambda a: ("sigmoid", {}),
    F.sigmoid: lambda a: ("sigmoid", {}),
    F.gelu: lambda a: ("gelu_tanh" if a.value(1, "approximate", "none") == "tanh" else "gelu",
                       {}),
    torch.tanh: lambda a: ("tanh", {}),
    F.tanh: lambda a: ("tanh", {}),
    torch.exp: lambda a: ("exp", {}),
    torch.reciprocal: lambda a: ("reciprocal", {}),
}
_ACT_METHODS: dict[str, tuple[str, dict[str, float]]] = {
    "relu": ("relu", {}), "sigmoid": ("sigmoid", {}), "tanh": ("tanh", {}),
    "exp": ("exp", {}), "reciprocal": ("reciprocal", {}),
}


def lower_module(module: nn.Module, example_input: torch.Tensor | Sequence[torch.Tensor], *,
                 name: str | None = None, fuse_ops: bool = True,
                 dtype: torch.dtype | None = None) -> Chain:
    """Lower ``module`` (traced with torch.fx) on ``example_input`` into a checked Chain.

    ``fuse_ops`` merges point-wise ops and batch-norm into their producers (see ``fuse``).
    ``dtype`` (e.g. ``torch.float64``) lowers a converted copy of the module, so folded
    parameters are computed in that precision.
    """
    if not isinstance(module, nn.Module):
        raise LoweringError(f"expected a torch.nn.Module, got {type(module).__name__}")
    inputs = (example_input,) if isinstance(example_input, torch.Tensor) else tuple(example_input)
    if not inputs or not all(isinstance(t, torch.Tensor) for t in inputs):
        raise LoweringError("example_input must be a tensor (or a sequence of tensors) with "
                            "the shape the network will be evaluated on, e.g. "
                            "torch.randn(1, 3, 224, 224)")
    if dtype is not None:
        module = copy.deepcopy(module).to(dtype)
        inputs = tuple(t.to(dtype) for t in inputs)
    if module.training:
        module = copy.deepcopy(module).eval()
    name = name or type(module).__name__
    if fx.Tracer().is_leaf_module(module, ""):
        module = _Root(module)  # a bare nn.Conv2d etc.: trace it as one module call
    try:
        gm = module if isinstance(module, fx.GraphModule) else fx.symbolic_trace(module)
    except Exception as exc:
        raise LoweringError(
            f"torch.fx could not trace {name}: {type(exc).__name__}: {exc}. Make forward() "
            "free of data-dependent Python control flow, or export the model to ONNX and "
            "lower the .onnx file") from exc
    builder = ChainBuilder(name, "torch.fx")
    lowerer = _Lowerer(gm, builder)
    try:
        with torch.no_grad():
            lowerer.run(*inputs)
    except (LoweringError, ShapeError):
        raise
    except RuntimeError as exc:
        shapes = [tuple(t.shape) for t in inputs]
        raise ShapeError(f"{name} failed to run on input(s) of shape {shapes}: {exc}. "
                         "Check the input shape (accelscope lower ... --input-shape)") from exc
    chain = builder.finish(lowerer.outputs)
    if fuse_ops:
        chain = fuse(chain)
    return chain.check()


__all__ = ["PostOp", "act", "lower_module"]
