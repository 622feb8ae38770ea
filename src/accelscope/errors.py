"""Error types. Every error accelscope raises on bad input is an ``AccelscopeError``.

Messages follow one rule: say *what* was wrong, *where* (file, layer, node, field path)
and *what to do* about it.
"""

from __future__ import annotations


class AccelscopeError(Exception):
    """Base class of every error raised for bad input or an unsupported request."""


class LoweringError(AccelscopeError):
    """A network could not be lowered into a GConv chain."""


class UnsupportedOpError(LoweringError):
    """The network uses an operator (or an operator variant) the front end cannot lower."""


class ShapeError(AccelscopeError):
    """A tensor shape is impossible or inconsistent (wrong input shape, bad GConv geometry)."""


class ChainCheckError(AccelscopeError):
    """A chain failed the IR checker (``Chain.check``)."""


class ZooError(AccelscopeError):
    """Unknown zoo model, or weights that cannot be loaded into it."""


class InputFileError(AccelscopeError):
    """A file given by the user is missing, truncated or malformed."""
