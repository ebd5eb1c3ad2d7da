"""Checkpoints that lose nothing: SIGKILL at any moment + --resume == an uninterrupted run, bit for bit (CPU)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest
import torch

from inception_lab.train import checkpoint as ckpt
from inception_lab.train import cli

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# mini GoogLeNet with its auxiliary heads and dropout (random masks: the RNG states must survive the kill), the
# Rethinking recipe (RMSProp-TF, staircase schedule, clipping, label smoothing, EMA of the weights).
RUN = ["--preset", "mini_googlenet", "--recipe", "rethinking", "--data", "shapes", "--n-train", "96", "--n-test", "32",
       "--batch-size", "16", "--epochs", "3", "--threads", "1", "--no-progress", "--checkpoint-every", "1"]


def env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""),
            "INCEPTION_LAB_SEED": ""}


def command(out, *extra: str) -> list[str]:
    return [sys.executable, "-m", "inception_lab.train", *RUN, "--out", str(out), *extra]


def final_state(out) -> dict:
    return torch.load(out / ckpt.CHECKPOINT_NAME, weights_only=True)


def assert_bit_identical(a, b) -> None:
    if isinstance(a, torch.Tensor):
        assert isinstance(b, torch.Tensor) and a.dtype == b.dtype and torch.equal(a, b)
    elif isinstance(a, dict):
        assert a.keys() == b.keys()
        for key in a:
            assert_bit_identical(a[key], b[key])
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b)
        for x, y in zip(a, b, strict=True):
            assert_bit_identical(x, y)
    else:
        assert a == b


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    out = tmp_path_factory.mktemp("whole")
    subprocess.run(command(out), check=True, env=env(), capture_output=True, timeout=300)
    return out


@pytest.mark.slow  # trains three times through the command line
def test_sigkill_mid_epoch_then_resume_equals_the_uninterrupted_run(uninterrupted, tmp_path):
    out = tmp_path / "killed"
    proc = subprocess.Popen(command(out), env=env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    path = out / ckpt.CHECKPOINT_NAME
    deadline = time.monotonic() + 120
    position = None
    try:  # kill as soon as a checkpoint shows the run in the middle of its second epoch
        while time.monotonic() < deadline and proc.poll() is None:
            if path.is_file():
                try:
                    position = torch.load(path, weights_only=True)["position"]
                except Exception:  # noqa: BLE001 (read while replaced: try again)
                    position = None
                if position and position["epoch"] == 1 and position["step_in_epoch"] >= 2:
                    proc.send_signal(signal.SIGKILL)
                    break
            time.sleep(0.005)
    finally:
        proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL, "the run finished before it could be killed mid-epoch"
    saved = final_state(out)["position"]
    assert saved["epoch"] == 1 and 0 < saved["step_in_epoch"] < 6  # killed mid-epoch, after some checkpoint
    assert not (out / "receipt.json").exists()  # the run did not finish
    resumed = subprocess.run(command(out, "--resume"), env=env(), capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    a, b = final_state(uninterrupted), final_state(out)
    assert a["position"] == b["position"] == dict(epoch=3, step_in_epoch=0, global_step=18,
                                                  sums=[0.0, 0.0, 0.0, 0.0], examples=288)
    for key in ("model", "optimizer", "scheduler", "averager", "rng"):
        assert_bit_identical(a[key], b[key])  # weights, RMSProp state, schedule, EMA, every random state
    history_a, history_b = a["history"], b["history"]
    assert history_a["step_loss"] == history_b["step_loss"] and history_a["val_acc"] == history_b["val_acc"]
    assert (uninterrupted / "metrics.csv").read_text() == (out / "metrics.csv").read_text()  # no duplicated rows


@pytest.mark.slow  # needs the uninterrupted run (about 20 s)
def test_truncated_and_foreign_checkpoints_are_refused(uninterrupted, tmp_path):
    path = tmp_path / ckpt.CHECKPOINT_NAME
    path.write_bytes((uninterrupted / ckpt.CHECKPOINT_NAME).read_bytes()[:5000])
    with pytest.raises(ckpt.CheckpointError, match="not a readable checkpoint .*truncated or damaged"):
        ckpt.load(path)
    torch.save({"model": {}}, path)
    with pytest.raises(ckpt.CheckpointError, match="not an inception_lab training checkpoint"):
        ckpt.load(path)
    with pytest.raises(ckpt.CheckpointError, match="no checkpoint at"):
        ckpt.load(tmp_path / "missing.pt")


@pytest.mark.slow  # needs the uninterrupted run (about 20 s)
def test_a_checkpoint_of_another_run_is_refused_and_left_untouched(uninterrupted, tmp_path, capsys):
    out = tmp_path / "other"
    out.mkdir()
    (out / ckpt.CHECKPOINT_NAME).write_bytes((uninterrupted / ckpt.CHECKPOINT_NAME).read_bytes())
    before = (out / ckpt.CHECKPOINT_NAME).read_bytes()
    argv = [*RUN, "--out", str(out), "--resume", "--epochs", "4"]
    other_preset = [a if a != "mini_googlenet" else "mini_bn_inception" for a in argv]
    assert cli.main(other_preset) == 2
    assert "belongs to another run" in capsys.readouterr().err
    other_recipe = [a if a != "rethinking" else "googlenet" for a in argv]
    assert cli.main(other_recipe) == 2
    err = capsys.readouterr().err
    assert "belongs to another run" in err and "'optimizer': 'momentum'" in err
    assert (out / ckpt.CHECKPOINT_NAME).read_bytes() == before


def test_atomic_write_leaves_the_previous_checkpoint_when_interrupted(tmp_path, monkeypatch):
    path = tmp_path / "c.pt"
    ckpt.save_atomic({"format": ckpt.FORMAT_VERSION, "x": torch.ones(3)}, path)

    def fail(*args, **kwargs):
        raise KeyboardInterrupt  # as if the process were stopped in the middle of writing

    monkeypatch.setattr(torch, "save", fail)
    with pytest.raises(KeyboardInterrupt):
        ckpt.save_atomic({"format": ckpt.FORMAT_VERSION, "x": torch.zeros(3)}, path)
    assert torch.equal(ckpt.load(path)["x"], torch.ones(3))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.pt"]  # no temporary file left behind
