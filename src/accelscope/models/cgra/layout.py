"""Layer shapes and the placement of a layer's tensors in the CGRA's memory banks."""

from __future__ import annotations

from dataclasses import dataclass

from accelscope.errors import AccelscopeError, ShapeError


class CgraMemoryError(AccelscopeError):
    """A layer's tensors do not fit the CGRA's memory banks (``needed_bytes`` would)."""

    def __init__(self, message: str, needed_bytes: int = 0):
        super().__init__(message)
        self.needed_bytes = needed_bytes


@dataclass(frozen=True)
class ConvShape:
    """A convolution the CGRA mappings run: C x H x W input, K filters of C x R x S, stride 1,
    no padding, batch 1 (the set-up of the CF '24 kernels)."""

    H: int
    W: int
    C: int
    K: int
    R: int = 3
    S: int = 3

    def __post_init__(self) -> None:
        for name in ("H", "W", "C", "K", "R", "S"):
            if getattr(self, name) < 1:
                raise ShapeError(f"CGRA layer {name} must be >= 1, got {getattr(self, name)}")
        if self.H < self.R or self.W < self.S:
            raise ShapeError(f"CGRA layer input {self.H}x{self.W} is smaller than the "
                             f"{self.R}x{self.S} filter (no padding: output would be empty)")

    @property
    def Ho(self) -> int:
        return self.H - self.R + 1

    @property
    def Wo(self) -> int:
        return self.W - self.S + 1

    @property
    def macs(self) -> int:
        return self.K * self.C * self.Ho * self.Wo * self.R * self.S

    @property
    def patch_words(self) -> int:
        """Words of one output's im2col patch (R * S * C)."""
        return self.R * self.S * self.C

    @staticmethod
    def parse(text: str) -> ConvShape:
        """``HxWxCxK`` (or ``HxCxK`` for a square input), e.g. ``16x16x16x16``."""
        parts = text.lower().replace(",", "x").split("x")
        try:
            vals = [int(p) for p in parts if p.strip()]
        except ValueError:
            vals = []
        if len(vals) == 3:
            vals = [vals[0], vals[0], vals[1], vals[2]]
        if len(vals) != 4:
            raise ShapeError(f"--layer {text!r}: write HxWxCxK (input height, width, input "
                             "channels, filters), e.g. 16x16x16x16")
        return ConvShape(*vals)

    def __str__(self) -> str:
        return f"{self.H}x{self.W}x{self.C}x{self.K}"


@dataclass(frozen=True)
class Im2colShape:
    """One tile of a GConv as the general im2col path runs it (one image): ``G`` groups, each
    with ``K`` filters over ``pixels`` output pixels; every output is the dot product of a
    host-built patch of ``window`` (= C * R * S of the group) words with a filter row.

    ``input_words``: the prepared input (padded, zero-inserted) the host keeps in the banks
    and copies the patches from. ``shared_weights``: one set of K filter rows serves every
    group (the constant weights of a pooling or element-wise GConv form). ``accumulate``: the
    outputs are added to partial outputs of earlier input-channel tiles (by the host)."""

    G: int
    K: int
    pixels: int
    window: int
    input_words: int = 0
    shared_weights: bool = False
    accumulate: bool = False

    def __post_init__(self) -> None:
        for name in ("G", "K", "pixels", "window"):
            if getattr(self, name) < 1:
                raise ShapeError(f"CGRA im2col tile {name} must be >= 1, got "
                                 f"{getattr(self, name)}")
        if self.input_words < 0:
            raise ShapeError(f"CGRA im2col tile input_words must be >= 0, got "
                             f"{self.input_words}")

    @property
    def L(self) -> int:
        """Steps of the im2col-ic kernel: the window padded to a multiple of the 16 cells."""
        return -(-self.window // 16)

    @property
    def weight_rows(self) -> int:
        return self.K if self.shared_weights else self.G * self.K

    @property
    def outputs(self) -> int:
        return self.G * self.K * self.pixels

    @property
    def macs(self) -> int:
        return self.outputs * self.window

    @property
    def patch_words(self) -> int:
        return self.window

    def __str__(self) -> str:
        return (f"G{self.G}xK{self.K}x{self.pixels}px window {self.window}"
                + (" (shared weights)" if self.shared_weights else "")
                + (" (+partial)" if self.accumulate else ""))


class Layout:
    """A bump allocator over the word-addressed memory: named, word-aligned blocks."""

    def __init__(self, memory_bytes: int, what: str):
        self.memory_bytes = memory_bytes
        self.what = what
        self.blocks: dict[str, tuple[int, int]] = {}
        self._top = 0

    def alloc(self, name: str, words: int) -> int:
        addr = self._top
        self.blocks[name] = (addr, words)
        self._top += 4 * words
        return addr

    @property
    def used_bytes(self) -> int:
        return self._top

    def check(self) -> None:
        if self._top > self.memory_bytes:
            parts = ", ".join(f"{n} {4 * w} B" for n, (_, w) in self.blocks.items())
            raise CgraMemoryError(
                f"{self.what} needs {self._top} B of CGRA memory ({parts}) but the banks hold "
                f"{self.memory_bytes} B; use a smaller layer, more banks (cgra.n_banks), or "
                "let the model tile the layer", self._top)
