"""ONNX front end: walk an ONNX graph in topological order and lower it into a Chain.

Every node is emitted through the shared ``ChainBuilder``, so a network exported from PyTorch
lowers to the same GConvs (and MAC counts) as ``lower_torch`` gives for the module itself.

Values in the graph are of three kinds:

* **activations** - tensors that depend on a graph input; they become chain tensors;
* **constants** - initializers, ``Constant`` outputs and anything computed from constants
  alone (the ``Shape -> Gather -> Concat -> Reshape`` chains exporters write for ``flatten``);
  they are evaluated here with ONNX's reference evaluator, and become parameters where a
  layer needs them (weights, biases, per-channel factors);
* **pending pads** - the output of a ``Pad`` node, kept aside until the convolution or pooling
  that reads it folds the padding into its own.

After each node the lowered shape is compared with ONNX shape inference (where it gives a
static shape), so a lowering rule that gets a shape wrong fails at the node that caused it.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, cast, overload

import numpy as np
import torch

from accelscope.errors import (
    InputFileError,
    LoweringError,
    ShapeError,
    UnsupportedOpError,
)
from accelscope.workload._builder import ChainBuilder, Origin
from accelscope.workload.fuse import fuse
from accelscope.workload.gconv import Chain, GConv, PostOp, act

if TYPE_CHECKING:
    from onnx import ModelProto, NodeProto, ValueInfoProto

_FLOAT_TYPES = {1: "float32", 10: "float16", 11: "float64", 16: "bfloat16"}
_ISSUE = "export the model with opset 11-21 from a supported framework, or file an issue"


@dataclass(frozen=True)
class _Pad:
    """A ``Pad`` node's output, not yet emitted: folded into the conv/pool that reads it."""

    src: str
    pads: tuple[int, int, int, int]  # top, left, bottom, right
    mode: str  # constant | reflect | edge | wrap
    node: str


def _attrs(node: NodeProto) -> dict[str, Any]:
    from onnx import helper

    out: dict[str, Any] = {}
    for a in node.attribute:
        v = helper.get_attribute_value(a)
        if isinstance(v, bytes):
            v = v.decode()
        out[a.name] = v
    return out


def _to_torch(value: Any) -> torch.Tensor:
    arr = np.asarray(value)
    if arr.dtype == object:
        raise TypeError("string tensors are not supported")
    return torch.from_numpy(np.array(arr, copy=True))


