"""The general im2col path of the OpenEdgeCGRA model: the im2col-ic kernel over host-built
patches of any GConv (strided, padded, grouped, dilated, 1x1, FC, transposed), exact on int32
data; every GConv of tiny-allops_workloads through it (in GConv form where it is not a convolution);
cycles by hand; tiling with input-channel splits."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from accelscope.arch import load_arch
from accelscope.models.cgra.general import im2col_operands
from accelscope.models.cgra.layout import Im2colShape
from accelscope.models.cgra.mappings import GENERAL, reference_im2col, run_im2col_general
from accelscope.models.cgra.sim import Cgra, CgraTiming
from accelscope.models.contract import LayerWorkload, UnsupportedLayerError
from accelscope.models.registry import get_model
from accelscope.workload.gconv import GConv, conv_out_size
from tests.unit.test_cgra import _with


def _gconv(name="t", *, G=1, K=1, C=1, H=6, W=6, R=3, S=3, stride=(1, 1), dilation=(1, 1),
           padding=(0, 0, 0, 0), input_dilation=(1, 1), pad_mode="zeros") -> GConv:
    pt, pl, pb, pr = padding
    P = conv_out_size(H, R, stride[0], dilation[0], pt, pb, input_dilation[0])
    Q = conv_out_size(W, S, stride[1], dilation[1], pl, pr, input_dilation[1])
    return GConv(name, 1, G, K, C, H, W, P, Q, R, S, "x", "y", operand=f"{name}.w",
                 operand_kind="weight", stride=stride, dilation=dilation, padding=padding,
                 input_dilation=input_dilation, pad_mode=pad_mode)


def _direct(g: GConv, x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Direct int64 convolution from the GConv definition (zero insertion, padding, stride,
    dilation, groups), wrapped to int32: (G, K, P*Q). Independent of unfold."""
    ih, iw = g.input_dilation
    z = np.zeros((x.shape[0], (g.H - 1) * ih + 1, (g.W - 1) * iw + 1), np.int64)
    z[:, ::ih, ::iw] = x
    pt, pl, pb, pr = g.padding
    mode = "constant" if g.pad_mode == "zeros" else g.pad_mode
    xp = np.pad(z, ((0, 0), (pt, pb), (pl, pr)), mode=mode)
    (sh, sw), (dh, dw) = g.stride, g.dilation
    out = np.zeros((g.G, g.K, g.P, g.Q), np.int64)
    wk = w.astype(np.int64).reshape(g.G, g.K, g.C, g.R, g.S)
    for gg in range(g.G):
        xs = xp[gg * g.C:(gg + 1) * g.C]
        for r in range(g.R):
            for s in range(g.S):
                win = xs[:, r * dh:r * dh + (g.P - 1) * sh + 1:sh,
                         s * dw:s * dw + (g.Q - 1) * sw + 1:sw]
                out[gg] += np.einsum("kc,cpq->kpq", wk[gg, :, :, r, s], win)
    return ((out + 2**31) % 2**32 - 2**31).astype(np.int32).reshape(g.G, g.K, -1)


def _run(g: GConv, seed: int, lo: int = -(1 << 20), hi: int = 1 << 20):
    """Values up to 2^20: products and sums wrap the 32-bit datapath."""
    rng = np.random.default_rng(seed)
    x = rng.integers(lo, hi, (g.G * g.C, g.H, g.W)).astype(np.int32)
    w = rng.integers(lo, hi, (g.G * g.K, g.C, g.R, g.S)).astype(np.int32)
    patches, weights = im2col_operands(g, x, w)
    shape = Im2colShape(G=g.G, K=g.K, pixels=g.P * g.Q, window=g.C * g.R * g.S)
    run = run_im2col_general(shape, patches, weights, Cgra(CgraTiming()))
    return run, _direct(g, x, w), patches, weights


