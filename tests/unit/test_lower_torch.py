"""Per-op lowering: each PyTorch op, with hypothesis-generated shapes, lowered into GConvs and
executed must equal the PyTorch op (fast path, im2col reference path, fused and unfused)."""

from __future__ import annotations

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from accelscope.api import lower
from accelscope.errors import LoweringError, ShapeError, UnsupportedOpError
from tests.conftest import assert_lowers_exactly

SETTINGS = settings(max_examples=20, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])


def _x(n, c, h, w, seed=0):
    return torch.randn(n, c, h, w, generator=torch.Generator().manual_seed(seed))


class Seq(nn.Module):
    def __init__(self, *mods, fn=None):
        super().__init__()
        self.body = nn.Sequential(*mods)
        self.fn = fn

    def forward(self, x):
        x = self.body(x)
        return self.fn(x) if self.fn is not None else x


@SETTINGS
@given(n=st.integers(1, 2), groups=st.integers(1, 3), cpg=st.integers(1, 3),
       kpg=st.integers(1, 3), h=st.integers(3, 12), w=st.integers(3, 12),
       r=st.integers(1, 4), s=st.integers(1, 4), stride=st.integers(1, 3),
       dil=st.integers(1, 2), pad=st.integers(0, 2), bias=st.booleans(),
       mode=st.sampled_from(["zeros", "reflect", "replicate", "circular"]))
def test_conv2d(n, groups, cpg, kpg, h, w, r, s, stride, dil, pad, bias, mode):
    assume(h + 2 * pad >= dil * (r - 1) + 1 and w + 2 * pad >= dil * (s - 1) + 1)
    assume(mode == "zeros" or pad < min(h, w))
    torch.manual_seed(0)
    conv = nn.Conv2d(groups * cpg, groups * kpg, (r, s), stride, pad, dil, groups, bias,
                     padding_mode=mode)
    chain = assert_lowers_exactly(Seq(conv, nn.BatchNorm2d(groups * kpg)),
                                  _x(n, groups * cpg, h, w))
    g = chain.gconvs[0]
    assert (g.G, g.K, g.C, g.R, g.S) == (groups, kpg, cpg, r, s)
    assert "BatchNorm2d" in g.origin_op  # folded


@SETTINGS
@given(c=st.integers(1, 4), h=st.integers(4, 10), r=st.integers(1, 4), dil=st.integers(1, 3))
def test_conv2d_padding_same_and_depthwise(c, h, r, dil):
    torch.manual_seed(1)
    conv = nn.Conv2d(c, 2 * c, r, padding="same", dilation=dil, groups=c)
    assert_lowers_exactly(conv, _x(1, c, h, h + 1))


@SETTINGS
@given(cin=st.integers(1, 4), cout=st.integers(1, 4), h=st.integers(2, 7), k=st.integers(1, 4),
       stride=st.integers(1, 3), pad=st.integers(0, 2), outpad=st.integers(0, 2),
       dil=st.integers(1, 2), groups=st.sampled_from([1, 2]))
def test_conv_transpose2d(cin, cout, h, k, stride, pad, outpad, dil, groups):
    assume(outpad < max(stride, dil) and pad <= dil * (k - 1))
    assume(min((h - 1) * stride, h * stride) - 2 * pad + dil * (k - 1) + outpad + 1 >= 1)
    torch.manual_seed(2)
    m = nn.ConvTranspose2d(cin * groups, cout * groups, k, stride, pad, outpad, groups,
                           dilation=dil)
    chain = assert_lowers_exactly(m, _x(1, cin * groups, h, h + 1))
    assert chain.gconvs[0].input_dilation == (stride, stride)


@SETTINGS
@given(c=st.integers(1, 4), h=st.integers(2, 11), w=st.integers(2, 11), k=st.integers(1, 4),
       stride=st.integers(1, 3), pad=st.integers(0, 2), dil=st.integers(1, 2),
       ceil=st.booleans())