class _Lowerer:
    def __init__(self, model: ModelProto, builder: ChainBuilder, opset: int, label: str,
                 inferred: Mapping[str, tuple[int, ...]]):
        self.model = model
        self.b = builder
        self.opset = opset
        self.label = label
        self.inferred = inferred
        self.const: dict[str, torch.Tensor] = {}
        self.act: dict[str, str] = {}
        self.pads: dict[str, _Pad] = {}
        self.missing: dict[str, str] = {}  # outputs we do not produce, and why
        self.skip: set[int] = set()
        # node index -> (ONNX name of the input, activation): activations exporters spell
        # out as several nodes (GELU's erf form, SiLU as x * sigmoid(x)), emitted as one
        self.fused_act: dict[int, tuple[str, str]] = {}

    # -- value access ----------------------------------------------------------------------
    def _where(self, node: NodeProto) -> str:
        return f"node {node.name or node.output[0]!r} ({node.op_type})"

    def unsupported(self, node: NodeProto, what: str, hint: str = "") -> UnsupportedOpError:
        fix = hint or _ISSUE
        return UnsupportedOpError(f"{self.label}: {self._where(node)}: {what}; {fix}")

    def _lookup(self, node: NodeProto, name: str) -> str | torch.Tensor | _Pad:
        for table in (self.act, self.const, self.pads):
            if name in table:
                return table[name]
        if name in self.missing:
            raise self.unsupported(node, f"reads {name!r}, {self.missing[name]}")
        raise LoweringError(f"{self.label}: {self._where(node)} reads {name!r}, which no "
                            "earlier node produces (the graph is not in topological order or "
                            "is malformed); run onnx.checker on it")

    def _has(self, node: NodeProto, i: int) -> bool:
        return i < len(node.input) and node.input[i] != ""

    def x(self, node: NodeProto, i: int = 0) -> str:
        """Input ``i`` as an activation (a chain tensor name)."""
        return self._as_act(node, node.input[i], i)

    def _as_act(self, node: NodeProto, name: str, i: int) -> str:
        v = self._lookup(node, name)
        if isinstance(v, _Pad):
            raise self.unsupported(
                node, f"reads the output of Pad node {v.node!r}; a Pad is lowered only when it "
                "feeds a Conv, MaxPool or AveragePool", "fold the padding into that layer")
        if not isinstance(v, str):
            raise self.unsupported(node, f"input {i} ({name!r}) is a constant where "
                                   "an activation is expected")
        return v

    def x_or_pad(self, node: NodeProto) -> tuple[str, _Pad | None]:
        v = self._lookup(node, node.input[0])
        if isinstance(v, _Pad):
            return v.src, v
        return self.x(node, 0), None

    @overload
    def c(self, node: NodeProto, i: int, what: str,
          required: Literal[True] = ...) -> torch.Tensor: ...

    @overload
    def c(self, node: NodeProto, i: int, what: str,
          required: bool) -> torch.Tensor | None: ...

    def c(self, node: NodeProto, i: int, what: str,
          required: bool = True) -> torch.Tensor | None:
        """Input ``i`` as a constant (None when absent and not required)."""
        if not self._has(node, i):
            if required:
                raise self.unsupported(node, f"has no {what} input")
            return None
        v = self._lookup(node, node.input[i])
        if not isinstance(v, torch.Tensor):
            raise self.unsupported(
                node, f"its {what} ({node.input[i]!r}) is computed from the network input; only "
                "constant (initializer) values are lowered there")
        return v

    def ints(self, node: NodeProto, attrs: dict[str, Any], key: str,
             i: int | None) -> list[int] | None:
        """An int list given as attribute ``key`` (older opsets) or as input ``i`` (newer)."""
        if key in attrs:
            return [int(v) for v in np.atleast_1d(attrs[key])]
        if i is not None and self._has(node, i):
            return [int(v) for v in self.c(node, i, key).reshape(-1).tolist()]
        return None

    def scalar(self, node: NodeProto, attrs: dict[str, Any], key: str,
               i: int | None) -> float | None:
        if key in attrs:
            return float(attrs[key])
        if i is not None and self._has(node, i):
            t = self.c(node, i, key)
            if t.numel() != 1:
                raise self.unsupported(node, f"{key} must be a scalar, got shape "
                                       f"{tuple(t.shape)}")
            return float(t.reshape(()))
        return None

    def origin(self, node: NodeProto, idx: int, suffix: str = "") -> Origin:
        base = node.name or f"{node.op_type}_{idx}"
        return Origin(f"{base}{suffix}", node.op_type, node.name or node.output[0])

    def _initializer(self, name: str, proto: Any, to_array: Any) -> torch.Tensor:
        """An initializer as a tensor; a damaged one (unknown element type, data that does
        not fill its shape, a type PyTorch has no tensor for) is a located input error."""
        try:
            t = _to_torch(to_array(proto))
        except (KeyError, TypeError, ValueError) as exc:
            why = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise InputFileError(f"{self.label}: initializer {name!r} cannot be read ({why}); "
                                 "the file is damaged or uses an element type accelscope does "
                                 "not support (float, integer and bool tensors)") from None
        if t.is_floating_point() and not bool(torch.isfinite(t).all()):
            bad = int((~torch.isfinite(t)).sum())
            raise InputFileError(f"{self.label}: initializer {name!r} holds {bad} NaN or "
                                 "infinite value(s); weights must be finite numbers")
        return t

    # -- the walk --------------------------------------------------------------------------
    def run(self) -> list[str]:
        from onnx import numpy_helper

        g = self.model.graph
        for init in g.initializer:
            self.const[init.name] = self._initializer(init.name, init, numpy_helper.to_array)
        for sp in g.sparse_initializer:
            self.const[sp.values.name] = self._initializer(sp.values.name, sp,
                                                           numpy_helper.to_array)
        self._find_patterns()
        for idx, node in enumerate(g.node):
            if idx in self.skip:
                continue
            at = self.origin(node, idx)
            try:
                outs = self._node(idx, node, at)
            except (LoweringError, ShapeError):
                raise
            except Exception as exc:  # a bug or an odd attribute: name the place
                raise LoweringError(f"{self.label}: {self._where(node)}: lowering failed: "
                                    f"{type(exc).__name__}: {exc}") from exc
            self._bind(node, outs)
        outputs = []
        for o in g.output:
            v = self.act.get(o.name)
            if v is None:
                if o.name in self.pads:
                    raise UnsupportedOpError(f"{self.label}: graph output {o.name!r} is the "
                                             "output of a Pad node; a Pad is lowered only when "
                                             "it feeds a Conv or pooling layer")
                raise LoweringError(f"{self.label}: graph output {o.name!r} does not depend on "
                                    "the graph input (a constant); only input-dependent "
                                    "tensors can be chain outputs")
            outputs.append(v)
        if not outputs:
            raise LoweringError(f"{self.label}: the graph has no outputs")
        return outputs

    def _bind(self, node: NodeProto, outs: Sequence[Any]) -> None:
        for i, name in enumerate(node.output):
            if not name:
                continue
            if i >= len(outs) or outs[i] is None:
                self.missing[name] = (f"output {i} of {self._where(node)}, which is not "
                                      "lowered (only the main output is)")
                continue
            v = outs[i]
            if isinstance(v, str):
                self.act[name] = v
                want = self.inferred.get(name)
                got = self.b.shapes[v]
                if want is not None and tuple(want) != tuple(got):
                    raise LoweringError(
                        f"{self.label}: {self._where(node)}: the lowered shape {got} of "
                        f"{name!r} differs from ONNX shape inference {tuple(want)}; this is a "
                        "bug in accelscope's lowering rule for this op")
            elif isinstance(v, _Pad):
                self.pads[name] = v
            else:
                self.const[name] = v

    def _node(self, idx: int, node: NodeProto, at: Origin) -> Sequence[Any]:
        if node.domain not in ("", "ai.onnx"):
            raise self.unsupported(node, f"operator {node.domain}::{node.op_type} is outside "
                                   "the standard ONNX domain",
                                   "export without runtime-specific optimisations (no "
                                   "com.microsoft fused ops), or file an issue")
        op = node.op_type
        if idx in self.fused_act:
            src, fn = self.fused_act[idx]
            return [self.b.activation(at, self._as_act(node, src, 0), fn)]
        if op == "Constant":
            return [self._constant(node)]
        if op in ("Identity", "Dropout"):
            if op == "Dropout" and self._has(node, 2) and \
                    bool(self.c(node, 2, "training_mode").reshape(-1)[0]):
                raise self.unsupported(node, "Dropout in training mode",
                                           "export the model in eval mode (model.eval())")
            return [self._lookup(node, node.input[0])]
        if op in ("Shape", "Size") and node.input[0] in self.act:
            shape = self.b.shapes[self.act[node.input[0]]]
            if op == "Size":
                return [torch.tensor(math.prod(shape), dtype=torch.int64)]
            a = _attrs(node)
            lo, hi = a.get("start", 0), a.get("end", len(shape))
            return [torch.tensor(shape[lo:hi], dtype=torch.int64)]
        ins = [n for n in node.input if n]
        if all(n in self.const for n in ins):
            return self._fold(node)
        if op in _PLAIN_ACTS:
            return [self.b.activation(at, self.x(node), _PLAIN_ACTS[op])]
        if op in _BINARY:
            return [self._binary(node, at, _BINARY[op])]
        handler = getattr(self, f"op_{op}", None)
        if handler is None:
            raise self.unsupported(node, f"operator {op} is not supported",
                                   "docs/onnx.md lists the supported operators; re-export "
                                   "the model without it (e.g. simplify the model with "
                                   "onnxsim or a different torch.onnx.export opset), or file "
                                   "an issue")
        out = handler(node, at, _attrs(node))
        return out if isinstance(out, (list, tuple)) else [out]

    def _constant(self, node: NodeProto) -> torch.Tensor:
        from onnx import numpy_helper

        a = node.attribute[0]
        if a.name == "value":
            return _to_torch(numpy_helper.to_array(a.t))
        if a.name == "sparse_value":
            return _to_torch(numpy_helper.to_array(a.sparse_tensor))
        v = _attrs(node)[a.name]
        dtype = {"value_float": np.float32, "value_floats": np.float32}.get(a.name, np.int64)
        return _to_torch(np.asarray(v, dtype=dtype))

    def _fold(self, node: NodeProto) -> list[torch.Tensor]:
        """Evaluate a node whose inputs are all constants with ONNX's reference evaluator."""
        from onnx.reference import ReferenceEvaluator

        feeds = {n: self.const[n].numpy() for n in node.input if n}
        try:
            ev = ReferenceEvaluator(node, opsets={"": self.opset})
            res = ev.run(None, feeds)
        except Exception as exc:
            raise self.unsupported(node, f"could not evaluate this constant expression "
                                   f"({type(exc).__name__}: {exc})") from None
        return [_to_torch(r) for r in res]

    # -- activations written out as several nodes ------------------------------------------
    def _find_patterns(self) -> None:
        """Find ``x * 0.5 * (1 + erf(x / sqrt(2)))`` (GELU), ``x * sigmoid(x)`` (SiLU) and
        ``x * hardsigmoid(x)`` (HardSwish, opset < 14) whose inner values have no other
        reader, so that each lowers to the one activation the PyTorch front end emits."""
        g = self.model.graph
        consts = {i.name for i in g.initializer}
        values: dict[str, float] = {}
        for init in g.initializer:
            if math.prod(init.dims) == 1:
                from onnx import numpy_helper

                values[init.name] = float(numpy_helper.to_array(init).reshape(-1)[0])
        for node in g.node:
            if node.op_type == "Constant" and node.attribute and node.attribute[0].name == "value":
                t = node.attribute[0].t
                if math.prod(t.dims) == 1:
                    from onnx import numpy_helper

                    values[node.output[0]] = float(numpy_helper.to_array(t).reshape(-1)[0])
                    consts.add(node.output[0])
        producer = {o: i for i, n in enumerate(g.node) for o in n.output}
        users: dict[str, list[int]] = {}
        for i, n in enumerate(g.node):
            for t in n.input:
                users.setdefault(t, []).append(i)
        outs = {o.name for o in g.output}

        def only_user(t: str, op: str) -> int | None:
            u = users.get(t, [])
            if len(u) != 1 or t in outs or g.node[u[0]].op_type != op:
                return None
            return u[0]

        def split(i: int, value: float) -> str | None:
            """The non-constant input of binary node i whose constant input is ``value``."""
            a, b = g.node[i].input
            for c_, x_ in ((a, b), (b, a)):
                if c_ in values and abs(values[c_] - value) < 1e-4 * abs(value):
                    return cast(str, x_)  # an input name
            return None

        for ie, e in enumerate(g.node):
            if e.op_type != "Erf" or e.input[0] not in producer:
                continue
            idv = producer[e.input[0]]
            dv = g.node[idv]
            if dv.op_type == "Div" and dv.input[1] in values and \
                    abs(values[dv.input[1]] - math.sqrt(2)) < 1e-4:
                x = dv.input[0]
            elif dv.op_type == "Mul":
                x = split(idv, 1 / math.sqrt(2))
            else:
                continue
            if x is None or x in consts or only_user(e.input[0], "Erf") is None:
                continue
            ia = only_user(e.output[0], "Add")
            if ia is None or split(ia, 1.0) != e.output[0]:
                continue
            im = only_user(g.node[ia].output[0], "Mul")
            if im is None:
                continue
            m = g.node[im]
            other = m.input[1] if m.input[0] == g.node[ia].output[0] else m.input[0]
            chain_idx = [idv, ie, ia]
            if other == x:  # (x * (1 + erf)) * 0.5
                final = only_user(m.output[0], "Mul")
                if final is None or split(final, 0.5) != m.output[0]:
                    continue
                chain_idx.append(im)
            elif other in values and abs(values[other] - 0.5) < 1e-6:  # ((1+erf)*0.5) * x
                final = only_user(m.output[0], "Mul")
                if final is None or set(g.node[final].input) != {m.output[0], x}:
                    continue
                chain_idx.append(im)
            elif other in producer and split(producer[other], 0.5) == x and \
                    only_user(other, "Mul") == im:  # (x * 0.5) * (1 + erf)
                final = im
                chain_idx.append(producer[other])
            else:
                continue
            self.skip.update(chain_idx)
            self.fused_act[final] = (x, "gelu")
        for i, n in enumerate(g.node):
            if n.op_type not in ("Sigmoid", "HardSigmoid") or i in self.skip:
                continue
            if n.op_type == "HardSigmoid":
                a = _attrs(n)
                if abs(a.get("alpha", 0.2) - 1 / 6) > 1e-6 or a.get("beta", 0.5) != 0.5:
                    continue
            x = n.input[0]
            im = only_user(n.output[0], "Mul")
            if im is None or x in consts or sorted(g.node[im].input) != sorted([x, n.output[0]]):
                continue
            self.skip.add(i)
            self.fused_act[im] = (x, "silu" if n.op_type == "Sigmoid" else "hardswish")

    # -- convolutions ----------------------------------------------------------------------
    def _auto_pads(self, node: NodeProto, a: dict[str, Any], hw: Sequence[int],
                   k: Sequence[int], s: Sequence[int], d: Sequence[int]
                   ) -> tuple[int, int, int, int]:
        mode = a.get("auto_pad", "NOTSET") or "NOTSET"
        if mode == "NOTSET":
            p = [int(v) for v in a.get("pads", [0, 0, 0, 0])]
            if len(p) != 4:
                raise self.unsupported(node, f"pads {p} are not those of a 2-D layer")
            return p[0], p[1], p[2], p[3]
        if mode == "VALID":
            return 0, 0, 0, 0
        if mode not in ("SAME_UPPER", "SAME_LOWER"):
            raise self.unsupported(node, f"auto_pad={mode!r}")
        lo, hi = [], []
        for n, kk, ss, dd in zip(hw, k, s, d, strict=True):
            total = max(0, (-(-n // ss) - 1) * ss + (kk - 1) * dd + 1 - n)
            small, big = total // 2, total - total // 2
            lo.append(small if mode == "SAME_UPPER" else big)
            hi.append(big if mode == "SAME_UPPER" else small)
        return lo[0], lo[1], hi[0], hi[1]

    def _spatial(self, node: NodeProto, x: str, what: str) -> tuple[int, int]:
        shape = self.b.shapes[x]
        if len(shape) != 4:
            raise self.unsupported(node, f"{what} on a tensor of shape {shape}; only 2-D "
                                   "layers on (N, C, H, W) tensors are lowered")
        return shape[2], shape[3]

    def op_Conv(self, node: NodeProto, at: Origin, a: dict[str, Any]) -> str:
        x, pad = self.x_or_pad(node)
        w = self.c(node, 1, "weight")
        bias = self.c(node, 2, "bias", required=False)
        if w.dim() != 4:
            raise self.unsupported(node, f"a {w.dim() - 2}-D convolution (weight of shape "
                                   f"{tuple(w.shape)})", "only 2-D convolutions are lowered")
        hw = self._spatial(node, x, "Conv")
        k = (int(w.shape[2]), int(w.shape[3]))
        s = tuple(a.get("strides", (1, 1)))
        d = tuple(a.get("dilations", (1, 1)))
        if pad is not None:
            hw = (hw[0] + pad.pads[0] + pad.pads[2], hw[1] + pad.pads[1] + pad.pads[3])
        pads: tuple[int, ...] = self._auto_pads(node, a, hw, k, s, d)
        mode = "zeros"
        if pad is not None:
            if pad.mode == "constant":
                pads = tuple(p + q for p, q in zip(pads, pad.pads, strict=True))
            elif any(pads):
                raise self.unsupported(node, f"a {pad.mode} Pad followed by a padded Conv",
                                       "pad once")
            else:
                pads = pad.pads
                mode = {"reflect": "reflect", "edge": "replicate", "wrap": "circular"}[pad.mode]
        return self.b.conv2d(at, x, w, bias, s, pads, d, int(a.get("group", 1)), mode)

    def op_ConvTranspose(self, node: NodeProto, at: Origin, a: dict[str, Any]) -> str:
        x = self.x(node)
        w = self.c(node, 1, "weight")
        bias = self.c(node, 2, "bias", required=False)
        if w.dim() != 4:
            raise self.unsupported(node, f"a {w.dim() - 2}-D transposed convolution",
                                   "only 2-D ones are lowered")
        hw = self._spatial(node, x, "ConvTranspose")
        k = (int(w.shape[2]), int(w.shape[3]))
        s = tuple(int(v) for v in a.get("strides", (1, 1)))
        d = tuple(int(v) for v in a.get("dilations", (1, 1)))
        op = tuple(int(v) for v in a.get("output_padding", (0, 0)))
        mode = a.get("auto_pad", "NOTSET") or "NOTSET"
        if "output_shape" in a or mode in ("SAME_UPPER", "SAME_LOWER"):
            target = list(a["output_shape"])[-2:] if "output_shape" in a else \
                [hw[0] * s[0], hw[1] * s[1]]
            pads = [0, 0, 0, 0]
            for i in range(2):
                total = s[i] * (hw[i] - 1) + op[i] + (k[i] - 1) * d[i] + 1 - int(target[i])
                if total < 0 or total % 2:
                    raise self.unsupported(
                        node, f"output_shape/auto_pad giving an uneven total padding {total}",
                        "export with explicit pads")
                pads[i], pads[i + 2] = total // 2, total // 2
        elif mode == "VALID":
            pads = [0, 0, 0, 0]
        else:
            pads = [int(v) for v in a.get("pads", (0, 0, 0, 0))]
        # Asymmetric pads: the builder pads dilation*(k-1) - pad at the top/left and the same
        # plus output_padding at the bottom/right, so the difference goes into output_padding.
        outpad = (op[0] + pads[0] - pads[2], op[1] + pads[1] - pads[3])
        return self.b.conv_transpose2d(at, x, w, bias, s, (pads[0], pads[1]), outpad,
                                       int(a.get("group", 1)), d)

    def op_Gemm(self, node: NodeProto, at: Origin, a: dict[str, Any]) -> str:
        x = self.x(node)
        if len(self.b.shapes[x]) != 2:
            raise self.unsupported(node, f"Gemm on a tensor of shape {self.b.shapes[x]}")
        if a.get("transA", 0):
            x = self.b.permute(self.origin(node, 0, "_transA"), x, (1, 0))
        w = self.c(node, 1, "weight (B)")
        w = w if a.get("transB", 0) else w.t()
        alpha, beta = float(a.get("alpha", 1.0)), float(a.get("beta", 1.0))
        if alpha != 1.0:
            w = w * alpha
        bias = self.c(node, 2, "bias (C)", required=False)
        if bias is not None:
            out_f = int(w.shape[0])
            if bias.numel() == 1:
                bias = bias.reshape(1).expand(out_f)
            elif bias.numel() != out_f or bias.shape[-1] != out_f:
                raise self.unsupported(node, f"a bias C of shape {tuple(bias.shape)}; only a "
                                       "scalar or one value per output feature is lowered")
            bias = bias.reshape(out_f) * beta if beta != 1.0 else bias.reshape(out_f)
        return self.b.linear(at, x, w.contiguous(), bias)

    def op_MatMul(self, node: NodeProto, at: Origin, a: dict[str, Any]) -> str:
        x = self.x(node)
        w = self.c(node, 1, "weight (B)")
        if w.dim() != 2:
            raise self.unsupported(node, f"MatMul with a constant of shape {tuple(w.shape)}; "
                                   "only a 2-D weight is lowered")
        shape = self.b.shapes[x]
        if len(shape) < 2:
            raise self.unsupported(node, f"MatMul on a tensor of shape {shape}")
        if len(shape) == 2:
            return self.b.linear(at, x, w.t().contiguous(), None)
        flat = self.b.reshape(self.origin(node, 0, "_rows"), x,
                              (math.prod(shape[:-1]), shape[-1]))
        y = self.b.linear(self.origin(node, 0, "_fc"), flat, w.t().contiguous(), None)
        return self.b.reshape(at, y, (*shape[:-1], int(w.shape[1])))

    # -- normalisation and activations -----------------------------------------------------
    def op_BatchNormalization(self, node: NodeProto, at: Origin, a: dict[str, Any]) -> str:
        if a.get("training_mode", 0):
            raise self.unsupported(node, "BatchNormalization in training mode",
                                   "export the model in eval mode (model.eval())")
        x = self.x(node)
        scale, b = self.c(node, 1, "scale"), self.c(node, 2, "bias")
        mean, var = self.c(node, 3, "mean"), self.c(node, 4, "var")
        return self.b.batch_norm(at, x, mean, var, scale, b, float(a.get("epsilon", 1e-5)))

    def _act(self, node: NodeProto, at: Origin, fn: str, **params: float) -> str:
        return self.b.activation(at, self.x(node), fn, **params)

    def op_Sqrt(self, node: NodeProto, at: Origin, a: dict[str, Any]) -> str:
        return self._act(node, at, "pow", exponent=0.5)

    def op_LeakyRelu(self, node: NodeProto, at: Origin, a: dict[str, Any]) -> str:
        return self._act(node, at, "leaky_relu", negative_slope=float(a.get("alpha", 0.01)))

    def op_Gelu(self, node: NodeProto, at: Origin, a: dict[str, Any]) -> str:
        approx = a.get("approximate", "none")
        return self._act(node, at, "gelu_tanh" if approx == "tanh" else "gelu")

    def op_Neg(self, node: NodeProto, at: Origin, a: dict[str, Any]) -> str:
        return self.b.affine(at, self.x(node), -1.0, None)

    def op_HardSigmoid(self, node: NodeProto, at: Origin, a: dict[str, Any]) -> str:
        alpha, beta = float(a.get("alpha", 0.2)), float(a.get("beta", 0.5))
        if abs(alpha - 1 / 6) < 1e-7 and beta == 0.5:
            return self._act(node, at, "hardsigmoid")
        return self.b.pointwise(at, self.x(node), [PostOp("scale", value=alpha),
                                                   PostOp("bias", value=beta),
                                                   act("clip", min=0.0, max=1.0)])

    def op_Elu(self, node: NodeProto, at: Origin, a: dict[str, Any]) -> str:
        """``relu(x) + alpha * (exp(min(x, 0)) - 1)``: two point-wise GConvs and an add."""
        alpha = float(a.get("alpha", 1.0))
        x = self.x(node)
        neg = self.b.pointwise(self.origin(node, 0, "_neg"), x,
                               [act("clip", min=-math.inf, max=0.0), act("exp"),
                                PostOp("scale", value=alpha), PostOp("bias", value=-alpha)])
        pos = self.b.activation(self.origin(node, 0, "_pos"), x, "relu")
        return self.b.eltwise(at, pos, neg, "add")

    def op_PRelu(self, node: NodeProto, at: Origin, a: dict[str, Any]) -> str:
        slope = self.c(node, 1, "slope")
        if slope.numel() != 1:
            raise self.unsupported(node, "PRelu with a per-channel slope",
                                   "only a single shared slope (nn.PReLU()) is lowered")
        return self._act(node, at, "leaky_relu", negative_slope=float(slope.reshape(())))

    def op_Clip(self, node: NodeProto, at: Origin, a: dict[str, Any]) -> str:
        lo = self.scalar(node, a, "min", 1)
        hi = self.scalar(node, a, "max", 2)
        if lo == 0 and hi is None:
            return self._act(node, at, "relu")
        return self._act(node, at, "clip", min=-math.inf if lo is None else lo,
                         max=math.inf if hi is None else hi)

    def op_Pow(self, node: NodeProto, at: Origin, a: dict[str, Any]) -> str:
        e = self.c(node, 1, "exponent")
        if e.numel() != 1:
            raise self.unsupported(node, "Pow with a non-scalar exponent")
        return self._act(node, at, "pow", exponent=float(e.reshape(())))

    def op_Softmax(self, node: NodeProto, at: Origin, a: dict[str, Any]) -> str:
        x = self.x(node)
        shape = self.b.shapes[x]
        axis = int(a.get("axis", -1 if self.opset >= 13 else 1)) % len(shape)
        if self.opset < 13 and math.prod(shape[axis + 1:]) != 1:
            raise self.unsupported(node, "Softmax (opset < 13) over the flattened dims "
                                   f"{axis}.. of {shape}", "re-export with opset >= 13")
        if axis != 1 and math.prod(shape[1:axis]) * math.prod(shape[axis + 1:]) == 1 \
                and len(shape) >= 2:
            axis = 1  # e.g. axis=-1 of (N, C): the channel dim
        return self.b.softmax(at, x, axis)

    def op_LRN(self, node: NodeProto, at: Origin, a: dict[str, Any]) -> str:
        size = int(a["size"])
        if size % 2 == 0:
            raise self.unsupported(node, f"LRN with an even size {size} (its window is placed "
                                   "differently from PyTorch's)", "use an odd size")
        return self.b.local_response_norm(at, self.x(node), size, float(a.get("alpha", 1e-4)),
                                          float(a.get("beta", 0.75)), float(a.get("bias", 1.0)))

    # -- element-wise ----------------------------------------------------------------------
    def _binary(self, node: NodeProto, at: Origin, op: str) -> str:
        lhs = self._lookup(node, node.input[0])
        rhs = self._lookup(node, node.input[1])
        for v in (lhs, rhs):
            if isinstance(v, _Pad):
                self.x(node, 0 if v is lhs else 1)  # raises the Pad message
        # Past the loop neither side is a _Pad, and not both are constants (_node folds those):
        # a side that is not an activation name (str) is a constant tensor, and vice versa.
        if op == "sub":
            if isinstance(rhs, str):
                neg = self.b.affine(self.origin(node, 0, "_neg"), rhs, -1.0, None)
                if isinstance(lhs, str):
                    return self.b.eltwise(at, lhs, neg, "add")
                return self._const_op(node, at, neg, cast(torch.Tensor, lhs), "add")
            return self._const_op(node, at, cast(str, lhs), -cast(torch.Tensor, rhs), "add")
        if op == "div":
            if isinstance(rhs, str):
                inv = self.b.activation(self.origin(node, 0, "_inv"), rhs, "reciprocal")
                if isinstance(lhs, str):
                    return self.b.eltwise(at, lhs, inv, "mul")
                return self._const_op(node, at, inv, cast(torch.Tensor, lhs), "mul")
            return self._const_op(node, at, cast(str, lhs),
                                  1.0 / cast(torch.Tensor, rhs).double(), "mul")
        if isinstance(lhs, str) and isinstance(rhs, str):
            return self.b.eltwise(at, lhs, rhs, op)
        if isinstance(lhs, str):
            return self._const_op(node, at, lhs, cast(torch.Tensor, rhs), op)
        return self._const_op(node, at, cast(str, rhs), cast(torch.Tensor, lhs), op)

    def _const_op(self, node: NodeProto, at: Origin, x: str, c: torch.Tensor, op: str) -> str:
        """``x (op) c`` for a constant that is a scalar or one value per channel (dim 1)."""
        shape = self.b.shapes[x]
        c = c.float() if not c.is_floating_point() else c
        if c.numel() == 1:
            value: torch.Tensor | float = float(c.reshape(()))
        else:
            try:  # torch.broadcast_shapes is unannotated
                full = tuple(torch.broadcast_shapes(  # type: ignore[no-untyped-call]
                    tuple(c.shape), shape))
            except RuntimeError:
                full = None
            lead = len(shape) - c.dim()
            non1 = [lead + i for i, s in enumerate(c.shape) if s != 1]
            if full != shape or lead < 0 or non1 != [1]:
                raise self.unsupported(
                    node, f"element-wise {node.op_type} of a {shape} activation with a constant "
                    f"of shape {tuple(c.shape)}", "only scalar and per-channel (dim 1) constants "
                    "are lowered")
            value = c.reshape(-1).to(torch.float32 if c.dtype == torch.float64 else c.dtype)
        if op == "add":
            return self.b.affine(at, x, None, value)
        return self.b.affine(at, x, value, None)

    # -- pooling ---------------------------------------------------------------------------
    def _pool(self, node: NodeProto, at: Origin, a: dict[str, Any], reduce_op: str) -> str:
        x, pad = self.x_or_pad(node)
        hw = self._spatial(node, x, node.op_type)
        k = tuple(int(v) for v in a["kernel_shape"])
        s = tuple(int(v) for v in a.get("strides", (1, 1)))
        d = tuple(int(v) for v in a.get("dilations", (1, 1)))
        if len(k) != 2:
            raise self.unsupported(node, f"a {len(k)}-D pooling window")
        # SAME pads to ceil(in / stride) outputs by itself; VALID still honours ceil_mode
        ceil = bool(a.get("ceil_mode", 0)) and a.get("auto_pad") not in ("SAME_UPPER",
                                                                         "SAME_LOWER")
        own = self._auto_pads(node, a, hw, k, s, d)
        count_pad = bool(a.get("count_include_pad", 0))
        if pad is None and k == (1, 1) and s == (1, 1) and not any(own):
            return x  # a 1x1 window: an identity, no node (as adaptive pooling to the same size)
        if pad is None and own[0] == own[2] and own[1] == own[3]:
            if reduce_op == "max":
                return self.b.max_pool2d(at, x, k, s, (own[0], own[1]), d, ceil)
            if d == (1, 1):
                return self.b.avg_pool2d(at, x, k, s, (own[0], own[1]), ceil, count_pad)
        pads = list(own)
        mean_pad = list(own) if count_pad else [0, 0, 0, 0]
        pad_value = -math.inf if reduce_op == "max" else 0.0
        if pad is not None:
            if pad.mode != "constant":
                raise self.unsupported(node, f"a {pad.mode} Pad before pooling")
            if reduce_op == "max":
                if any(own):
                    raise self.unsupported(node, "a zero Pad followed by a padded MaxPool")
                pad_value = 0.0  # the Pad's zeros take part in the max
            pads = [p + q for p, q in zip(pads, pad.pads, strict=True)]
            mean_pad = [p + q for p, q in zip(mean_pad, pad.pads, strict=True)]
        extra = []
        for i in range(2):
            span = hw[i] + pads[i] + pads[i + 2] - d[i] * (k[i] - 1) - 1
            if span < 0:
                raise ShapeError(f"{self.label}: {self._where(node)}: the pooling window is "
                                 f"larger than the padded input {hw}")
            out = (-(-span // s[i]) if ceil else span // s[i]) + 1
            if ceil and (out - 1) * s[i] >= hw[i] + pads[i]:
                out -= 1
            extra.append(max(0, (out - 1) * s[i] + d[i] * (k[i] - 1) + 1
                             - (hw[i] + pads[i] + pads[i + 2])))
        if pad_value == 0.0 and reduce_op == "max" and any(extra):
            raise self.unsupported(node, "a zero Pad followed by a ceil_mode MaxPool")
        pooled = self.b._pool(at, x, reduce_op, k, s,
                              (pads[0], pads[1], pads[2] + extra[0], pads[3] + extra[1]), d,
                              mean_pad)
        if reduce_op == "max" and pad_value == 0.0:
            last = self.b.nodes[-1]
            assert isinstance(last, GConv)
            self.b.nodes[-1] = replace(last, pad_value=0.0)
        return pooled

    def op_MaxPool(self, node: NodeProto, at: Origin, a: dict[str, Any]) -> list[str | None]:
        if int(a.get("storage_order", 0)):
            raise self.unsupported(node, "MaxPool with storage_order=1")
        return [self._pool(node, at, a, "max"), None]

    def op_AveragePool(self, node: NodeProto, at: Origin, a: dict[str, Any]) -> str:
        return self._pool(node, at, a, "mean")

    def op_GlobalAveragePool(self, node: NodeProto, at: Origin, a: dict[str, Any]) -> str:
        x = self.x(node)
        self._spatial(node, x, node.op_type)
        return self.b.global_pool(at, x, "mean", True)

    def op_GlobalMaxPool(self, node: NodeProto, at: Origin, a: dict[str, Any]) -> str:
        x = self.x(node)
        self._spatial(node, x, node.op_type)
        return self.b.global_pool(at, x, "max", True)

    def _reduce(self, node: NodeProto, at: Origin, a: dict[str, Any], reduce_op: str) -> str:
        x = self.x(node)
        rank = len(self.b.shapes[x])
        axes = self.ints(node, a, "axes", 1)
        if not axes or rank != 4 or {v % rank for v in axes} != {2, 3}:
            raise self.unsupported(node, f"{node.op_type} over axes {axes} of a rank-{rank} "
                                   "tensor", "only the reduction over the spatial axes (2, 3) "
                                   "of an (N, C, H, W) tensor is lowered, as global pooling")
        return self.b.global_pool(at, x, reduce_op, bool(a.get("keepdims", 1)))

    def op_ReduceMean(self, node: NodeProto, at: Origin, a: dict[str, Any]) -> str:
        return self._reduce(node, at, a, "mean")

    def op_ReduceMax(self, node: NodeProto, at: Origin, a: dict[str, Any]) -> str:
        return self._reduce(node, at, a, "max")

    # -- layout ----------------------------------------------------------------------------
    def op_Flatten(self, node: NodeProto, at: Origin, a: dict[str, Any]) -> str:
        x = self.x(node)
        shape = self.b.shapes[x]
        axis = int(a.get("axis", 1)) % (len(shape) + 1) if a.get("axis", 1) < 0 \
            else int(a.get("axis", 1))
        return self.b.reshape(at, x, (math.prod(shape[:axis]), math.prod(shape[axis:])))

    def op_Reshape(self, node: NodeProto, at: Origin, a: dict[str, Any]) -> str:
        x = self.x(node)
        src = self.b.shapes[x]
        want = [int(v) for v in self.c(node, 1, "shape").reshape(-1).tolist()]
        if not a.get("allowzero", 0):
            want = [src[i] if v == 0 else v for i, v in enumerate(want)]
        if want.count(-1) == 1:
            rest = math.prod(v for v in want if v != -1)
            want[want.index(-1)] = math.prod(src) // rest if rest else 0
        return self.b.reshape(at, x, want)

    def op_Transpose(self, node: NodeProto, at: Origin, a: dict[str, Any]) -> str:
        x = self.x(node)
        perm = a.get("perm", list(reversed(range(len(self.b.shapes[x])))))
        return self.b.permute(at, x, perm)

    def op_Concat(self, node: NodeProto, at: Origin, a: dict[str, Any]) -> str:
        xs = [self.x(node, i) for i in range(len(node.input)) if node.input[i]]
        return self.b.concat(at, xs, int(a["axis"]))

    def op_Split(self, node: NodeProto, at: Origin, a: dict[str, Any]) -> list[str]:
        x = self.x(node)
        shape = self.b.shapes[x]
        axis = int(a.get("axis", 0)) % len(shape)
        sizes = self.ints(node, a, "split", 1)
        n_out = len(node.output)
        if sizes is None:
            parts = int(a.get("num_outputs", n_out))
            step = -(-shape[axis] // parts)
            sizes = [min(step, shape[axis] - i * step) for i in range(parts)]
        outs, start = [], 0
        for i, size in enumerate(sizes):
            outs.append(self.b.slice(self.origin(node, 0, f"_{i}"), x, axis, start,
                                     start + size, 1))
            start += size
        return outs

    def op_Slice(self, node: NodeProto, at: Origin, a: dict[str, Any]) -> str:
        x = self.x(node)
        shape = self.b.shapes[x]
        # starts and ends are required inputs (attributes before opset 10) of a Slice
        starts = cast(list[int], self.ints(node, a, "starts", 1))
        ends = cast(list[int], self.ints(node, a, "ends", 2))
        axes = self.ints(node, a, "axes", 3) or list(range(len(starts)))
        steps = self.ints(node, a, "steps", 4) or [1] * len(starts)
        out = x
        for st, en, ax, sp in zip(starts, ends, axes, steps, strict=True):
            ax %= len(shape)
            if sp < 1:
                raise self.unsupported(node, f"Slice with step {sp}",
                                       "only positive steps are lowered")
            rng = range(shape[ax])[slice(st, en, sp)]
            if len(rng) == 0:
                raise self.unsupported(node, f"Slice giving an empty tensor along axis {ax}")
            out = self.b.slice(at, out, ax, rng.start, rng.stop, sp)
        return out

    def op_Squeeze(self, node: NodeProto, at: Origin, a: dict[str, Any]) -> str:
        x = self.x(node)
        shape = self.b.shapes[x]
        axes = self.ints(node, a, "axes", 1)
        drop = {v % len(shape) for v in axes} if axes else \
            {i for i, s in enumerate(shape) if s == 1}
        return self.b.reshape(at, x, [s for i, s in enumerate(shape) if i not in drop])

    def op_Unsqueeze(self, node: NodeProto, at: Origin, a: dict[str, Any]) -> str:
        x = self.x(node)
        out = list(self.b.shapes[x])
        axes = self.ints(node, a, "axes", 1) or []
        rank = len(out) + len(axes)
        for ax in sorted(v % rank for v in axes):
            out.insert(ax, 1)
        return self.b.reshape(at, x, out)

    def op_Expand(self, node: NodeProto, at: Origin, a: dict[str, Any]) -> str:
        x = self.x(node)
        shape = self.b.shapes[x]
        target = tuple(self.c(node, 1, "shape").reshape(-1).tolist())
        # torch.broadcast_shapes is unannotated
        if tuple(torch.broadcast_shapes(shape, target)) != shape:  # type: ignore[no-untyped-call]
            raise self.unsupported(node, f"Expand of {shape} to {target}",
                                   "only an Expand that leaves the shape unchanged is lowered")
        return x

    def op_Cast(self, node: NodeProto, at: Origin, a: dict[str, Any]) -> str:
        if int(a["to"]) != 1:
            raise self.unsupported(node, f"Cast of an activation to ONNX type {a['to']}",
                                   "lower the model in float32")
        return self.x(node)

    def op_Gather(self, node: NodeProto, at: Origin, a: dict[str, Any]) -> str:
        x = self.x(node)
        shape = self.b.shapes[x]
        axis = int(a.get("axis", 0)) % len(shape)
        idx = self.c(node, 1, "indices")
        vals = [int(v) % shape[axis] for v in idx.reshape(-1).tolist()]
        if not vals or vals != list(range(vals[0], vals[0] + len(vals))):
            raise self.unsupported(node, "Gather of non-contiguous indices from an activation")
        out = self.b.slice(self.origin(node, 0, "_slice"), x, axis, vals[0],
                           vals[0] + len(vals), 1)
        if idx.dim() == 0:
            return self.b.reshape(at, out, [s for i, s in enumerate(shape) if i != axis])
        return out

    def op_Pad(self, node: NodeProto, at: Origin, a: dict[str, Any]) -> _Pad:
        x = self.x(node)
        rank = len(self.b.shapes[x])
        mode = a.get("mode", "constant")
        pads = self.ints(node, a, "pads", 1) or []
        value = self.scalar(node, a, "value", None) or self.scalar(node, {}, "value", 2)
        axes = self.ints(node, {}, "axes", 3)
        full = [0] * (2 * rank)
        axes = [v % rank for v in axes] if axes else list(range(rank))
        for i, ax in enumerate(axes):
            full[ax], full[rank + ax] = pads[i], pads[len(axes) + i]
        if rank != 4 or any(full[i] or full[rank + i] for i in (0, 1)) or min(full) < 0:
            raise self.unsupported(node, f"Pad {full} of a rank-{rank} tensor",
                                   "only non-negative padding of H and W is lowered")
        if mode == "constant" and value not in (None, 0.0):
            raise self.unsupported(node, f"Pad with the constant {value}",
                                   "only zero padding is lowered")
        if mode not in ("constant", "reflect", "edge", "wrap"):
            raise self.unsupported(node, f"Pad mode {mode!r}")
        return _Pad(x, (full[2], full[3], full[6], full[7]), mode, node.name or node.output[0])

    def op_Resize(self, node: NodeProto, at: Origin, a: dict[str, Any]) -> str:
        x = self.x(node)
        shape = self.b.shapes[x]
        mode = a.get("mode", "nearest")
        if mode != "nearest":
            raise self.unsupported(node, f"Resize mode {mode!r}",
                                   "only nearest upsampling by integer factors is lowered")
        if node.op_type == "Upsample" or self.opset < 11:
            scales_t = self.c(node, 1, "scales", required=False)
            scales = a.get("scales") if scales_t is None else scales_t.reshape(-1).tolist()
            sizes = None
            coord = "asymmetric"
            nearest = "floor"
        else:
            scales_t = self.c(node, 2, "scales", required=False)
            scales = scales_t.reshape(-1).tolist() if scales_t is not None and \
                scales_t.numel() else None
            sizes_t = self.c(node, 3, "sizes", required=False)
            sizes = sizes_t.reshape(-1).tolist() if sizes_t is not None and \
                sizes_t.numel() else None
            coord = a.get("coordinate_transformation_mode", "half_pixel")
            nearest = a.get("nearest_mode", "round_prefer_floor")
        axes = [v % len(shape) for v in a.get("axes", range(len(shape)))]
        factor = [1.0] * len(shape)
        for i, ax in enumerate(axes):
            if sizes is not None:
                factor[ax] = int(sizes[i]) / shape[ax]
            elif scales is not None:
                factor[ax] = float(scales[i])
        if len(shape) != 4 or factor[0] != 1 or factor[1] != 1 or \
                any(f != int(f) or f < 1 for f in factor[2:]):
            raise self.unsupported(node, f"Resize of {shape} by {factor}",
                                   "only integer upsampling of H and W is lowered")
        sh, sw = int(factor[2]), int(factor[3])
        for n, f in ((shape[2], sh), (shape[3], sw)):
            if not _nearest_replicates(coord, nearest, n, f):
                raise self.unsupported(
                    node, f"Resize with coordinate_transformation_mode={coord!r} and "
                    f"nearest_mode={nearest!r}, which does not repeat each pixel {f} times",
                    "export nearest upsampling with 'asymmetric'/'floor' or 'half_pixel'")
        if (sh, sw) == (1, 1):
            return x
        return self.b.upsample_nearest(at, x, sh, sw)

    def op_Upsample(self, node: NodeProto, at: Origin, a: dict[str, Any]) -> str:
        return self.op_Resize(node, at, a)


_PLAIN_ACTS = {"Relu": "relu", "Sigmoid": "sigmoid", "Tanh": "tanh", "Exp": "exp",
               "Reciprocal": "reciprocal", "HardSwish": "hardswish"}
_BINARY = {"Add": "add", "Sub": "sub", "Mul": "mul", "Div": "div"}


def _nearest_replicates(coord: str, nearest: str, n: int, f: int) -> bool:
    """True when ONNX nearest resizing by the integer ``f`` maps output o to input o // f."""
    out = n * f
    for o in range(out):
        if coord in ("half_pixel", "half_pixel_symmetric"):
            src = (o + 0.5) / f - 0.5
        elif coord == "pytorch_half_pixel":
            src = (o + 0.5) / f - 0.5 if out > 1 else 0.0
        elif coord == "asymmetric":
            src = o / f
        elif coord == "align_corners":
            src = o * (n - 1) / (out - 1) if out > 1 else 0.0
        elif coord == "tf_half_pixel_for_nn":
            src = (o + 0.5) / f
        else:
            return False
        if nearest == "round_prefer_floor":
            i = math.ceil(src - 0.5)
        elif nearest == "round_prefer_ceil":
            i = math.floor(src + 0.5)
        elif nearest == "floor":
            i = math.floor(src)
        elif nearest == "ceil":
            i = math.ceil(src)
        else:
            return False
        if min(max(i, 0), n - 1) != o // f:
            return False
    return True


# ---------------------------------------------------------------------------------------
# Loading and input shapes
# ---------------------------------------------------------------------------------------

def _load(model: Any) -> tuple[ModelProto, str, str, Path | None]:
    """Return (ModelProto, label, default name); bad files raise InputFileError."""
    import onnx

    if type(model).__name__ == "ModelProto":
        label = f"ONNX model {model.graph.name or '(unnamed graph)'!r}"
        return model, label, model.graph.name or "onnx_model", None
    if not isinstance(model, (str, os.PathLike)):
        raise LoweringError(f"lower_onnx takes a path to an .onnx file or an onnx.ModelProto, "
                            f"not a {type(model).__name__}")
    path = Path(os.fspath(model))
    if not path.exists():
        raise InputFileError(f"{path}: no such ONNX file; give the path of an .onnx file "
                             "(export one with torch.onnx.export(model, x, 'model.onnx'))")
    if not path.is_file():
        raise InputFileError(f"{path}: is not a file; give the path of an .onnx file")
    try:
        proto = onnx.load(str(path))
    except Exception as exc:
        msg = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
        raise InputFileError(f"{path}: cannot be read as an ONNX model ({msg}); the file is "
                             "not an ONNX protobuf, is truncated, or its external data is "
                             "missing. Export it again with torch.onnx.export") from None
    return proto, str(path), path.stem, path


def _check(proto: ModelProto, label: str, path: Path | None) -> None:
    import onnx

    if not proto.HasField("graph") or not proto.graph.node:
        raise InputFileError(f"{label}: holds no ONNX graph (an empty, truncated or non-ONNX "
                             "file); export the model again with torch.onnx.export")
    try:
        if path is not None:  # the C++ checker reads the file: no Python re-serialisation
            onnx.checker.check_model(str(path))
        else:
            onnx.checker.check_model(proto)
    except Exception as exc:
        msg = str(exc).strip().splitlines()
        short = " ".join(msg[:3])[:300] if msg else type(exc).__name__
        raise InputFileError(f"{label}: fails the ONNX checker ({short}); the file is "
                             "malformed or truncated. Export it again, or repair it with "
                             "onnx.checker / onnxsim") from None


def _graph_inputs(proto: ModelProto) -> list[ValueInfoProto]:
    inits = {i.name for i in proto.graph.initializer}
    inits |= {i.values.name for i in proto.graph.sparse_initializer}
    return [i for i in proto.graph.input if i.name not in inits]


def _declared_shape(vi: ValueInfoProto) -> list[int | str | None] | None:
    t = vi.type.tensor_type
    if not t.HasField("shape"):
        return None
    dims: list[int | str | None] = []
    for d in t.shape.dim:
        if d.HasField("dim_value") and d.dim_value > 0:
            dims.append(int(d.dim_value))
        else:
            dims.append(d.dim_param or None)
    return dims


def _input_shapes(inputs: Sequence[ValueInfoProto], input_shape: Any,
                  label: str) -> list[tuple[int, ...]]:
    names = [i.name for i in inputs]
    if input_shape is None:
        overrides: list[Any] = [None] * len(inputs)
    elif isinstance(input_shape, Mapping):
        unknown = set(input_shape) - set(names)
        if unknown:
            raise ShapeError(f"{label}: input_shape names {sorted(unknown)}, but the graph "
                             f"inputs are {names}")
        overrides = [input_shape.get(n) for n in names]
    else:
        seq = list(input_shape)
        if seq and all(isinstance(s, (int, np.integer)) for s in seq):
            seq = [seq]
        if len(seq) != len(inputs):
            raise ShapeError(f"{label}: the graph has {len(inputs)} input(s) {names}, but "
                             f"input_shape gives {len(seq)} shape(s)")
        overrides = seq
    declared = [_declared_shape(i) for i in inputs]
    unset = [n for n, d, o in zip(names, declared, overrides, strict=True)
             if o is None and (d is None or not all(isinstance(v, int) for v in d))]
    if len(inputs) > 1 and unset:
        raise InputFileError(f"{label}: the graph has {len(inputs)} inputs {names} and "
                             f"{unset} declare no static shape; export the model with static "
                             "input shapes or pass input_shape={name: shape, ...} for them")
    shapes: list[tuple[int, ...]] = []
    for vi, dec, ovr in zip(inputs, declared, overrides, strict=True):
        elem = vi.type.tensor_type.elem_type
        if elem not in _FLOAT_TYPES:
            raise UnsupportedOpError(f"{label}: graph input {vi.name!r} has ONNX element type "
                                     f"{elem}; only floating-point inputs (images, feature "
                                     "maps) are lowered")
        if ovr is not None:
            ovr = tuple(int(s) for s in ovr)
            if dec is not None and len(dec) != len(ovr):
                raise ShapeError(f"{label}: input_shape {ovr} for input {vi.name!r} has rank "
                                 f"{len(ovr)}, but the graph declares rank {len(dec)} ({dec})")
            if min(ovr, default=1) < 1:
                raise ShapeError(f"{label}: input_shape {ovr} must be positive integers")
            shapes.append(ovr)
            continue
        if dec is None or any(not isinstance(d, int) for d in dec):
            shown = "unknown" if dec is None else \
                "(" + ", ".join(str(d) if d is not None else "?" for d in dec) + ")"
            raise ShapeError(f"{label}: graph input {vi.name!r} has shape {shown}, which is "
                             "not fully static; pass input_shape=(N, C, H, W) (CLI: "
                             "--input-shape N,C,H,W)")
        shapes.append(cast(tuple[int, ...], tuple(dec)))  # every dim is an int (checked above)
    return shapes


def _strip_large_initializers(m: ModelProto, max_elems: int = 4096) -> None:
    """Replace big initializers by typed graph inputs of the same shape.

    Shape inference serialises the whole model; for AlexNet's 61 M parameters that took most
    of the lowering time. Only small initializers (shape tensors, scales) carry values that
    inference needs, so the large ones keep only their type and shape.
    """
    import onnx

    keep, typed = [], []
    declared = {i.name for i in m.graph.input}
    for init in m.graph.initializer:
        n = 1
        for d in init.dims:
            n *= d
        if n <= max_elems:
            keep.append(init)
        elif init.name not in declared:
            typed.append(onnx.helper.make_tensor_value_info(init.name, init.data_type,
                                                            list(init.dims)))
    del m.graph.initializer[:]
    m.graph.initializer.extend(keep)
    m.graph.input.extend(typed)


def _inferred_shapes(proto: ModelProto, inputs: Sequence[ValueInfoProto],
                     shapes: Sequence[tuple[int, ...]]) -> dict[str, tuple[int, ...]]:
    """Static shapes from ONNX shape inference with the chosen input shapes (best effort)."""
    import onnx

    try:
        m = onnx.ModelProto()
        m.CopyFrom(proto)
        _strip_large_initializers(m)
        by_name = {i.name: s for i, s in zip(inputs, shapes, strict=True)}
        for vi in m.graph.input:
            if vi.name in by_name:
                t = vi.type.tensor_type
                t.ClearField("shape")
                for s in by_name[vi.name]:
                    t.shape.dim.add().dim_value = s
        del m.graph.value_info[:]
        m = onnx.shape_inference.infer_shapes(m, data_prop=True)
    except Exception:
        return {}
    out: dict[str, tuple[int, ...]] = {}
    for vi in (*m.graph.value_info, *m.graph.output):
        dims = _declared_shape(vi)
        if dims is not None and all(isinstance(d, int) for d in dims):
            out[vi.name] = cast(tuple[int, ...], tuple(dims))  # every dim is an int
    return out


def lower_onnx(model: Any, input_shape: Any = None, *, name: str | None = None,
               fuse_ops: bool = True) -> Chain:
    """Lower an ONNX model (a path to an ``.onnx`` file or an ``onnx.ModelProto``) into a
    checked Chain.

    ``input_shape`` sets the shape of the graph input (replacing symbolic or declared dims):
    a tuple such as ``(1, 3, 224, 224)``, or for several inputs a list of tuples in graph
    order or a mapping from input name to shape. ``fuse_ops`` merges point-wise ops and
    batch-norm into their producers, as for the PyTorch front end.
    """
    proto, label, default_name, path = _load(model)
    _check(proto, label, path)
    if proto.functions:
        import onnx.inliner

        proto = onnx.inliner.inline_local_functions(proto)
    opset = next((o.version for o in proto.opset_import if o.domain in ("", "ai.onnx")), None)
    if opset is None:
        raise InputFileError(f"{label}: declares no version of the standard ONNX operator set; "
                             "export it again with torch.onnx.export(..., opset_version=17)")
    inputs = _graph_inputs(proto)
    if not inputs:
        raise InputFileError(f"{label}: the graph has no inputs (only initializers)")
    shapes = _input_shapes(inputs, input_shape, label)
    builder = ChainBuilder(name or default_name, "onnx")
    lowerer = _Lowerer(proto, builder, opset, label, _inferred_shapes(proto, inputs, shapes))
    for vi, shape in zip(inputs, shapes, strict=True):
        lowerer.act[vi.name] = builder.add_input(vi.name, shape)
    outputs = lowerer.run()
    chain = builder.finish(outputs)
    if fuse_ops:
        chain = fuse(chain)
    return chain.check()


__all__ = ["lower_onnx"]
