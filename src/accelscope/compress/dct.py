"""DCT inter-layer feature-map compression: the codec.

A model of the compression in Shao et al. (arXiv 2110.06155): stored feature maps are cut into
8x8 blocks per channel, an 8x8 2-D DCT moves each block into the frequency domain,
quantization by a 64-entry step table removes the high-frequency content, and a sparse code
packs the quantized levels that are left. The paper's own quantization table and sparse
format are not public; here both are parameters, with documented defaults.

Pipeline and conventions (every function below follows them):

- **Blocking.** A tensor ``(..., H, W)`` (normally ``(N, C, H, W)``) is split into planes (all
  leading dimensions flattened, so a block never spans two channels). Each plane is padded at
  the bottom and on the right to multiples of 8, by edge replication (default: a replicated
  edge adds no step, so it adds little high-frequency energy; zero padding puts an edge at
  every ragged border) or by zeros. Blocks are numbered plane by plane, block rows top to
  bottom, blocks left to right in a row. Padded elements are coded like any other (the
  decoder crops them) and are reported.
- **DCT.** Orthonormal 2-D DCT-II of each block, ``Y = D X D^T`` with
  ``D[k, n] = a_k cos(pi (2n + 1) k / 16)``, ``a_0 = sqrt(1/8)``, ``a_k = sqrt(2/8)``; this is
  exactly JPEG's FDCT scaling, so JPEG tables apply as they do to images. ``Y[u, v]``: ``u`` is
  the vertical frequency (row), ``v`` the horizontal one; tables are in that natural row-major
  order (not in zig-zag order).
- **Step unit.** ``step_unit="maxabs"`` (default): one table unit is ``max|x| / 255`` of the
  tensor being coded, so the tensor's max-abs maps to 255 units. A ReLU feature map
  ``[0, max]`` then stands where an 8-bit image ``[0, 255]`` stands and the JPEG tables mean
  what they mean for images; the unit adapts per layer, as the value range of feature maps
  differs by orders of magnitude between layers. ``step_unit="absolute"``: table entries are in
  the units of ``x``. The absolute value of one unit is reported (``DctResult.step_unit``).
  An all-zero tensor takes ``max|x| = 1``.
- **Quantization.** ``level = rint(Y / step)`` (ties to even), ``Y' = level * step``. Levels
  are signed two's-complement integers of ``level_bits`` bits: given (then the quantizer
  saturates, and the saturated count is reported) or derived from the data (0: the fewest bits
  that hold every level of the tensor, at least 2).
- **Fixed point** (``wordlength=W``): the DCT matrix is a signed W-bit word with W - 1
  fraction bits; inputs, the intermediate of the row/column decomposition, the coefficients
  and the reconstruction are signed W-bit words with W - 4 fraction bits in units of the
  tensor's reference scale ``s = 2**ceil(log2 max|x|)`` (a power of two: a shift in hardware;
  |x/s| <= 1, and the 2-D DCT grows values by up to 8 = 2**3, hence 3 integer bits + sign).
  Each pass rounds half up (add half an LSB, truncate) and saturates at the word range, as a
  row-column hardware DCT with a transpose buffer does. W is limited to 6..24 so that every
  integer product sum is exact in float64.
- **Sparse codes** (one stream: the blocks' codes concatenated in block order, every field
  written most-significant bit first; ``V = level_bits``):

  - ``bitmap``: 64-bit presence mask (raster order) + the non-zero levels (V bits each, raster
    order). ``64 + nnz * V`` bits a block.
  - ``rle``: levels in zig-zag order as (run, level) entries of ``run_bits + V`` bits: run = the
    zeros before a non-zero level. Level 0 marks the two special entries: (0, 0) = end of
    block, emitted after the last non-zero of *every* block (so a decoder finds block
    boundaries without knowing positions), and (2**run_bits - 1, 0) = ZRL, 2**run_bits zeros,
    for runs the run field cannot hold (JPEG's convention). ``(nnz + ZRLs + 1) * (run_bits +
    V)`` bits a block.
  - ``csr``: CSR of the 8x8 block with the field widths of ``accelscope.sparsity.formats.CSR``:
    9 row pointers of 7 bits (0..64), then nnz column indices of 3 bits, then nnz levels of V
    bits (row-major order). ``63 + nnz * (3 + V)`` bits a block.
  - ``dense``: 64 levels of V bits (the DCT and quantization without a sparse code).

  Side information (tensor shape, block count, V, run_bits, the step table and the scales) is
  per tensor, like a header, and is not counted: a few hundred bits against the
  thousands to millions of a layer.

``DctCodec`` holds the parameters (validated), ``compress`` runs the whole pipeline and returns
a ``DctResult``; ``DctCodec.encode`` / ``decode`` produce and read the real bitstream.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from dataclasses import dataclass, field, fields
from typing import Any, ClassVar, cast

import numpy as np
import numpy.typing as npt

from accelscope.errors import AccelscopeError, ShapeError
from accelscope.sparsity.formats import CSR, Bitmap, SCNNZeroRun, zero_gaps

BLOCK = 8
"""Block edge in elements: the transform is the 8x8 DCT of the paper."""

FORMAT_NAMES: tuple[str, ...] = ("bitmap", "rle", "csr", "dense")
TABLE_KINDS: tuple[str, ...] = ("jpeg", "flat", "snr")
PAD_MODES: tuple[str, ...] = ("edge", "zero")
STEP_UNITS: tuple[str, ...] = ("maxabs", "absolute")
DTYPES: tuple[str, ...] = ("float32", "float64")
WORDLENGTH_RANGE = (6, 24)
LEVEL_BITS_RANGE = (2, 62)
RUN_BITS_RANGE = (1, 6)

# Writing/reading bit fields makes an index per bit: chunks bound that temporary memory.
_CHUNK = 1 << 18


class DctError(AccelscopeError):
    """Bad DCT-codec parameter, a calibration target that cannot be reached, or a bitstream
    that does not decode."""


# --------------------------------------------------------------------------------------------
# constants: DCT matrix, JPEG table, zig-zag order


def dct_matrix() -> np.ndarray:
    """The orthonormal 8-point DCT-II matrix ``D`` (float64, 8x8): ``y = D @ x`` transforms a
    column, ``D.T`` inverts it."""
    k = np.arange(BLOCK, dtype=np.float64)[:, None]
    n = np.arange(BLOCK, dtype=np.float64)[None, :]
    d = math.sqrt(2.0 / BLOCK) * np.cos(math.pi * (2 * n + 1) * k / (2 * BLOCK))
    d[0] /= math.sqrt(2.0)
    return d


def _zigzag() -> np.ndarray:
    # anti-diagonal s = u + v in order; odd diagonals run down-left (u increasing), even ones
    # up-right (u decreasing): the JPEG scan
    pos = [(u, v) for u in range(BLOCK) for v in range(BLOCK)]
    pos.sort(key=lambda p: (p[0] + p[1], p[0] if (p[0] + p[1]) % 2 else -p[0]))
    return np.array([u * BLOCK + v for u, v in pos], dtype=np.int64)


def _readonly(a: np.ndarray) -> np.ndarray:
    a.setflags(write=False)
    return a


ZIGZAG: np.ndarray = _readonly(_zigzag())
"""``ZIGZAG[i]``: the raster index ``8u + v`` of the i-th coefficient in zig-zag order."""

JPEG_LUMA: np.ndarray = _readonly(np.array([
    [16, 11, 10, 16, 24, 40, 51, 61],
    [12, 12, 14, 19, 26, 58, 60, 55],
    [14, 13, 16, 24, 40, 57, 69, 56],
    [14, 17, 22, 29, 51, 87, 80, 62],
    [18, 22, 37, 56, 68, 109, 103, 77],
    [24, 35, 55, 64, 81, 104, 113, 92],
    [49, 64, 78, 87, 103, 121, 120, 101],
    [72, 92, 95, 98, 112, 100, 103, 99],
], dtype=np.int64))
"""The luminance quantization table of the JPEG standard (ITU-T T.81, Annex K, Table K.1),
natural row-major order, in units of 8-bit pixel values (here: table units)."""

_D = dct_matrix()
_I = np.eye(BLOCK)
# On flattened blocks (row-major), Y = D X D^T is one 64x64 matrix: kron(D, D). One GEMM over
# all blocks beats per-block 8x8 products by far.
_KRON: dict[np.dtype[Any], np.ndarray] = {np.dtype(np.float64): np.kron(_D, _D)}
_KRON[np.dtype(np.float32)] = _KRON[np.dtype(np.float64)].astype(np.float32)


# --------------------------------------------------------------------------------------------
# input handling and blocking


def _as_array(x: Any, dtype: npt.DTypeLike = np.float64) -> np.ndarray:
    """``x`` (torch tensor or array-like) as a numpy array of ``dtype``, checked."""
    return _input(x).astype(dtype, copy=False)


def _input(x: Any) -> np.ndarray:
    """``x`` (torch tensor or array-like) as a numpy array of its own dtype, checked: real,
    at least 2-D, non-empty, finite."""
    if hasattr(x, "detach"):
        x = x.detach().cpu().numpy()
    a = np.asarray(x)
    if a.dtype.kind not in "fiub":
        raise DctError(f"the feature map must hold real numbers, got dtype {a.dtype}; pass a "
                       "float tensor or array")
    if a.ndim < 2:
        raise ShapeError(f"the feature map must have at least 2 dimensions (..., H, W), "
                         f"normally (N, C, H, W); got shape {tuple(a.shape)}")
    if a.size == 0:
        raise ShapeError(f"the feature map is empty (shape {tuple(a.shape)}); every dimension "
                         "must be >= 1")
    if a.dtype.kind == "f" and not np.isfinite(a).all():
        raise DctError("the feature map contains NaN or infinite values; the codec needs "
                       "finite values (check the layer that produced it)")
    return a


@dataclass(frozen=True, eq=False)
class Blocking:
    """A tensor cut into 8x8 blocks.

    ``blocks``: ``(n_blocks, 8, 8)``, in block order (see the module docstring); ``shape``: the
    original shape; ``padded_shape``: the shape after padding H and W up to multiples of 8.
    """

    blocks: np.ndarray = field(repr=False)
    shape: tuple[int, ...]
    padded_shape: tuple[int, ...]
    pad: str

    @property
    def n_blocks(self) -> int:
        return int(self.blocks.shape[0])

    @property
    def numel(self) -> int:
        return math.prod(self.shape)

    @property
    def padded_elements(self) -> int:
        """Elements added by padding (coded with the tensor, cropped by the decoder)."""
        return self.n_blocks * BLOCK * BLOCK - self.numel


def _check_choice(owner: str, name: str, value: Any, allowed: tuple[str, ...]) -> None:
    if not isinstance(value, str) or value not in allowed:
        raise DctError(f"{owner}: {name} must be one of {', '.join(map(repr, allowed))}; "
                       f"got {value!r}")


def _padded(n: int) -> int:
    return -(-n // BLOCK) * BLOCK


def to_blocks(x: Any, *, pad: str = "edge", dtype: str = "float64") -> Blocking:
    """Cut ``x`` of shape ``(..., H, W)`` into 8x8 blocks per plane (per channel).

    H and W are padded at the end to multiples of 8: ``pad="edge"`` (default) replicates the
    last row/column, ``pad="zero"`` fills zeros. ``dtype``: ``"float64"`` or ``"float32"``.
    """
    _check_choice("to_blocks", "pad", pad, PAD_MODES)
    _check_choice("to_blocks", "dtype", dtype, DTYPES)
    return _to_blocks(_as_array(x, dtype), pad)


def _to_blocks(a: np.ndarray, pad: str) -> Blocking:
    *lead, H, W = a.shape
    Hp, Wp = _padded(H), _padded(W)
    planes = a.reshape(math.prod(lead), H, W)
    if (Hp, Wp) != (H, W):
        widths = ((0, 0), (0, Hp - H), (0, Wp - W))
        planes = np.pad(planes, widths, mode="edge") if pad == "edge" else np.pad(planes, widths)
    blocks = planes.reshape(-1, Hp // BLOCK, BLOCK, Wp // BLOCK, BLOCK).transpose(0, 1, 3, 2, 4)
    return Blocking(np.ascontiguousarray(blocks).reshape(-1, BLOCK, BLOCK), tuple(a.shape),
                    (*lead, Hp, Wp), pad)


def from_blocks(blocks: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Inverse of ``to_blocks``: reassemble ``(n_blocks, 8, 8)`` blocks into a tensor of the
    original ``shape`` (padding cropped)."""
    shape = tuple(int(s) for s in shape)
    *lead, H, W = shape
    Hb, Wb = _padded(H) // BLOCK, _padded(W) // BLOCK
    b = np.asarray(blocks)
    if b.shape != (math.prod(lead) * Hb * Wb, BLOCK, BLOCK):
        raise ShapeError(f"from_blocks: {b.shape[0] if b.ndim else 0} blocks of shape "
                         f"{b.shape[1:]} do not make a tensor of shape {shape}: it needs "
                         f"{math.prod(lead) * Hb * Wb} blocks of 8x8")
    planes = b.reshape(-1, Hb, Wb, BLOCK, BLOCK).transpose(0, 1, 3, 2, 4)
    planes = planes.reshape(-1, Hb * BLOCK, Wb * BLOCK)[:, :H, :W]
    return np.ascontiguousarray(planes).reshape(shape)


