"""Sparse encodings with exact sizes in bits, each with a real encoder and decoder.

Every format answers three questions about a tensor:

- ``encode(x) -> Encoded`` and ``decode(enc) -> ndarray``: a real, lossless round trip (values
  are kept at full precision; ``value_bits`` only prices them);
- ``size_bits(x)``: the exact size of the encoding, computed vectorised without building it
  (equal to ``encode(x).size_bits``); ``row_sizes_bits(x2d)`` sizes every row of a matrix as
  its own encoded stream (one call for all the per-channel or per-tile streams of a layer);
- ``expected_bits(shape, density)``: the expected size when each element is non-zero
  independently with probability ``density`` (statistical mode).

The formats: ``dense``; ``bitmap`` (one mask bit per element + the non-zeros); ``rlc``
(Eyeriss run-length coding: 5-bit run of zeros + 16-bit level, three pairs per 64-bit word);
``zrl`` (SCNN zero-run index: each non-zero carries a 4-bit count of the zeros before it, a
run longer than 15 is broken by a placeholder zero); ``csr`` / ``csc`` (row / column pointers
+ column / row indices); ``coo`` (coordinate-payload: every non-zero with its full
coordinate). Index widths are the fewest bits that address the dimension unless given.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, ClassVar, cast

import numpy as np

from accelscope.errors import AccelscopeError


class FormatError(AccelscopeError):
    """Unknown format, bad format parameter, or an encoding that does not decode."""


def _np(x: Any) -> np.ndarray:
    if hasattr(x, "detach"):
        x = x.detach().cpu().numpy()
    return np.asarray(x)


def _shape(shape: int | tuple[int, ...]) -> tuple[int, ...]:
    return (int(shape),) if isinstance(shape, int | np.integer) else tuple(int(s) for s in shape)


def _bits_for(count: int) -> int:
    """Fewest bits that hold the integers 0 .. count-1 (at least 1)."""
    return max(1, math.ceil(math.log2(max(count, 2))))


@dataclass(frozen=True)
class Encoded:
    """One encoded tensor: the arrays a decoder needs, and the exact size in bits."""

    format: str
    shape: tuple[int, ...]
    arrays: dict[str, np.ndarray] = field(repr=False)
    size_bits: int
    params: dict[str, int] = field(default_factory=dict)


def zero_gaps(a: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(row, column, zeros before it in its row) of every non-zero of a 2-D array, in
    row-major order: what every run-length code of the rows is built from."""
    r, c = np.nonzero(a)  # row-major order: sorted by row, then column
    prev = np.empty_like(c)
    if c.size:
        prev[1:] = c[:-1]
        first = np.ones(c.size, dtype=bool)
        first[1:] = r[1:] != r[:-1]
        prev[first] = -1
    gaps = c - prev - 1
    return r, c, gaps


class Format(ABC):
    """A sparse encoding. ``value_bits`` is the width of one stored value."""

    name: ClassVar[str]
    citation: ClassVar[str]

    def __init__(self, value_bits: int = 16):
        if int(value_bits) < 1:
            raise FormatError(f"{self.name}: value_bits must be >= 1, got {value_bits}")
        self.value_bits = int(value_bits)

    def params(self) -> dict[str, int]:
        return {"value_bits": self.value_bits}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v}" for k, v in self.params().items())
        return f"{self.name}({args})"

    @abstractmethod
    def encode(self, x: Any) -> Encoded: ...

    @abstractmethod
    def decode(self, enc: Encoded) -> np.ndarray: ...

    @abstractmethod
    def size_bits(self, x: Any) -> int: ...

    @abstractmethod
    def expected_bits(self, shape: int | tuple[int, ...], density: float) -> float:
        """Expected size when each element is non-zero i.i.d. with probability
        ``density``; ``shape`` is a tensor shape or an element count."""

    def row_sizes_bits(self, x2d: Any) -> np.ndarray:
        """Size in bits of each row of a 2-D array encoded as its own 1-D stream."""
        a = _np(x2d)
        if a.ndim != 2:
            raise FormatError(f"{self.name}.row_sizes_bits needs a 2-D array, got shape "
                              f"{a.shape}")
        return np.array([self.size_bits(row) for row in a], dtype=np.int64)

    def _check(self, enc: Encoded) -> None:
        if enc.format != self.name:
            raise FormatError(f"cannot decode a {enc.format!r} encoding with format "
                              f"{self.name!r}")


