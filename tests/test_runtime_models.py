"""Device selection, seeding, threads, and the model registry."""

import pytest
import torch

import inception_lab
from inception_lab import runtime
from inception_lab.nn.losses import AuxOutputs


def test_pick_device_prefers_what_is_available(monkeypatch):
    monkeypatch.delenv("INCEPTION_LAB_DEVICE", raising=False)
    expected = "cuda" if torch.cuda.is_available() else "mps" if torch.backends.mps.is_available() else "cpu"
    assert runtime.pick_device().type == expected
    assert runtime.pick_device("cpu").type == "cpu"
    monkeypatch.setenv("INCEPTION_LAB_DEVICE", "cpu")
    assert runtime.pick_device().type == "cpu"


def test_pick_device_errors(monkeypatch):
    with pytest.raises(ValueError, match="unknown device 'tpu'"):
        runtime.pick_device("tpu")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(ValueError, match="'cuda' is not available here; available: .*'cpu'"):
        runtime.pick_device("cuda")


def test_describe_device_and_threads():
    threads = torch.get_num_threads()
    try:
        runtime.use_reproducible_threads(torch.device("cpu"))
        assert torch.get_num_threads() == 1
        assert runtime.describe_device(torch.device("cpu")) == "cpu (1 thread)"
        torch.set_num_threads(2)
        runtime.use_reproducible_threads(torch.device("meta"))  # not the CPU: untouched
        assert torch.get_num_threads() == 2
        assert runtime.describe_device(torch.device("cpu")) == "cpu (2 threads)"
    finally:
        torch.set_num_threads(threads)


def test_seed_everything_makes_runs_repeat():
    gen = runtime.seed_everything(3)
    a = torch.randn(4), torch.randn(2, generator=gen)
    gen = runtime.seed_everything(3)
    b = torch.randn(4), torch.randn(2, generator=gen)
    assert all(torch.equal(x, y) for x, y in zip(a, b, strict=True))
    for bad in (-1, 1.5, True, "0"):
        with pytest.raises(ValueError, match="seed must be a non-negative integer"):
            runtime.seed_everything(bad)


def test_registry_lists_every_preset_and_rejects_unknown_names():
    assert {"googlenet", "googlenet_tv", "mini_googlenet", "bn_inception", "mini_bn_inception", "inception_v3",
            "inception_v3_paper"} <= set(inception_lab.PRESETS)
    assert all(builder.__doc__ for builder in inception_lab.PRESETS.values())  # each documents its deviations
    with pytest.raises(ValueError, match="unknown model 'resnet50'; available presets: \\['bn_inception'"):
        inception_lab.build_model("resnet50")


@pytest.mark.parametrize("name", ["mini_googlenet", "mini_bn_inception"])
def test_mini_presets_from_the_registry_train_and_infer(name):
    torch.manual_seed(0)
    model = inception_lab.build_model(name, num_classes=10)
    x = torch.randn(4, 3, 32, 32)
    model.eval()
    assert model(x).shape == (4, 10)
    model.train()
    out = model(x)
    logits = out.logits if isinstance(out, AuxOutputs) else out
    assert logits.shape == (4, 10)


# googlenet_tv: torchvision metadata (GoogLeNet_Weights num_params); googlenet, bn_inception: our count, regression only
@pytest.mark.parametrize("name, params", [("googlenet", 6_998_552), ("googlenet_tv", 6_624_904),
                                          ("bn_inception", 11_285_224)])
def test_full_presets_from_the_registry(name, params):
    options = {"aux_logits": False} if "googlenet" in name else {}
    model = inception_lab.build_model(name, **options)
    assert sum(p.numel() for p in model.parameters()) == params


def test_pick_device_falls_back_to_the_cpu_when_cuda_and_mps_are_unavailable(monkeypatch):
    # What a reader without a GPU gets, checked even on a machine that has one.
    monkeypatch.delenv("INCEPTION_LAB_DEVICE", raising=False)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    assert runtime.pick_device().type == "cpu"
    with pytest.raises(ValueError, match="device 'cuda' is not available here; available: \\['cpu'\\]"):
        runtime.pick_device("cuda")


def test_machine_receipt_describes_this_machine():
    import json
    import os

    from inception_lab.runtime import machine_receipt

    receipt = machine_receipt()
    assert receipt["cpu_model"] and receipt["logical_cpus"] == os.cpu_count()
    assert receipt["torch_version"] == torch.__version__
    json.dumps(receipt)  # goes into a results file as it is