# --------------------------------------------------------------------------------------------
# DCT in floating and fixed point


def fixed_point_scale(max_abs: float) -> float:
    """Reference scale of the fixed-point words: the smallest power of two >= ``max_abs``
    (1 for an all-zero tensor), so that ``|x / s| <= 1``."""
    if not max_abs > 0:
        return 1.0
    return float(2.0 ** math.ceil(math.log2(max_abs)))


def _check_wordlength(wordlength: int | None, owner: str) -> None:
    lo, hi = WORDLENGTH_RANGE
    if wordlength is None:
        return
    if isinstance(wordlength, bool) or not isinstance(wordlength, int | np.integer) \
            or not lo <= wordlength <= hi:
        raise DctError(f"{owner}: wordlength must be None (floating point) or an integer number "
                       f"of bits in {lo}..{hi} (the fixed-point arithmetic is exact in float64 "
                       f"up to {hi} bits); got {wordlength!r}")


def _fx_matrices(W: int) -> tuple[np.ndarray, ...]:
    """The four one-pass 64x64 operators (forward rows, forward columns, inverse columns,
    inverse rows) with the W-bit integer DCT matrix."""
    d = np.floor(_D * 2.0 ** (W - 1) + 0.5)  # |D| < 0.5: no saturation needed
    # row pass X A^T = kron(I, A); column pass A X = kron(A, I) (row-major flattening)
    return np.kron(_I, d), np.kron(d, _I), np.kron(d.T, _I), np.kron(_I, d.T)


