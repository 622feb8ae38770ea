"""The model zoo: names, seeding, shapes and the errors for bad weights files."""

from __future__ import annotations

import pytest
import torch

from accelscope import zoo
from accelscope.errors import InputFileError, ZooError


def test_describe_is_cheap_and_lists_every_name():
    rows = zoo.describe()
    assert [r["name"] for r in rows] == zoo.names()
    for want in ("alexnet", "alexnet-caffe", "vgg16", "resnet18", "resnet50", "mobilenet_v2",
                 "googlenet", "squeezenet1_0", "densenet121", "efficientnet_b0", "tiny",
                 "tiny-allops"):
        assert want in zoo.names()
    assert dict((r["name"], r["input_shape"]) for r in rows)["alexnet-caffe"] == (1, 3, 227, 227)


def test_unknown_name_suggests_the_close_one():
    with pytest.raises(ZooError, match="resnet50"):
        zoo.get("resnet51")


def test_same_seed_same_weights_other_seed_other_weights():
    a, b, c = zoo.get("tiny", seed=1), zoo.get("tiny", seed=1), zoo.get("tiny", seed=2)
    sa, sb, sc = (m.module.state_dict() for m in (a, b, c))
    assert all(torch.equal(sa[k], sb[k]) for k in sa)
    assert not torch.equal(sa["stem.0.weight"], sc["stem.0.weight"])


def test_get_does_not_disturb_the_global_rng():
    torch.manual_seed(123)
    want = torch.rand(3)
    torch.manual_seed(123)
    zoo.get("tiny")
    assert torch.equal(torch.rand(3), want)


def test_batch_norm_statistics_are_redrawn():
    bn = zoo.get("tiny").module.bn1
    assert not torch.allclose(bn.running_mean, torch.zeros_like(bn.running_mean))
    assert not torch.allclose(bn.running_var, torch.ones_like(bn.running_var))
    assert not bn.training


def test_batch_and_input_shape_overrides():
    zm = zoo.get("tiny", batch=4)
    assert zm.input_shape == (4, 3, 32, 32)
    assert zm.example_input().shape == (4, 3, 32, 32)
    assert zoo.get("tiny", input_shape=(2, 3, 48, 40)).input_shape == (2, 3, 48, 40)
    with pytest.raises(ZooError, match="input channels"):
        zoo.get("tiny", input_shape=(1, 1, 32, 32))
    with pytest.raises(ZooError, match="batch"):
        zoo.get("tiny", batch=0)


def test_example_input_is_seeded_and_typed():
    zm = zoo.get("tiny")
    assert torch.equal(zm.example_input(5), zm.example_input(5))
    assert zm.example_input(dtype=torch.float64).dtype == torch.float64


def test_weights_errors_name_the_file(tmp_path):
    missing = tmp_path / "nope.pt"
    with pytest.raises(InputFileError, match=r"nope\.pt"):
        zoo.get("tiny", weights=missing)
    garbage = tmp_path / "garbage.pt"
    garbage.write_bytes(b"not a torch file at all")
    with pytest.raises(InputFileError, match=r"garbage\.pt.*state_dict"):
        zoo.get("tiny", weights=garbage)
    other = tmp_path / "other.pt"
    torch.save(zoo.get("tiny-allops").module.state_dict(), other)
    with pytest.raises(InputFileError, match="does not match the 'tiny' model"):
        zoo.get("tiny", weights=other)
    state = zoo.get("tiny").module.state_dict()
    state["stem.0.weight"] = torch.zeros(8, 3, 5, 5)
    wrong = tmp_path / "wrong.pt"
    torch.save(state, wrong)
    with pytest.raises(InputFileError, match=r"stem\.0\.weight.*\(8, 3, 3, 3\)"):
        zoo.get("tiny", weights=wrong)


def test_weights_load_exactly(tmp_path):
    src = zoo.get("tiny", seed=9)
    path = tmp_path / "w.pt"
    torch.save({"state_dict": src.module.state_dict()}, path)  # a checkpoint wrapper works too
    got = zoo.get("tiny", weights=path)
    assert all(torch.equal(v, got.module.state_dict()[k])
               for k, v in src.module.state_dict().items())
    assert got.weights == str(path)


def test_a_bad_weights_file_never_suggests_an_unsafe_load(tmp_path):
    """torch.load's own message advises retrying with weights_only=False (arbitrary code
    execution): the error keeps the reason and drops that advice."""
    from fractions import Fraction  # a picklable object that is not a tensor

    garbage, pickled = tmp_path / "g.pt", tmp_path / "p.pt"
    garbage.write_bytes(bytes(range(256)) * 8)
    torch.save({"conv1.weight": Fraction(1, 3)}, pickled)
    for path, reason in ((garbage, "Unsupported operand"), (pickled, "Fraction")):
        with pytest.raises(InputFileError) as exc:
            zoo.get("tiny", weights=path)
        text = str(exc.value)
        assert reason in text and "weights_only=True" in text
        assert "False" not in text and "Please" not in text and "\n" not in text
