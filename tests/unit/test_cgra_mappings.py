"""The four OpenEdgeCGRA convolution mappings, run in the instruction-level simulator."""

import zlib

import numpy as np
import pytest

from accelscope.errors import ShapeError
from accelscope.models.cgra.layout import CgraMemoryError, ConvShape
from accelscope.models.cgra.mappings import MAPPINGS, RUNNERS, reference_conv, run_mapping
from accelscope.models.cgra.sim import Cgra, CgraTiming

BASE = ConvShape(16, 16, 16, 16)
BASE_LAUNCHES = {"wp": 256, "oc": 196, "im2col-ic": 3136, "im2col-oc": 196}


def _operands(shape: ConvShape, seed: int, lo: int = -1000, hi: int = 1000):
    rng = np.random.default_rng(seed)
    x = rng.integers(lo, hi, (shape.C, shape.H, shape.W), dtype=np.int64).astype(np.int32)
    w = rng.integers(lo, hi, (shape.K, shape.C, 3, 3), dtype=np.int64).astype(np.int32)
    return x, w


@pytest.fixture(scope="module")
def base_runs():
    x, w = _operands(BASE, 0)
    return x, w, {m: RUNNERS[m](BASE, x, w, Cgra(CgraTiming())) for m in MAPPINGS}


def test_every_mapping_is_registered():
    assert set(RUNNERS) == set(MAPPINGS)


@pytest.mark.parametrize("mapping", MAPPINGS)
def test_base_layer_exact_with_expected_launches(base_runs, mapping):
    x, w, runs = base_runs
    r = runs[mapping]
    assert r.output.dtype == np.int32 and r.output.shape == (16, 14, 14)
    np.testing.assert_array_equal(r.output, reference_conv(x, w))
    assert r.launches == BASE_LAUNCHES[mapping] == len(r.launch_cycles)
    assert sum(r.launch_cycles) == r.stats.cycles > 0
    assert r.kernel.n_instructions <= 32
    assert 0 < r.footprint_bytes <= CgraTiming().memory_bytes


def test_base_layer_host_work(base_runs):
    _, _, runs = base_runs
    assert runs["im2col-ic"].im2col_patches == 16 * 14 * 14
    assert runs["im2col-ic"].im2col_overlapped
    assert runs["im2col-oc"].im2col_patches == 14 * 14
    assert not runs["im2col-oc"].im2col_overlapped
    assert runs["wp"].im2col_patches == runs["oc"].im2col_patches == 0
    assert runs["wp"].host_zero_words == 16 * 14 * 14
    assert runs["oc"].host_param_words == 14 * 14 + 1


def test_base_layer_ranking(base_runs):
    """The validation target of the paper (WP best, im2col-IC worst) on CGRA cycles."""
    _, _, runs = base_runs
    cyc = {m: r.stats.cycles for m, r in runs.items()}
    assert cyc["wp"] < min(cyc["oc"], cyc["im2col-oc"])
    assert max(cyc["oc"], cyc["im2col-oc"]) < cyc["im2col-ic"]


SMALL = [
    ConvShape(5, 7, 3, 5),  # K < 16, C odd, H != W
    ConvShape(6, 5, 17, 33),  # K > 16 and not a multiple, C > 16
    ConvShape(3, 3, 1, 1),  # one output, one channel
    ConvShape(4, 9, 2, 16),
]


@pytest.mark.parametrize("mapping", MAPPINGS)
@pytest.mark.parametrize("shape", SMALL, ids=str)
def test_small_layers_exact(mapping, shape):
    x, w = _operands(shape, zlib.crc32(f"{mapping} {shape}".encode()))
    r = run_mapping(mapping, shape, x, w, Cgra(CgraTiming()))
    np.testing.assert_array_equal(r.output, reference_conv(x, w))
    assert r.kernel.n_instructions <= 32


@pytest.mark.parametrize("mapping", MAPPINGS)
def test_int32_wraparound(mapping):
    shape = ConvShape(5, 4, 3, 18)
    x, w = _operands(shape, 7, -2**31, 2**31)
    ref = reference_conv(x, w)
    wide = np.einsum("kcrs,crs->k", w.astype(np.int64), x[:, :3, :3].astype(np.int64))
    assert (np.abs(wide) > 2**31).any()  # the case really wraps
    r = run_mapping(mapping, shape, x, w, Cgra(CgraTiming()))
    np.testing.assert_array_equal(r.output, ref)


def test_mappings_do_not_depend_on_leftover_state():
    """Registers and memory are not cleared between launches or layers on the hardware; run
    all mappings back to back on one CGRA whose registers start as garbage."""
    shape = ConvShape(5, 6, 4, 20)
    x, w = _operands(shape, 3)
    cgra = Cgra(CgraTiming())
    rng = np.random.default_rng(5)
    cgra.regs[:] = rng.integers(-2**31, 2**31, len(cgra.regs)).tolist()
    cgra.rout[:] = rng.integers(-2**31, 2**31, len(cgra.rout)).tolist()
    cgra.mem[:] = rng.integers(-2**31, 2**31, len(cgra.mem)).tolist()
    for m in (*MAPPINGS, *MAPPINGS[::-1]):
        np.testing.assert_array_equal(run_mapping(m, shape, x, w, cgra).output,
                                      reference_conv(x, w))


@pytest.mark.parametrize("bus", ["n_to_m", "interleaved"])
def test_other_buses_same_result(bus):
    shape = ConvShape(5, 5, 3, 17)
    x, w = _operands(shape, 11)
    timing = CgraTiming(bus=bus, loads_stores_add=True, mem_overhead_cycles=2)
    for m in MAPPINGS:
        np.testing.assert_array_equal(run_mapping(m, shape, x, w, Cgra(timing)).output,
                                      reference_conv(x, w))


@pytest.mark.parametrize("mapping", MAPPINGS)
def test_layer_too_big_for_the_banks(mapping):
    shape = ConvShape(64, 64, 16, 16)  # the input alone is 256 KiB
    x = np.zeros((shape.C, shape.H, shape.W), dtype=np.int32)
    w = np.zeros((shape.K, shape.C, 3, 3), dtype=np.int32)
    with pytest.raises(CgraMemoryError, match="needs"):
        run_mapping(mapping, shape, x, w, Cgra(CgraTiming()))


@pytest.mark.parametrize("mapping", MAPPINGS)
def test_wrong_operand_shape(mapping):
    shape = ConvShape(5, 5, 2, 3)
    x, w = _operands(shape, 1)
    with pytest.raises(ShapeError):
        run_mapping(mapping, shape, x[:1], w, Cgra(CgraTiming()))


def test_on_launch_callback():
    shape = ConvShape(4, 5, 2, 3)
    x, w = _operands(shape, 2)
    seen = []
    r = RUNNERS["oc"](shape, x, w, Cgra(CgraTiming()), on_launch=lambda i, st: seen.append(i))
    assert seen == list(range(1, r.launches + 1)) and r.launches == 2 * 3


def test_oc_rejects_rows_too_wide_for_its_immediate():
    shape = ConvShape(3, 1100, 1, 1)  # fits the banks, but 4W-8 needs more than 13 bits
    x, w = _operands(shape, 4)
    with pytest.raises(ShapeError, match="immediate"):
        run_mapping("oc", shape, x, w, Cgra(CgraTiming()))
