"""Named models: the torchvision CNNs the papers evaluate, the original (Caffe) AlexNet, and two
small networks made here for fast tests.

Weights are seeded random (no pretrained weights can be downloaded), or a ``state_dict`` the
user passes with ``weights=PATH``. Random initialisation leaves batch-norm running statistics
at mean 0 / variance 1, which would make every BN an identity; ``get`` re-draws them from the
same seed so that folding BN into convolutions is exercised with non-trivial values.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import torch
from torch import nn

from accelscope.errors import InputFileError, ZooError


@dataclass
class ZooModel:
    """A zoo network in eval mode with its standard input shape (N, C, H, W)."""

    name: str
    module: nn.Module
    input_shape: tuple[int, ...]
    description: str
    source: str
    weights: str  # "seeded random (seed=S)" or the path of the loaded state_dict

    def example_input(self, seed: int = 0, dtype: torch.dtype | None = None) -> torch.Tensor:
        """A seeded N(0, 1) input of ``input_shape`` (float32 unless ``dtype``)."""
        gen = torch.Generator().manual_seed(seed)
        x = torch.randn(self.input_shape, generator=gen)
        return x.to(dtype) if dtype is not None else x


@dataclass(frozen=True)
class _Entry:
    build: Callable[[], nn.Module]
    input_shape: tuple[int, int, int, int]
    description: str
    source: str
    trained: Path | None = None  # committed weights loaded unless the caller passes some


class CaffeAlexNet(nn.Module):
    """AlexNet as in Krizhevsky et al. (NIPS 2012) and the Caffe reference model that Eyeriss
    evaluates: 227x227 input, 96-256-384-384-256 channels, two groups on CONV2/4/5, local
    response normalisation after CONV1 and CONV2 (size 5, alpha 1e-4, beta 0.75, k 1)."""

    def __init__(self, num_classes: int = 1000):
        super().__init__()
        lrn: dict[str, Any] = {"size": 5, "alpha": 1e-4, "beta": 0.75, "k": 1.0}
        self.features = nn.Sequential(
            nn.Conv2d(3, 96, 11, stride=4), nn.ReLU(inplace=True),
            nn.LocalResponseNorm(**lrn), nn.MaxPool2d(3, 2),
            nn.Conv2d(96, 256, 5, padding=2, groups=2), nn.ReLU(inplace=True),
            nn.LocalResponseNorm(**lrn), nn.MaxPool2d(3, 2),
            nn.Conv2d(256, 384, 3, padding=1), nn.ReLU(inplace=True),
            nn.Conv2d(384, 384, 3, padding=1, groups=2), nn.ReLU(inplace=True),
            nn.Conv2d(384, 256, 3, padding=1, groups=2), nn.ReLU(inplace=True),
            nn.MaxPool2d(3, 2),
        )
        self.classifier = nn.Sequential(
            nn.Dropout(), nn.Linear(256 * 6 * 6, 4096), nn.ReLU(inplace=True),
            nn.Dropout(), nn.Linear(4096, 4096), nn.ReLU(inplace=True),
            nn.Linear(4096, num_classes),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return cast(torch.Tensor, self.classifier(torch.flatten(self.features(x), 1)))


class Tiny(nn.Module):
    """A small conv-BN-ReLU network with a residual block (fast tests, 1x3x32x32)."""

    def __init__(self, num_classes: int = 10):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1, bias=False), nn.BatchNorm2d(8),
                                  nn.ReLU())
        self.conv1 = nn.Conv2d(8, 8, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(8)
        self.conv2 = nn.Conv2d(8, 8, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(8)
        self.pool = nn.MaxPool2d(2)
        self.head = nn.Sequential(nn.Conv2d(8, 16, 3, stride=2, padding=1), nn.ReLU(),
                                  nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                                  nn.Linear(16, num_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.stem(x)
        y = torch.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        x = torch.relu(x + y)
        return cast(torch.Tensor, self.head(self.pool(x)))


class TinyAllOps(nn.Module):
    """Exercises every GConv family and layout view the front end emits (1x3x32x32)."""

    def __init__(self, num_classes: int = 10):
        super().__init__()
        self.conv = nn.Conv2d(3, 16, 3, padding=1)
        self.bn = nn.BatchNorm2d(16)
        self.grouped = nn.Conv2d(16, 16, 3, padding=2, dilation=2, groups=4, bias=False)
        self.dw = nn.Conv2d(16, 16, 3, stride=2, padding=1, groups=16, padding_mode="reflect")
        self.se_fc1 = nn.Conv2d(16, 4, 1)
        self.se_fc2 = nn.Conv2d(4, 16, 1)
        self.up = nn.ConvTranspose2d(16, 8, 2, stride=2)
        self.lrn = nn.LocalResponseNorm(3)
        self.pw = nn.Conv2d(24, 16, 1, bias=False)
        self.avg = nn.AvgPool2d(3, stride=2, padding=1, ceil_mode=True, count_include_pad=False)
        self.fc = nn.Linear(16 * 2, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = nn.functional.hardswish(self.bn(self.conv(x)))           # conv + BN + act
        x = x + nn.functional.leaky_relu(self.grouped(x), 0.1)       # grouped, residual add
        y = nn.functional.silu(self.dw(x))                           # depthwise, 16x16
        s = torch.sigmoid(self.se_fc2(torch.relu(self.se_fc1(y.mean((2, 3), keepdim=True)))))
        y = y * s                                                    # squeeze-excitation mul
        u = nn.functional.gelu(self.up(y))                           # transposed conv, 32x32
        u = nn.functional.max_pool2d(u, 2)                           # maxpool, 16x16
        v = nn.functional.interpolate(nn.functional.avg_pool2d(y, 2), scale_factor=2,
                                      mode="nearest")                # avgpool + upsample
        z = torch.cat([self.lrn(u), v], dim=1)                       # LRN, concat: 24 channels
        z = nn.functional.channel_shuffle(z, 4)                      # reshape-permute-reshape
        z = torch.softmax(self.pw(z), dim=1)                         # channel max and sum
        z = self.avg(z)                                              # padded ceil-mode pool
        g = nn.functional.adaptive_avg_pool2d(z, 1).flatten(1)       # global avgpool
        m = nn.functional.adaptive_max_pool2d(torch.tanh(z), 1).flatten(1)
        return cast(torch.Tensor, self.fc(torch.cat([g, m], dim=1)))


def _tv(builder: str, **kwargs: Any) -> Callable[[], nn.Module]:
    def build() -> nn.Module:
        import torchvision.models as tvm

        return cast(nn.Module, getattr(tvm, builder)(weights=None, **kwargs))

    return build


def _digits() -> nn.Module:
    from accelscope.workload.digits import DigitsCNN

    return DigitsCNN()


_DIGITS_WEIGHTS = Path(__file__).resolve().parent / "data" / "digits_cnn.pt"
_TV = "torchvision 0.29 (weights=None)"
_ZOO: dict[str, _Entry] = {
    "alexnet": _Entry(_tv("alexnet"), (1, 3, 224, 224),
                      "AlexNet, torchvision variant (64-192-384-256-256, no groups, no LRN)",
                      _TV),
    "alexnet-caffe": _Entry(CaffeAlexNet, (1, 3, 227, 227),
                            "original AlexNet: 96-256-384-384-256, groups 2, LRN (Eyeriss)",
                            "Krizhevsky et al., NIPS 2012; Caffe bvlc_alexnet"),
    "vgg16": _Entry(_tv("vgg16"), (1, 3, 224, 224), "VGG-16", _TV),
    "resnet18": _Entry(_tv("resnet18"), (1, 3, 224, 224), "ResNet-18", _TV),
    "resnet50": _Entry(_tv("resnet50"), (1, 3, 224, 224), "ResNet-50 (v1.5 strides)", _TV),
    "mobilenet_v2": _Entry(_tv("mobilenet_v2"), (1, 3, 224, 224), "MobileNetV2", _TV),
    "googlenet": _Entry(_tv("googlenet", aux_logits=False, init_weights=True),
                        (1, 3, 224, 224), "GoogLeNet / Inception v1 (BN variant, no aux heads)",
                        _TV),
    "squeezenet1_0": _Entry(_tv("squeezenet1_0"), (1, 3, 224, 224), "SqueezeNet 1.0", _TV),
    "densenet121": _Entry(_tv("densenet121"), (1, 3, 224, 224), "DenseNet-121", _TV),
    "efficientnet_b0": _Entry(_tv("efficientnet_b0"), (1, 3, 224, 224),
                              "EfficientNet-B0 (SiLU, squeeze-excitation)", _TV),
    "tiny": _Entry(Tiny, (1, 3, 32, 32), "small conv/BN/residual net for fast tests",
                   "accelscope"),
    "digits-cnn": _Entry(_digits, (1, 1, 8, 8),
                         "3-conv CNN trained here on scikit-learn's 8x8 digits (98.1 % test "
                         "accuracy); trained weights by default", "accelscope "
                         "(workload/digits.py)", trained=_DIGITS_WEIGHTS),
    "tiny-allops": _Entry(TinyAllOps, (1, 3, 32, 32),
                          "every GConv family and layout view, for tests", "accelscope"),
}


def names() -> list[str]:
    """The zoo's model names."""
    return list(_ZOO)


