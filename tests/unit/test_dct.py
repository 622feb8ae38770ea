import itertools
import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from accelscope.compress.dct import (
    FORMAT_NAMES,
    JPEG_LUMA,
    ZIGZAG,
    Bitstream,
    DctCodec,
    DctError,
    block_coder,
    calibrate_step,
    compress,
    dct2,
    dct_matrix,
    dequantize,
    fixed_point_scale,
    from_blocks,
    idct2,
    jpeg_table,
    level_bits_for,
    quantize,
    snr_db,
    to_blocks,
)
from accelscope.errors import AccelscopeError, ShapeError


def smooth_map(shape, seed=0, relu=True):
    """A feature-map-like tensor: spatially correlated (cumulative sums of noise), ReLU'd."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape).cumsum(-1).cumsum(-2)
    x /= np.abs(x).max()
    return np.maximum(x, 0) if relu else x


# ---- blocking and the transform


@settings(max_examples=40, deadline=None)
@given(shape=st.tuples(st.integers(1, 2), st.integers(1, 3), st.integers(1, 21),
                       st.integers(1, 21)),
       pad=st.sampled_from(["edge", "zero"]), seed=st.integers(0, 2**16))
def test_float_dct_round_trips_on_any_shape(shape, pad, seed):
    x = np.random.default_rng(seed).uniform(-4, 4, shape)
    blk = to_blocks(x, pad=pad)
    hp, wp = -(-shape[2] // 8) * 8, -(-shape[3] // 8) * 8
    assert blk.padded_shape == (shape[0], shape[1], hp, wp)
    assert blk.padded_elements == shape[0] * shape[1] * hp * wp - x.size
    y = from_blocks(idct2(dct2(blk.blocks)), shape)
    assert y.shape == x.shape and np.abs(y - x).max() <= 1e-6
    y32 = from_blocks(idct2(dct2(to_blocks(x, pad=pad, dtype="float32").blocks)), shape)
    assert y32.dtype == np.float32 and np.abs(y32 - x).max() <= 4e-6 * 4
    # the codec without quantization loss: tiny flat step, float64 path
    r = compress(x, table="flat", step=1e-9, dtype="float64", pad=pad)
    assert r.max_abs_error <= 1e-6 and r.reconstruction.shape == shape


def test_padding_modes_and_block_order():
    x = np.arange(2 * 9 * 10, dtype=np.float64).reshape(1, 2, 9, 10)
    edge, zero = to_blocks(x, pad="edge"), to_blocks(x, pad="zero")
    assert edge.n_blocks == zero.n_blocks == 2 * 2 * 2 and edge.padded_elements == 8 * 64 - 180
    # block 1 = plane 0, block row 0, block column 1: columns 8..9 then padding
    assert np.array_equal(edge.blocks[1][:, :2], x[0, 0, :8, 8:10])
    assert np.all(edge.blocks[1][:, 2:] == x[0, 0, :8, 9:10])  # last column replicated
    assert np.all(zero.blocks[1][:, 2:] == 0)
    assert np.all(edge.blocks[3][1:] == edge.blocks[3][0])  # row 8 replicated downwards
    assert np.array_equal(edge.blocks[4], x[0, 1, :8, :8])  # plane 1 starts at block 4
    assert np.array_equal(from_blocks(zero.blocks, x.shape), x)


def test_dct_is_the_orthonormal_dct_ii():
    d = dct_matrix()
    assert np.allclose(d @ d.T, np.eye(8), rtol=0, atol=1e-14)
    rng = np.random.default_rng(1)
    b = rng.standard_normal((3, 8, 8))
    n = np.arange(8)
    want = np.empty_like(b)
    for m in range(3):  # the textbook double sum
        for u in range(8):
            for v in range(8):
                cu = math.sqrt(1 / 8) if u == 0 else math.sqrt(2 / 8)
                cv = math.sqrt(1 / 8) if v == 0 else math.sqrt(2 / 8)
                basis = np.outer(np.cos(math.pi * (2 * n + 1) * u / 16),
                                 np.cos(math.pi * (2 * n + 1) * v / 16))
                want[m, u, v] = cu * cv * np.sum(b[m] * basis)
    assert np.allclose(dct2(b), want, atol=1e-12)
    const = dct2(np.full((1, 8, 8), 2.0))
    assert const[0, 0, 0] == pytest.approx(16.0) and np.abs(const[0].ravel()[1:]).max() < 1e-12


def test_fixed_point_error_shrinks_with_wordlength():
    x = smooth_map((1, 3, 20, 27), relu=False) * 3.0
    blk = to_blocks(x)
    s = fixed_point_scale(np.abs(x).max())
    assert s == 4.0
    errs = []
    for w in range(8, 25, 2):
        c = dct2(blk.blocks, wordlength=w, ref_scale=s)
        lsb = s * 2.0 ** -(w - 4)
        assert np.array_equal(c / lsb, np.rint(c / lsb))  # on the coefficient grid
        y = idct2(c, wordlength=w, ref_scale=s)
        errs.append(np.abs(y - blk.blocks).max())
        assert errs[-1] <= 4 * lsb
    assert all(a > b for a, b in itertools.pairwise(errs)), errs
    # the codec path: near-lossless steps, the error is the fixed-point error
    e = [compress(x, table="flat", step=1e-6, wordlength=w).max_abs_error for w in (8, 16, 24)]
    assert e[0] > e[1] > e[2]


def test_fixed_point_saturates_at_the_word_range():
    w = 10
    top = (2 ** (w - 1) - 1) * 2.0 ** -(w - 4)
    # |x / s| = 2: the DC (8 * 2 = 16 units of s) exceeds the word's +8
    c = dct2(np.ones((1, 8, 8)), wordlength=w, ref_scale=0.5)
    assert c[0, 0, 0] == pytest.approx(top * 0.5)
    c = dct2(-np.ones((1, 8, 8)), wordlength=w, ref_scale=0.5)
    assert c[0, 0, 0] == pytest.approx(-(2 ** (w - 1)) * 2.0 ** -(w - 4) * 0.5)


# ---- tables and quantization


def test_jpeg_tables_follow_the_ijg_rule():
    assert np.array_equal(jpeg_table(50), JPEG_LUMA)
    assert np.all(jpeg_table(100) == 1)
    assert np.array_equal(jpeg_table(25), np.clip(JPEG_LUMA * 2, 1, 255))  # scale 200 %
    assert np.array_equal(jpeg_table(75), (JPEG_LUMA * 50 + 50) // 100)
    assert np.all(jpeg_table(1) == 255)  # 5000 % of every entry, clamped to baseline
    assert ZIGZAG[:10].tolist() == [0, 1, 8, 16, 9, 2, 3, 10, 17, 24]
    assert sorted(ZIGZAG.tolist()) == list(range(64)) and ZIGZAG[-1] == 63


def test_quantize_saturates_and_dequantize_is_dtype_stable():
    c = np.zeros((1, 8, 8))
    c[0, 0, 0], c[0, 0, 1], c[0, 1, 0] = 100.0, -2.6, 0.4
    t = np.ones((8, 8))
    q = quantize(c, t)
    assert q[0, 0, 0] == 100 and q[0, 0, 1] == -3 and q[0, 1, 0] == 0
    assert level_bits_for(q) == 8  # -3..100 needs 8 bits two's complement
    assert quantize(c, t, level_bits=4)[0, 0, 0] == 7
    assert level_bits_for(np.zeros(3)) == 2 and level_bits_for(np.array([-128, 127])) == 8
    assert np.array_equal(dequantize(q, t * 0.1, dtype="float32"),
                          dequantize(q.astype(np.float32), t * 0.1, dtype="float32"))
    x = smooth_map((1, 2, 16, 16)) * 1000
    r = compress(x, level_bits=4, quality=90)
    assert r.clipped_levels > 0 and r.levels.max() <= 7 and r.level_bits == 4


def test_quality_100_and_tiny_steps_are_near_lossless():
    x = smooth_map((1, 3, 16, 24)) * 7.0
    r = compress(x, quality=100, dtype="float64")
    unit = np.abs(x).max() / 255
    assert r.step_unit == pytest.approx(unit) and np.all(r.table == 1)
    # orthonormal transform, no padding: the RMS error is at most half a step
    assert math.sqrt(np.mean((r.reconstruction - x) ** 2)) <= 0.5 * unit
    assert r.snr_db > 40
    t = compress(x, table="flat", step=1e-6, dtype="float64")
    assert t.max_abs_error <= 8 * 1e-6 * unit
    a = compress(x, table="flat", step=1e-3, step_unit="absolute", dtype="float64")
    assert a.step_unit == 1.0 and a.max_abs_error <= 8 * 1e-3


def test_calibration_reaches_the_target_snr():
    x = smooth_map((1, 8, 40, 40), seed=3)
    for target in (20.0, 30.0, 40.0):
        step = calibrate_step(x, target)
        r = compress(x, table="snr", target_snr_db=target)
        assert r.step == step
        # stated tolerance: at or above the target, within 0.1 dB on a tensor this size
        assert target <= r.snr_db <= target + 0.1, (target, r.snr_db)
        flat = compress(x, table="flat", step=step)
        assert flat.snr_db == r.snr_db and flat.compressed_bits == r.compressed_bits
    fx = compress(x, table="snr", target_snr_db=30.0, wordlength=16)
    assert 30.0 <= fx.snr_db <= 30.1
    with pytest.raises(DctError, match=r"cannot be reached.*raise wordlength"):
        compress(x, table="snr", target_snr_db=90.0, wordlength=8)
    assert calibrate_step(np.zeros((1, 1, 8, 8)), 30.0) == 1.0


# ---- block coders: exact sizes and real round trips

@st.composite
def sparse_levels(draw):
    v = draw(st.integers(2, 12))
    lo, hi = -(1 << (v - 1)), (1 << (v - 1)) - 1
    nonzero = st.integers(lo, hi).filter(lambda k: k != 0)
    m = draw(st.integers(1, 5))
    blocks = draw(arrays(np.int64, (m, 8, 8),
                         elements=st.one_of(st.just(0), st.just(0), st.just(0), st.just(0),
                                            st.just(0), st.just(0), nonzero)))
    return blocks, v


@settings(max_examples=120, deadline=None)
@given(data=sparse_levels(), fmt=st.sampled_from(FORMAT_NAMES), run_bits=st.integers(1, 6))
def test_sizes_equal_the_bitstream_and_decode_is_exact(data, fmt, run_bits):
    levels, v = data
    coder = block_coder(fmt, v, run_bits=run_bits)
    stream = coder.encode(levels)
    assert stream.bits.dtype == np.uint8 and set(np.unique(stream.bits)) <= {0, 1}
    per_block = coder.block_bits(levels)
    assert stream.nbits == coder.size_bits(levels) == int(per_block.sum())
    for m in range(levels.shape[0]):  # each block alone codes to its own size
        assert coder.encode(levels[m:m + 1]).nbits == per_block[m]
    assert np.array_equal(coder.decode(stream, levels.shape[0]), levels)
    back = Bitstream.from_bytes(stream.to_bytes(), stream.nbits)
    assert np.array_equal(coder.decode(back, levels.shape[0]), levels)


def test_long_runs_and_full_blocks():
    for v, r in ((2, 1), (5, 4), (9, 6)):
        blocks = np.zeros((4, 8, 8), dtype=np.int64)
        blocks[0].flat[ZIGZAG[63]] = 1  # a run of 63 zeros
        blocks[1] = 1  # every coefficient non-zero
        blocks[2].flat[ZIGZAG[[0, 31, 32, 63]]] = -1
        for fmt in FORMAT_NAMES:
            c = block_coder(fmt, v, run_bits=r)
            s = c.encode(blocks)
            assert s.nbits == c.size_bits(blocks)
            assert np.array_equal(c.decode(s, 4), blocks)
    rle = block_coder("rle", 4, run_bits=4)
    # 63 zeros with a 4-bit run: 3 ZRLs (48 zeros), (15, 1), end of block = 5 entries
    assert rle.block_bits(blocks)[0] == 5 * 8


def test_bit_layouts_by_hand():
    b = np.zeros((1, 8, 8), dtype=np.int64)
    b[0].flat[ZIGZAG[0]], b[0].flat[ZIGZAG[1]], b[0].flat[ZIGZAG[20]] = 5, -1, 2
    rle = block_coder("rle", 4, run_bits=4)
    # (0, 5) (0, -1) ZRL=(15, 0) (2, 2) EOB=(0, 0): 18 zeros = 16 (ZRL) + run 2
    want = "0000" "0101" "0000" "1111" "1111" "0000" "0010" "0010" "0000" "0000"
    assert "".join(map(str, rle.encode(b).bits)) == want
    bm = block_coder("bitmap", 4)
    bits = "".join(map(str, bm.encode(b).bits))
    raster = sorted(ZIGZAG[[0, 1, 20]].tolist())
    assert bits[:64] == "".join("1" if i in raster else "0" for i in range(64))
    vals = {int(ZIGZAG[0]): "0101", int(ZIGZAG[1]): "1111", int(ZIGZAG[20]): "0010"}
    assert bits[64:] == "".join(vals[i] for i in raster)
    csr = block_coder("csr", 4)
    assert (csr.ptr_bits, csr.index_bits) == (7, 3)
    s = "".join(map(str, csr.encode(b).bits))
    assert len(s) == 63 + 3 * (3 + 4)
    rows = [i // 8 for i in raster]
    ptr = [sum(r < k for r in rows) for k in range(9)]
    assert s[:63] == "".join(format(p, "07b") for p in ptr)
    assert s[63:72] == "".join(format(i % 8, "03b") for i in raster)
    assert block_coder("dense", 3).size_bits(b.clip(-4, 3)) == 64 * 3


def test_corrupt_streams_raise():
    b = np.zeros((2, 8, 8), dtype=np.int64)
    b[0, 0, 0], b[1, 3, 4] = 3, -2
    for fmt in FORMAT_NAMES:
        c = block_coder(fmt, 4)
        bits = c.encode(b).bits
        with pytest.raises(DctError, match="does not decode"):
            c.decode(Bitstream(bits[:-1]), 2)
        with pytest.raises(DctError, match="does not decode"):
            c.decode(Bitstream(np.concatenate((bits, np.zeros(c.min_block_bits, np.uint8)))), 2)
    rle = block_coder("rle", 4)
    bad = np.array([int(ch) for ch in "0011" "0000"], dtype=np.uint8)  # (3, 0): no such code
    with pytest.raises(DctError, match="neither end of block nor ZRL"):
        rle.decode(Bitstream(bad), 1)
    one = np.zeros((1, 8, 8), dtype=np.int64)
    one[0, 2, 5] = 1
    bits = block_coder("csr", 4).encode(one).bits.copy()
    bits[6] = 1  # first row pointer 1 instead of 0
    with pytest.raises(DctError, match="invalid row pointers"):
        block_coder("csr", 4).decode(Bitstream(bits), 1)
    bits = block_coder("bitmap", 4).encode(one).bits.copy()
    bits[64:] = 0  # the level under the set mask bit becomes 0
    with pytest.raises(DctError, match="zero level under a set mask bit"):
        block_coder("bitmap", 4).decode(Bitstream(bits), 1)
    with pytest.raises(DctError, match="outside the 3-bit range"):
        block_coder("bitmap", 3).encode(b * 3)


# ---- the codec end to end


@settings(max_examples=25, deadline=None)
@given(shape=st.tuples(st.integers(1, 2), st.integers(1, 3), st.integers(1, 20),
                       st.integers(1, 20)),
       fmt=st.sampled_from(FORMAT_NAMES), quality=st.integers(1, 100),
       wordlength=st.sampled_from([None, 8, 12, 20]), pad=st.sampled_from(["edge", "zero"]),
       dtype=st.sampled_from(["float32", "float64"]), seed=st.integers(0, 1000))
def test_compress_encode_decode_agree(shape, fmt, quality, wordlength, pad, dtype, seed):
    x = smooth_map(shape, seed) * 5
    codec = DctCodec(fmt=fmt, quality=quality, wordlength=wordlength, pad=pad, dtype=dtype)
    r = codec.compress(x)
    enc = codec.encode(x)
    assert enc.stream.nbits == r.compressed_bits == codec.size_bits(x)
    levels = codec.coder(r.level_bits).decode(enc.stream, r.n_blocks)
    assert np.array_equal(levels, r.levels)
    # decoded blocks -> dequantize -> inverse DCT reproduces compress's output bit for bit
    assert np.array_equal(codec.decode(enc), r.reconstruction)
    assert r.original_bits == x.size * 16 and r.ratio == r.original_bits / r.compressed_bits
    assert r.bits_per_activation == r.compressed_bits / x.size
    assert r.max_abs_error == pytest.approx(np.abs(r.reconstruction - x).max(), rel=1e-6)
    assert r.snr_db == snr_db(x, r.reconstruction)


def test_torch_and_numpy_inputs_agree():
    x = smooth_map((2, 3, 12, 12)).astype(np.float32)
    a, b = compress(x), compress(torch.from_numpy(x))
    assert a.compressed_bits == b.compressed_bits
    assert np.array_equal(a.reconstruction, b.reconstruction)


def test_all_zero_map_compresses_to_the_minimum():
    x = np.zeros((1, 2, 10, 10), dtype=np.float32)  # 2 planes x 2 x 2 blocks
    want = {"bitmap": 64, "rle": 4 + 2, "csr": 9 * 7, "dense": 64 * 2}
    for fmt in FORMAT_NAMES:
        r = compress(x, fmt=fmt)
        assert r.level_bits == 2 and r.n_blocks == 8
        assert r.compressed_bits == 8 * want[fmt] == 8 * r.codec.coder(2).min_block_bits
        assert r.snr_db == math.inf and r.max_abs_error == 0 and not r.reconstruction.any()
        enc = r.codec.encode(x)
        assert enc.stream.nbits == r.compressed_bits
        assert not r.codec.decode(enc).any()


@pytest.mark.parametrize(("params", "words"), [
    ({"quality": 0}, ["quality", "1..100", "got 0"]),
    ({"quality": 101}, ["quality", "1..100", "got 101"]),
    ({"quality": 50.5}, ["quality", "integer"]),
    ({"fmt": "huffman"}, ["fmt", "'bitmap', 'rle', 'csr', 'dense'", "'huffman'"]),
    ({"table": "mpeg"}, ["table", "'jpeg', 'flat', 'snr'", "64 step entries", "'mpeg'"]),
    ({"table": [1.0] * 63}, ["table", "64 finite entries", "got 63"]),
    ({"table": [1.0] * 63 + [0.0]}, ["64 finite entries > 0", "<= 0"]),
    ({"step": -1}, ["step", "> 0", "-1"]),
    ({"target_snr_db": 0}, ["target_snr_db", "> 0"]),
    ({"wordlength": 4}, ["wordlength", "6..24", "got 4"]),
    ({"wordlength": 32}, ["wordlength", "6..24"]),
    ({"pad": "reflect"}, ["pad", "'edge', 'zero'", "'reflect'"]),
    ({"step_unit": "percent"}, ["step_unit", "'maxabs', 'absolute'"]),
    ({"level_bits": 1}, ["level_bits", "0 (derived", "2..62", "got 1"]),
    ({"run_bits": 7}, ["run_bits", "1..6", "got 7"]),
    ({"activation_bits": 0}, ["activation_bits", "1..64"]),
    ({"dtype": "float16"}, ["dtype", "'float32', 'float64'"]),
    ({"calib_rtol": 0}, ["calib_rtol", "(0, 1]"]),
])
def test_bad_parameters_are_named(params, words):
    with pytest.raises(DctError) as info:
        DctCodec(**params)
    msg = str(info.value)
    assert msg.startswith("DctCodec:")
    for w in words:
        assert w in msg, (w, msg)


def test_bad_inputs_and_calls():
    x = np.ones((1, 1, 8, 8))
    with pytest.raises(DctError, match=r"unknown parameter\(s\) qualty; the parameters are "
                                       r"table, quality"):
        compress(x, qualty=50)
    with pytest.raises(ShapeError, match=r"at least 2 dimensions .* got shape \(5,\)"):
        compress(np.ones(5))
    with pytest.raises(ShapeError, match="empty"):
        compress(np.ones((1, 0, 8, 8)))
    bad = x.copy()
    bad[0, 0, 1, 1] = np.nan
    with pytest.raises(DctError, match="NaN or infinite"):
        compress(bad)
    with pytest.raises(DctError, match="fmt must be one of"):
        block_coder("zip", 4)
    with pytest.raises(DctError, match=r"level_bits must be an integer in 2\.\.62"):
        block_coder("rle", 0)
    with pytest.raises(DctError, match="levels must be integers"):
        block_coder("rle", 4).encode(np.full((1, 8, 8), 0.5))
    with pytest.raises(ShapeError, match=r"\(\.\.\., 8, 8\)"):
        block_coder("csr", 4).size_bits(np.zeros((4, 4)))
    with pytest.raises(DctError, match="needs a DctEncoded"):
        DctCodec().decode(b"\x00")
    assert issubclass(DctError, AccelscopeError)
