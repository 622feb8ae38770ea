import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from accelscope.api import lower
from accelscope.sparsity import (
    NMDensity,
    UniformDensity,
    density,
    density_per_block,
    density_per_channel,
    expected_ceil_div,
    format_names,
    get_format,
    parse_prune_spec,
    prune,
    weight_matrix,
)
from accelscope.sparsity.density import DensityError, from_weight_matrix
from accelscope.sparsity.formats import FormatError
from accelscope.sparsity.prune import PruneSpecError
from accelscope.workload.execute import execute
from accelscope.zoo import get

# sparse float arrays: mostly zeros, long zero runs included
sparse_arrays = arrays(
    np.float32, st.tuples(st.integers(1, 4), st.integers(1, 70)),
    elements=st.one_of(st.just(0.0), st.just(0.0), st.just(0.0),
                       st.floats(-4, 4, width=32, allow_subnormal=False)))


@settings(max_examples=150, deadline=None)
@given(x=sparse_arrays, name=st.sampled_from(format_names()))
def test_every_format_round_trips_and_sizes_agree(x, name):
    f = get_format(name)
    enc = f.encode(x)
    assert np.array_equal(f.decode(enc), x)
    assert enc.size_bits == f.size_bits(x) == f.size_bits(torch.from_numpy(x))
    rows = f.row_sizes_bits(x)
    assert [int(r) for r in rows] == [f.size_bits(row) for row in x]


def test_eyeriss_rlc_bit_counts_by_hand():
    f = get_format("rlc")
    # 3 non-zeros, no long runs: 3 pairs -> one 64-bit word
    assert f.size_bits(np.array([0, 0, 5, 0, 7, 1], dtype=np.float32)) == 64
    # 40 leading zeros then a value: (31, 0) placeholder for 32 zeros, then (8, v): 2 pairs
    x = np.zeros(41, dtype=np.float32)
    x[40] = 3
    assert len(f.encode(x).arrays["runs"]) == 2 and f.size_bits(x) == 64
    # four pairs need a second word; trailing zeros are encoded (1 entry for 5 zeros)
    y = np.array([1, 2, 3, 4, 0, 0, 0, 0, 0], dtype=np.float32)
    assert len(f.encode(y).arrays["runs"]) == 5 and f.size_bits(y) == 128
    assert f.size_bits(np.zeros(64)) == 64  # two (31, 0) pairs
    with pytest.raises(FormatError, match="do not fit"):
        get_format("rlc", pairs_per_word=4)


def test_scnn_zero_run_bit_counts_by_hand():
    f = get_format("zrl")
    x = np.zeros(40, dtype=np.float32)
    x[[0, 17, 39]] = 1.0
    # gaps 0, 16 (one placeholder for 16 zeros, then run 0), 21 (one placeholder, run 5)
    enc = f.encode(x)
    assert enc.arrays["runs"].tolist() == [0, 15, 0, 15, 5]
    assert enc.size_bits == 5 * (4 + 16)
    # trailing zeros cost nothing
    assert f.size_bits(np.r_[x, np.zeros(100)]) == enc.size_bits
    assert get_format("zrl", value_bits=8).size_bits(x) == 5 * 12


def test_bitmap_csr_csc_coo_by_hand():
    w = np.array([[0, 1, 0, 0], [0, 0, 0, 0], [2, 0, 3, 0]], dtype=np.float32)
    assert get_format("bitmap").size_bits(w) == 12 + 3 * 16
    assert get_format("dense", value_bits=8).size_bits(w) == 96
    # CSR: 4 row pointers of ceil(log2(13)) = 4 bits; column index 2 bits
    assert get_format("csr").size_bits(w) == 4 * 4 + 3 * (2 + 16)
    # CSC: 5 column pointers; row index 2 bits
    assert get_format("csc").size_bits(w) == 5 * 4 + 3 * (2 + 16)
    assert get_format("coo").size_bits(w) == 3 * (2 + 2 + 16)
    enc = get_format("csr").encode(w)
    assert enc.arrays["ptr"].tolist() == [0, 1, 1, 3]


