"""What a command line names as a network and its input: a zoo name or an ONNX path, an
``N,C,H,W`` shape, ``random`` or an image file."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

from accelscope.errors import InputFileError, ShapeError

if TYPE_CHECKING:
    from accelscope.workload.zoo import ZooModel


def parse_shape(text: str) -> tuple[int, ...]:
    parts = [p for p in re.split(r"[,\s]+|(?<=\d)x(?=\d)", text.strip()) if p]
    try:
        shape = tuple(int(p) for p in parts)
    except ValueError:
        shape = ()
    if not shape or any(s < 1 for s in shape):
        raise ShapeError(f"--input-shape {text!r} is not a list of positive integers; "
                         "write it as N,C,H,W, e.g. --input-shape 1,3,224,224")
    return shape


#: The largest input tensor accelscope builds: 8 GiB of float32 (a batch of 5,000 ImageNet
#: images); every layer's activations are of the same order, so more is beyond a workstation.
MAX_INPUT_BYTES = 8 * 2**30


def _human_bytes(n: int) -> str:
    for unit, scale in (("EB", 1e18), ("PB", 1e15), ("TB", 1e12), ("GB", 1e9), ("MB", 1e6)):
        if n >= scale:
            return f"{n / scale:.3g} {unit}"
    return f"{n:,} bytes"


def check_input_size(shape: Sequence[int], what: str) -> None:
    """Refuse an input of more than ``MAX_INPUT_BYTES`` (float32) before it is allocated."""
    n = 1
    for s in shape:
        n *= int(s)
    if 4 * n > MAX_INPUT_BYTES:
        raise ShapeError(f"{what} gives an input tensor of {n:,} float32 values "
                         f"({_human_bytes(4 * n)}), beyond the {MAX_INPUT_BYTES // 2**30} GiB "
                         "accelscope allocates (the activations of every layer are of the "
                         "same order); give a smaller --input-shape or --batch")


def resolve_model(model: str, input_shape: str | tuple[int, ...] | None, batch: int | None,
                  weights: str | Path | None, seed: int
                  ) -> tuple[ZooModel | None, Path | None, Any]:
    """Resolve MODEL (zoo name or .onnx path) to (module or None, onnx path or None, input).

    The third item is the example input tensor (or None) for a zoo model, and the input shape
    tuple (or None) for an ONNX file.
    """
    from accelscope.workload import zoo

    shape = (parse_shape(input_shape) if isinstance(input_shape, str)
             else tuple(input_shape) if input_shape else None)
    if model.endswith(".onnx") or Path(model).suffix == ".onnx":
        path = Path(model)
        if not path.exists():
            raise InputFileError(f"{path}: no such ONNX file; give a path to a .onnx file or a "
                                 "zoo name (accelscope models lists them)")
        if weights is not None:
            raise InputFileError("--weights applies to zoo models; an ONNX file carries its "
                                 "own weights")
        if shape is not None:
            check_input_size(shape, f"--input-shape {','.join(map(str, shape))}")
        return None, path, shape
    standard = {r["name"]: tuple(r["input_shape"]) for r in zoo.describe()}
    planned = shape or standard.get(model)
    if planned is not None and len(planned) == 4:  # other shapes: zoo.get says what is wrong
        if batch is not None and batch >= 1:
            planned = (batch, *planned[1:])
        check_input_size(planned, f"--input-shape {','.join(map(str, planned))}"
                         + (f" (--batch {batch})" if batch is not None else ""))
    zm = zoo.get(model, weights=weights, seed=seed, input_shape=shape, batch=batch)
    x = zm.example_input(seed=seed)
    return zm, None, x if isinstance(x, torch.Tensor) else None


def input_tensor(spec: str, zm: ZooModel | None, onnx_shape: Sequence[int] | None,
                 seed: int) -> torch.Tensor | None:
    """--input: 'random' (seeded N(0, 1)) or an image file resized to the model's input."""
    shape = zm.input_shape if zm is not None else onnx_shape
    if spec == "random":
        if shape is None:
            return None
        return torch.randn(tuple(shape), generator=torch.Generator().manual_seed(seed))
    path = Path(spec)
    if not path.is_file():
        raise InputFileError(f"--input {spec}: no such image file; give a PNG/JPEG path or "
                             "'random'")
    if shape is None:
        raise ShapeError("--input IMAGE with an ONNX model needs --input-shape N,C,H,W")
    from PIL import Image  # Pillow is a dependency: a missing one is not a bad image file

    try:
        img = Image.open(path).convert("RGB" if shape[1] == 3 else "L")
    except Exception as exc:
        raise InputFileError(f"--input {spec}: cannot be read as an image ({exc})") from None
    import numpy as np

    img = img.resize((shape[3], shape[2]))
    arr = torch.from_numpy(np.asarray(img, dtype=np.float32) / 255.0)
    arr = arr.permute(2, 0, 1) if arr.ndim == 3 else arr[None]
    if shape[1] == 3:  # the ImageNet normalisation torchvision models expect
        mean = torch.tensor([0.485, 0.456, 0.406])[:, None, None]
        std = torch.tensor([0.229, 0.224, 0.225])[:, None, None]
        arr = (arr - mean) / std
    return arr[None].expand(shape[0], *arr.shape).contiguous()
