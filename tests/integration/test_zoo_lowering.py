"""Every zoo model lowered, checked and executed against its PyTorch forward."""

from __future__ import annotations

import pytest
import torch

import accelscope
from accelscope.workload.execute import execute, relative_error

ZOO = accelscope.zoo.names()


@pytest.fixture(scope="module", params=ZOO)
def lowered(request):
    zm = accelscope.zoo.get(request.param)
    x = zm.example_input()
    return zm, x, accelscope.lower(zm, x)


def test_lowers_checks_and_executes_at_standard_size(lowered):
    zm, x, chain = lowered
    assert tuple(x.shape) == zm.input_shape
    if zm.name in ("resnet18", "mobilenet_v2"):
        assert zm.input_shape[-2:] == (224, 224)
    assert chain.problems() == []
    with torch.no_grad():
        want = zm.module(x)
    got, tensors = execute(chain, x, keep_intermediates=True)
    assert relative_error(got, want) <= 1e-4
    for name, info in chain.tensors.items():
        assert tuple(tensors[name].shape) == info.shape


def test_every_gconv_kind_is_labelled(lowered):
    _, _, chain = lowered
    assert all(g.kind for g in chain.gconvs)
    assert chain.total_macs >= chain.conv_fc_macs > 0


@pytest.mark.parametrize("name", ["resnet18", "mobilenet_v2", "tiny-allops", "googlenet"])
def test_float64_mode_agrees_to_1e9(name):
    zm = accelscope.zoo.get(name)
    x = zm.example_input(dtype=torch.float64)
    chain = accelscope.lower(zm.module, x, dtype=torch.float64)
    with torch.no_grad():
        want = zm.module.double()(x)
    assert relative_error(execute(chain, x), want) <= 1e-9


@pytest.mark.parametrize("name", ["tiny-allops", "squeezenet1_0"])
def test_unfused_chain_and_reference_path_agree(name):
    zm = accelscope.zoo.get(name)
    x = zm.example_input()
    with torch.no_grad():
        want = zm.module(x)
    chain = accelscope.lower(zm, x, fuse=False)
    assert chain.problems() == []
    assert relative_error(execute(chain, x, reference=True), want) <= 1e-4


def test_tiny_allops_exercises_every_gconv_family():
    chain = accelscope.lower(accelscope.zoo.get("tiny-allops"))
    kinds = {g.kind for g in chain.gconvs}
    for want in ("conv", "grouped-conv", "depthwise", "transposed-conv", "fc", "maxpool",
                 "avgpool", "global-avgpool", "eltwise-add", "eltwise-mul", "upsample",
                 "channel-max", "channel-sum"):
        assert want in kinds, f"{want} missing from {sorted(kinds)}"
    assert {v.op for v in chain.views} >= {"concat", "reshape", "permute"}


def test_alexnet_caffe_conv_macs_match_the_paper():
    chain = accelscope.lower(accelscope.zoo.get("alexnet-caffe"))
    convs = [g for g in chain.gconvs if g.origin_op.startswith("Conv2d")]
    assert [g.macs for g in convs] == [105_415_200, 223_948_800, 149_520_384, 112_140_288,
                                      74_760_192]
    assert [g.G for g in convs] == [1, 2, 1, 2, 2]


def test_resnet50_mac_count_is_the_published_4_1_g():
    chain = accelscope.lower(accelscope.zoo.get("resnet50"))
    assert chain.conv_fc_macs == pytest.approx(4.09e9, rel=0.005)


def test_weights_file_round_trip(tmp_path):
    zm = accelscope.zoo.get("tiny", seed=3)
    path = tmp_path / "tiny.pt"
    torch.save(zm.module.state_dict(), path)
    again = accelscope.zoo.get("tiny", weights=path)
    x = zm.example_input()
    a = execute(accelscope.lower(zm, x), x)
    b = execute(accelscope.lower(again, x), x)
    assert torch.equal(a, b)


def test_conv_fc_macs_equal_torchvision_published_ops(lowered):
    """torchvision's weight metadata records each model's GMACs (``_ops``, 3 decimals)."""
    zm, _, chain = lowered
    if not zm.source.startswith("torchvision"):
        pytest.skip("not a torchvision model")
    from torchvision.models import get_model_weights

    published = next(iter(get_model_weights(zm.name))).meta["_ops"]
    assert abs(chain.conv_fc_macs / 1e9 - published) <= 0.0005 + 1e-12