def test_max_pool2d(c, h, w, k, stride, pad, dil, ceil):
    assume(2 * pad <= k and h + 2 * pad >= dil * (k - 1) + 1 and w + 2 * pad >= dil * (k - 1) + 1)
    chain = assert_lowers_exactly(nn.MaxPool2d(k, stride, pad, dil, ceil_mode=ceil),
                                  _x(2, c, h, w))
    assert chain.gconvs[0].reduce_op == "max"


@SETTINGS
@given(c=st.integers(1, 4), h=st.integers(2, 11), w=st.integers(2, 11), k=st.integers(1, 4),
       stride=st.integers(1, 3), pad=st.integers(0, 2), ceil=st.booleans(),
       include=st.booleans(), divisor=st.sampled_from([None, 3]))
def test_avg_pool2d(c, h, w, k, stride, pad, ceil, include, divisor):
    assume(2 * pad <= k and h + 2 * pad >= k and w + 2 * pad >= k)
    m = nn.AvgPool2d(k, stride, pad, ceil, include, divisor)
    assert_lowers_exactly(m, _x(1, c, h, w))


@pytest.mark.parametrize("out", [1, 2, (3, 1), None])
def test_adaptive_pools(out):
    size = (6, 6) if out is not None else (None, 3)
    assert_lowers_exactly(nn.AdaptiveAvgPool2d(out if out is not None else size),
                          _x(1, 3, 6, 6))
    assert_lowers_exactly(nn.AdaptiveMaxPool2d(out if out is not None else size),
                          _x(1, 3, 6, 6))


def test_adaptive_pool_uneven_windows_is_an_error():
    with pytest.raises(UnsupportedOpError, match=r"7x7 to 3x3 .*multiple of 3x3"):
        lower(nn.AdaptiveAvgPool2d(3), _x(1, 2, 7, 7))


@pytest.mark.parametrize("act", [nn.ReLU(), nn.ReLU6(), nn.LeakyReLU(0.2), nn.SiLU(),
                                 nn.Hardswish(), nn.Hardsigmoid(), nn.Sigmoid(), nn.GELU(),
                                 nn.GELU("tanh"), nn.Tanh(), nn.Hardtanh(-2, 3)])
def test_activations_fused_and_standalone(act):
    torch.manual_seed(3)
    conv = nn.Conv2d(3, 4, 3, padding=1)
    chain = assert_lowers_exactly(Seq(conv, act), _x(1, 3, 6, 6))
    assert len(chain.gconvs) == 1 and chain.gconvs[0].post_ops[-1].kind == "act"
    alone = assert_lowers_exactly(act, _x(1, 3, 5, 5) * 4)  # input is the chain input
    assert alone.gconvs[0].kind == "pointwise"


