"""Optional dependencies: the pip extras some features need, and the error when one is missing.

``pip install accelscope`` leaves out what only one feature uses; that feature imports it under
``needs_extra`` so that a user without it reads which extra to install, not a bare
``ModuleNotFoundError``. The table mirrors ``[project.optional-dependencies]`` in pyproject.toml.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from accelscope.errors import AccelscopeError

# extra -> the top-level modules it installs that accelscope imports
EXTRAS: dict[str, tuple[str, ...]] = {
    "onnx": ("onnxruntime",),
    "digits": ("sklearn", "scipy"),
    "dse": ("dask", "distributed", "optuna"),
}


@contextmanager
def needs_extra(extra: str, feature: str) -> Iterator[None]:
    """Imports in this block come with the extra ``extra``: if one of its modules is missing,
    raise an ``AccelscopeError`` saying that ``feature`` needs it and how to install it. Any
    other ImportError (a broken install of some other package) passes through unchanged."""
    if extra not in EXTRAS:
        raise KeyError(f"unknown extra {extra!r}; the extras are {sorted(EXTRAS)}")
    try:
        yield
    except ImportError as exc:
        missing = (exc.name or "").partition(".")[0]
        if missing not in EXTRAS[extra]:
            raise
        raise AccelscopeError(
            f"{feature} needs the '{extra}' extra: pip install 'accelscope[{extra}]' "
            f"({missing} is not installed)") from exc
