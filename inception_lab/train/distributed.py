"""Data-parallel training with ``torchrun``: one process per device, each on its share of every global batch.

[Rethinking, §8] trained on "50 replicas ... with batch size 32": 50 workers, each computing gradients on its own
32 images. ``torchrun --nproc_per_node=N`` starts N processes and tells each its rank through the environment
(``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK``); :func:`init` joins them into one process group (NCCL between GPUs, gloo
on CPUs), and ``DistributedDataParallel`` averages the gradients of all processes after every backward pass, so
each step is one synchronous step on the global batch (the paper's replicas were asynchronous: each applied its
own gradient to shared parameters; synchronous data parallelism is today's equivalent).

:class:`EpochSampler` deals the data: in each epoch a permutation drawn from (seed, epoch) alone, process ``r`` of
``N`` taking every N-th index from ``r``. Batch ``k`` of all processes together is then exactly batch ``k`` of one
process with an N times larger batch, which is why a 2-process run equals a 1-process run at the same global
batch (up to the order of floating-point sums, and BatchNorm, which normalises each process's share alone unless
it is synchronised). It can start an epoch part-way, which is how a checkpoint resumes mid-epoch.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import torch
import torch.distributed as dist
from torch.utils.data import Dataset, DistributedSampler

from inception_lab.checks import check_non_negative_int

#: The environment variables ``torchrun`` sets for each process.
TORCHRUN_ENV = ("RANK", "WORLD_SIZE", "LOCAL_RANK")


@dataclass(frozen=True)
class Processes:
    """Where this process stands among the processes of a run (one process: rank 0 of 1)."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def is_main(self) -> bool:
        """Rank 0: the process that logs, shows progress and writes files."""
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.world_size > 1


def launched_by_torchrun() -> bool:
    """Whether ``torchrun`` (or another launcher setting the same variables) started this process."""
    return all(name in os.environ for name in TORCHRUN_ENV)


def init(device_type: str) -> Processes:
    """Join the process group ``torchrun`` set up (NCCL for CUDA, gloo otherwise); one process when not launched.

    Returns:
        This process's :class:`Processes`. Under ``torchrun`` on CUDA, the process's device is ``cuda:LOCAL_RANK``.
    """
    if not launched_by_torchrun():
        return Processes()
    rank, world, local = (int(os.environ[name]) for name in TORCHRUN_ENV)
    if not dist.is_initialized():
        dist.init_process_group(backend="nccl" if device_type == "cuda" else "gloo")
    if device_type == "cuda":
        torch.cuda.set_device(local)
    return Processes(rank, world, local)


def current() -> Processes:
    """The process group this process belongs to (rank 0 of 1 when there is none)."""
    if dist.is_available() and dist.is_initialized():
        return Processes(dist.get_rank(), dist.get_world_size(), int(os.environ.get("LOCAL_RANK", 0)))
    return Processes()


def shutdown() -> None:
    """Leave the process group (a no-op without one)."""
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


def all_sum(values: list[float], device: torch.device) -> list[float]:
    """Element-wise sums of ``values`` over all processes (the values themselves with one process)."""
    if not current().distributed:
        return values
    t = torch.tensor(values, dtype=torch.float64, device=device)
    dist.all_reduce(t, op=dist.ReduceOp.SUM)
    return t.tolist()


def gather(obj: Any) -> list[Any]:
    """Every process's ``obj`` in rank order (``[obj]`` with one process)."""
    procs = current()
    if not procs.distributed:
        return [obj]
    out: list[Any] = [None] * procs.world_size
    dist.all_gather_object(out, obj)
    return out


def from_main(obj: Any) -> Any:
    """Rank 0's ``obj`` on every process."""
    if not current().distributed:
        return obj
    box = [obj]
    dist.broadcast_object_list(box, src=0)
    return box[0]


def barrier() -> None:
    """Wait until every process reaches this line."""
    if current().distributed:
        dist.barrier()


class EpochSampler(DistributedSampler):
    """Each process's indices of an epoch, a function of (seed, epoch) only; can start an epoch part-way.

    ``torch.utils.data.DistributedSampler`` with ``set_start(n)``: the next epoch's iteration skips this process's
    first ``n`` indices (a resumed run's position), then later epochs start at 0 again. With one process it is a
    seeded shuffle whose order does not depend on any other random state.
    """

    def __init__(self, dataset: Dataset, *, num_replicas: int = 1, rank: int = 0, shuffle: bool = True,
                 seed: int = 0) -> None:
        super().__init__(dataset, num_replicas=num_replicas, rank=rank, shuffle=shuffle, seed=seed, drop_last=False)
        self.start = 0

    def set_start(self, start: int) -> None:
        """Skip this process's first ``start`` indices in the next epoch."""
        self.start = check_non_negative_int("start", start)

    def __iter__(self) -> Iterator[int]:
        indices = list(super().__iter__())[self.start:]
        self.start = 0  # only the resumed epoch starts part-way
        return iter(indices)

    def __len__(self) -> int:
        return self.num_samples - self.start
