"""The one workload IR: the general convolution (``GConv``) and the chain of them (``Chain``).

A ``GConv`` is a 7-D loop nest. With the input activation ``X`` of shape ``(N, G*C, H, W)``
(after inserting ``input_dilation - 1`` zeros between pixels and padding it by ``padding``),
the second operand ``B`` and the output ``Y`` of shape ``(N, G*K, P, Q)``::

    Y[n, g*K+k, p, q] = post( reduce_{c<C, r<R, s<S}
                              map( X[n, g*C+c, p*sh + r*dh, q*sw + s*dw],  B[...] ) )

* ``map`` is ``mul``, ``add`` or ``pass`` (pass-through: the input value alone, no operand);
* ``reduce`` is ``sum``, ``max``, ``mean`` (sum divided by the number of window taps that
  fall inside the zero-inserted input extended by ``mean_pad``; a window of padding alone
  gives 0) or ``none`` (only when ``C*R*S == 1``);
* the operand ``B`` is either a static **weight** ``W[g*K+k, c, r, s]`` (a parameter), or a
  dynamic **tensor** (another activation, element-wise: ``C = K = R = S = 1``), read as
  ``B[n, g, p, q]`` with broadcasting over its size-1 dimensions;
* ``post`` applies the fused post-ops in order: per-channel or scalar ``scale`` and ``bias``,
  and activations.

Convolution, depthwise/grouped convolution, FC, pooling, batch-norm, element-wise add/mul,
activations, upsampling and transposed convolution are all GConvs with particular parameters.
Pure layout changes (reshape, permute, concat) are ``View`` nodes: they do no arithmetic.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from types import MappingProxyType
from typing import Any, Literal

from accelscope.errors import ChainCheckError, ShapeError

MapOp = Literal["mul", "add", "pass"]
ReduceOp = Literal["sum", "max", "mean", "none"]
OperandKind = Literal["none", "weight", "tensor"]
PadMode = Literal["zeros", "reflect", "replicate", "circular"]

MAP_OPS = ("mul", "add", "pass")
REDUCE_OPS = ("sum", "max", "mean", "none")
PAD_MODES = ("zeros", "reflect", "replicate", "circular")

#: Activation functions a post-op may apply, with the parameters each takes.
ACTIVATIONS: dict[str, tuple[str, ...]] = {
    "relu": (),
    "clip": ("min", "max"),  # ReLU6 = clip(0, 6), Hardtanh
    "leaky_relu": ("negative_slope",),
    "silu": (),
    "hardswish": (),
    "hardsigmoid": (),
    "sigmoid": (),
    "gelu": (),
    "gelu_tanh": (),
    "tanh": (),
    "exp": (),
    "reciprocal": (),
    "pow": ("exponent",),
}


@dataclass(frozen=True)
class PostOp:
    """One fused post-op, applied per output element after the reduction.

    ``kind`` is ``scale`` (multiply), ``bias`` (add) or ``act`` (activation). A scale or bias
    takes either a per-output-channel parameter ``tensor`` of shape ``(G*K,)`` or a scalar
    ``value``. An activation names its function in ``fn`` with ``params`` as (name, value)
    pairs.
    """

    kind: Literal["scale", "bias", "act"]
    tensor: str | None = None
    value: float | None = None
    fn: str | None = None
    params: tuple[tuple[str, float], ...] = ()

    def describe(self) -> str:
        if self.kind == "act":
            args = ",".join(f"{k}={v:g}" for k, v in self.params)
            return f"{self.fn}({args})" if args else str(self.fn)
        arg = self.tensor if self.tensor is not None else f"{self.value:g}"
        return f"{self.kind}[{arg}]"


def act(fn: str, **params: float) -> PostOp:
    """Build an activation post-op, checking the function and its parameters."""
    if fn not in ACTIVATIONS:
        raise ValueError(f"unknown activation {fn!r}; known: {', '.join(ACTIVATIONS)}")
    want = ACTIVATIONS[fn]
    if set(params) != set(want):
        raise ValueError(f"activation {fn!r} takes parameters {want}, got {tuple(params)}")
    return PostOp("act", fn=fn, params=tuple((k, float(params[k])) for k in want))


def conv_out_size(size: int, k: int, stride: int, dilation: int, pad_lo: int, pad_hi: int,
                  input_dilation: int = 1) -> int:
    """Output length of a (possibly input-dilated) convolution along one axis."""
    dilated = (size - 1) * input_dilation + 1
    span = dilated + pad_lo + pad_hi - dilation * (k - 1) - 1
    if span < 0:
        return 0
    return span // stride + 1


@dataclass(frozen=True)
class GConv:
    """A general convolution: one node of the chain (see the module docstring for semantics).

    Dimension names follow the accelerator literature: ``N`` batch, ``G`` groups, ``K`` output
    channels per group, ``C`` input channels per group, ``H x W`` input plane, ``P x Q`` output
    plane, ``R x S`` filter window. ``padding`` is (top, left, bottom, right) in input pixels
    (negative crops); ``input_dilation`` inserts zeros between input pixels (transposed
    convolution, nearest upsampling).
    """

    name: str
    N: int
    G: int
    K: int
    C: int
    H: int
    W: int
    P: int
    Q: int
    R: int
    S: int
    input: str
    output: str
    map_op: MapOp = "mul"
    reduce_op: ReduceOp = "sum"
    operand: str | None = None
    operand_kind: OperandKind = "none"
    stride: tuple[int, int] = (1, 1)
    dilation: tuple[int, int] = (1, 1)
    padding: tuple[int, int, int, int] = (0, 0, 0, 0)
    input_dilation: tuple[int, int] = (1, 1)
    pad_mode: PadMode = "zeros"
    pad_value: float = 0.0
    mean_pad: tuple[int, int, int, int] = (0, 0, 0, 0)
    post_ops: tuple[PostOp, ...] = ()
    origin_op: str = ""
    module_path: str = ""

    # -- derived counts ------------------------------------------------------------------
    @property
    def geometry(self) -> str:
        """The loop nest in a line, ``N1 G1 K64 C3 224x224->112x112 R7xS7 /2`` (the stride
        after the slash when it is not 1), as results and reports show it."""
        sy, sx = self.stride
        stride = "" if (sy, sx) == (1, 1) else f" /{sy}" if sy == sx else f" /{sy}x{sx}"
        return (f"N{self.N} G{self.G} K{self.K} C{self.C} {self.H}x{self.W}->{self.P}x{self.Q} "
                f"R{self.R}xS{self.S}{stride}")

    @property
    def macs(self) -> int:
        """Map-and-reduce operations ``N*G*K*C*P*Q*R*S``: multiply-accumulates for a
        convolution, compares for max pooling, adds for an element-wise add."""
        return self.N * self.G * self.K * self.C * self.P * self.Q * self.R * self.S

    @property
    def input_elems(self) -> int:
        return self.N * self.G * self.C * self.H * self.W

    @property
    def output_elems(self) -> int:
        return self.N * self.G * self.K * self.P * self.Q

    @property
    def weight_elems(self) -> int:
        """Elements of the static weight operand (0 when the operand is not a weight)."""
        if self.operand_kind != "weight":
            return 0
        return self.G * self.K * self.C * self.R * self.S

    @property
    def in_channels(self) -> int:
        return self.G * self.C

    @property
    def out_channels(self) -> int:
        return self.G * self.K

    @property
    def kind(self) -> str:
        """A human label derived from the fields (for tables; models use the fields)."""
        if self.operand_kind == "tensor":
            return f"eltwise-{self.map_op}"
        if self.map_op == "pass":
            if self.reduce_op == "none":
                return "pointwise"
            if self.input_dilation != (1, 1):
                return "upsample"
            if self.C > 1 and self.R * self.S == 1:
                return f"channel-{self.reduce_op}"
            label = {"max": "maxpool", "mean": "avgpool", "sum": "sumpool"}[self.reduce_op]
            if self.P == 1 and self.Q == 1 and self.R == self.H and self.S == self.W:
                return f"global-{label}"
            return label
        if self.input_dilation != (1, 1):
            return "transposed-conv"
        if self.H == 1 and self.W == 1 and self.R == 1 and self.S == 1 and self.G == 1:
            return "fc"
        if self.G > 1 and self.C == 1 and self.K == 1 and self.R * self.S == 1:
            return "channel-affine"
        if self.G > 1 and self.C == 1:
            return "depthwise"
        if self.G > 1:
            return "grouped-conv"
        return "conv"

    def describe_post_ops(self) -> str:
        return ",".join(p.describe() for p in self.post_ops)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["post_ops"] = [asdict(p) for p in self.post_ops]
        d["kind"] = self.kind
        d["macs"] = self.macs
        if math.isinf(self.pad_value):
            d["pad_value"] = "-inf" if self.pad_value < 0 else "inf"
        return d

    @staticmethod
    def from_dict(d: Mapping[str, Any]) -> GConv:
        d = dict(d)
        d.pop("kind", None)
        d.pop("macs", None)
        d["post_ops"] = tuple(
            PostOp(**{**p, "params": tuple(tuple(x) for x in p.get("params", ()))})
            for p in d.get("post_ops", ())
        )
        for key in ("stride", "dilation", "padding", "input_dilation", "mean_pad"):
            if key in d:
                d[key] = tuple(d[key])
        if isinstance(d.get("pad_value"), str):
            d["pad_value"] = float(d["pad_value"])
        return GConv(**d)


ViewOp = Literal["reshape", "permute", "concat", "slice"]


@dataclass(frozen=True)
class View:
    """A layout change: no arithmetic, only addressing (or a copy where ``moves_data``).

    ``op`` and ``params``:

    * ``reshape``: ``params = target shape``;
    * ``permute``: ``params = dims``;
    * ``concat``: ``params = (dim,)``; producers can write their slice in place;
    * ``slice``: ``params = (dim, start, stop, step)``.
    """

    name: str
    op: ViewOp
    inputs: tuple[str, ...]
    output: str
    params: tuple[int, ...] = ()
    moves_data: bool = False
    origin_op: str = ""
    module_path: str = ""

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["node"] = "view"
        return d


Node = GConv | View


@dataclass(frozen=True)
class TensorInfo:
    """An activation tensor of the chain (graph inputs included; parameters are not here)."""

    name: str
    shape: tuple[int, ...]
    producer: str | None
    consumers: tuple[str, ...] = ()
    dtype: str = "float32"

    @property
    def elems(self) -> int:
        return math.prod(self.shape)


def shape4(shape: Sequence[int]) -> tuple[int, int, int, int]:
    """The canonical ``(N, C, H, W)`` form in which a GConv reads or writes a tensor."""
    shape = tuple(int(s) for s in shape)
    if len(shape) == 4:
        return shape
    if len(shape) == 2:
        return (shape[0], shape[1], 1, 1)
    if len(shape) == 3:
        return (shape[0], shape[1], shape[2], 1)
    raise ShapeError(
        f"a GConv reads and writes tensors of rank 2, 3 or 4 (N, C[, H[, W]]); got shape {shape}"
    )


def _node_inputs(node: Node) -> tuple[str, ...]:
    if isinstance(node, View):
        return node.inputs
    if node.operand_kind == "tensor" and node.operand is not None:
        return (node.input, node.operand)
    return (node.input,)


def _node_params(node: Node) -> tuple[str, ...]:
    if isinstance(node, View):
        return ()
    names = [p.tensor for p in node.post_ops if p.tensor is not None]
    if node.operand_kind == "weight" and node.operand is not None:
        names.insert(0, node.operand)
    return tuple(names)


@dataclass(frozen=True)
class Chain:
    """GConv and View nodes in topological order, the tensor table, and the parameters.

    Build with :meth:`Chain.build`, which derives producers and consumers. ``params`` maps a
    parameter name to its value (a ``torch.Tensor``); GConvs refer to parameters by name.
    """

    name: str
    nodes: tuple[Node, ...]
    tensors: Mapping[str, TensorInfo]
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    params: Mapping[str, Any] = field(default_factory=dict)
    source: str = ""

    @staticmethod
    def build(name: str, nodes: Sequence[Node], shapes: Mapping[str, Sequence[int]],
              inputs: Sequence[str], outputs: Sequence[str], params: Mapping[str, Any],
              source: str = "") -> Chain:
        producers: dict[str, str] = {}
        consumers: dict[str, list[str]] = {t: [] for t in shapes}
        for node in nodes:
            producers.setdefault(node.output, node.name)
            for t in _node_inputs(node):
                consumers.setdefault(t, []).append(node.name)
        tensors = {
            t: TensorInfo(t, tuple(int(s) for s in shape), producers.get(t),
                          tuple(consumers.get(t, ())))
            for t, shape in shapes.items()
        }
        used = {p for node in nodes for p in _node_params(node)}
        kept = {k: v for k, v in params.items() if k in used}
        return Chain(name, tuple(nodes), MappingProxyType(tensors), tuple(inputs),
                     tuple(outputs), MappingProxyType(kept), source)

    # -- queries -------------------------------------------------------------------------
    @property
    def gconvs(self) -> tuple[GConv, ...]:
        return tuple(n for n in self.nodes if isinstance(n, GConv))

    @property
    def views(self) -> tuple[View, ...]:
        return tuple(n for n in self.nodes if isinstance(n, View))

    def node(self, name: str) -> Node:
        for n in self.nodes:
            if n.name == name:
                return n
        raise KeyError(f"chain {self.name!r} has no node named {name!r}")

    def shape(self, tensor: str) -> tuple[int, ...]:
        return self.tensors[tensor].shape

    @property
    def total_macs(self) -> int:
        """Map-and-reduce operations over every GConv (pooling and element-wise included)."""
        return sum(g.macs for g in self.gconvs)

    @property
    def conv_fc_macs(self) -> int:
        """Multiply-accumulates of convolutions and FC layers with static weights: the figure
        usually published as a network's MAC count."""
        return sum(
            g.macs for g in self.gconvs
            if g.operand_kind == "weight" and g.map_op == "mul" and g.reduce_op == "sum"
            and g.origin_op.split("+")[0] in _CONV_FC_ORIGINS
        )

    @property
    def weight_elems(self) -> int:
        return sum(g.weight_elems for g in self.gconvs)

    # -- checking ------------------------------------------------------------------------
    def problems(self) -> list[str]:
        """Every inconsistency the IR checker finds (empty when the chain is well formed)."""
        return _check_chain(self)

    def check(self) -> Chain:
        """Raise ``ChainCheckError`` listing every problem; return the chain when it is sound."""
        errs = self.problems()
        if errs:
            shown = "\n  ".join(errs[:20])
            more = f"\n  ... and {len(errs) - 20} more" if len(errs) > 20 else ""
            raise ChainCheckError(
                f"chain {self.name!r} failed the IR check ({len(errs)} problem(s)):\n  "
                f"{shown}{more}"
            )
        return self

    # -- serialisation -------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """JSON-ready description: nodes, tensors and parameter shapes (not their values)."""
        return {
            "name": self.name,
            "source": self.source,
            "inputs": list(self.inputs),
            "outputs": list(self.outputs),
            "nodes": [n.to_dict() for n in self.nodes],
            "tensors": {t: {"shape": list(i.shape), "producer": i.producer,
                            "consumers": list(i.consumers)} for t, i in self.tensors.items()},
            "params": {k: list(getattr(v, "shape", ())) for k, v in self.params.items()},
            "totals": {"gconvs": len(self.gconvs), "views": len(self.views),
                       "macs": self.total_macs, "conv_fc_macs": self.conv_fc_macs,
                       "weight_elems": self.weight_elems},
        }

    def to_json(self, indent: int | None = 1) -> str:
        return json.dumps(self.to_dict(), indent=indent)

    # -- display (the generated repr printed every node and tensor: 34 KB for tiny) ------
    def __repr__(self) -> str:
        ins = ", ".join(f"{t} {self.tensors[t].shape}" for t in self.inputs
                        if t in self.tensors)
        nv = len(self.views)
        return (f"Chain({self.name!r}: {len(self.gconvs)} GConvs, {nv} view{'s' * (nv != 1)}, "
                f"{len(self.tensors)} tensors, {self.total_macs:,} MACs, input {ins})")

    def _repr_html_(self) -> str:
        import html

        def row(cells: Sequence[object], tag: str = "td") -> str:
            return "<tr>" + "".join(f"<{tag}>{html.escape(str(c))}</{tag}>"
                                    for c in cells) + "</tr>"

        head = f"<p>{html.escape(repr(self))}</p>"
        rows = [row(["GConv", "kind", "N", "G", "K", "C", "P", "Q", "R", "S", "MACs"], "th")]
        rows += [row([g.name, g.kind, g.N, g.G, g.K, g.C, g.P, g.Q, g.R, g.S, f"{g.macs:,}"])
                 for g in self.gconvs]
        return f"<div>{head}<table>{''.join(rows)}</table></div>"


