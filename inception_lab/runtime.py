"""Where and how code runs: device selection (CUDA, Apple MPS, CPU) and seeding for reproducible chapters.

Two environment variables change how a chapter runs without editing it:

* ``INCEPTION_LAB_DEVICE`` forces a device (:func:`pick_device`);
* ``INCEPTION_LAB_SEED=K`` shifts every seed of the library by ``K`` (:func:`effective_seed`), so a notebook written
  with seed 0 runs with seed ``K``: other initial weights, other data, another batch order, other dropout masks.
  CI runs every chapter once this way (``scripts/colab_like_check.sh``), to check that what the prose claims does
  not depend on the seed (CONTRIBUTING.md, "Exact and measured outputs"). Unset, empty or ``0``: every seed is used
  as written.
"""

from __future__ import annotations

import os
import pathlib
import platform
import random

import numpy as np
import torch

from inception_lab.checks import check_non_negative_int

DEVICE_TYPES = ("cuda", "mps", "cpu")
#: Environment variable that shifts every seed (see :func:`effective_seed`).
SEED_ENV = "INCEPTION_LAB_SEED"


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


def resolve_device(device: str | torch.device | None) -> torch.device:
    """``None`` -> :func:`pick_device`; a string such as ``"cuda:1"`` or a ``torch.device`` -> that device.

    Raises:
        ValueError: for anything else.
    """
    if device is None:
        return pick_device()
    if isinstance(device, torch.device):
        return device
    if isinstance(device, str):
        return torch.device(device)
    raise ValueError(f"device must be None (auto), a string such as 'cpu' or 'cuda', or a torch.device; "
                     f"got {device!r}.")


def autocast_dtype(amp: bool | None, device: torch.device) -> torch.dtype | None:
    """The mixed-precision dtype for ``device``: on CUDA only (``amp=None`` means on), bfloat16 where supported.

    float16 otherwise (it then needs a ``GradScaler``); ``None`` on the CPU and MPS, which train in float32
    (autocast there is slow or partial), and with ``amp=False``.

    Raises:
        ValueError: if ``amp`` is not True, False or None.
    """
    if amp is not None and not isinstance(amp, bool):
        raise ValueError(f"amp must be True, False or None (auto: on for CUDA), got {amp!r}.")
    if amp is False or device.type != "cuda":
        return None
    return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16


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


def seed_offset() -> int:
    """The shift that ``INCEPTION_LAB_SEED`` asks for: its value, or 0 when it is unset or empty.

    Raises:
        ValueError: if the variable is set to anything but a non-negative integer.
    """
    value = os.environ.get(SEED_ENV, "").strip()
    if not value:
        return 0
    if not value.isdigit():
        raise ValueError(f"{SEED_ENV} must be a non-negative integer (a seed offset), got {value!r}.")
    return int(value)


def effective_seed(seed: int) -> int:
    """The seed actually used for ``seed``: ``seed + K`` under ``INCEPTION_LAB_SEED=K``, else ``seed`` itself.

    Every seeded function of the library goes through this one function (:func:`seed_everything`,
    :func:`inception_lab.train.fit`, :func:`inception_lab.data.loaders` and
    :func:`inception_lab.data.make_shapes_dataset`), so one variable runs a whole notebook "with another seed",
    and seeds that differ in the notebook still differ. Without the variable nothing changes, bit for bit.

    Raises:
        ValueError: if ``seed`` is not a non-negative integer, or the variable is invalid.
    """
    return check_non_negative_int("seed", seed) + seed_offset()


def seed_everything(seed: int) -> torch.Generator:
    """Seed Python, NumPy and torch (all devices); returns a CPU ``torch.Generator`` seeded the same way.

    The seed used is :func:`effective_seed` ``(seed)``: ``seed`` itself unless the environment variable
    ``INCEPTION_LAB_SEED=K`` is set, which shifts it by ``K`` (run a whole notebook with another seed without
    editing it: ``INCEPTION_LAB_SEED=1 jupyter lab``). Draw a notebook's own random numbers from the returned
    generator, or from the global ones, never from a ``torch.Generator().manual_seed(0)`` of its own, so that the
    variable reaches them too.
    """
    seed = effective_seed(seed)
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)  # also seeds CUDA and MPS
    return torch.Generator().manual_seed(seed)


def cpu_model() -> str:
    """The processor's model name (``/proc/cpuinfo`` on Linux, else what ``platform`` knows), for receipts."""
    try:
        for line in pathlib.Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def load_average() -> list[float] | None:
    """The 1, 5 and 15-minute load averages (``None`` where the OS has none): how busy the machine was."""
    try:
        return [round(v, 2) for v in os.getloadavg()]
    except (AttributeError, OSError):
        return None


def machine_receipt() -> dict[str, object]:
    """The machine a benchmark ran on, for its results file (every benchmark records this one dict).

    Keys: ``cpu_model``, ``logical_cpus``, ``cpu_capability`` (the SIMD level ATen's kernels use, e.g. ``AVX512``),
    ``threads`` (``torch.get_num_threads()`` when the receipt is taken), ``cuda_device`` (the CUDA device's name,
    or ``None``), ``platform``, ``python``, ``torch_version`` and ``load_average`` (1, 5, 15 min: how busy the machine
    was; take the receipt at the end of a run).
    """
    return dict(cpu_model=cpu_model(), logical_cpus=os.cpu_count(),
                cpu_capability=torch.backends.cpu.get_cpu_capability(), threads=torch.get_num_threads(),
                cuda_device=torch.cuda.get_device_name() if torch.cuda.is_available() else None,
                platform=platform.platform(), python=platform.python_version(), torch_version=torch.__version__,
                load_average=load_average())
