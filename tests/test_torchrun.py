"""torchrun with 2 gloo processes on a tiny ImageFolder equals 1 process at the same global batch; bad input."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest
import torch
from PIL import Image

from inception_lab.train import checkpoint as ckpt
from inception_lab.train import cli

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TORCHRUN = shutil.which("torchrun", path=os.path.dirname(sys.executable)) or shutil.which("torchrun")
#: Measured (torch 2.14 CPU): the largest weight difference between 2 processes x batch 8 and 1 process x batch 16
#: after 8 steps is 6e-8 without BatchNorm (float sums in another order), 0.2 with it; the bound leaves room for
#: other CPUs' kernels.
TOLERANCE = 1e-5


def env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""),
            "INCEPTION_LAB_SEED": "", "OMP_NUM_THREADS": "1", "GLOO_SOCKET_IFNAME": "lo"}


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    """64 images of 32x32 in 2 class folders: dark and light squares with noise (learnable, tiny)."""
    root = tmp_path_factory.mktemp("images")
    gen = torch.Generator().manual_seed(0)
    for label, name in enumerate(("dark", "light")):
        (root / name).mkdir()
        for i in range(32):
            pixels = (60 + 120 * label + 40 * torch.randn(32, 32, 3, generator=gen)).clamp(0, 255).to(torch.uint8)
            Image.fromarray(pixels.numpy()).save(root / name / f"{i:02d}.png")
    return root


def args(folder, out, preset: str, batch: int, *extra: str) -> list[str]:
    return ["--preset", preset, "--recipe", "googlenet", "--data", f"imagefolder:{folder}", "--batch-size",
            str(batch), "--epochs", "2", "--threads", "1", "--no-progress", "--out", str(out),
            "--option", "dropout=0.0", *extra]


def torchrun(nproc: int, argv: list[str]) -> subprocess.CompletedProcess:
    assert TORCHRUN, "torchrun is not installed next to this Python"
    return subprocess.run([TORCHRUN, "--standalone", f"--nproc_per_node={nproc}", "-m", "inception_lab.train",
                           *argv], env=env(), capture_output=True, text=True, timeout=300)


def weights(out) -> dict[str, torch.Tensor]:
    return torch.load(out / ckpt.CHECKPOINT_NAME, weights_only=True)["model"]


def max_difference(a: dict, b: dict) -> float:
    return max((a[k].double() - b[k].double()).abs().max().item() for k in a if a[k].is_floating_point())


@pytest.mark.slow  # two torchrun launches per preset (about 20 s each): make test runs it, make test-fast does not
@pytest.mark.parametrize("preset, extra", [("mini_googlenet", ["--option", "aux_logits=False"]),
                                           ("mini_bn_inception", [])])
def test_two_processes_equal_one_at_the_same_global_batch(folder, tmp_path, preset, extra):
    one, two = tmp_path / "one", tmp_path / "two"
    torch.set_num_threads(1)
    cli.train(cli.parse_args(args(folder, one, preset, 16, *extra)))  # 1 process x 16
    result = torchrun(2, args(folder, two, preset, 8, *extra))  # 2 processes x 8
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.count("recipe googlenet") == 2  # the start line and the receipt, printed by rank 0 only
    assert "2 process(es) x batch 8 = 16 per step" in result.stdout
    diff = max_difference(weights(one), weights(two))
    print(f"{preset}: largest weight difference, 2 processes vs 1: {diff:.3g}")
    if preset == "mini_googlenet":  # no BatchNorm: the same gradients up to the order of float sums
        assert diff < TOLERANCE
    else:  # BatchNorm normalises each process's 8 images alone: a real difference, not float noise
        assert diff > 100 * TOLERANCE


@pytest.mark.slow  # one torchrun launch (about 20 s)
def test_fewer_images_than_processes_is_a_clear_error(tmp_path):
    small = tmp_path / "small"
    (small / "only").mkdir(parents=True)
    Image.new("RGB", (32, 32)).save(small / "only" / "one.png")
    out = tmp_path / "out"
    result = torchrun(2, args(small, out, "mini_googlenet", 8))
    assert result.returncode != 0
    assert "the training set has 1 images, fewer than the 2 processes" in result.stderr
    assert not (out / ckpt.CHECKPOINT_NAME).exists()


@pytest.mark.parametrize("argv, message", [
    (["--data", "imagefolder:/nonexistent/folder"], "data folder '/nonexistent/folder' does not exist"),
    (["--data", "imagenet"], "--data must be one of"),
    (["--epochs", "0"], "--epochs must be >= 1"),
    (["--resume"], "--resume: no checkpoint at"),
    (["--sync-bn"], "--sync-bn needs CUDA"),
])
def test_bad_input_is_a_clear_error_and_leaves_no_checkpoint(argv, message, tmp_path, capsys):
    out = tmp_path / "out"
    base = ["--preset", "mini_googlenet", "--n-train", "32", "--n-test", "0", "--out", str(out), "--no-progress"]
    assert cli.main(base + argv) == 2
    assert message in capsys.readouterr().err
    assert not (out / ckpt.CHECKPOINT_NAME).exists()


@pytest.mark.parametrize("argv, message", [
    (["--preset", "alexnet"], "argument --preset: invalid choice: 'alexnet'"),
    (["--preset", "mini_googlenet", "--recipe", "adamw"], "argument --recipe: invalid choice: 'adamw'"),
])
def test_unknown_preset_or_recipe(argv, message, tmp_path, capsys):
    with pytest.raises(SystemExit) as stop:
        cli.main([*argv, "--out", str(tmp_path / "out")])
    assert stop.value.code == 2 and message in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


@pytest.mark.slow  # builds both full-size Inception-v3s at 299 px
def test_gpu_train_check_dry_run_on_cpu(tmp_path):
    """The device script's whole path (torchrun, DDP with 1 process, both networks, results files) on the CPU."""
    result = subprocess.run([sys.executable, os.path.join(ROOT, "benchmarks", "gpu_train_check.py"), "--dry-run",
                             "--results", str(tmp_path)], env=env(), capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    record = __import__("json").loads((tmp_path / "gpu_train_check_dry_run.json").read_text())
    assert record["dry_run"] and [r["network"] for r in record["runs"]] == ["ours", "torchvision"]
    ours, theirs = record["runs"]
    assert ours["parameters"] == theirs["parameters"] == 27_161_264  # torchvision's count (its weights' metadata)
    assert all(r["images_per_s"] > 0 and r["steps"] == 2 and r["peak_memory_gib"] is None for r in record["runs"])
    assert (tmp_path / "gpu_train_check_dry_run.md").read_text().count("| ours |") == 1


def test_cifar10_path_of_the_entry_point_on_fake_files_and_offline(tmp_path, monkeypatch, capsys):
    """--data cifar10 (the Colab path): trains on CIFAR-10 files the test writes; offline, a clear message."""
    cifar = pytest.importorskip("torchvision.datasets.cifar")
    import pickle

    import numpy as np

    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        batch = {"data": rng.integers(0, 256, size=(4, 3072), dtype=np.uint8), "labels": [i % 10 for i in range(4)]}
        (folder / name).write_bytes(pickle.dumps(batch))
    (folder / "batches.meta").write_bytes(pickle.dumps({"label_names": [str(i) for i in range(10)]}))
    monkeypatch.setattr(cifar, "check_integrity", lambda *args, **kwargs: True)  # fake files, other MD5s
    out = tmp_path / "run"
    base = ["--preset", "mini_googlenet", "--data", "cifar10", "--cifar-root", str(tmp_path), "--batch-size", "8",
            "--epochs", "1", "--no-progress", "--augment", "--out", str(out)]
    assert cli.main(base) == 0
    receipt = __import__("json").loads((out / "receipt.json").read_text())["receipt"]
    assert receipt["examples"] == 20 and receipt["steps"] == 3 and "val_acc" in receipt["metrics"]

    def offline(*args, **kwargs):
        raise OSError("[Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr(cifar, "download_and_extract_archive", offline)
    capsys.readouterr()
    assert cli.main([*base[:5], str(tmp_path / "empty"), *base[6:-1], str(tmp_path / "offline")]) == 2
    assert "No internet" in capsys.readouterr().err
    assert not (tmp_path / "offline" / ckpt.CHECKPOINT_NAME).exists()
