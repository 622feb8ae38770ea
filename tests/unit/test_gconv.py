"""The IR and its checker."""

from __future__ import annotations

import math
from dataclasses import replace

import pytest
import torch

from accelscope.errors import ChainCheckError
from accelscope.workload.gconv import Chain, GConv, PostOp, View, act, conv_out_size


def _conv_chain(**over) -> Chain:
    g = GConv(name="c", N=1, G=1, K=4, C=3, H=8, W=8, P=8, Q=8, R=3, S=3, input="x",
              output="c", operand="w", operand_kind="weight", padding=(1, 1, 1, 1))
    g = replace(g, **over)
    shapes = {"x": (1, 3, 8, 8), "c": (1, g.G * g.K, g.P, g.Q)}
    params = {"w": torch.zeros(4, 3, 3, 3)}
    return Chain.build("t", [g], shapes, ["x"], ["c"], params)


def test_well_formed_chain_passes():
    chain = _conv_chain()
    assert chain.problems() == []
    assert chain.check() is chain
    g = chain.gconvs[0]
    assert g.macs == 1 * 1 * 4 * 3 * 8 * 8 * 3 * 3
    assert g.kind == "conv"
    assert chain.tensors["x"].consumers == ("c",)
    assert chain.tensors["c"].producer == "c"


def test_output_size_formula_is_checked():
    chain = _conv_chain(P=7, Q=8)
    with pytest.raises(ChainCheckError, match=r"output-size formula gives 8 x 8"):
        chain.check()


def test_weight_shape_is_checked():
    chain = _conv_chain(K=4, C=3, R=1, S=1, padding=(0, 0, 0, 0))
    assert any("expected (G*K, C, R, S) = (4, 3, 1, 1)" in p for p in chain.problems())


def test_tensor_produced_twice_and_topological_order():
    g = _conv_chain().gconvs[0]
    g2 = replace(g, name="c2")
    chain = Chain.build("t", [g, g2], {"x": (1, 3, 8, 8), "c": (1, 4, 8, 8)}, ["x"], ["c"],
                        {"w": torch.zeros(4, 3, 3, 3)})
    assert any("produced twice" in p for p in chain.problems())
    g3 = replace(g, name="late", input="y", output="z")
    chain = Chain.build("t", [g3, replace(g, output="y")],
                        {"x": (1, 3, 8, 8), "y": (1, 3, 8, 8), "z": (1, 4, 8, 8)},
                        ["x"], ["z"], {"w": torch.zeros(4, 3, 3, 3)})
    assert any("before it is produced" in p for p in chain.problems())


def test_operand_rules():
    chain = _conv_chain(map_op="pass", operand_kind="none", operand=None, reduce_op="none")
    probs = chain.problems()
    assert any("reduce 'none' needs C*R*S == 1" in p for p in probs)
    chain = _conv_chain(map_op="mul", operand=None, operand_kind="none")
    assert any("needs an operand" in p for p in chain.problems())
    chain = _conv_chain(pad_value=-math.inf)
    assert any("infinite pad value" in p for p in chain.problems())


def test_eltwise_operand_broadcast_checked():
    g = GConv(name="a", N=1, G=4, K=1, C=1, H=5, W=5, P=5, Q=5, R=1, S=1, input="x",
              output="a", map_op="add", reduce_op="none", operand="y", operand_kind="tensor")
    ok = Chain.build("t", [g], {"x": (1, 4, 5, 5), "y": (1, 4, 1, 1), "a": (1, 4, 5, 5)},
                     ["x", "y"], ["a"], {})
    assert ok.problems() == []
    bad = Chain.build("t", [g], {"x": (1, 4, 5, 5), "y": (1, 3, 5, 5), "a": (1, 4, 5, 5)},
                      ["x", "y"], ["a"], {})
    assert any("does not broadcast" in p for p in bad.problems())


def test_view_checks():
    v = View("v", "reshape", ("x",), "v", (1, 12))
    chain = Chain.build("t", [v], {"x": (1, 3, 2, 2), "v": (1, 12)}, ["x"], ["v"], {})
    assert chain.problems() == []
    v = View("v", "concat", ("x", "y"), "v", (1,))
    chain = Chain.build("t", [v], {"x": (1, 3, 2, 2), "y": (1, 2, 2, 2), "v": (1, 6, 2, 2)},
                        ["x", "y"], ["v"], {})
    assert any("does not give" in p for p in chain.problems())


def test_post_op_shapes_and_activation_params():
    chain = _conv_chain(post_ops=(PostOp("bias", tensor="b"),))
    assert any("'b' is not in the chain's parameters" in p for p in chain.problems())
    with pytest.raises(ValueError, match="takes parameters"):
        act("clip", min=0.0)
    with pytest.raises(ValueError, match="unknown activation"):
        act("swish7")


def test_json_round_trip_of_nodes():
    g = replace(_conv_chain().gconvs[0], post_ops=(act("leaky_relu", negative_slope=0.1),),
                pad_value=-math.inf, reduce_op="max")
    assert GConv.from_dict(g.to_dict()) == g


@pytest.mark.parametrize("size,k,s,d,lo,hi,idil,want", [
    (224, 7, 2, 1, 3, 3, 1, 112),
    (56, 3, 1, 1, 1, 1, 1, 56),
    (7, 2, 1, 1, 1, 1, 2, 14),   # nearest upsample x2 in transposed-conv form
    (5, 3, 1, 1, 1, 2, 2, 10),   # ConvTranspose2d(k3, s2, p1, output_padding 1)
])
def test_conv_out_size(size, k, s, d, lo, hi, idil, want):
    assert conv_out_size(size, k, s, d, lo, hi, idil) == want