def describe() -> list[dict[str, Any]]:
    """One row per model (name, input_shape, description, source) without building any."""
    return [{"name": n, "input_shape": e.input_shape, "description": e.description,
             "source": e.source} for n, e in _ZOO.items()]


def _entry(name: str) -> _Entry:
    if name not in _ZOO:
        import difflib

        close = difflib.get_close_matches(name, list(_ZOO), n=3)
        hint = f" Did you mean {', '.join(close)}?" if close else ""
        raise ZooError(f"no zoo model named {name!r}.{hint} Known models: {', '.join(_ZOO)} "
                       "(or pass a path to an .onnx file)")
    return _ZOO[name]


def _redraw_bn_statistics(module: nn.Module, gen: torch.Generator) -> None:
    """Give every batch norm non-trivial running statistics and affine parameters."""
    with torch.no_grad():
        for m in module.modules():
            if isinstance(m, nn.modules.batchnorm._BatchNorm) and m.running_mean is not None:
                n = m.num_features
                m.running_mean.copy_(0.1 * torch.randn(n, generator=gen))
                # running_var is registered together with running_mean
                cast(torch.Tensor, m.running_var).copy_(0.5 + torch.rand(n, generator=gen))
                if m.affine:
                    m.weight.copy_(0.75 + 0.5 * torch.rand(n, generator=gen))
                    m.bias.copy_(0.1 * torch.randn(n, generator=gen))