_CONV_FC_ORIGINS = frozenset({
    "Conv2d", "Linear", "ConvTranspose2d", "conv2d", "linear", "conv_transpose2d",
    "Conv", "Gemm", "MatMul", "ConvTranspose",
})


# ---------------------------------------------------------------------------------------
# The checker
# ---------------------------------------------------------------------------------------

def _check_gconv(g: GConv, chain: Chain) -> list[str]:
    errs: list[str] = []
    where = f"GConv {g.name!r} ({g.origin_op or '?'} at {g.module_path or '?'})"

    def bad(msg: str) -> None:
        errs.append(f"{where}: {msg}")

    for dim in ("N", "G", "K", "C", "H", "W", "P", "Q", "R", "S"):
        if getattr(g, dim) < 1:
            bad(f"{dim}={getattr(g, dim)} must be >= 1")
    if errs:
        return errs
    for key in ("stride", "dilation", "input_dilation"):
        if len(getattr(g, key)) != 2 or min(getattr(g, key)) < 1:
            bad(f"{key}={getattr(g, key)} must be two integers >= 1")
    if len(g.padding) != 4 or len(g.mean_pad) != 4:
        bad("padding and mean_pad must be (top, left, bottom, right)")
        return errs
    if g.map_op not in MAP_OPS:
        bad(f"map_op {g.map_op!r} is not one of {MAP_OPS}")
    if g.reduce_op not in REDUCE_OPS:
        bad(f"reduce_op {g.reduce_op!r} is not one of {REDUCE_OPS}")
    if g.pad_mode not in PAD_MODES:
        bad(f"pad_mode {g.pad_mode!r} is not one of {PAD_MODES}")
    if errs:
        return errs

    # Output-size formula.
    pt, pl, pb, pr = g.padding
    p_want = conv_out_size(g.H, g.R, g.stride[0], g.dilation[0], pt, pb, g.input_dilation[0])
    q_want = conv_out_size(g.W, g.S, g.stride[1], g.dilation[1], pl, pr, g.input_dilation[1])
    if (g.P, g.Q) != (p_want, q_want):
        bad(f"output plane P x Q = {g.P} x {g.Q} but the output-size formula gives "
            f"{p_want} x {q_want} for H x W = {g.H} x {g.W}")
    if g.pad_mode != "zeros" and (g.input_dilation != (1, 1) or min(g.padding) < 0):
        bad(f"pad_mode {g.pad_mode!r} cannot combine with input dilation or cropping")

    # Map / reduce / operand combinations.
    if g.map_op == "pass":
        if g.operand_kind != "none" or g.operand is not None:
            bad("a pass-through map takes no operand")
    elif g.operand_kind not in ("weight", "tensor") or not g.operand:
        bad(f"map {g.map_op!r} needs an operand (a weight or a tensor)")
    if g.reduce_op == "none" and g.C * g.R * g.S != 1:
        bad(f"reduce 'none' needs C*R*S == 1, got C={g.C}, R={g.R}, S={g.S}")
    if math.isinf(g.pad_value) and g.reduce_op != "max":
        bad("an infinite pad value only makes sense with a max reduction")
    if g.reduce_op != "mean" and any(g.mean_pad):
        bad("mean_pad is only meaningful for a mean reduction")
    if g.map_op == "pass" and g.K > 1 and g.reduce_op != "none":
        pass  # legal: K copies of the same reduction (rare; kept general)

    # Tensors.
    shapes = chain.tensors
    if g.input not in shapes:
        bad(f"input tensor {g.input!r} is not in the tensor table")
    else:
        try:
            got = shape4(shapes[g.input].shape)
        except ShapeError as exc:
            got = None
            bad(str(exc))
        if got is not None and got != (g.N, g.G * g.C, g.H, g.W):
            bad(f"input {g.input!r} has shape {shapes[g.input].shape}, expected "
                f"(N, G*C, H, W) = {(g.N, g.G * g.C, g.H, g.W)}")
    if g.output in shapes:
        try:
            got = shape4(shapes[g.output].shape)
        except ShapeError as exc:
            got = None
            bad(str(exc))
        if got is not None and got != (g.N, g.G * g.K, g.P, g.Q):
            bad(f"output {g.output!r} has shape {shapes[g.output].shape}, expected "
                f"(N, G*K, P, Q) = {(g.N, g.G * g.K, g.P, g.Q)}")
    else:
        bad(f"output tensor {g.output!r} is not in the tensor table")

    if g.operand_kind == "weight" and g.operand:
        w = chain.params.get(g.operand)
        if w is None:
            bad(f"weight {g.operand!r} is not in the chain's parameters")
        elif tuple(w.shape) != (g.G * g.K, g.C, g.R, g.S):
            bad(f"weight {g.operand!r} has shape {tuple(w.shape)}, expected "
                f"(G*K, C, R, S) = {(g.G * g.K, g.C, g.R, g.S)}")
    if g.operand_kind == "tensor" and g.operand:
        if (g.C, g.K, g.R, g.S) != (1, 1, 1, 1) or g.stride != (1, 1) or any(g.padding) \
                or g.input_dilation != (1, 1):
            bad("an element-wise (tensor operand) GConv needs C = K = R = S = 1, stride 1 "
                "and no padding")
        if g.operand not in shapes:
            bad(f"operand tensor {g.operand!r} is not in the tensor table")
        else:
            ob = shape4(shapes[g.operand].shape)
            full = (g.N, g.G, g.P, g.Q)
            if any(o not in (1, f) for o, f in zip(ob, full, strict=True)):
                bad(f"operand {g.operand!r} of shape {shapes[g.operand].shape} does not "
                    f"broadcast to (N, G, P, Q) = {full}")

    for i, p in enumerate(g.post_ops):
        if p.kind in ("scale", "bias"):
            if (p.tensor is None) == (p.value is None):
                bad(f"post-op {i} ({p.kind}) needs exactly one of a tensor or a value")
            elif p.tensor is not None:
                t = chain.params.get(p.tensor)
                if t is None:
                    bad(f"post-op {i} tensor {p.tensor!r} is not in the chain's parameters")
                elif tuple(t.shape) != (g.G * g.K,):
                    bad(f"post-op {i} tensor {p.tensor!r} has shape {tuple(t.shape)}, "
                        f"expected (G*K,) = ({g.G * g.K},)")
        elif p.kind == "act":
            if p.fn not in ACTIVATIONS:
                bad(f"post-op {i}: unknown activation {p.fn!r}")
            elif tuple(k for k, _ in p.params) != ACTIVATIONS[p.fn]:
                bad(f"post-op {i}: activation {p.fn!r} takes {ACTIVATIONS[p.fn]}")
        else:
            bad(f"post-op {i}: unknown kind {p.kind!r}")

    # MAC formula: every output element reduces over C*R*S taps.
    if g.macs != g.output_elems * g.C * g.R * g.S:
        bad(f"MAC count {g.macs} != output elements x C*R*S")
    return errs