class Dense(Format):
    name = "dense"
    citation = "uncompressed: every element stored at value_bits"

    def encode(self, x: Any) -> Encoded:
        a = _np(x)
        return Encoded(self.name, a.shape, {"values": a.ravel().copy()},
                       a.size * self.value_bits, self.params())

    def decode(self, enc: Encoded) -> np.ndarray:
        self._check(enc)
        return enc.arrays["values"].reshape(enc.shape)

    def size_bits(self, x: Any) -> int:
        return int(_np(x).size) * self.value_bits

    def row_sizes_bits(self, x2d: Any) -> np.ndarray:
        a = _np(x2d)
        return np.full(a.shape[0], a.shape[1] * self.value_bits, dtype=np.int64)

    def expected_bits(self, shape: int | tuple[int, ...], density: float) -> float:
        return float(math.prod(_shape(shape)) * self.value_bits)


class Bitmap(Format):
    name = "bitmap"
    citation = "one presence bit per element + packed non-zero values (SparTen-style bitmask)"

    def encode(self, x: Any) -> Encoded:
        a = _np(x)
        mask = a.ravel() != 0
        vals = a.ravel()[mask]
        return Encoded(self.name, a.shape, {"mask": mask, "values": vals},
                       a.size + int(mask.sum()) * self.value_bits, self.params())

    def decode(self, enc: Encoded) -> np.ndarray:
        self._check(enc)
        out = np.zeros(enc.arrays["mask"].size, dtype=enc.arrays["values"].dtype)
        out[enc.arrays["mask"]] = enc.arrays["values"]
        return out.reshape(enc.shape)

    def size_bits(self, x: Any) -> int:
        a = _np(x)
        return int(a.size + np.count_nonzero(a) * self.value_bits)

    def row_sizes_bits(self, x2d: Any) -> np.ndarray:
        a = _np(x2d)
        return cast(np.ndarray,
                    a.shape[1] + np.count_nonzero(a, axis=1).astype(np.int64) * self.value_bits)

    def expected_bits(self, shape: int | tuple[int, ...], density: float) -> float:
        n = math.prod(_shape(shape))
        return float(n + n * density * self.value_bits)


