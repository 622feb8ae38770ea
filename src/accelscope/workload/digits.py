"""A small CNN trained here on scikit-learn's digits, for measuring real accuracy effects.

No pretrained ImageNet weights can be downloaded, so accuracy experiments (what a lossy
feature-map codec costs, for instance) need a network whose accuracy means something: this
one is trained inside the project on the 8x8 handwritten digits that scikit-learn ships
(1,797 images, 10 classes; no download). The trained weights are committed
(``data/digits_cnn.pt``) and are the zoo model ``digits-cnn``'s default; this module also
holds the seeded training procedure that produced them:

    python -m accelscope.workload.digits --train src/accelscope/workload/data/digits_cnn.pt

Split: scikit-learn's ``train_test_split(test_size=0.2, random_state=0, stratify=y)``, so the
360 test images are fixed. Pixels are scaled from 0..16 to 0..1.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import cast

import torch
from torch import nn

from accelscope._extras import needs_extra
from accelscope.errors import AccelscopeError

WEIGHTS = Path(__file__).resolve().parent / "data" / "digits_cnn.pt"


class DigitsCNN(nn.Module):
    """Three 3x3 convolutions with ReLU, a 2x2 max-pool and a linear classifier; 1x8x8 in,
    10 logits out (19,050 parameters)."""

    def __init__(self, num_classes: int = 10):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 16, 3, padding=1)
        self.conv2 = nn.Conv2d(16, 32, 3, padding=1)
        self.pool = nn.MaxPool2d(2)
        self.conv3 = nn.Conv2d(32, 32, 3, padding=1)
        self.fc = nn.Linear(32 * 4 * 4, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = torch.relu(self.conv1(x))
        x = self.pool(torch.relu(self.conv2(x)))
        x = torch.relu(self.conv3(x))
        return cast(torch.Tensor, self.fc(x.flatten(1)))


def digits_data(split: str = "test") -> tuple[torch.Tensor, torch.Tensor]:
    """(images (N, 1, 8, 8) float32 in 0..1, labels (N,) int64) of the fixed split."""
    with needs_extra("digits", "the digits data set (scikit-learn's 8x8 digits)"):
        from sklearn.datasets import load_digits
        from sklearn.model_selection import train_test_split
    if split not in ("train", "test"):
        raise AccelscopeError(f"split must be 'train' or 'test', got {split!r}")
    d = load_digits()
    x_tr, x_te, y_tr, y_te = train_test_split(d.images, d.target, test_size=0.2,
                                              random_state=0, stratify=d.target)
    x, y = (x_tr, y_tr) if split == "train" else (x_te, y_te)
    return (torch.tensor(x, dtype=torch.float32).unsqueeze(1) / 16.0,
            torch.tensor(y, dtype=torch.int64))


def train(seed: int = 0, epochs: int = 60, batch: int = 64, lr: float = 3e-3) -> nn.Module:
    """Train ``DigitsCNN`` from a seeded initialisation with Adam on the training split."""
    torch.manual_seed(seed)
    model = DigitsCNN()
    x, y = digits_data("train")
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    gen = torch.Generator().manual_seed(seed)
    for _ in range(epochs):
        model.train()
        perm = torch.randperm(len(x), generator=gen)
        for i in range(0, len(x), batch):
            idx = perm[i:i + batch]
            opt.zero_grad()
            loss = nn.functional.cross_entropy(model(x[idx]), y[idx])
            loss.backward()  # type: ignore[no-untyped-call]  # Tensor.backward is unannotated
            opt.step()
    return model.eval()


def accuracy(logits: torch.Tensor, labels: torch.Tensor) -> float:
    """Top-1 accuracy of (N, 10) logits."""
    return float((logits.argmax(dim=1) == labels).float().mean())


def main() -> None:
    ap = argparse.ArgumentParser(description="Train the digits CNN (seeded) and save it.")
    ap.add_argument("--train", type=Path, required=True, help="where to write the state_dict")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    model = train(args.seed)
    x, y = digits_data("test")
    with torch.no_grad():
        acc = accuracy(model(x), y)
    args.train.parent.mkdir(parents=True, exist_ok=True)
    torch.save(model.state_dict(), args.train)
    print(f"test accuracy {acc:.4f} on {len(y)} images; wrote {args.train}")


if __name__ == "__main__":
    main()