@pytest.mark.parametrize("name", ["rlc", "zrl", "bitmap", "csr", "coo", "dense"])
@pytest.mark.parametrize("d", [0.02, 0.3, 0.8])
def test_expected_bits_match_the_mean_of_random_tensors(name, d):
    f = get_format(name)
    rng = np.random.default_rng(1)
    sizes = [f.size_bits((rng.random(2000) < d).astype(np.float32)) for _ in range(300)]
    mean, sem = np.mean(sizes), np.std(sizes) / math.sqrt(len(sizes)) + 1e-9
    exp = f.expected_bits(2000, d)
    # the entry counts are exact expectations; RLC word rounding is approximated to 1/3 word
    slack = 64 / 6 if name == "rlc" else 0.0
    assert abs(exp - mean) <= 4 * sem + slack, (exp, mean, sem)


def test_format_errors_name_the_problem():
    with pytest.raises(FormatError, match="unknown sparse format 'lz4'"):
        get_format("lz4")
    with pytest.raises(FormatError, match="parameters are value_bits"):
        get_format("dense", run_bits=3)
    enc = get_format("rlc").encode(np.ones(4))
    with pytest.raises(FormatError, match="cannot decode"):
        get_format("zrl").decode(enc)


def test_density_measurements():
    x = torch.tensor([[[[0.0, 1.0], [2.0, 0.0]], [[0.0, 0.0], [0.0, 3.0]]]])  # 1,2,2,2
    assert density(x) == 3 / 8
    assert density_per_channel(x).tolist() == [0.5, 0.25]
    w = torch.arange(2 * 3 * 1 * 2, dtype=torch.float32).reshape(2, 3, 1, 2)
    m = weight_matrix(w)
    assert m.shape == (2, 6) and m[0, :3].tolist() == [0, 2, 4]  # channel fastest
    assert torch.equal(from_weight_matrix(m, (2, 3, 1, 2)), w)
    blocks = density_per_block(torch.tensor([[1.0, 0, 0], [0, 0, 0], [1, 1, 0]]), (2, 2))
    assert blocks.tolist() == [[0.25, 0.0], [1.0, 0.0]]  # edge blocks over real elements
    with pytest.raises(DensityError, match="out of range"):
        density_per_channel(x, dim=4)


def test_statistical_density_models():
    u = UniformDensity(0.25)
    mask = u.sample((10, 40), seed=3)
    assert mask.sum() == 100 and not torch.equal(mask, u.sample((10, 40), seed=4))
    assert u.prob_all_zero(4) == pytest.approx(0.75 ** 4)
    nm = NMDensity(2, 4)
    s = nm.sample((3, 8), seed=0)
    assert s.reshape(-1, 4).sum(1).tolist() == [2] * 6 and nm.density == 0.5
    assert nm.prob_all_zero(2) == pytest.approx(1 / 6) and nm.prob_all_zero(5) == 0.0
    with pytest.raises(DensityError):
        UniformDensity(1.5)
    with pytest.raises(DensityError):
        NMDensity(5, 4)


@pytest.mark.parametrize("n,p,k", [(1, 0.5, 4), (37, 0.3, 4), (200, 0.05, 3), (16, 1.0, 4),
                                   (10, 0.0, 2)])
def test_expected_ceil_div_is_exact(n, p, k):
    exact = sum(math.comb(n, x) * p ** x * (1 - p) ** (n - x) * math.ceil(x / k)
                for x in range(n + 1))
    assert expected_ceil_div(n, p, k) == pytest.approx(exact, rel=1e-9, abs=1e-12)


@pytest.fixture(scope="module")
def tiny():
    zm = get("tiny")
    x = torch.randn(zm.input_shape, generator=torch.Generator().manual_seed(0))
    return lower(zm.module, x, name="tiny"), x


@pytest.mark.parametrize("spec", ["magnitude:0.3", "global:0.2", "nm:2:4", "block:4x2:0.5",
                                  "channel:0.5", "magnitude:0.1,stem.0=dense"])