def _fx_word(v: np.ndarray, W: int) -> np.ndarray:
    """Round half up to an integer and saturate at the signed W-bit range (in LSBs)."""
    top = float(2 ** (W - 1))
    return np.clip(np.floor(v + 0.5), -top, top - 1.0)


def _blocks_in(blocks: Any, what: str) -> np.ndarray:
    b = np.asarray(blocks)
    if b.ndim < 2 or b.shape[-2:] != (BLOCK, BLOCK):
        raise ShapeError(f"{what} needs blocks of shape (..., 8, 8), got {b.shape}")
    if b.dtype not in (np.float32, np.float64):
        b = b.astype(np.float64)
    return b


def dct2(blocks: Any, *, wordlength: int | None = None, ref_scale: float = 1.0) -> np.ndarray:
    """Orthonormal 2-D DCT-II of every 8x8 block of ``blocks`` (shape ``(..., 8, 8)``), all at
    once as one matrix product.

    Floating point (``wordlength=None``): computed in the dtype of ``blocks`` (float32 stays
    float32, anything else float64). Fixed point: ``wordlength`` bits (see the module
    docstring), values in units of ``ref_scale`` (use ``fixed_point_scale(max|x|)``); the
    result is float64 holding exact multiples of ``ref_scale * 2**-(wordlength - 4)``.
    """
    _check_wordlength(wordlength, "dct2")
    b = _blocks_in(blocks, "dct2")
    flat = b.reshape(-1, BLOCK * BLOCK)
    if wordlength is None:
        return cast(np.ndarray, (flat @ _KRON[b.dtype].T).reshape(b.shape))
    W, F = wordlength, wordlength - 4
    rows, cols, _, _ = _fx_matrices(W)
    u = flat.astype(np.float64) / ref_scale
    # input in units of s times the matrix (W - 1 fraction bits) -> coefficient LSBs (F bits)
    t = _fx_word((u @ rows.T) * 2.0 ** (F - (W - 1)), W)
    y = _fx_word((t @ cols.T) * 2.0 ** -(W - 1), W)
    return (y * (ref_scale * 2.0 ** -F)).reshape(b.shape)


def idct2(coeffs: Any, *, wordlength: int | None = None, ref_scale: float = 1.0) -> np.ndarray:
    """Inverse of ``dct2`` (``X = D^T Y D`` per block), same conventions: the fixed-point path
    first rounds the coefficients to the W-bit coefficient word, then rounds and saturates
    after each pass."""
    _check_wordlength(wordlength, "idct2")
    c = _blocks_in(coeffs, "idct2")
    flat = c.reshape(-1, BLOCK * BLOCK)
    if wordlength is None:
        # kron(D, D) is orthogonal: its transpose is its inverse
        return cast(np.ndarray, (flat @ _KRON[c.dtype]).reshape(c.shape))
    W, F = wordlength, wordlength - 4
    _, _, icols, irows = _fx_matrices(W)
    y = _fx_word(flat.astype(np.float64) * (2.0 ** F / ref_scale), W)
    t = _fx_word((y @ icols.T) * 2.0 ** -(W - 1), W)
    x = _fx_word((t @ irows.T) * 2.0 ** -(W - 1), W)
    return (x * (ref_scale * 2.0 ** -F)).reshape(c.shape)


# --------------------------------------------------------------------------------------------
# quantization tables and quantization


def _check_quality(quality: Any, owner: str) -> None:
    if isinstance(quality, bool) or not isinstance(quality, int | np.integer) \
            or not 1 <= quality <= 100:
        raise DctError(f"{owner}: quality must be an integer in 1..100 (the IJG JPEG quality "
                       f"scale; 50 = the standard table); got {quality!r}")