@pytest.mark.parametrize("g", [
    _gconv("conv7x7s2", C=2, K=3, H=9, W=9, R=7, S=7, stride=(2, 2), padding=(3, 3, 3, 3)),
    _gconv("grouped_dil", G=2, K=2, C=3, H=6, W=6, stride=(1, 1), dilation=(2, 2),
           padding=(2, 2, 2, 2)),
    _gconv("depthwise_reflect", G=4, H=6, W=6, stride=(2, 2), padding=(1, 1, 1, 1),
           pad_mode="reflect"),
    _gconv("pw1x1", C=20, K=3, H=5, W=5, R=1, S=1),
    _gconv("fc", C=50, K=4, H=1, W=1, R=1, S=1),
    _gconv("transposed", C=2, K=2, H=4, W=4, R=3, S=3, padding=(1, 1, 2, 2),
           input_dilation=(2, 2)),
], ids=lambda g: g.name)
def test_general_runner_exact_against_a_direct_convolution(g):
    run, want, patches, weights = _run(g, seed=len(g.name))
    assert run.output.dtype == np.int32 and run.output.shape == (g.G, g.K, g.P * g.Q)
    np.testing.assert_array_equal(run.output, want)
    np.testing.assert_array_equal(reference_im2col(patches, weights), want)
    assert run.mapping == GENERAL and run.complete
    assert run.launches == len(run.launch_cycles) == g.G * g.K * g.P * g.Q
    assert run.kernel.n_instructions <= 32


def test_general_runner_adds_partial_outputs_of_input_channel_tiles():
    g = _gconv("split", C=6, K=2, H=5, W=5, padding=(1, 1, 1, 1))
    _, want, patches, weights = _run(g, seed=7)
    half = 3 * 9  # input channels 0-2 and 3-5
    a = run_im2col_general(Im2colShape(1, 2, 25, half), patches[:, :, :half],
                           weights[:, :, :half], Cgra(CgraTiming()))
    b = run_im2col_general(Im2colShape(1, 2, 25, half, accumulate=True),
                           patches[:, :, half:], weights[:, :, half:], Cgra(CgraTiming()),
                           partial=a.output)
    np.testing.assert_array_equal(b.output, want)
    assert b.host_add_words == 2 * 25 and a.host_add_words == 0


def test_shared_constant_weights_serve_every_group():
    g = _gconv("pool", G=3, H=4, W=4, R=2, S=2, stride=(2, 2))
    rng = np.random.default_rng(0)
    x = rng.integers(-100, 100, (3, 4, 4)).astype(np.int32)
    patches, weights = im2col_operands(g, x, np.ones((1, 1, 2, 2), np.int32))
    assert weights.shape == (1, 1, 4)
    run = run_im2col_general(Im2colShape(3, 1, 4, 4, shared_weights=True), patches, weights,
                             Cgra(CgraTiming()))
    want = x.reshape(3, 2, 2, 2, 2).sum((2, 4)).reshape(3, 1, 4)  # 2x2 sum pooling
    np.testing.assert_array_equal(run.output, want)
    assert run.host_param_words == 1 + 4  # one filter address, the constant row's 4 words


# -- the GConv model -----------------------------------------------------------------------
def test_every_tiny_allops_gconv_runs_and_conforms(allops_workloads):
    """None is refused: the 3x3 stride-1 conv on a CF '24 mapping, every other GConv on the
    general path, the non-convolutions in their GConv form; max reduces are stand-ins."""
    from accelscope.models.common import useful_macs
    from accelscope.models.conformance import check_model

    spec = load_arch("openedgecgra")
    assert check_model("cgra", spec, allops_workloads) == []
    info = get_model("cgra")
    for w in allops_workloads:
        g = w.gconv
        r = info.evaluate(w, spec)
        assert (r.layer, r.kind, r.macs) == (g.name, g.kind, g.macs)
        if g.name == "conv":
            assert r.details["mapping"] in ("wp", "oc", "im2col-ic", "im2col-oc")
            continue
        d = r.details
        assert d["mapping"] == GENERAL and d["kernel"] == "im2col-ic" and d["exact"]
        assert set(d["refused"]) == set(spec.cgra.mappings)
        assert d["launches"] == g.N * g.G * g.K * g.P * g.Q
        assert r.macs_useful == min(useful_macs(w), r.macs_issued)
        conv = g.map_op == "mul" and g.reduce_op == "sum" and g.operand_kind == "weight"
        assert ("array_form" in d) == (not conv)
        if not conv:
            assert "array_form" in r.provenance
            assert r.macs_issued == d["array_form"]["form_macs"]
        is_max = g.reduce_op == "max"
        assert any("stand-in" in x for x in r.warnings) == is_max
        assert ("cgra.max" in r.provenance) == is_max
    add = info.evaluate(next(w for w in allops_workloads if w.gconv.name == "add"), spec)
    assert add.details["array_form"]["C"] == 2 and add.macs_issued == 2 * add.macs
    assert {a.tensor for a in add.accesses if a.level == "dram"} >= {"input", "operand"}
    pool = info.evaluate(next(w for w in allops_workloads if w.gconv.name == "max_pool2d"), spec)
    assert pool.details["shared_weights"]