class RunLength(Format):
    """Zero runs: each entry is (run of zeros before it, value); a run longer than the run
    field holds is broken by placeholder entries (run = max, value = 0) that each stand for
    ``max_run + 1`` zeros. ``trailing``: whether zeros after the last non-zero are encoded
    (else the decoder pads from the shape). ``pairs_per_word`` > 0 packs entries into
    ``word_bits`` words (the unused bits of a word are counted)."""

    def __init__(self, value_bits: int, run_bits: int, trailing: bool, pairs_per_word: int = 0,
                 word_bits: int = 0):
        super().__init__(value_bits)
        if run_bits < 1:
            raise FormatError(f"{self.name}: run_bits must be >= 1, got {run_bits}")
        if pairs_per_word and pairs_per_word * (run_bits + value_bits) > word_bits:
            raise FormatError(
                f"{self.name}: {pairs_per_word} pairs of {run_bits}+{value_bits} bits do not "
                f"fit a {word_bits}-bit word")
        self.run_bits, self.trailing = int(run_bits), bool(trailing)
        self.pairs_per_word, self.word_bits = int(pairs_per_word), int(word_bits)

    @property
    def max_run(self) -> int:
        return (1 << self.run_bits) - 1

    def params(self) -> dict[str, int]:
        p = {"value_bits": self.value_bits, "run_bits": self.run_bits,
             "trailing": int(self.trailing)}
        if self.pairs_per_word:
            p |= {"pairs_per_word": self.pairs_per_word, "word_bits": self.word_bits}
        return p

    def _bits(self, entries: int | np.ndarray) -> np.ndarray:
        if self.pairs_per_word:
            words = -(-np.asarray(entries, dtype=np.int64) // self.pairs_per_word)
            return words * self.word_bits
        return np.asarray(entries, dtype=np.int64) * (self.run_bits + self.value_bits)

    def _trailing_entries(self, t: np.ndarray) -> np.ndarray:
        span = self.max_run + 1
        t = np.asarray(t, dtype=np.int64)
        return -(-t // span) if self.trailing else np.zeros_like(t)

    def encode(self, x: Any) -> Encoded:
        a = _np(x)
        flat = a.ravel()
        n, span = flat.size, self.max_run + 1
        pos = np.flatnonzero(flat)
        gaps = np.diff(np.concatenate(([-1], pos))) - 1
        ph = gaps // span
        counts = ph + 1
        total = int(counts.sum())
        runs = np.full(total, self.max_run, dtype=np.int64)
        vals = np.zeros(total, dtype=flat.dtype)
        last = np.cumsum(counts) - 1
        runs[last] = gaps - ph * span
        vals[last] = flat[pos]
        t = n - 1 - int(pos[-1]) if pos.size else n
        if self.trailing and t:
            full, rest = divmod(t, span)
            tail = [self.max_run] * full + ([rest - 1] if rest else [])
            runs = np.concatenate((runs, np.array(tail, dtype=np.int64)))
            vals = np.concatenate((vals, np.zeros(len(tail), dtype=flat.dtype)))
        size = int(self._bits(runs.size))
        return Encoded(self.name, a.shape, {"runs": runs, "values": vals}, size, self.params())

    def decode(self, enc: Encoded) -> np.ndarray:
        self._check(enc)
        runs, vals = enc.arrays["runs"], enc.arrays["values"]
        n = math.prod(enc.shape)
        if np.any(runs < 0) or np.any(runs > self.max_run):
            raise FormatError(f"{self.name}: run field outside 0..{self.max_run}")
        pos = np.cumsum(runs + 1) - 1
        if pos.size and pos[-1] >= n:
            raise FormatError(f"{self.name}: the runs address element {int(pos[-1])} of a "
                              f"tensor of {n} elements")
        if self.trailing and (pos[-1] + 1 if pos.size else 0) != n:
            raise FormatError(f"{self.name}: the runs cover {int(pos[-1]) + 1 if pos.size else 0}"
                              f" of {n} elements")
        out = np.zeros(n, dtype=vals.dtype)
        out[pos] = vals
        return out.reshape(enc.shape)

    def size_bits(self, x: Any) -> int:
        return int(self.row_sizes_bits(_np(x).reshape(1, -1))[0])

    def row_sizes_bits(self, x2d: Any) -> np.ndarray:
        a = _np(x2d)
        if a.ndim != 2:
            raise FormatError(f"{self.name}.row_sizes_bits needs a 2-D array, got shape "
                              f"{a.shape}")
        rows, n = a.shape
        span = self.max_run + 1
        r, c, gaps = zero_gaps(a)
        entries = np.bincount(r, weights=gaps // span + 1, minlength=rows).astype(np.int64)
        last = np.full(rows, -1, dtype=np.int64)
        if c.size:
            ends = np.flatnonzero(np.r_[r[1:] != r[:-1], True])  # last non-zero of each row
            last[r[ends]] = c[ends]
        entries += self._trailing_entries(n - 1 - last)
        return self._bits(entries)

    def expected_entries(self, numel: int, density: float) -> float:
        """Exact expected number of entries when elements are non-zero i.i.d. with
        probability ``density``: non-zeros + placeholders (+ trailing entries)."""
        n, d = int(numel), float(density)
        q, span = 1.0 - d, self.max_run + 1
        j = np.arange(1, n // span + 1, dtype=np.float64)
        qj = q ** (span * j)
        # a placeholder ends at every position where the zeros since the last non-zero (or
        # the start) reach a positive multiple of span
        interior = float(np.sum((n - span * j) * d * qj + qj))
        if not n:
            return 0.0
        if self.trailing:
            # the final run T of zeros needs one more entry when T mod span != 0
            p_mult = d + float(np.sum(qj[span * j < n]) * d) + (q ** n if n % span == 0 else 0)
            return n * d + interior + 1.0 - p_mult
        # placeholders inside the final run are not emitted: E[floor(T / span)] = sum P(T >= L)
        return n * d + interior - float(np.sum(qj))

    def expected_bits(self, shape: int | tuple[int, ...], density: float) -> float:
        e = self.expected_entries(math.prod(_shape(shape)), density)
        if self.pairs_per_word:
            # E[ceil(X / k)] ~ E[X] / k + (k - 1) / (2k): the last word's fill is taken as
            # uniform (the entry count itself is exact)
            k = self.pairs_per_word
            return (e / k + (k - 1) / (2 * k)) * self.word_bits if e > 0 else 0.0
        return e * (self.run_bits + self.value_bits)


class EyerissRLC(RunLength):
    name = "rlc"
    citation = ("Chen et al., Eyeriss, JSSC 2017, Sec. V-B (Fig. 8): 5-bit run, 16-bit level, "
                "three pairs per 64-bit word")

    def __init__(self, value_bits: int = 16, run_bits: int = 5, pairs_per_word: int = 3,
                 word_bits: int = 64):
        super().__init__(value_bits, run_bits, trailing=True, pairs_per_word=pairs_per_word,
                         word_bits=word_bits)


class SCNNZeroRun(RunLength):
    name = "zrl"
    citation = ("Parashar et al., SCNN, ISCA 2017, Sec. IV: non-zero values with 4-bit zero-run "
                "indices, placeholder zeros for runs longer than 15")

    def __init__(self, value_bits: int = 16, run_bits: int = 4):
        super().__init__(value_bits, run_bits, trailing=False)


class _Compressed2D(Format):
    """CSR (``by="row"``) or CSC (``by="col"``) of the 2-D view (first ``row_dims`` dims x
    the rest). Pointer width addresses numel + 1 positions, index width the other axis."""

    by: ClassVar[str]

    def __init__(self, value_bits: int = 16, row_dims: int = 1, index_bits: int = 0,
                 ptr_bits: int = 0):
        super().__init__(value_bits)
        if row_dims < 0:
            raise FormatError(f"{self.name}: row_dims must be >= 0, got {row_dims}")
        self.row_dims, self.index_bits, self.ptr_bits = int(row_dims), int(index_bits), \
            int(ptr_bits)

    def params(self) -> dict[str, int]:
        return {"value_bits": self.value_bits, "row_dims": self.row_dims,
                "index_bits": self.index_bits, "ptr_bits": self.ptr_bits}

    def _rows(self, shape: tuple[int, ...]) -> int:
        # a tensor of fewer than row_dims + 1 dimensions is one row
        return math.prod(shape[: min(self.row_dims, max(len(shape) - 1, 0))])

    def _view(self, a: np.ndarray) -> np.ndarray:
        rows = self._rows(a.shape)
        m = a.reshape(rows, a.size // rows if rows else 0)
        return m if self.by == "row" else m.T

    def _widths(self, m: np.ndarray) -> tuple[int, int]:
        ptr = self.ptr_bits or _bits_for(m.size + 1)
        idx = self.index_bits or _bits_for(m.shape[1])
        return ptr, idx

    def _size(self, m: np.ndarray, nnz: int) -> int:
        ptr, idx = self._widths(m)
        return cast(int, (m.shape[0] + 1) * ptr + nnz * (idx + self.value_bits))

    def encode(self, x: Any) -> Encoded:
        a = _np(x)
        m = self._view(a)
        r, c = np.nonzero(m)
        ptr = np.concatenate(([0], np.cumsum(np.bincount(r, minlength=m.shape[0]))))
        return Encoded(self.name, a.shape, {"ptr": ptr, "index": c, "values": m[r, c]},
                       self._size(m, r.size), self.params())

    def decode(self, enc: Encoded) -> np.ndarray:
        self._check(enc)
        ptr, idx, vals = enc.arrays["ptr"], enc.arrays["index"], enc.arrays["values"]
        m = np.zeros(self._view(np.empty(enc.shape)).shape, dtype=vals.dtype)
        if ptr.size != m.shape[0] + 1 or ptr[-1] != idx.size:
            raise FormatError(f"{self.name}: pointer array does not match the shape "
                              f"{enc.shape}")
        rows = np.repeat(np.arange(m.shape[0]), np.diff(ptr))
        m[rows, idx] = vals
        return (m if self.by == "row" else m.T).reshape(enc.shape)

    def size_bits(self, x: Any) -> int:
        a = _np(x)
        return self._size(self._view(a), int(np.count_nonzero(a)))

    def expected_bits(self, shape: int | tuple[int, ...], density: float) -> float:
        shape = _shape(shape)
        m = self._view(np.empty(shape, dtype=np.bool_))
        ptr, idx = self._widths(m)
        return cast(float,
                    (m.shape[0] + 1) * ptr + math.prod(shape) * density * (idx + self.value_bits))


class CSR(_Compressed2D):
    name = "csr"
    by = "row"
    citation = "compressed sparse row: row pointers, column indices, values"


class CSC(_Compressed2D):
    name = "csc"
    by = "col"
    citation = "compressed sparse column: column pointers, row indices, values"


class COO(Format):
    name = "coo"
    citation = ("coordinate-payload (Sparseloop's UOP/CP terminology): every non-zero with its "
                "full coordinate")

    def __init__(self, value_bits: int = 16, coord_bits: int = 0):
        super().__init__(value_bits)
        self.coord_bits = int(coord_bits)

    def params(self) -> dict[str, int]:
        return {"value_bits": self.value_bits, "coord_bits": self.coord_bits}

    def _coord_bits(self, shape: tuple[int, ...]) -> int:
        return self.coord_bits or sum(_bits_for(s) for s in shape) or 1

    def encode(self, x: Any) -> Encoded:
        a = _np(x)
        coords = np.stack(np.nonzero(a), axis=1) if a.ndim else np.zeros((int(a != 0), 0), int)
        vals = a[tuple(coords.T)] if a.ndim else a.reshape(-1)[: coords.shape[0]]
        return Encoded(self.name, a.shape, {"coords": coords, "values": vals},
                       coords.shape[0] * (self._coord_bits(a.shape) + self.value_bits),
                       self.params())

    def decode(self, enc: Encoded) -> np.ndarray:
        self._check(enc)
        out = np.zeros(enc.shape, dtype=enc.arrays["values"].dtype)
        if out.ndim:
            out[tuple(enc.arrays["coords"].T)] = enc.arrays["values"]
        elif enc.arrays["values"].size:
            out[()] = enc.arrays["values"][0]
        return out

    def size_bits(self, x: Any) -> int:
        a = _np(x)
        return int(np.count_nonzero(a)) * (self._coord_bits(a.shape) + self.value_bits)

    def row_sizes_bits(self, x2d: Any) -> np.ndarray:
        a = _np(x2d)
        return cast(np.ndarray, np.count_nonzero(a, axis=1).astype(np.int64) * (
            self._coord_bits(a.shape[1:]) + self.value_bits))

    def expected_bits(self, shape: int | tuple[int, ...], density: float) -> float:
        shape = _shape(shape)
        return math.prod(shape) * density * (self._coord_bits(shape) + self.value_bits)


FORMATS: dict[str, type[Format]] = {f.name: f for f in
                                    (Dense, Bitmap, EyerissRLC, SCNNZeroRun, CSR, CSC, COO)}


def format_names() -> list[str]:
    return list(FORMATS)


def get_format(name: str, **params: int) -> Format:
    """A format by name with its parameters, e.g. ``get_format("rlc", value_bits=8)``."""
    if name not in FORMATS:
        raise FormatError(f"unknown sparse format {name!r}; known: {', '.join(FORMATS)}")
    try:
        return FORMATS[name](**params)
    except TypeError as exc:
        raise FormatError(f"format {name!r}: {exc}; its parameters are "
                          f"{', '.join(FORMATS[name]().params())}") from None