def _load_reason(exc: Exception) -> str:
    """torch.load's reason without its advice to retry with ``weights_only=False``: a file
    that only an unrestricted unpickler can read may run arbitrary code, so that advice is
    never to be followed here."""
    text = str(exc)
    if "weights_only" not in text:
        return text.strip().splitlines()[0] if text.strip() else type(exc).__name__
    m = re.search(r"WeightsUnpickler error:\s*(.+?)\s*(?:\n\s*\n|Check the documentation|$)",
                  text, re.S)
    why = " ".join(m.group(1).split()) if m else "it holds objects other than tensors"
    why = why.split(". Please")[0].rstrip(".")  # torch's advice on allow-listing globals
    return (f"a safe load (weights_only=True) refuses it: {why}; it is not a state_dict "
            "written by torch.save, or it holds Python objects")


def _load_weights(module: nn.Module, path: Path, name: str) -> None:
    path = Path(path)
    if not path.is_file():
        raise InputFileError(f"{path}: no such weights file; pass a state_dict saved with "
                             f"torch.save(model.state_dict(), PATH) for the {name!r} model")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises several types for a bad file
        raise InputFileError(f"{path}: cannot be read as a PyTorch state_dict "
                             f"({_load_reason(exc)}); save it with "
                             "torch.save(model.state_dict(), PATH)") from None
    if isinstance(state, dict) and "state_dict" in state and isinstance(state["state_dict"],
                                                                         dict):
        state = state["state_dict"]
    if not isinstance(state, dict):
        raise InputFileError(f"{path}: holds a {type(state).__name__}, not a state_dict "
                             "(a mapping of parameter names to tensors)")
    want = module.state_dict()
    missing = sorted(set(want) - set(state))
    extra = sorted(set(state) - set(want))
    if missing or extra:
        raise InputFileError(
            f"{path}: does not match the {name!r} model: missing {missing[:5]}"
            f"{'...' if len(missing) > 5 else ''}, unexpected {extra[:5]}"
            f"{'...' if len(extra) > 5 else ''}")
    bad = [k for k, v in state.items()
           if not isinstance(v, torch.Tensor) or tuple(v.shape) != tuple(want[k].shape)]
    if bad:
        k = bad[0]
        got = tuple(state[k].shape) if isinstance(state[k], torch.Tensor) else type(state[k])
        raise InputFileError(f"{path}: parameter {k!r} has shape {got}, the {name!r} model "
                             f"needs {tuple(want[k].shape)}")
    for k, v in state.items():  # NaN or inf is never a trained weight
        if v.is_floating_point() or v.is_complex():
            finite = torch.isfinite(v)
            if not bool(finite.all()):
                nan = int(torch.isnan(v).sum())
                inf = v.numel() - nan - int(finite.sum())
                raise InputFileError(
                    f"{path}: parameter {k!r} holds {nan:,} NaN and {inf:,} infinite values "
                    f"of {v.numel():,}; weights must be finite numbers (a diverged training "
                    "run or a corrupt file?)")
    module.load_state_dict(state)


