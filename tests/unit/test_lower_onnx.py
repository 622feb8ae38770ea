"""ONNX front end: exported torch models and hand-built graphs, lowered into GConv chains and
executed, must equal ONNX Runtime; models exported from PyTorch must give the same GConv MAC
totals as the PyTorch front end; bad files and unsupported ops must fail with clear errors."""

from __future__ import annotations

import contextlib
import io
import math
import warnings
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision
from onnx import TensorProto, helper, numpy_helper

from accelscope.api import lower
from accelscope.errors import InputFileError, ShapeError, UnsupportedOpError
from accelscope.workload.execute import execute, relative_error
from accelscope.workload.lower_onnx import lower_onnx

TOL = 1e-5


def _x(*shape, seed=0):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed))


def _ort(model, x: torch.Tensor) -> torch.Tensor:
    data = model if isinstance(model, str) else model.SerializeToString()
    sess = ort.InferenceSession(data, providers=["CPUExecutionProvider"])
    return torch.from_numpy(sess.run(None, {sess.get_inputs()[0].name: x.numpy()})[0])


def _matches_ort(model, x: torch.Tensor, input_shape=None):
    """Lower fused and unfused, check, execute (fast and reference paths), compare with ORT."""
    want = _ort(model, x)
    chain = None
    for fuse in (True, False):
        c = lower_onnx(model, input_shape, fuse_ops=fuse)
        assert c.problems() == []
        for reference in (False, True):
            got = execute(c, x, reference=reference)
            assert tuple(got.shape) == tuple(want.shape)
            err = relative_error(got, want)
            assert err < TOL, f"fuse={fuse} reference={reference}: relative error {err:.3e}"
        chain = chain or c
    return chain


def _export(module: nn.Module, x: torch.Tensor, path, dynamo: bool = False, **kw) -> str:
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        torch.onnx.export(module.eval(), (x,), str(path), dynamo=dynamo, **kw)
    return str(path)


def _same_as_torch(module: nn.Module, x: torch.Tensor, chain) -> None:
    ref = lower(module.eval(), x)
    assert chain.total_macs == ref.total_macs
    assert chain.conv_fc_macs == ref.conv_fc_macs
    assert len(chain.gconvs) == len(ref.gconvs)
    assert sorted(g.macs for g in chain.gconvs) == sorted(g.macs for g in ref.gconvs)


# -- models exported from PyTorch ----------------------------------------------------------

@pytest.mark.parametrize("arch", ["resnet18", "mobilenet_v2", "squeezenet1_0",
                                  "mobilenet_v3_small"])
def test_torchvision_models_match_ort_and_torch_front_end(arch, tmp_path):
    torch.manual_seed(0)
    m = getattr(torchvision.models, arch)().eval()
    x = _x(1, 3, 64, 64)
    path = _export(m, x, tmp_path / f"{arch}.onnx")
    chain = _matches_ort(path, x)
    assert chain.name == arch
    _same_as_torch(m, x, chain)