class Residual(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = nn.Conv2d(4, 4, 3, padding=1)
        self.bn = nn.BatchNorm2d(4)
        self.fc = nn.Conv2d(4, 4, 1)

    def forward(self, x):
        y = torch.relu(self.bn(self.a(x)))
        se = torch.sigmoid(self.fc(F.adaptive_avg_pool2d(y, 1)))
        y = y * se  # squeeze-excitation broadcast
        y = y + x
        y += 1.5
        y = y * 0.5 - x / 4
        return F.relu(y, inplace=True)


def test_residual_se_and_scalar_ops():
    chain = assert_lowers_exactly(Residual(), _x(2, 4, 7, 7))
    kinds = [g.kind for g in chain.gconvs]
    assert "eltwise-mul" in kinds and "eltwise-add" in kinds and "global-avgpool" in kinds


class Layout(nn.Module):
    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(4, 4, 1)
        self.c2 = nn.Conv2d(4, 4, 3, padding=1)
        self.fc = nn.Linear(8 * 4 * 4, 5)

    def forward(self, x):
        y = torch.cat([self.c1(x), self.c2(x)], 1)
        n, c, h, w = y.shape
        y = y.view(n, 2, c // 2, h, w).transpose(1, 2).contiguous().view(n, c, h, w)
        y = nn.functional.interpolate(y, scale_factor=2, mode="nearest")
        y = F.max_pool2d(y, 2)
        a, b = torch.chunk(y, 2, dim=1)
        y = torch.cat((b, a[:, :], y[:, 2:6]), dim=1)[:, :8]
        y = F.avg_pool2d(y, 1)
        y = torch.flatten(y, 1)
        return torch.softmax(self.fc(nn.functional.dropout(y, 0.5, False)), dim=1)


def test_layout_ops_concat_shuffle_upsample_slices_softmax():
    chain = assert_lowers_exactly(Layout(), _x(2, 4, 4, 4))
    ops = {v.op for v in chain.views}
    assert {"concat", "reshape", "permute", "slice"} <= ops
    assert any(g.kind == "upsample" for g in chain.gconvs)


def test_lrn_upsample_module_and_channel_shuffle_module():
    m = Seq(nn.Conv2d(3, 6, 3), nn.LocalResponseNorm(5, 1e-2, 0.75, 2.0), nn.ChannelShuffle(2),
            nn.Upsample(scale_factor=(2, 3)), nn.Softmax(dim=1))
    assert_lowers_exactly(m, _x(1, 3, 7, 7))


def test_batchnorm_not_after_conv_is_a_channel_gconv():
    torch.manual_seed(4)
    bn = nn.BatchNorm2d(3)
    bn.running_mean.normal_()
    bn.running_var.uniform_(0.5, 2)
    m = Seq(nn.ReLU(), bn)
    chain = assert_lowers_exactly(m, _x(1, 3, 4, 4))
    assert chain.gconvs[0].post_ops[-2].kind == "scale"  # appended after the ReLU
    chain = lower(bn.eval(), _x(1, 3, 4, 4))
    assert chain.gconvs[0].kind == "channel-affine"


def test_float64_mode_is_tight():
    torch.manual_seed(5)
    m = Seq(nn.Conv2d(3, 8, 3, 2, 1), nn.BatchNorm2d(8), nn.ReLU6(), nn.AvgPool2d(2),
            nn.Flatten(), nn.Linear(8 * 4 * 4, 10)).eval()
    x = _x(2, 3, 16, 16)
    chain = lower(m, x, dtype=torch.float64)
    from accelscope.workload.execute import execute, relative_error

    y = execute(chain, x.double())
    with torch.no_grad():
        ref = m.double()(x.double())
    assert relative_error(y, ref) <= 1e-12


# -- errors ------------------------------------------------------------------------------

class Unsupported(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 3, 1)
        self.lstm_like = nn.PixelShuffle(1)

    def forward(self, x):
        return self.lstm_like(self.conv(x))


def test_unsupported_module_names_node_op_and_path():
    with pytest.raises(UnsupportedOpError) as e:
        lower(Unsupported(), _x(1, 3, 4, 4))
    msg = str(e.value)
    assert "PixelShuffle" in msg and "lstm_like" in msg and "fx node" in msg


class UnsupportedFn(nn.Module):
    def forward(self, x):
        return torch.cumsum(x, 1)


def test_unsupported_function_is_named():
    with pytest.raises(UnsupportedOpError, match=r"cumsum.*fx node 'cumsum'"):
        lower(UnsupportedFn(), _x(1, 3, 4, 4))


def test_wrong_input_shape_is_reported():
    with pytest.raises(ShapeError, match=r"input\(s\) of shape \[\(1, 2, 8, 8\)\]"):
        lower(nn.Conv2d(3, 4, 3), _x(1, 2, 8, 8))


class DataDependent(nn.Module):
    def forward(self, x):
        if x.sum() > 0:
            return x
        return -x


def test_untraceable_module_is_reported():
    with pytest.raises(LoweringError, match=r"torch.fx could not trace DataDependent"):
        lower(DataDependent(), _x(1, 3, 4, 4))


def test_not_a_module():
    with pytest.raises(LoweringError, match="cannot lower a int"):
        lower(3)