def _check_view(v: View, chain: Chain) -> list[str]:
    errs: list[str] = []
    where = f"View {v.name!r} ({v.op} from {v.origin_op or '?'} at {v.module_path or '?'})"
    shapes = chain.tensors
    missing = [t for t in (*v.inputs, v.output) if t not in shapes]
    if missing:
        return [f"{where}: tensor(s) {missing} not in the tensor table"]
    ins = [shapes[t].shape for t in v.inputs]
    out = shapes[v.output].shape
    if v.op == "reshape":
        if len(ins) != 1 or math.prod(ins[0]) != math.prod(out) or tuple(v.params) != out:
            errs.append(f"{where}: reshape {ins} -> {out} (params {v.params}) is inconsistent")
    elif v.op == "permute":
        if len(ins) != 1 or sorted(v.params) != list(range(len(ins[0]))) or \
                tuple(ins[0][d] for d in v.params) != out:
            errs.append(f"{where}: permute {ins} by {v.params} does not give {out}")
    elif v.op == "concat":
        dim = v.params[0] if v.params else -1
        rank = len(out)
        if not ins or any(len(s) != rank for s in ins) or not 0 <= dim < rank:
            errs.append(f"{where}: concat of {ins} along {dim} is malformed")
        else:
            for d in range(rank):
                want = sum(s[d] for s in ins) if d == dim else out[d]
                if (d != dim and any(s[d] != out[d] for s in ins)) or out[d] != want:
                    errs.append(f"{where}: concat of {ins} along {dim} does not give {out}")
                    break
    elif v.op == "slice":
        if len(ins) != 1 or len(v.params) != 4:
            errs.append(f"{where}: slice needs one input and (dim, start, stop, step)")
        else:
            dim, start, stop, step = v.params
            n = len(range(start, min(stop, ins[0][dim]), step))
            want_shape = tuple(n if d == dim else s for d, s in enumerate(ins[0]))
            if want_shape != out:
                errs.append(f"{where}: slice of {ins[0]} by {v.params} gives {want_shape}, "
                            f"not {out}")
    else:
        errs.append(f"{where}: unknown view op {v.op!r}")
    return errs