class _Mixed(nn.Module):
    """Ops torch exports as Shape/Gather/Concat chains, Split, Slice, Transpose, SE, etc."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1)
        self.bn = nn.BatchNorm2d(8)
        self.se = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Conv2d(8, 8, 1), nn.Hardsigmoid())
        self.up = nn.Upsample(scale_factor=2, mode="nearest")
        self.deconv = nn.ConvTranspose2d(8, 4, 3, stride=2, padding=1, output_padding=1)
        self.pool = nn.AvgPool2d(3, 2, 1, ceil_mode=True, count_include_pad=False)
        self.fc = nn.Linear(4 * 14 * 16, 10)

    def forward(self, x):
        x = F.hardswish(self.bn(self.conv(x)))
        x = x * self.se(x)
        a, b = torch.chunk(x, 2, dim=1)
        x = torch.cat([F.leaky_relu(a, 0.1) - b, F.silu(b) / 2.0], dim=1)
        x = F.gelu(x.transpose(2, 3)[:, :, 1:, :])
        x = self.deconv(self.up(x))
        x = torch.sigmoid(self.pool(x))[:, :, 1:, 1:] + torch.tanh(x[:, :, ::2, ::2])
        x = self.fc(x.view(x.size(0), -1))
        return torch.softmax(torch.clamp(x, -1.0, 1.0), dim=1)


@pytest.mark.parametrize("opset", [11, 13, 17, 20])
def test_exported_module_mixed_ops(opset, tmp_path):
    torch.manual_seed(3)
    m = _Mixed().eval()
    m.bn.running_mean.uniform_(-0.5, 0.5)
    m.bn.running_var.uniform_(0.5, 2.0)
    x = _x(2, 3, 8, 8, seed=1)
    path = _export(m, x, tmp_path / "mixed.onnx", opset_version=opset)
    chain = _matches_ort(path, x)
    _same_as_torch(m, x, chain)


def test_dynamo_export(tmp_path):
    torch.manual_seed(4)
    m = nn.Sequential(nn.Conv2d(3, 6, 3, stride=2), nn.BatchNorm2d(6), nn.ReLU6(),
                      nn.MaxPool2d(2, ceil_mode=True), nn.Flatten(), nn.Linear(6 * 4 * 4, 5))
    x = _x(1, 3, 17, 17)
    path = _export(m, x, tmp_path / "dyn.onnx", dynamo=True)
    chain = _matches_ort(path, x)
    _same_as_torch(m, x, chain)


def test_api_lower_dispatches_to_onnx_and_input_shape_overrides(tmp_path):
    torch.manual_seed(5)
    m = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1))
    path = _export(m, _x(1, 3, 16, 16), tmp_path / "net.onnx",
                   input_names=["img"], dynamic_axes={"img": {0: "batch", 2: "h", 3: "w"}})
    with pytest.raises(ShapeError, match=r"input_shape.*") as err:
        lower(path)
    assert "'img'" in str(err.value) and "batch" in str(err.value)
    chain = lower(path, _x(2, 3, 12, 10))
    assert chain.shape(chain.inputs[0]) == (2, 3, 12, 10)
    x = _x(2, 3, 12, 10, seed=2)
    assert relative_error(execute(chain, x), _ort(path, x)) < TOL
    assert lower(onnx.load(path), input_shape=(1, 3, 8, 8), name="n").name == "n"


# -- hand-built graphs ---------------------------------------------------------------------

def _model(nodes, x_shape, y_name="y", inits=(), opset=13, x_dims=None):
    x_dims = x_dims or list(x_shape)
    y_dims = [f"y{i}" for i in range(len(x_dims))]  # the checker wants a shape, not its dims
    graph = helper.make_graph(
        nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, x_dims)],
        [helper.make_tensor_value_info(y_name, TensorProto.FLOAT, y_dims)],
        [numpy_helper.from_array(np.asarray(v, dtype=np.float32 if np.asarray(v).dtype.kind
                                            == "f" else np.int64), k) for k, v in inits])
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    m.ir_version = 8 if opset <= 17 else 10
    onnx.checker.check_model(m)
    return m


def _w(*shape, seed=7):
    return _x(*shape, seed=seed).numpy()


@pytest.mark.parametrize("auto_pad", ["SAME_UPPER", "SAME_LOWER", "VALID", "NOTSET"])
@pytest.mark.parametrize("stride", [1, 2])
def test_conv_auto_pad(auto_pad, stride):
    kw = {"pads": [0, 1, 2, 1]} if auto_pad == "NOTSET" else {}
    dil = [1, 1] if auto_pad.startswith("SAME") else [1, 2]  # ORT: no dilation with SAME
    conv = helper.make_node("Conv", ["x", "w", "b"], ["y"], name="c0", auto_pad=auto_pad,
                            strides=[stride, stride], dilations=dil, group=2, **kw)
    m = _model([conv], (1, 4, 9, 8), inits=[("w", _w(6, 2, 3, 2)), ("b", _w(6))])
    _matches_ort(m, _x(1, 4, 9, 8))


@pytest.mark.parametrize("trans_a,trans_b,alpha,beta", [(0, 1, 1.0, 1.0), (0, 0, 0.5, 2.0),
                                                        (1, 1, 2.0, 0.0)])
def test_gemm_and_matmul(trans_a, trans_b, alpha, beta):
    b = _w(5, 6) if trans_b else _w(6, 5)
    gemm = helper.make_node("Gemm", ["x", "B", "C"], ["g"], name="fc", transA=trans_a,
                            transB=trans_b, alpha=alpha, beta=beta)
    mm = helper.make_node("MatMul", ["g", "W2"], ["mm"], name="mm")
    add = helper.make_node("Add", ["mm", "b2"], ["y"], name="bias")
    x_shape = (6, 3) if trans_a else (3, 6)
    m = _model([gemm, mm, add], x_shape,
               inits=[("B", b), ("C", _w(1, 5)), ("W2", _w(5, 4)), ("b2", _w(4))])
    chain = _matches_ort(m, _x(*x_shape))
    assert chain.conv_fc_macs == 3 * 6 * 5 + 3 * 5 * 4


def test_matmul_on_rank3_input():
    m = _model([helper.make_node("MatMul", ["x", "W"], ["y"], name="mm")], (2, 3, 6),
               inits=[("W", _w(6, 4))])
    chain = _matches_ort(m, _x(2, 3, 6))
    assert chain.conv_fc_macs == 2 * 3 * 6 * 4


@pytest.mark.parametrize("opset", [6, 11, 13])
@pytest.mark.parametrize("lo,hi", [(0.0, 6.0), (0.0, None), (-0.5, 0.5), (None, 0.2)])
def test_clip_attrs_and_inputs(opset, lo, hi):
    if opset < 11:
        if lo is None or hi is None:
            pytest.skip("opset 6 Clip needs both bounds here")
        nodes, inits = [helper.make_node("Clip", ["x"], ["y"], name="clip", min=lo, max=hi)], []
    else:
        ins = ["x", "lo" if lo is not None else "", "hi" if hi is not None else ""]
        while ins[-1] == "":
            ins.pop()
        inits = [(n, np.array(v, np.float32)) for n, v in (("lo", lo), ("hi", hi))
                 if v is not None]
        nodes = [helper.make_node("Clip", ins, ["y"], name="clip")]
    chain = _matches_ort(_model(nodes, (1, 3, 4, 4), inits=inits, opset=opset), _x(1, 3, 4, 4))
    fn = chain.gconvs[0].post_ops[0]
    assert fn.fn == ("relu" if (lo, hi) == (0.0, None) else "clip")


@pytest.mark.parametrize("coord,nearest", [("asymmetric", "floor"),
                                           ("half_pixel", "round_prefer_floor"),
                                           ("pytorch_half_pixel", "round_prefer_ceil")])
@pytest.mark.parametrize("use_sizes", [False, True])
def test_resize_nearest(coord, nearest, use_sizes):
    inits = [("roi", np.zeros(0, np.float32))]
    if use_sizes:
        inits.append(("sizes", np.array([1, 2, 8, 15], np.int64)))
        ins = ["x", "roi", "", "sizes"]
    else:
        inits.append(("scales", np.array([1, 1, 2, 3], np.float32)))
        ins = ["x", "roi", "scales"]
    node = helper.make_node("Resize", ins, ["y"], name="up", mode="nearest",
                            coordinate_transformation_mode=coord, nearest_mode=nearest)
    chain = _matches_ort(_model([node], (1, 2, 4, 5), inits=inits), _x(1, 2, 4, 5))
    assert chain.gconvs[0].kind == "upsample"


def test_resize_that_is_not_replication_is_rejected():
    node = helper.make_node("Resize", ["x", "", "scales"], ["y"], name="up", mode="nearest",
                            coordinate_transformation_mode="align_corners")
    m = _model([node], (1, 2, 3, 3), inits=[("scales", np.array([1, 1, 3, 3], np.float32))])
    with pytest.raises(UnsupportedOpError, match=r"'up' \(Resize\).*align_corners"):
        lower_onnx(m)
    lin = helper.make_node("Resize", ["x", "", "scales"], ["y"], name="lin", mode="linear")
    m = _model([lin], (1, 2, 4, 4), inits=[("scales", np.array([1, 1, 2, 2], np.float32))])
    with pytest.raises(UnsupportedOpError, match=r"'lin'.*linear"):
        lower_onnx(m)


@pytest.mark.parametrize("size", [1, 3, 5])
def test_lrn(size):
    node = helper.make_node("LRN", ["x"], ["y"], name="lrn", size=size, alpha=1e-2, beta=0.7,
                            bias=1.5)
    _matches_ort(_model([node], (1, 7, 3, 3)), _x(1, 7, 3, 3))


@pytest.mark.parametrize("mode", ["constant", "reflect", "edge"])
@pytest.mark.parametrize("opset", [11, 18])
def test_pad_folds_into_conv(mode, opset):
    pads = np.array([0, 0, 1, 2, 0, 0, 2, 1], np.int64)
    pad = helper.make_node("Pad", ["x", "pads"], ["p"], name="pad", mode=mode)
    conv = helper.make_node("Conv", ["p", "w"], ["y"], name="conv", strides=[2, 1])
    m = _model([pad, conv], (1, 2, 6, 7), opset=opset,
               inits=[("pads", pads), ("w", _w(3, 2, 3, 3))])
    chain = _matches_ort(m, _x(1, 2, 6, 7))
    assert len(chain.gconvs) == 1
    assert chain.gconvs[0].padding == (1, 2, 2, 1)


@pytest.mark.parametrize("op", ["MaxPool", "AveragePool"])
def test_pad_folds_into_pooling(op):
    pad = helper.make_node("Pad", ["x", "pads"], ["p"], name="pad")
    pool = helper.make_node(op, ["p"], ["y"], name="pool", kernel_shape=[3, 2], strides=[2, 2])
    m = _model([pad, pool], (1, 2, 5, 6),
               inits=[("pads", np.array([0, 0, 1, 0, 0, 0, 1, 1], np.int64))])
    _matches_ort(m, _x(1, 2, 5, 6) - 3.0)  # all-negative input: the Pad's zeros win the max


def test_pad_feeding_other_ops_is_rejected():
    pad = helper.make_node("Pad", ["x", "pads"], ["p"], name="mypad")
    relu = helper.make_node("Relu", ["p"], ["y"], name="relu")
    m = _model([pad, relu], (1, 2, 4, 4),
               inits=[("pads", np.array([0, 0, 1, 1, 0, 0, 1, 1], np.int64))])
    with pytest.raises(UnsupportedOpError, match=r"Pad node 'mypad'"):
        lower_onnx(m)


@pytest.mark.parametrize("auto_pad,pads,ceil,count", [
    ("SAME_UPPER", None, 0, 0), ("SAME_LOWER", None, 0, 1), ("NOTSET", [1, 0, 0, 1], 0, 1),
    ("NOTSET", [1, 1, 1, 1], 1, 1), ("NOTSET", [1, 1, 1, 1], 1, 0), ("VALID", None, 1, 0)])
@pytest.mark.parametrize("op", ["MaxPool", "AveragePool"])
def test_pooling_variants(op, auto_pad, pads, ceil, count):
    kw = {"pads": pads} if pads else {}
    if op == "AveragePool":
        kw["count_include_pad"] = count
    node = helper.make_node(op, ["x"], ["y"], name="pool", kernel_shape=[3, 3],
                            strides=[2, 2], auto_pad=auto_pad, ceil_mode=ceil, **kw)
    _matches_ort(_model([node], (1, 3, 8, 7)), _x(1, 3, 8, 7))


@pytest.mark.parametrize("opset", [11, 13, 18])
def test_split_squeeze_unsqueeze_axes(opset):
    if opset < 13:
        split = helper.make_node("Split", ["x"], ["a", "b"], name="split", axis=1, split=[1, 3])
        sq = helper.make_node("Unsqueeze", ["a"], ["u"], name="unsq", axes=[0])
        un = helper.make_node("Squeeze", ["u"], ["s"], name="sq", axes=[0])
        inits = []
    else:
        split = helper.make_node("Split", ["x", "sp"], ["a", "b"], name="split", axis=1)
        sq = helper.make_node("Unsqueeze", ["a", "ax"], ["u"], name="unsq")
        un = helper.make_node("Squeeze", ["u", "ax"], ["s"], name="sq")
        inits = [("sp", np.array([1, 3], np.int64)), ("ax", np.array([0], np.int64))]
    red = helper.make_node("ReduceMean", ["b"], ["m"], name="mean", axes=[2, 3],
                           keepdims=1) if opset < 18 else \
        helper.make_node("ReduceMean", ["b", "rax"], ["m"], name="mean", keepdims=1)
    if opset >= 18:
        inits.append(("rax", np.array([2, 3], np.int64)))
    mul = helper.make_node("Mul", ["b", "m"], ["bm"], name="mul")
    add = helper.make_node("Add", ["bm", "s"], ["y"], name="add")
    m = _model([split, sq, un, red, mul, add], (2, 4, 3, 5), inits=inits, opset=opset)
    _matches_ort(m, _x(2, 4, 3, 5))


def test_activations_and_constant_arithmetic():
    nodes = [
        helper.make_node("Elu", ["x"], ["e"], name="elu", alpha=0.7),
        helper.make_node("HardSigmoid", ["e"], ["h"], name="hs", alpha=0.3, beta=0.4),
        helper.make_node("Sub", ["k", "h"], ["s"], name="sub"),
        helper.make_node("Div", ["s", "c"], ["d"], name="div"),
        helper.make_node("Mul", ["d", "x"], ["m"], name="mul"),
        helper.make_node("Div", ["m", "x"], ["q"], name="div2"),
        helper.make_node("Constant", [], ["two"], name="two",
                         value=numpy_helper.from_array(np.array(2.0, np.float32))),
        helper.make_node("Pow", ["q", "two"], ["p"], name="pow"),
        helper.make_node("LeakyRelu", ["p"], ["y"], name="lrelu", alpha=0.2),
    ]
    m = _model(nodes, (1, 3, 4, 4), inits=[("k", np.array(1.5, np.float32)),
                                           ("c", _w(3, 1, 1) ** 2 + 0.5)])
    _matches_ort(m, _x(1, 3, 4, 4))


def test_conv_transpose_asymmetric_pads():
    node = helper.make_node("ConvTranspose", ["x", "w", "b"], ["y"], name="deconv",
                            strides=[2, 3], pads=[0, 1, 1, 0], output_padding=[1, 0], group=2)
    m = _model([node], (1, 4, 3, 4), inits=[("w", _w(4, 3, 3, 3)), ("b", _w(6))])
    chain = _matches_ort(m, _x(1, 4, 3, 4))
    assert chain.gconvs[0].kind == "transposed-conv"


# -- errors --------------------------------------------------------------------------------

def test_unsupported_op_names_node_and_fix():
    node = helper.make_node("Einsum", ["x", "x"], ["y"], name="my_einsum", equation="ij,ij->ij")
    with pytest.raises(UnsupportedOpError) as err:
        lower_onnx(_model([node], (3, 4)))
    msg = str(err.value)
    assert "my_einsum" in msg and "Einsum" in msg and "file an issue" in msg


def test_symbolic_dim_needs_input_shape():
    node = helper.make_node("Relu", ["x"], ["y"], name="relu")
    m = _model([node], None, x_dims=["N", 3, 4, 4])
    with pytest.raises(ShapeError, match=r"\(N, 3, 4, 4\).*input_shape"):
        lower_onnx(m)
    chain = lower_onnx(m, (2, 3, 4, 4))
    assert chain.shape(chain.inputs[0]) == (2, 3, 4, 4)


@pytest.mark.parametrize("dims", [None, ["n", "c", "h", "w"]])
def test_multiple_inputs_without_shapes(tmp_path, dims):
    add = helper.make_node("Add", ["a", "b"], ["y"], name="add")
    graph = helper.make_graph([add], "g",
                              [helper.make_tensor_value_info("a", TensorProto.FLOAT, dims),
                               helper.make_tensor_value_info("b", TensorProto.FLOAT, dims)],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, dims)])
    path = tmp_path / "two.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), path)
    with pytest.raises(InputFileError, match=r"two\.onnx"):
        lower_onnx(path)
    if dims is not None:
        chain = lower_onnx(path, {"a": (1, 2, 3, 3), "b": (1, 2, 1, 1)})
        assert len(chain.inputs) == 2


def test_bad_files_name_the_file(tmp_path):
    missing = tmp_path / "nope.onnx"
    with pytest.raises(InputFileError, match=r"nope.onnx.*no such"):
        lower_onnx(missing)
    garbage = tmp_path / "garbage.onnx"
    garbage.write_bytes(bytes(range(256)) * 8)
    with pytest.raises(InputFileError, match=r"garbage.onnx"):
        lower_onnx(garbage)
    text = tmp_path / "text.onnx"
    text.write_text("this is not a protobuf")
    with pytest.raises(InputFileError, match=r"text.onnx"):
        lower_onnx(text)
    torch.manual_seed(0)
    good = _export(nn.Sequential(nn.Conv2d(3, 8, 3), nn.ReLU()), _x(1, 3, 8, 8),
                   tmp_path / "good.onnx")
    data = Path(good).read_bytes()
    for i, cut in enumerate((len(data) // 2, len(data) - 7, 40)):
        bad = tmp_path / f"truncated{i}.onnx"
        bad.write_bytes(data[:cut])
        with pytest.raises(InputFileError, match=f"truncated{i}.onnx"):
            lower_onnx(bad)
    assert lower_onnx(good).total_macs == 8 * 27 * 36  # ReLU fused into the conv


def test_checker_failure_is_an_input_file_error(tmp_path):
    node = helper.make_node("Relu", ["undefined"], ["y"], name="relu")
    graph = helper.make_graph([node], "g",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 2])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)])
    path = tmp_path / "broken.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), path)
    with pytest.raises(InputFileError, match=r"broken.onnx.*checker"):
        lower_onnx(path)


def test_erf_gelu_pattern_is_one_activation(tmp_path):
    torch.manual_seed(6)
    m = nn.Sequential(nn.Conv2d(2, 4, 1), nn.GELU())
    x = _x(1, 2, 5, 5)
    path = _export(m, x, tmp_path / "gelu.onnx", opset_version=17)
    assert "Erf" in {n.op_type for n in onnx.load(path).graph.node}
    chain = _matches_ort(path, x)
    assert [p.fn for p in chain.gconvs[0].post_ops if p.kind == "act"] == ["gelu"]
    assert not math.isnan(chain.total_macs)