def jpeg_table(quality: int = 50) -> np.ndarray:
    """The JPEG luminance table scaled by ``quality`` (1..100) with the IJG rule: scale
    ``5000 / q`` % below 50, ``200 - 2q`` % from 50, entries ``(T * scale + 50) // 100``
    clamped to 1..255 (baseline). 8x8 float64, in table units."""
    _check_quality(quality, "jpeg_table")
    q = int(quality)
    scale = 5000 // q if q < 50 else 200 - 2 * q
    return cast(np.ndarray, np.clip((JPEG_LUMA * scale + 50) // 100, 1, 255).astype(np.float64))


def flat_table(step: float) -> np.ndarray:
    """A table with every entry ``step`` (8x8 float64, table units)."""
    _check_step(step, "flat_table")
    return np.full((BLOCK, BLOCK), float(step))


def _check_step(step: Any, owner: str) -> None:
    if isinstance(step, bool) or not isinstance(step, int | float | np.integer | np.floating) \
            or not (math.isfinite(step) and step > 0):
        raise DctError(f"{owner}: step must be a finite number > 0 (in table units); "
                       f"got {step!r}")


def _level_range(level_bits: int) -> tuple[int, int]:
    return -(1 << (level_bits - 1)), (1 << (level_bits - 1)) - 1


def _quantize(coeffs: np.ndarray, qtable: np.ndarray, level_bits: int) -> tuple[np.ndarray, int]:
    """Levels as floats of the coefficients' dtype (exact integers), and the saturated
    count. Keeping floats avoids an int conversion on the fast sizing path."""
    q = np.rint(coeffs / qtable.astype(coeffs.dtype))
    clipped = 0
    if level_bits:
        lo, hi = _level_range(level_bits)
        clipped = int(np.count_nonzero((q < lo) | (q > hi)))
        if clipped:
            np.clip(q, lo, hi, out=q)
    return q, clipped


def quantize(coeffs: Any, qtable: Any, *, level_bits: int = 0) -> np.ndarray:
    """Quantization levels ``rint(coeffs / qtable)`` (int64, ties to even) of ``coeffs``
    ``(..., 8, 8)`` by the absolute step table ``qtable`` (8x8, units of ``coeffs``);
    ``level_bits`` > 0 saturates them to the signed range of that many bits."""
    c = _blocks_in(coeffs, "quantize")
    t = _qtable_in(qtable, "quantize")
    if level_bits:
        _check_level_bits(level_bits, "quantize")
    return _quantize(c, t, level_bits)[0].astype(np.int64)


def dequantize(levels: Any, qtable: Any, *, dtype: str = "float64") -> np.ndarray:
    """Coefficients ``levels * qtable`` in ``dtype`` (the levels are cast first, so integer
    and float levels of the same values give identical results)."""
    _check_choice("dequantize", "dtype", dtype, DTYPES)
    t = _qtable_in(qtable, "dequantize").astype(dtype)
    return cast(np.ndarray, np.asarray(levels).astype(dtype) * t)


def _qtable_in(qtable: Any, owner: str) -> np.ndarray:
    t = np.asarray(qtable, dtype=np.float64)
    if t.size != BLOCK * BLOCK or not (np.isfinite(t).all() and (t > 0).all()):
        raise DctError(f"{owner}: a step table needs 64 finite entries > 0 (8x8, row-major "
                       f"natural order); got {t.size} entries"
                       + ("" if t.size != BLOCK * BLOCK else " with some <= 0 or not finite"))
    return t.reshape(BLOCK, BLOCK)


def level_bits_for(levels: Any) -> int:
    """The fewest two's-complement bits that hold every level (at least 2, so that +-1 fit)."""
    a = np.asarray(levels)
    if a.size == 0:
        return 2
    hi, lo = int(a.max()), int(a.min())
    need = max(hi.bit_length(), (-lo - 1).bit_length() if lo < 0 else 0) + 1
    return max(LEVEL_BITS_RANGE[0], need)


def _check_level_bits(level_bits: Any, owner: str, derived_ok: bool = False) -> None:
    lo, hi = LEVEL_BITS_RANGE
    ok = not isinstance(level_bits, bool) and isinstance(level_bits, int | np.integer) and (
        lo <= level_bits <= hi or (derived_ok and level_bits == 0))
    if not ok:
        extra = "0 (derived from the data) or " if derived_ok else ""
        raise DctError(f"{owner}: level_bits must be {extra}an integer in {lo}..{hi}; "
                       f"got {level_bits!r}")


# --------------------------------------------------------------------------------------------
# bitstreams


@dataclass(frozen=True, eq=False)
class Bitstream:
    """A sequence of bits, one per element of ``bits`` (uint8, 0 or 1)."""

    bits: np.ndarray = field(repr=False)

    @property
    def nbits(self) -> int:
        return int(self.bits.size)

    def to_bytes(self) -> bytes:
        """The bits packed MSB first, the last byte zero-filled (keep ``nbits`` beside it)."""
        return np.packbits(self.bits).tobytes()

    @classmethod
    def from_bytes(cls, data: bytes, nbits: int) -> Bitstream:
        if not 0 <= nbits <= 8 * len(data):
            raise DctError(f"Bitstream.from_bytes: {nbits} bits do not fit {len(data)} bytes")
        return cls(np.unpackbits(np.frombuffer(data, dtype=np.uint8))[:nbits].copy())

    def __repr__(self) -> str:
        return f"Bitstream(nbits={self.nbits})"


def _put(out: np.ndarray, starts: np.ndarray, values: np.ndarray, width: int) -> None:
    """Write ``values`` (two's complement, ``width`` bits, MSB first) at bit offsets
    ``starts`` of ``out``."""
    if not starts.size:
        return
    offs = np.arange(width, dtype=np.int64)
    shifts = offs[::-1]
    mask = (1 << width) - 1
    for i in range(0, starts.size, _CHUNK):
        v = values[i:i + _CHUNK].astype(np.int64) & mask
        out[starts[i:i + _CHUNK, None] + offs] = (v[:, None] >> shifts) & 1


def _get(bits: np.ndarray, starts: np.ndarray, width: int, signed: bool) -> np.ndarray:
    """Read fields of ``width`` bits at ``starts`` (unsigned, or two's complement)."""
    offs = np.arange(width, dtype=np.int64)
    out = np.empty(starts.size, dtype=np.int64)
    for i in range(0, starts.size, _CHUNK):
        b = bits[starts[i:i + _CHUNK, None] + offs].astype(np.int64)
        out[i:i + _CHUNK] = (b << offs[::-1]).sum(axis=1)
    if signed:
        out -= (out >> (width - 1)) << width
    return out


def _scan(n: int, n_blocks: int, head: int, size_at: Any, coder: BlockCoder) -> np.ndarray:
    """Start offsets of ``n_blocks`` variable-length block codes in an ``n``-bit stream:
    ``size_at(p)`` is the length of the block starting at ``p``, read from its first
    ``head`` bits. Raises unless the blocks tile the stream exactly."""
    starts = np.empty(n_blocks, dtype=np.int64)
    pos = 0
    for m in range(n_blocks):
        if pos + head > n:
            raise coder._fail(f"it ends inside the header of block {m}")
        starts[m] = pos
        pos += size_at(pos)
    if pos != n:
        raise coder._fail(f"{n_blocks} blocks need {pos} bits, the stream has {n}")
    return starts


def _levels64(levels: Any, level_bits: int, owner: str) -> np.ndarray:
    a = np.asarray(levels)
    if a.ndim < 2 or a.shape[-2:] != (BLOCK, BLOCK):
        raise ShapeError(f"{owner}: levels must have shape (..., 8, 8), got {a.shape}")
    a = a.reshape(-1, BLOCK * BLOCK)
    if a.dtype.kind == "f":
        if not np.array_equal(a, np.rint(a)):
            raise DctError(f"{owner}: levels must be integers; quantize the coefficients "
                           "first (quantize)")
    elif a.dtype.kind not in "iub":
        raise DctError(f"{owner}: levels must be integers, got dtype {a.dtype}")
    if a.size:
        lo, hi = _level_range(level_bits)
        if a.min() < lo or a.max() > hi:
            raise DctError(f"{owner}: levels span {int(a.min())}..{int(a.max())}, outside the "
                           f"{level_bits}-bit range {lo}..{hi}; use level_bits >= "
                           f"{level_bits_for(a)} or quantize with level_bits={level_bits} "
                           "(saturating)")
    return a


def _check_run_bits(run_bits: Any, owner: str) -> None:
    lo, hi = RUN_BITS_RANGE
    if isinstance(run_bits, bool) or not isinstance(run_bits, int | np.integer) \
            or not lo <= run_bits <= hi:
        raise DctError(f"{owner}: run_bits must be an integer in {lo}..{hi} (a run inside a "
                       f"64-coefficient block never needs more than 6 bits); got {run_bits!r}")


class BlockCoder(ABC):
    """A sparse code of quantized 8x8 blocks: a real encoder and decoder of one bitstream
    for all the blocks, and the exact size computed without building it.

    ``levels`` arguments have shape ``(..., 8, 8)`` (integers, int or float dtype) and are
    coded in that order; ``level_bits`` is the width V of one level (two's complement).
    """

    name: ClassVar[str]

    def __init__(self, level_bits: int):
        _check_level_bits(level_bits, f"{self.name} coder")
        self.level_bits = int(level_bits)

    def params(self) -> dict[str, int]:
        return {"level_bits": self.level_bits}

    def __repr__(self) -> str:
        return f"{type(self).__name__}({', '.join(f'{k}={v}' for k, v in self.params().items())})"

    @property
    @abstractmethod
    def min_block_bits(self) -> int:
        """Bits of an all-zero block (the smallest block code)."""

    def block_bits(self, levels: Any) -> np.ndarray:
        """Size in bits of each block's code, ``(n_blocks,)`` int64, vectorised."""
        return self._block_bits(_levels64(levels, self.level_bits, self.name))

    def size_bits(self, levels: Any) -> int:
        """Exact length of ``encode(levels)`` in bits."""
        return int(self.block_bits(levels).sum())

    @abstractmethod
    def _block_bits(self, a: np.ndarray) -> np.ndarray:
        """``block_bits`` of checked levels ``(n_blocks, 64)`` (raster order)."""

    @abstractmethod
    def encode(self, levels: Any) -> Bitstream:
        """The bitstream of all blocks, in order."""

    @abstractmethod
    def decode(self, stream: Bitstream, n_blocks: int) -> np.ndarray:
        """The ``(n_blocks, 8, 8)`` int64 levels of a stream made by ``encode``; a stream that
        is truncated, too long or holds an invalid code raises ``DctError``."""

    def _fail(self, why: str) -> DctError:
        return DctError(f"{self.name} bitstream does not decode: {why}; it must come from "
                        f"{type(self).__name__}.encode with the same level_bits"
                        + (" and run_bits" if "run_bits" in self.params() else ""))

    def _bits_of(self, stream: Bitstream) -> np.ndarray:
        bits = np.asarray(stream.bits if isinstance(stream, Bitstream) else stream)
        if bits.ndim != 1 or (bits.size and bits.max() > 1):
            raise self._fail("the bits must be a 1-D array of 0s and 1s")
        return bits.astype(np.uint8, copy=False)


class DenseCoder(BlockCoder):
    """All 64 levels of every block, V bits each (raster order)."""

    name = "dense"

    @property
    def min_block_bits(self) -> int:
        return BLOCK * BLOCK * self.level_bits

    def _block_bits(self, a: np.ndarray) -> np.ndarray:
        return np.full(a.shape[0], self.min_block_bits, dtype=np.int64)

    def encode(self, levels: Any) -> Bitstream:
        a = _levels64(levels, self.level_bits, self.name).ravel()
        out = np.empty(a.size * self.level_bits, dtype=np.uint8)
        _put(out, np.arange(a.size, dtype=np.int64) * self.level_bits, a, self.level_bits)
        return Bitstream(out)

    def decode(self, stream: Bitstream, n_blocks: int) -> np.ndarray:
        bits = self._bits_of(stream)
        n = int(n_blocks) * BLOCK * BLOCK
        if bits.size != n * self.level_bits:
            raise self._fail(f"{bits.size} bits, {n_blocks} blocks need {n * self.level_bits}")
        v = _get(bits, np.arange(n, dtype=np.int64) * self.level_bits, self.level_bits, True)
        return v.reshape(-1, BLOCK, BLOCK)


class BitmapCoder(BlockCoder):
    """Per block: a 64-bit presence mask (raster order), then the non-zero levels (V bits
    each, raster order). Sizes come from ``accelscope.sparsity.formats.Bitmap``."""

    name = "bitmap"

    @property
    def min_block_bits(self) -> int:
        return BLOCK * BLOCK

    def _block_bits(self, a: np.ndarray) -> np.ndarray:
        return Bitmap(value_bits=self.level_bits).row_sizes_bits(a)

    def encode(self, levels: Any) -> Bitstream:
        a = _levels64(levels, self.level_bits, self.name)
        V = self.level_bits
        sizes = self._block_bits(a)
        starts = np.cumsum(sizes) - sizes
        out = np.empty(int(sizes.sum()), dtype=np.uint8)
        mask = a != 0
        out[(starts[:, None] + np.arange(BLOCK * BLOCK)).ravel()] = mask.ravel()
        r, c = np.nonzero(a)
        nnz = np.count_nonzero(mask, axis=1)
        rank = np.arange(r.size) - (np.cumsum(nnz) - nnz)[r]
        _put(out, starts[r] + BLOCK * BLOCK + rank * V, a[r, c], V)
        return Bitstream(out)

    def decode(self, stream: Bitstream, n_blocks: int) -> np.ndarray:
        bits = self._bits_of(stream)
        V, M, L = self.level_bits, int(n_blocks), BLOCK * BLOCK
        # Block boundaries depend on every earlier mask: a scalar scan finds them (prefix sums
        # give each mask's population in O(1)), then all fields are read at once.
        cs = np.concatenate(([0], np.cumsum(bits, dtype=np.int64)))
        starts = _scan(bits.size, M, L, lambda p: L + int(cs[p + L] - cs[p]) * V, self)
        mask = bits[starts[:, None] + np.arange(L)].astype(bool)
        r, c = np.nonzero(mask)
        nnz = np.count_nonzero(mask, axis=1)
        rank = np.arange(r.size) - (np.cumsum(nnz) - nnz)[r]
        vals = _get(bits, starts[r] + L + rank * V, V, True)
        if (vals == 0).any():
            raise self._fail(f"block {int(r[np.argmax(vals == 0)])} stores a zero level under "
                             "a set mask bit")
        out = np.zeros((M, L), dtype=np.int64)
        out[r, c] = vals
        return out.reshape(-1, BLOCK, BLOCK)


class RunLengthCoder(BlockCoder):
    """Zig-zag run-length code: per block, (run, level) entries of ``run_bits + V`` bits in
    zig-zag order; (0, 0) ends every block, (2**run_bits - 1, 0) stands for 2**run_bits zeros
    (ZRL). Sizes come from ``accelscope.sparsity.formats.SCNNZeroRun``, whose placeholder
    entries are exactly the ZRLs, plus one end-of-block entry."""

    name = "rle"

    def __init__(self, level_bits: int, run_bits: int = 4):
        super().__init__(level_bits)
        _check_run_bits(run_bits, "rle coder")
        self.run_bits = int(run_bits)

    def params(self) -> dict[str, int]:
        return {"level_bits": self.level_bits, "run_bits": self.run_bits}

    @property
    def entry_bits(self) -> int:
        return self.run_bits + self.level_bits

    @property
    def max_run(self) -> int:
        return (1 << self.run_bits) - 1

    @property
    def min_block_bits(self) -> int:
        return self.entry_bits  # the end-of-block entry alone

    def _block_bits(self, a: np.ndarray) -> np.ndarray:
        # sizes depend only on where the non-zeros are: reorder a 1-byte mask, not the levels
        zz = (a != 0)[:, ZIGZAG]
        f = SCNNZeroRun(value_bits=self.level_bits, run_bits=self.run_bits)
        return f.row_sizes_bits(zz) + self.entry_bits

    def encode(self, levels: Any) -> Bitstream:
        zz = _levels64(levels, self.level_bits, self.name)[:, ZIGZAG]
        M, span, V = zz.shape[0], self.max_run + 1, self.level_bits
        r, c, gaps = zero_gaps(zz)
        zrls = gaps // span
        # entry index of each (run, level) pair: all earlier entries (ZRLs and pairs of this
        # and earlier blocks, one EOB per earlier block) = cumsum(zrls + 1) - 1 + block
        g = np.cumsum(zrls + 1)
        pair_at = g - 1 + r
        per_block = np.bincount(r, weights=zrls + 1, minlength=M).astype(np.int64) + 1
        eob_at = np.cumsum(per_block) - 1
        n = int(per_block.sum())
        # default entry = ZRL; pairs and EOBs overwrite theirs
        runs = np.full(n, self.max_run, dtype=np.int64)
        vals = np.zeros(n, dtype=np.int64)
        runs[pair_at] = gaps - zrls * span
        vals[pair_at] = zz[r, c]
        runs[eob_at] = 0
        out = np.empty(n * self.entry_bits, dtype=np.uint8)
        entries = (runs << V) | (vals & ((1 << V) - 1))
        _put(out, np.arange(n, dtype=np.int64) * self.entry_bits, entries, self.entry_bits)
        return Bitstream(out)

    def decode(self, stream: Bitstream, n_blocks: int) -> np.ndarray:
        bits = self._bits_of(stream)
        E, V, M = self.entry_bits, self.level_bits, int(n_blocks)
        if bits.size % E:
            raise self._fail(f"{bits.size} bits are not a whole number of {E}-bit entries")
        ent = _get(bits, np.arange(bits.size // E, dtype=np.int64) * E, E, False)
        run = ent >> V
        lev = ent & ((1 << V) - 1)
        lev -= (lev >> (V - 1)) << V
        eob = (run == 0) & (lev == 0)
        zrl = (run == self.max_run) & (lev == 0)
        if ((lev == 0) & ~eob & ~zrl).any():
            raise self._fail("it holds a level-0 entry that is neither end of block nor ZRL")
        if int(eob.sum()) != M or (eob.size and not eob[-1]):
            raise self._fail(f"it holds {int(eob.sum())} end-of-block codes "
                             f"{'' if not eob.size or eob[-1] else 'and does not end with one '}"
                             f"for {M} blocks")
        block = np.cumsum(eob) - eob
        adv = np.where(lev != 0, run + 1, np.where(zrl, self.max_run + 1, 0))
        cs = np.cumsum(adv)
        ends = np.flatnonzero(eob)
        base = np.concatenate(([0], cs[ends[:-1]])) if M else np.zeros(0, dtype=np.int64)
        after = cs - base[block] if block.size else cs
        if (after > BLOCK * BLOCK).any():
            raise self._fail("a block's runs reach past its 64 coefficients")
        pair = lev != 0
        out = np.zeros((M, BLOCK * BLOCK), dtype=np.int64)
        out[block[pair], ZIGZAG[after[pair] - 1]] = lev[pair]
        return out.reshape(-1, BLOCK, BLOCK)


class CSRCoder(BlockCoder):
    """CSR of each 8x8 block, field widths as ``accelscope.sparsity.formats.CSR`` prices an
    8x8 matrix: 9 row pointers, then nnz column indices, then nnz levels (V bits)."""

    name = "csr"

    def __init__(self, level_bits: int):
        super().__init__(level_bits)
        # Take the widths from the project's CSR model (probing its exact sizes), so the two
        # never disagree: header = 9 pointers, each non-zero = index + value.
        f = CSR(value_bits=self.level_bits)
        one = np.zeros((BLOCK, BLOCK))
        one[0, 0] = 1
        header = f.size_bits(np.zeros((BLOCK, BLOCK)))
        self.ptr_bits = header // (BLOCK + 1)
        self.index_bits = f.size_bits(one) - header - self.level_bits

    @property
    def min_block_bits(self) -> int:
        return (BLOCK + 1) * self.ptr_bits

    def _block_bits(self, a: np.ndarray) -> np.ndarray:
        nnz = np.count_nonzero(a, axis=1).astype(np.int64)
        return cast(np.ndarray, self.min_block_bits + nnz * (self.index_bits + self.level_bits))

    def encode(self, levels: Any) -> Bitstream:
        a = _levels64(levels, self.level_bits, self.name)
        M, P, Wi, V = a.shape[0], self.ptr_bits, self.index_bits, self.level_bits
        sizes = self._block_bits(a)
        starts = np.cumsum(sizes) - sizes
        out = np.empty(int(sizes.sum()), dtype=np.uint8)
        per_row = np.count_nonzero(a.reshape(M, BLOCK, BLOCK), axis=2)
        ptr = np.concatenate((np.zeros((M, 1), dtype=np.int64), np.cumsum(per_row, axis=1)), 1)
        _put(out, (starts[:, None] + np.arange(BLOCK + 1) * P).ravel(), ptr.ravel(), P)
        r, c = np.nonzero(a)  # block-major, then row-major inside the block: CSR order
        nnz = ptr[:, -1]
        rank = np.arange(r.size) - (np.cumsum(nnz) - nnz)[r]
        body = starts[r] + (BLOCK + 1) * P
        _put(out, body + rank * Wi, c % BLOCK, Wi)
        _put(out, body + nnz[r] * Wi + rank * V, a[r, c], V)
        return Bitstream(out)

    def decode(self, stream: Bitstream, n_blocks: int) -> np.ndarray:
        bits = self._bits_of(stream)
        P, Wi, V, M = self.ptr_bits, self.index_bits, self.level_bits, int(n_blocks)
        head = (BLOCK + 1) * P
        # a block's length follows from its last pointer (= nnz): scan those, read the rest
        # at once
        weights = 1 << np.arange(P - 1, -1, -1, dtype=np.int64)
        last = BLOCK * P
        starts = _scan(bits.size, M, head, lambda p: head + int(
            bits[p + last:p + last + P].dot(weights)) * (Wi + V), self)
        ptr = _get(bits, (starts[:, None] + np.arange(BLOCK + 1) * P).ravel(), P, False)
        ptr = ptr.reshape(M, BLOCK + 1)
        counts = np.diff(ptr, axis=1)
        bad = (ptr[:, 0] != 0) | (counts < 0).any(axis=1) | (counts > BLOCK).any(axis=1)
        if bad.any():
            m = int(np.argmax(bad))
            raise self._fail(f"block {m} has invalid row pointers {ptr[m].tolist()}")
        nnz = ptr[:, -1]
        blk = np.repeat(np.arange(M), nnz)
        rows = np.repeat(np.tile(np.arange(BLOCK), M), counts.ravel())
        rank = np.arange(blk.size) - (np.cumsum(nnz) - nnz)[blk]
        body = starts[blk] + head
        cols = _get(bits, body + rank * Wi, Wi, False)
        vals = _get(bits, body + nnz[blk] * Wi + rank * V, V, True)
        # canonical CSR: columns strictly increase within a row, levels are non-zero
        same = (blk[1:] == blk[:-1]) & (rows[1:] == rows[:-1])
        if (cols >= BLOCK).any() or (np.diff(cols)[same] <= 0).any() or (vals == 0).any():
            raise self._fail("it holds unordered or out-of-range column indices or zero "
                             "levels")
        out = np.zeros((M, BLOCK, BLOCK), dtype=np.int64)
        out[blk, rows, cols] = vals
        return out


_CODERS: dict[str, type[BlockCoder]] = {
    c.name: c for c in (BitmapCoder, RunLengthCoder, CSRCoder, DenseCoder)}


def block_coder(fmt: str, level_bits: int, *, run_bits: int = 4) -> BlockCoder:
    """The coder of format ``fmt`` (one of ``FORMAT_NAMES``); ``run_bits`` is used by ``rle``
    only."""
    _check_choice("block_coder", "fmt", fmt, FORMAT_NAMES)
    if fmt == "rle":
        return RunLengthCoder(level_bits, run_bits)
    return _CODERS[fmt](level_bits)


# --------------------------------------------------------------------------------------------
# error measures


def snr_db(x: Any, y: Any) -> float:
    """Signal-to-noise ratio of ``y`` as an approximation of ``x`` in dB:
    ``10 log10(sum x^2 / sum (x - y)^2)``, in float64; ``inf`` when ``y == x``, ``-inf``
    when ``x`` is all zero and ``y`` is not."""
    a = np.asarray(x, dtype=np.float64)
    e = np.asarray(y, dtype=np.float64) - a
    noise = float(np.vdot(e, e))
    if noise == 0:
        return math.inf
    signal = float(np.vdot(a, a))
    return 10.0 * math.log10(signal / noise) if signal > 0 else -math.inf


# --------------------------------------------------------------------------------------------
# the codec


@dataclass(frozen=True)
class _Prepared:
    """A tensor after blocking and DCT: what every quantization trial starts from."""

    x: np.ndarray  # the input as given: errors are measured against it
    blocking: Blocking
    coeffs: np.ndarray
    max_abs: float
    ref_scale: float
    unit: float


@dataclass(frozen=True)
class DctCodec:
    """Parameters of the DCT feature-map codec (validated on construction).

    - ``table``: ``"jpeg"`` (default; the JPEG luminance table scaled by ``quality``),
      ``"flat"`` (every entry ``step``), ``"snr"`` (flat, the step calibrated per tensor by
      bisection to reach ``target_snr_db``), or 64 explicit entries > 0 (8x8 row-major
      natural order, table units).
    - ``quality``: 1..100, IJG scaling (``"jpeg"`` only); default 50 = the standard table.
    - ``step``: flat step in table units (``"flat"`` only); default 1 = one 8-bit LSB of the
      tensor's max-abs with ``step_unit="maxabs"``.
    - ``target_snr_db``: SNR target of ``"snr"`` in dB (> 0); default 40.
    - ``step_unit``: ``"maxabs"`` (default; one unit = ``max|x| / 255``) or ``"absolute"``.
    - ``fmt``: sparse code of the blocks, one of ``FORMAT_NAMES``; default ``"rle"``: zig-zag
      order puts the zeros the quantizer makes at high frequencies in one final run, which a
      single end-of-block code covers (the smallest of the four on ResNet-50's activations
      at quality 50: see bench/dct.py).
    - ``level_bits``: width of a level; 0 (default) derives it from each tensor's levels,
      otherwise 2..62 with saturation.
    - ``run_bits``: run field of ``rle``, 1..6; default 4 (JPEG's run nibble).
    - ``wordlength``: None (default, floating point) or fixed-point bits 6..24.
    - ``pad``: ``"edge"`` (default) or ``"zero"``.
    - ``dtype``: floating-point path precision, ``"float32"`` (default: activations are
      float32, and the size path runs 1.2-1.7x faster) or ``"float64"``; the fixed-point path
      always computes in float64.
    - ``activation_bits``: width of one stored activation without compression (prices
      ``original_bits``); default 16.
    - ``calib_rtol``: relative width of the final bisection bracket of ``"snr"``; default 1e-3.
    """

    table: str | tuple[float, ...] = "jpeg"
    quality: int = 50
    step: float = 1.0
    target_snr_db: float = 40.0
    step_unit: str = "maxabs"
    fmt: str = "rle"
    level_bits: int = 0
    run_bits: int = 4
    wordlength: int | None = None
    pad: str = "edge"
    dtype: str = "float32"
    activation_bits: int = 16
    calib_rtol: float = 1e-3

    def __post_init__(self) -> None:
        who = "DctCodec"
        kinds = ", ".join(map(repr, TABLE_KINDS))
        if isinstance(self.table, str):
            if self.table not in TABLE_KINDS:
                raise DctError(f"{who}: table must be one of {kinds} or 64 step entries > 0 "
                               f"(8x8 row-major, table units); got {self.table!r}")
        else:
            try:
                t = _qtable_in(self.table, who)
            except (TypeError, ValueError):
                raise DctError(f"{who}: table must be one of {kinds} or 64 step entries > 0 "
                               f"(8x8 row-major, table units); got {self.table!r}") from None
            object.__setattr__(self, "table", tuple(float(v) for v in t.ravel()))
        _check_quality(self.quality, who)
        _check_step(self.step, who)
        s = self.target_snr_db
        if isinstance(s, bool) or not isinstance(s, int | float | np.integer | np.floating) \
                or not (math.isfinite(s) and s > 0):
            raise DctError(f"{who}: target_snr_db must be a finite number of dB > 0 (an SNR of "
                           f"0 dB is reached by dropping every coefficient); got {s!r}")
        _check_choice(who, "step_unit", self.step_unit, STEP_UNITS)
        _check_choice(who, "fmt", self.fmt, FORMAT_NAMES)
        _check_level_bits(self.level_bits, who, derived_ok=True)
        _check_run_bits(self.run_bits, who)
        _check_wordlength(self.wordlength, who)
        _check_choice(who, "pad", self.pad, PAD_MODES)
        _check_choice(who, "dtype", self.dtype, DTYPES)
        b = self.activation_bits
        if isinstance(b, bool) or not isinstance(b, int | np.integer) or not 1 <= b <= 64:
            raise DctError(f"{who}: activation_bits must be an integer in 1..64 (bits of one "
                           f"uncompressed activation); got {b!r}")
        r = self.calib_rtol
        if isinstance(r, bool) or not isinstance(r, int | float | np.floating) \
                or not 0 < r <= 1:
            raise DctError(f"{who}: calib_rtol must be a number in (0, 1]; got {r!r}")

    # ---- pipeline pieces

    def _prepare(self, x: Any) -> _Prepared:
        fixed = self.wordlength is not None
        raw = _input(x)
        a = raw.astype("float64" if fixed else self.dtype, copy=False)
        blk = _to_blocks(a, self.pad)
        max_abs = float(np.max(np.abs(a)))
        ref = fixed_point_scale(max_abs) if fixed else 1.0
        coeffs = dct2(blk.blocks, wordlength=self.wordlength, ref_scale=ref)
        unit = (max_abs if max_abs > 0 else 1.0) / 255.0 if self.step_unit == "maxabs" else 1.0
        return _Prepared(raw, blk, coeffs, max_abs, ref, unit)

    def _table_units(self, p: _Prepared) -> tuple[np.ndarray, float | None]:
        """The 8x8 table in table units, and the flat step when the table is flat."""
        if self.table == "jpeg":
            return jpeg_table(self.quality), None
        if self.table == "flat":
            return flat_table(self.step), float(self.step)
        if self.table == "snr":
            s = self._calibrate(p)
            return flat_table(s), s
        return np.asarray(self.table, dtype=np.float64).reshape(BLOCK, BLOCK), None

    def _reconstruct(self, levels: np.ndarray, qtable: np.ndarray, ref_scale: float,
                     shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
        coeffs = dequantize(levels, qtable, dtype=np.dtype(dtype).name)
        return from_blocks(idct2(coeffs, wordlength=self.wordlength, ref_scale=ref_scale), shape)

    def _snr_at(self, p: _Prepared, step: float) -> float:
        qtable = flat_table(step) * p.unit
        q, _ = _quantize(p.coeffs, qtable, self.level_bits)
        rec = self._reconstruct(q, qtable, p.ref_scale, p.blocking.shape, p.coeffs.dtype)
        return snr_db(p.x, rec)

    def _calibrate(self, p: _Prepared) -> float:
        target = float(self.target_snr_db)
        if p.max_abs == 0:
            return 1.0  # every step reproduces an all-zero tensor exactly
        # a step above 2 max|Y| zeroes every level: reconstruction 0, SNR 0 dB < target
        hi = 4.0 * float(np.max(np.abs(p.coeffs))) / p.unit + 1.0
        lo = hi
        best = -math.inf
        while True:
            lo /= 16.0
            s = self._snr_at(p, lo)
            best = max(best, s)
            if s >= target:
                break
            if lo < hi * 1e-15:
                how = (f"wordlength={self.wordlength} limits it; raise wordlength" if
                       self.wordlength is not None else "lower it")
                raise DctError(f"DctCodec: target_snr_db={target} cannot be reached on this "
                               f"tensor (best {best:.1f} dB, down to step {lo:.3g} table "
                               f"units); {how}")
        # invariant: snr(lo) >= target > snr(hi); shrink the bracket geometrically
        while hi / lo > 1.0 + self.calib_rtol:
            mid = math.sqrt(lo * hi)
            if self._snr_at(p, mid) >= target:
                lo = mid
            else:
                hi = mid
        return lo

    # ---- public entry points

    def compress(self, x: Any) -> DctResult:
        """Block, transform, quantize and size ``x`` (``(..., H, W)``, normally ``(N, C, H,
        W)``; torch or numpy, real), and reconstruct it as the decoder would."""
        p = self._prepare(x)
        table, step = self._table_units(p)
        qtable = table * p.unit
        q, clipped = _quantize(p.coeffs, qtable, self.level_bits)
        V = self.level_bits or level_bits_for(q)
        if V > LEVEL_BITS_RANGE[1]:
            raise DctError(f"DctCodec: the levels need {V} bits, more than "
                           f"{LEVEL_BITS_RANGE[1]}: the step is too small for this tensor; "
                           "use a larger step or quality, or set level_bits (saturating)")
        bits = self._size(q, V)
        rec = self._reconstruct(q, qtable, p.ref_scale, p.blocking.shape, p.coeffs.dtype)
        numel = p.blocking.numel
        err = np.abs(rec.astype(np.float64) - p.x.astype(np.float64))
        original = numel * self.activation_bits
        return DctResult(
            reconstruction=rec, compressed_bits=bits, original_bits=original,
            ratio=original / bits, bits_per_activation=bits / numel,
            padded_elements=p.blocking.padded_elements, snr_db=snr_db(p.x, rec),
            max_abs_error=float(err.max()), numel=numel, n_blocks=p.blocking.n_blocks,
            shape=p.blocking.shape, level_bits=V, step=step, table=table, step_unit=p.unit,
            ref_scale=p.ref_scale,
            nonzero_levels=int(np.count_nonzero(q)), clipped_levels=clipped,
            levels=q.astype(np.int64), codec=self)

    def size_bits(self, x: Any) -> int:
        """``compress(x).compressed_bits`` without the reconstruction and error measures
        (the fast path: one DCT, one quantization, a vectorised size count)."""
        p = self._prepare(x)
        table, _ = self._table_units(p)
        q, _ = _quantize(p.coeffs, table * p.unit, self.level_bits)
        V = self.level_bits or level_bits_for(q)
        if V > LEVEL_BITS_RANGE[1]:
            return self.compress(x).compressed_bits  # raises the explanatory error
        return self._size(q, V)

    def _size(self, q: np.ndarray, level_bits: int) -> int:
        # the quantizer's own levels need no checking: the unchecked sizing path
        coder = self.coder(level_bits)
        return int(coder._block_bits(q.reshape(-1, BLOCK * BLOCK)).sum())

    def calibrate(self, x: Any) -> float:
        """The flat step (table units) that ``table="snr"`` uses on ``x``: the largest step
        found whose reconstruction SNR is >= ``target_snr_db``; the step ``calib_rtol``
        larger misses the target. Tolerance: the SNR reached is >= the target, and (SNR is
        not strictly monotone in the step: this is a bracket, not a global optimum) on maps
        of ~1,000 elements and more it lands less than 0.2 dB above it (0.12 dB the worst
        measured, float and fixed point; large layers within 0.01 dB). About 15-20
        quantize + inverse-DCT trials."""
        return self._calibrate(self._prepare(x))

    def coder(self, level_bits: int) -> BlockCoder:
        """The block coder of this codec's ``fmt`` at ``level_bits``."""
        return block_coder(self.fmt, level_bits, run_bits=self.run_bits)

    def encode(self, x: Any) -> DctEncoded:
        """The real bitstream of ``x`` and the side information a decoder needs."""
        r = self.compress(x)
        stream = self.coder(r.level_bits).encode(r.levels)
        return DctEncoded(stream=stream, shape=r.shape, n_blocks=r.n_blocks,
                          level_bits=r.level_bits, qtable=r.qtable, ref_scale=r.ref_scale,
                          dtype=r.reconstruction.dtype.name, codec=self)

    def decode(self, enc: DctEncoded) -> np.ndarray:
        """Reconstruction from a bitstream: decode the levels, dequantize, inverse DCT, crop.
        Equals ``compress(x).reconstruction`` exactly."""
        if not isinstance(enc, DctEncoded):
            raise DctError(f"DctCodec.decode needs a DctEncoded (from DctCodec.encode), got "
                           f"{type(enc).__name__}")
        levels = self.coder(enc.level_bits).decode(enc.stream, enc.n_blocks)
        return self._reconstruct(levels, enc.qtable, enc.ref_scale, enc.shape,
                                 np.dtype(enc.dtype))


@dataclass(frozen=True, eq=False)
class DctResult:
    """The outcome of ``DctCodec.compress``.

    Sizes are in bits; ``ratio = original_bits / compressed_bits``; ``bits_per_activation =
    compressed_bits / numel`` (padding included in the numerator, not the denominator);
    ``snr_db`` and ``max_abs_error`` compare ``reconstruction`` (same shape as the input,
    numpy, dtype of the codec's path) with the input, padding excluded. ``table``: the 8x8
    step table in table units; ``step_unit``: the absolute value of one table unit;
    ``qtable = table * step_unit``; ``step``: the flat step (``"flat"`` / ``"snr"``) or None.
    ``levels``: the quantized blocks ``(n_blocks, 8, 8)`` int64 that the bitstream carries.
    """

    reconstruction: np.ndarray = field(repr=False)
    compressed_bits: int
    original_bits: int
    ratio: float
    bits_per_activation: float
    padded_elements: int
    snr_db: float
    max_abs_error: float
    numel: int
    n_blocks: int
    shape: tuple[int, ...]
    level_bits: int
    step: float | None
    table: np.ndarray = field(repr=False)
    step_unit: float
    ref_scale: float
    nonzero_levels: int
    clipped_levels: int
    levels: np.ndarray = field(repr=False)
    codec: DctCodec = field(repr=False)

    @property
    def qtable(self) -> np.ndarray:
        """The absolute step table (units of the input)."""
        return self.table * self.step_unit


@dataclass(frozen=True, eq=False)
class DctEncoded:
    """A compressed tensor: the bitstream (``stream.nbits == compressed_bits``) and the
    per-tensor side information (not counted in the bits: see the module docstring)."""

    stream: Bitstream
    shape: tuple[int, ...]
    n_blocks: int
    level_bits: int
    qtable: np.ndarray = field(repr=False)
    ref_scale: float
    dtype: str
    codec: DctCodec = field(repr=False)

    @property
    def size_bits(self) -> int:
        return self.stream.nbits


def compress(x: Any, **params: Any) -> DctResult:
    """``DctCodec(**params).compress(x)``: e.g. ``compress(x, quality=75, fmt="bitmap")``."""
    return _codec(params, "compress").compress(x)


def calibrate_step(x: Any, target_snr_db: float, **params: Any) -> float:
    """The flat step (table units) reaching ``target_snr_db`` on ``x``; ``params`` as for
    ``DctCodec`` (see ``DctCodec.calibrate``)."""
    return _codec(dict(params, table="snr", target_snr_db=target_snr_db),
                  "calibrate_step").calibrate(x)


def _codec(params: dict[str, Any], who: str) -> DctCodec:
    names = [f.name for f in fields(DctCodec)]
    unknown = sorted(set(params) - set(names))
    if unknown:
        raise DctError(f"{who}: unknown parameter(s) {', '.join(unknown)}; the parameters are "
                       f"{', '.join(names)}")
    return DctCodec(**params)


__all__ = [
    "BLOCK",
    "DTYPES",
    "FORMAT_NAMES",
    "JPEG_LUMA",
    "PAD_MODES",
    "STEP_UNITS",
    "TABLE_KINDS",
    "ZIGZAG",
    "BitmapCoder",
    "Bitstream",
    "BlockCoder",
    "Blocking",
    "CSRCoder",
    "DctCodec",
    "DctEncoded",
    "DctError",
    "DctResult",
    "DenseCoder",
    "RunLengthCoder",
    "block_coder",
    "calibrate_step",
    "compress",
    "dct2",
    "dct_matrix",
    "dequantize",
    "fixed_point_scale",
    "flat_table",
    "from_blocks",
    "idct2",
    "jpeg_table",
    "level_bits_for",
    "quantize",
    "snr_db",
    "to_blocks",
]
