"""The executor's fast paths against the im2col reference, on arbitrary GConvs."""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from accelscope.errors import ShapeError
from accelscope.workload.execute import execute, gconv_reference, run_gconv
from accelscope.workload.gconv import Chain, GConv, PostOp, act, conv_out_size


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(n=st.integers(1, 2), g=st.integers(1, 3), k=st.integers(1, 3), c=st.integers(1, 3),
       h=st.integers(1, 7), w=st.integers(1, 7), r=st.integers(1, 3), s=st.integers(1, 3),
       stride=st.integers(1, 2), dil=st.integers(1, 2), idil=st.integers(1, 2),
       pad=st.tuples(*[st.integers(0, 2)] * 4),
       combo=st.sampled_from([("mul", "sum"), ("add", "sum"), ("add", "max"), ("pass", "max"),
                              ("pass", "sum"), ("pass", "mean"), ("mul", "max")]))
def test_fast_path_equals_reference(n, g, k, c, h, w, r, s, stride, dil, idil, pad, combo):
    map_op, reduce_op = combo
    P = conv_out_size(h, r, stride, dil, pad[0], pad[2], idil)
    Q = conv_out_size(w, s, stride, dil, pad[1], pad[3], idil)
    assume(P >= 1 and Q >= 1)
    gen = torch.Generator().manual_seed(0)
    params = {"w": torch.randn(g * k, c, r, s, generator=gen, dtype=torch.float64),
              "b": torch.randn(g * k, generator=gen, dtype=torch.float64)}
    node = GConv(name="g", N=n, G=g, K=k, C=c, H=h, W=w, P=P, Q=Q, R=r, S=s, input="x",
                 output="g", map_op=map_op, reduce_op=reduce_op,
                 operand="w" if map_op != "pass" else None,
                 operand_kind="weight" if map_op != "pass" else "none",
                 stride=(stride, stride), dilation=(dil, dil), padding=pad,
                 input_dilation=(idil, idil),
                 pad_value=-math.inf if reduce_op == "max" and map_op == "pass" else 0.0,
                 mean_pad=(pad[0], 0, 0, pad[3]) if reduce_op == "mean" else (0, 0, 0, 0),
                 post_ops=(PostOp("bias", tensor="b"), act("leaky_relu", negative_slope=0.1)))
    chain = Chain.build("t", [node], {"x": (n, g * c, h, w), "g": (n, g * k, P, Q)}, ["x"],
                        ["g"], params)
    assert chain.problems() == []
    x = torch.randn(n, g * c, h, w, generator=gen, dtype=torch.float64)
    fast = run_gconv(node, x, params)
    ref = run_gconv(node, x, params, reference=True)
    torch.testing.assert_close(fast, ref, rtol=1e-10, atol=1e-10)


def test_reference_matches_hand_computed_max_over_channels():
    node = GConv(name="m", N=1, G=1, K=2, C=3, H=1, W=2, P=1, Q=2, R=1, S=1, input="x",
                 output="m", map_op="pass", reduce_op="max")
    x = torch.tensor([[[[1.0, -5.0]], [[3.0, -7.0]], [[2.0, -6.0]]]])
    y = gconv_reference(node, x, None)
    assert y.tolist() == [[[[3.0, -5.0]], [[3.0, -5.0]]]]
    assert run_gconv(node, x, {}).tolist() == y.tolist()


def test_execute_checks_input_shape_and_returns_intermediates():
    node = GConv(name="r", N=1, G=2, K=1, C=1, H=2, W=2, P=2, Q=2, R=1, S=1, input="x",
                 output="r", map_op="pass", reduce_op="none", post_ops=(act("relu"),))
    chain = Chain.build("t", [node], {"x": (1, 2, 2, 2), "r": (1, 2, 2, 2)}, ["x"], ["r"], {})
    with pytest.raises(ShapeError, match=r"must have shape \(1, 2, 2, 2\), got \(1, 3, 2, 2\)"):
        execute(chain, torch.zeros(1, 3, 2, 2))
    x = torch.tensor([[[[1.0, -1.0], [2.0, -2.0]], [[-3.0, 3.0], [0.5, 0.0]]]])
    out, tensors = execute(chain, x, keep_intermediates=True)
    assert set(tensors) == {"x", "r"}
    assert torch.equal(out, x.clamp(min=0))