def _dw_layer():
    """Depthwise 3x3, stride 2, padding 1, two channels of 6 x 6 (statistical mode)."""
    g = dataclasses.replace(_gconv("dw", G=2, H=6, W=6, stride=(2, 2), padding=(1, 1, 1, 1)),
                            origin_op="conv2d")
    return LayerWorkload(gconv=g, network="t", mode="statistical")


@pytest.mark.parametrize("sample", [8, 0])
def test_general_cycles_by_hand(sample):
    """im2col-ic kernel on the one_to_m bus (n accesses: n + 1 cycles, SMUL 3): set-up 8
    (the filter-address load 2, six 1-cycle rows of the broadcast tree), 41 per step (16
    weight loads 17, four rows of 4 patch loads 5 each, SMUL 3, branch 1), reduction 4 and
    the store with EXIT 2: 14 + 41 L per launch. Host (preset): 190 per launch, a store
    (2) + ALU (1) per parameter and cleared word, a load + store + ALU (5) per patch word,
    the patch of the next launch built while the CGRA runs; padding copy 5 per prepared word;
    off-chip 32 bits per cycle."""
    spec = _with(load_arch("openedgecgra"), sample_launches=sample)
    r = get_model("cgra").evaluate(_dw_layer(), spec)
    launches, L, window = 2 * 3 * 3, 1, 9
    per_launch = 14 + 41 * L  # 55
    patch = 5 * window  # 45 < 55: the host waits 10 cycles a launch, all of the last one
    waiting = (launches - 1) * (per_launch - patch) + per_launch
    host = launches * 190 + 2 * 3 + 2 * (16 - window) * 3 + launches * patch
    pad = 2 * 8 * 8 * 5  # the two padded 8 x 8 planes
    dram = 2 * 6 * 6 + 2 * 9 + 2 * 9  # input, weights, outputs (32-bit words)
    assert r.details["cgra_cycles"] == launches * per_launch == 990
    assert r.details["launches"] == launches and r.details["L"] == L
    assert r.cycles == host + waiting + pad + dram == 5251
    assert r.stall_cycles["dram_transfer"] == dram
    assert bool(r.warnings) == (0 < sample < launches)


def test_general_cycles_by_hand_host_bound_fc():
    """FC, 40 inputs, 3 outputs: L = 3, 137 CGRA cycles a launch < the 200-cycle patch, so
    the host never waits but for the last launch."""
    g = dataclasses.replace(_gconv("fc", C=40, K=3, H=1, W=1, R=1, S=1), origin_op="linear")
    r = get_model("cgra").evaluate(LayerWorkload(gconv=g, network="t", mode="statistical"),
                                   load_arch("openedgecgra"))
    per_launch, patch = 14 + 41 * 3, 5 * 40
    host = 3 * 190 + 3 * 3 + 2 * (48 - 40) * 3 + 3 * patch
    dram = 40 + 3 * 40 + 3
    assert r.details["cgra_cycles"] == 3 * per_launch
    assert r.cycles == host + per_launch + dram == 1527


