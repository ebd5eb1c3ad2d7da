"""Checkpoints that lose nothing: everything a run needs to continue as if it had never stopped.

A checkpoint holds the model, the optimizer, the schedule, the averaged weights, the loss scaler, the position
(epoch, step within it, steps in all), the history so far, and every random state: Python's, NumPy's, torch's CPU
generator and each accelerator's, of every process, and the training loader's own generator. With the data order a
function of (seed, epoch) (:class:`inception_lab.train.distributed.EpochSampler`), a run killed at any moment and
resumed from its last checkpoint ends, on the CPU, with the same weights bit for bit as a run never interrupted.

Writes are atomic: the checkpoint goes to a temporary file in the same folder, is flushed to disk, then renamed
over the old one (``os.replace``), so a crash mid-write leaves the previous checkpoint intact and no half-written
file under the checkpoint's name. Reads use ``torch.load(weights_only=True)``: tensors, numbers, strings and
containers only, never arbitrary pickled objects.
"""

from __future__ import annotations

import os
import pathlib
import random
import tempfile
from collections.abc import Mapping
from typing import Any

import numpy as np
import torch

#: Bumped when the layout changes; older checkpoints are refused with a clear message.
FORMAT_VERSION = 1
#: The file name inside a run's output folder.
CHECKPOINT_NAME = "checkpoint.pt"


class CheckpointError(ValueError):
    """A checkpoint that cannot be resumed: unreadable, truncated, of another format, or of another run."""


def save_atomic(payload: Mapping[str, Any], path: str | os.PathLike[str]) -> None:
    """``torch.save`` to a temporary file beside ``path``, ``fsync``, then rename it over ``path``."""
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            torch.save(dict(payload), f)
            f.flush()
            os.fsync(f.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp's 0600 -> the permissions of a file written normally
        os.replace(tmp, path)
    except BaseException:
        pathlib.Path(tmp).unlink(missing_ok=True)
        raise


def load(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read a checkpoint with ``weights_only=True``; refuse a missing, truncated or foreign file clearly.

    Raises:
        CheckpointError: the file is missing, unreadable (truncated or not a checkpoint), or of another format.
    """
    path = pathlib.Path(path)
    if not path.is_file():
        raise CheckpointError(f"no checkpoint at {path}: nothing to resume (drop --resume to start a new run).")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # torch raises RuntimeError, EOFError, UnpicklingError ... for a damaged file
        raise CheckpointError(f"{path} is not a readable checkpoint (truncated or damaged: {type(error).__name__}: "
                              f"{error}). Delete it to start again, or restore a copy.") from error
    if not isinstance(payload, dict) or payload.get("format") != FORMAT_VERSION:
        found = payload.get("format") if isinstance(payload, dict) else type(payload).__name__
        raise CheckpointError(f"{path} is not an inception_lab training checkpoint of format {FORMAT_VERSION} "
                              f"(found {found!r}).")
    return payload


def check_same_run(saved: Mapping[str, Any], current: Mapping[str, Any], path: str | os.PathLike[str]) -> None:
    """Refuse to resume when the checkpoint's run differs from this one (another preset, recipe, data, batch ...).

    Raises:
        CheckpointError: listing every setting that differs, with both values.
    """
    keys = sorted(set(saved) | set(current))
    diffs = [f"{k}: checkpoint {saved.get(k)!r}, this run {current.get(k)!r}" for k in keys
             if saved.get(k) != current.get(k)]
    if diffs:
        raise CheckpointError(f"{path} belongs to another run; resuming it would mix two trainings. Differences: "
                              + "; ".join(diffs) + ". Use another --out folder, or the same settings.")


# ---------------------------------------------------------------------------------------------------------
# Random states, as plain tensors and numbers (weights_only=True can read them back)
# ---------------------------------------------------------------------------------------------------------
def rng_state() -> dict[str, Any]:
    """Every random state of this process: Python, NumPy, torch's CPU generator, CUDA's and MPS's generators."""
    version, internal, gauss = random.getstate()
    kind, keys, pos, has_gauss, cached = np.random.get_state()
    state: dict[str, Any] = {
        "python": [version, list(internal), gauss],
        "numpy": [kind, torch.from_numpy(keys.astype(np.int64)), pos, has_gauss, cached],
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        state["mps"] = torch.mps.get_rng_state()
    return state


def set_rng_state(state: Mapping[str, Any]) -> None:
    """Restore what :func:`rng_state` captured."""
    version, internal, gauss = state["python"]
    random.setstate((version, tuple(internal), gauss))
    kind, keys, pos, has_gauss, cached = state["numpy"]
    np.random.set_state((kind, keys.numpy().astype(np.uint32), pos, has_gauss, cached))
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])
    if "mps" in state and getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        torch.mps.set_rng_state(state["mps"])