def test_pruning_hits_its_density_and_keeps_the_chain_valid(tiny, spec):
    chain, x = tiny
    res = prune(chain, spec)
    res.chain.check()
    execute(res.chain, x)
    parsed = parse_prune_spec(spec)
    for lp in res.layers:
        w = res.chain.params[lp.param]
        assert lp.after == pytest.approx(density(w))
        # pruning only removes weights: every kept weight is unchanged
        old = chain.params[lp.param]
        assert torch.equal(w[w != 0], old[w != 0])
        if parsed.method in ("magnitude", "channel") and not lp.note and lp.target < 1:
            assert lp.after == pytest.approx(lp.target, abs=1 / w.numel() + 1e-9)
    if parsed.method == "global":
        assert res.density == pytest.approx(0.2, abs=1e-3)
    # non-weight parameters (biases, BN scales) are untouched
    for k, v in chain.params.items():
        if k not in {lp.param for lp in res.layers}:
            assert torch.equal(res.chain.params[k], v)


def test_magnitude_pruning_keeps_the_largest_weights(tiny):
    chain, _ = tiny
    res = prune(chain, "magnitude:0.25")
    lp = res.layers[1]
    old, new = chain.params[lp.param].abs(), res.chain.params[lp.param]
    assert old[new != 0].min() >= old[new == 0].max()


def test_nm_pattern_and_dense_fallback(tiny):
    chain, _ = tiny
    res = prune(chain, "nm:2:4")
    stem = next(lp for lp in res.layers if lp.gconv == "stem_0")
    assert "not a multiple of M=4" in stem.note and stem.after == 1.0
    conv1 = next(lp for lp in res.layers if lp.gconv == "conv1")
    w = res.chain.params[conv1.param]  # (8, 8, 3, 3): groups of 4 input channels
    groups = (w.permute(0, 2, 3, 1).reshape(-1, 4) != 0).sum(1)
    assert groups.max() <= 2 and conv1.after == 0.5


def test_block_pruning_zeroes_whole_blocks(tiny):
    chain, _ = tiny
    res = prune(chain, "block:4x2:0.5")
    lp = next(lp for lp in res.layers if lp.gconv == "conv1")
    dens = density_per_block(weight_matrix(res.chain.params[lp.param]), (4, 2))
    assert set(np.unique(dens)) <= {0.0} | set(np.unique(density_per_block(
        weight_matrix(chain.params[lp.param]), (4, 2))))
    assert (dens == 0).mean() == pytest.approx(0.5)


@pytest.mark.parametrize("bad,msg", [
    ("magnitude:lots", "magnitude:lots"), ("magnitude:1.5", "not in \\[0, 1\\]"),
    ("nm:3:2", "0 < N <= M"), ("block:0x4:0.3", "block sizes"), ("sparse", "cannot parse"),
    ("magnitude:0.3,conv1", "not GLOB=D"), ("nm:2:4,conv1=0.5", "only leave layers dense"),
])
def test_bad_specs_name_the_token(bad, msg):
    with pytest.raises(PruneSpecError, match=msg):
        parse_prune_spec(bad)


def test_bare_number_is_the_fraction_pruned_away(tiny):
    chain, _ = tiny
    spec = parse_prune_spec("0.7,stem.0=dense")
    assert spec.method == "magnitude" and spec.density == pytest.approx(0.3)
    assert spec.overrides == (("stem.0", 1.0),)
    res = prune(chain, "0.7")
    assert [lp.after for lp in res.layers][1] == pytest.approx(0.3, abs=0.01)
    with pytest.raises(PruneSpecError, match="fraction of weights pruned away"):
        parse_prune_spec("7")


def test_override_that_matches_nothing_is_an_error(tiny):
    chain, _ = tiny
    with pytest.raises(PruneSpecError, match="'conv9' matches no prunable layer"):
        prune(chain, "magnitude:0.3,conv9=dense")