def test_tiles_split_input_channels_when_one_row_does_not_fit():
    """A 3x3 conv over 2048 channels: im2col-ic's tiles keep all input channels and do not
    fit, so (with only im2col-ic allowed) the general path runs it with the input channels
    split; the later channel tiles' partial outputs come back and the host adds them."""
    from accelscope.models.cgra.general import choose_tile, tile_shape
    from accelscope.models.conformance import check_result

    spec = _with(load_arch("openedgecgra"), mappings=("im2col-ic",))
    g = dataclasses.replace(_gconv("wide", C=2048, K=2, H=4, W=4, padding=(1, 1, 1, 1)),
                            origin_op="conv2d")
    w = LayerWorkload(gconv=g, network="t", mode="statistical")
    r = get_model("cgra").evaluate(w, spec)
    t = choose_tile(g, spec, shared=False)
    assert t.C < g.C
    assert tile_shape(g, t, shared=False, accumulate=True).G == 1
    n_c = -(-g.C // t.C)
    outputs = 2 * 4 * 4
    d = r.details
    assert d["mapping"] == GENERAL and d["tile"]["C"] == t.C and d["exact"]
    assert d["tiles"] == n_c * -(-g.P // t.rows) * -(-g.K // t.K)
    assert d["launches"] == n_c * outputs
    assert "im2col-ic" in d["refused"] and any("fits" in x for x in r.warnings)
    # two loads (2 each), an add (1) and a store (2) per output of every later channel tile
    assert d["host_cycles_by_cause"]["partial_sums"] == (n_c - 1) * outputs * 7
    out = next(a for a in r.accesses if a.level == "dram" and a.tensor == "output")
    assert out.read_bits == 32 * (n_c - 1) * outputs and out.write_bits == 32 * n_c * outputs
    assert check_result(w, r, spec, get_model("cgra")) == []


def test_a_global_pool_over_a_large_plane_splits_the_filter_rows():
    """Global average pooling of two 112 x 112 channels: one window (12,544 words, with its
    filter row and two patch buffers) does not fit, so the 112 filter rows are cut in two;
    the second half's sums are added to the first's by the host."""
    from accelscope.models.conformance import check_result

    g = GConv("gap", 1, 2, 1, 1, 112, 112, 1, 1, 112, 112, "x", "y", map_op="pass",
              reduce_op="mean", origin_op="adaptive_avg_pool2d")
    w = LayerWorkload(gconv=g, network="t", mode="statistical")
    spec = load_arch("openedgecgra")
    r = get_model("cgra").evaluate(w, spec)
    d = r.details
    assert d["tile"] == {"G": 2, "K": 1, "rows": 1, "C": 1, "R": 56} and d["shared_weights"]
    assert d["tiles"] == 2 and d["launches"] == 4 and d["exact"]
    assert d["host_cycles_by_cause"]["partial_sums"] == 2 * 7
    dram = {a.tensor: a for a in r.accesses if a.level == "dram"}
    assert dram["input"].read_bits == 32 * 2 * 112 * 112  # the plane once
    assert dram["weight"].read_bits == 0  # constant weights, written by the host
    assert check_result(w, r, spec, get_model("cgra")) == []


def test_large_layers_tile_to_the_banks():
    """A 1x1 conv of 256 -> 64 channels on 56 x 56 (3.2 MB of input) does not fit the
    128 KiB: output channels are halved to 16, then the output rows until the tile fits."""
    from accelscope.models.cgra.general import choose_tile, fits, tile_shape

    spec = load_arch("openedgecgra")
    g = _gconv("big1x1", C=256, K=64, H=56, W=56, R=1, S=1)
    whole = Im2colShape(G=1, K=64, pixels=56 * 56, window=256, input_words=256 * 56 * 56)
    assert not fits(whole, spec)
    t = choose_tile(g, spec, shared=False)
    assert fits(tile_shape(g, t, shared=False), spec)
    assert (t.G, t.C, t.K) == (1, 256, 16) and t.rows < 56
    assert not fits(tile_shape(g, dataclasses.replace(t, rows=2 * t.rows), shared=False), spec)


def test_refusals_name_the_gconv_and_the_fix(allops_workloads):
    spec = _with(load_arch("openedgecgra"), mappings=("wp", "oc"))
    w = next(w for w in allops_workloads if w.gconv.name == "pw")
    with pytest.raises(UnsupportedLayerError, match=r"'pw'.*add im2col-ic to cgra\.mappings"):
        get_model("cgra").evaluate(w, spec)
