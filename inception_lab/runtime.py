"""Where and how code runs: device selection (CUDA, Apple MPS, CPU) and seeding for reproducible chapters."""

from __future__ import annotations

import os
import random

import numpy as np
import torch

DEVICE_TYPES = ("cuda", "mps", "cpu")


def pick_device(prefer: str | None = None) -> torch.device:
    """The best available device: CUDA, then Apple's MPS, then the CPU.

    Args:
        prefer: force a device type (``"cuda"``, ``"mps"`` or ``"cpu"``); the environment variable
            ``INCEPTION_LAB_DEVICE`` does the same without editing a notebook.

    Raises:
        ValueError: if the preferred device is unknown or not available on this machine.
    """
    prefer = prefer or os.environ.get("INCEPTION_LAB_DEVICE") or None
    available = {"cuda": torch.cuda.is_available(),
                 "mps": getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available(),
                 "cpu": True}
    if prefer is not None:
        if prefer not in DEVICE_TYPES:
            raise ValueError(f"unknown device {prefer!r}; choose one of {DEVICE_TYPES}.")
        if not available[prefer]:
            raise ValueError(f"device {prefer!r} is not available here; available: "
                             f"{[d for d in DEVICE_TYPES if available[d]]}.")
        return torch.device(prefer)
    return torch.device(next(d for d in DEVICE_TYPES if available[d]))


def describe_device(device: torch.device) -> str:
    """A one-line description, e.g. ``'cuda (NVIDIA H100 80GB HBM3)'`` or ``'cpu (2 threads)'``."""
    if device.type == "cuda":
        return f"cuda ({torch.cuda.get_device_name(device)})"
    if device.type == "cpu":
        threads = torch.get_num_threads()
        return f"cpu ({threads} thread{'s' if threads != 1 else ''})"
    return device.type


def use_reproducible_threads(device: torch.device) -> None:
    """On the CPU, compute with a single thread; do nothing on other devices.

    Parallel CPU kernels split sums differently for different thread counts, so training results would depend
    on the reader's core count and a notebook's stored outputs could not be reproduced elsewhere. The book's
    small networks lose little speed with one thread (on a shared 2-core CPU they often gain).
    """
    if device.type == "cpu":
        torch.set_num_threads(1)


def seed_everything(seed: int) -> torch.Generator:
    """Seed Python, NumPy and torch (all devices); returns a CPU ``torch.Generator`` seeded the same way."""
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}.")
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)  # also seeds CUDA and MPS
    return torch.Generator().manual_seed(seed)
