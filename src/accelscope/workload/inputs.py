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
        return None, path, shape
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
    try:
        from PIL import Image

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