def get(name: str, *, weights: str | Path | None = None, seed: int = 0,
        input_shape: tuple[int, ...] | None = None, batch: int | None = None) -> ZooModel:
    """Build zoo model ``name`` in eval mode.

    ``weights``: a state_dict file (loaded with ``weights_only=True``); otherwise the weights
    are drawn with ``torch.manual_seed(seed)`` and batch-norm statistics re-drawn from it —
    except for a model trained inside the project (``digits-cnn``), whose committed weights
    load by default.
    ``input_shape`` replaces the standard (N, C, H, W); ``batch`` replaces N.
    """
    entry = _entry(name)
    shape = tuple(int(s) for s in (input_shape or entry.input_shape))
    if len(shape) != 4 or any(s < 1 for s in shape):
        raise ZooError(f"input shape {shape} for {name!r} is not (N, C, H, W) with positive "
                       f"sizes; the standard one is {entry.input_shape}")
    if shape[1] != entry.input_shape[1]:
        raise ZooError(f"{name!r} takes {entry.input_shape[1]} input channels, not {shape[1]}")
    if batch is not None:
        if batch < 1:
            raise ZooError(f"batch must be >= 1, got {batch}")
        shape = (batch, *shape[1:])
    rng_state = torch.random.get_rng_state()
    try:
        torch.manual_seed(seed)
        module = entry.build()
        _redraw_bn_statistics(module, torch.Generator().manual_seed(seed + 1))
    finally:
        torch.random.set_rng_state(rng_state)
    source = f"seeded random (seed={seed})"
    if weights is None and entry.trained is not None:
        weights = entry.trained  # a model trained inside the project: its weights ship
    if weights is not None:
        _load_weights(module, Path(weights), name)
        source = str(weights)
    module.eval()
    return ZooModel(name=name, module=module, input_shape=shape,
                    description=entry.description, source=entry.source, weights=source)


__all__ = ["CaffeAlexNet", "Tiny", "TinyAllOps", "ZooModel", "describe", "get", "names"]