def _check_chain(chain: Chain) -> list[str]:
    errs: list[str] = []
    names: set[str] = set()
    produced: dict[str, str] = {}
    available = set(chain.inputs)
    for t in chain.inputs:
        if t not in chain.tensors:
            errs.append(f"chain input {t!r} is not in the tensor table")
        elif chain.tensors[t].producer is not None:
            errs.append(f"chain input {t!r} is also produced by {chain.tensors[t].producer!r}")
    for node in chain.nodes:
        if node.name in names:
            errs.append(f"node name {node.name!r} is used twice")
        names.add(node.name)
        for t in _node_inputs(node):
            if t not in available:
                errs.append(f"node {node.name!r} reads {t!r} before it is produced "
                            "(nodes must be in topological order)")
        if node.output in produced:
            errs.append(f"tensor {node.output!r} is produced twice: by {produced[node.output]!r} "
                        f"and {node.name!r}")
        elif node.output in chain.inputs:
            errs.append(f"node {node.name!r} overwrites chain input {node.output!r}")
        produced[node.output] = node.name
        available.add(node.output)
        if isinstance(node, GConv):
            errs.extend(_check_gconv(node, chain))
        else:
            errs.extend(_check_view(node, chain))
    for t in chain.outputs:
        if t not in available:
            errs.append(f"chain output {t!r} is never produced")
    for t, info in chain.tensors.items():
        if t not in chain.inputs and t not in produced:
            errs.append(f"tensor {t!r} in the table is neither an input nor produced")
        if info.producer is not None and produced.get(t) != info.producer:
            errs.append(f"tensor {t!r} lists producer {info.producer!r}, "
                        f"but it is produced by {produced.get(t)!r}")
    return errs
