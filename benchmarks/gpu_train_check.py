"""Training throughput on a GPU: our ``inception_v3`` and torchvision's, the same entry point, DDP on 1 GPU.

Usage (one command, on a machine with a CUDA GPU; a few minutes):
    python benchmarks/gpu_train_check.py
    python benchmarks/gpu_train_check.py --dry-run      # CPU, tiny: checks the path end to end (tests run this)

For each network the script launches ``torchrun --standalone --nproc_per_node=1`` on itself; the worker runs the
command line's training (:func:`inception_lab.train.cli.train`, so the same loop, DistributedDataParallel, the
``rethinking`` recipe with RMSProp-TF, clipping and the EMA, mixed precision and ``channels_last`` on CUDA) on
synthetic 299x299 images (:func:`inception_lab.train.datasets.synthetic_images`: nothing to learn, only speed).
torchvision's ``inception_v3(weights=None)`` returns ``InceptionOutputs`` in train mode; :class:`TorchvisionAux`
turns that into our ``AuxOutputs`` so the loss and everything else are identical. Recorded per network: images per
second over the epochs after the first (warm-up: cuDNN autotuning, allocator), peak GPU memory
(``torch.cuda.max_memory_allocated``), the parameter count, and the machine. Writes
``benchmarks/results/gpu_train_check.json`` and ``.md`` (``--dry-run``: ``gpu_train_check_dry_run.json`` under
``--results``).
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile
from datetime import datetime, timezone

import torch
from torch import nn

ROOT = pathlib.Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
NETWORKS = ("ours", "torchvision")
#: The GPU run: 1024 synthetic 299-px images (1.1 GB in host memory), batch 64, 8 epochs of 16 steps.
FULL = dict(image_size=299, n_train=1024, batch_size=64, epochs=8, device="cuda")
#: The CPU dry run: the 299-px input (smaller ones starve the auxiliary head), 2 steps of 2 images, gloo.
DRY_RUN = dict(image_size=299, n_train=2, batch_size=2, epochs=2, device="cpu")


class TorchvisionAux(nn.Module):
    """torchvision's Inception-v3 with our output convention: ``AuxOutputs(logits, (aux,))`` in train mode."""

    def __init__(self, network: nn.Module) -> None:
        super().__init__()
        self.network = network

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        from inception_lab.nn.losses import AuxOutputs

        out = self.network(x)
        if self.training and hasattr(out, "aux_logits") and out.aux_logits is not None:
            return AuxOutputs(out.logits, (out.aux_logits,))  # N x 1000, (N x 1000,)
        return out


def worker(network: str, settings: dict, out: pathlib.Path) -> None:
    """Under torchrun: train ``network`` through the command line's ``train``; write ``out/throughput.json``."""
    from inception_lab.train import cli

    argv = ["--preset", "inception_v3", "--recipe", "rethinking", "--data", "synthetic", "--num-classes", "1000",
            "--image-size", str(settings["image_size"]), "--n-train", str(settings["n_train"]), "--batch-size",
            str(settings["batch_size"]), "--epochs", str(settings["epochs"]), "--device", settings["device"],
            "--out", str(out), "--no-progress"]
    args = cli.parse_args(argv)
    torch.manual_seed(0)
    if network == "torchvision":
        import torchvision

        model = TorchvisionAux(torchvision.models.inception_v3(weights=None, aux_logits=True, init_weights=True))
    else:
        model = cli.build(args, num_classes=1000)
    on_cuda = settings["device"] == "cuda"
    if on_cuda:
        torch.cuda.reset_peak_memory_stats()
    history, receipt = cli.train(args, model=model)
    warm = history.epoch_time_s[1:] or history.epoch_time_s
    images = settings["n_train"] * len(warm)  # one process: every image once per epoch
    record = dict(network=network, images_per_s=images / sum(warm), epoch_time_s=history.epoch_time_s,
                  peak_memory_gib=torch.cuda.max_memory_allocated() / 2**30 if on_cuda else None,
                  parameters=sum(p.numel() for p in model.parameters()),
                  amp=receipt.amp, device=receipt.device, steps=receipt.steps, final_train_loss=history.train_loss[-1])
    (out / "throughput.json").write_text(json.dumps(record, indent=1) + "\n")


def launch(network: str, dry_run: bool, out: pathlib.Path) -> dict:
    """``torchrun --standalone --nproc_per_node=1`` on this file's worker; returns its throughput record."""
    torchrun = shutil.which("torchrun", path=os.path.dirname(sys.executable)) or shutil.which("torchrun")
    if torchrun is None:
        raise RuntimeError("torchrun is not installed next to this Python (it comes with torch).")
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    command = [torchrun, "--standalone", "--nproc_per_node=1", __file__, "--worker", network, "--out", str(out)]
    result = subprocess.run(command + (["--dry-run"] if dry_run else []), env=env, capture_output=True, text=True,
                            timeout=1800)
    if result.returncode != 0:
        raise RuntimeError(f"{network}: torchrun failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    return json.loads((out / "throughput.json").read_text())


def machine() -> dict:
    from inception_lab.runtime import machine_receipt

    gpu = None
    if torch.cuda.is_available():
        props = torch.cuda.get_device_properties(0)
        gpu = dict(name=props.name, memory_gib=props.total_memory / 2**30, capability=f"{props.major}.{props.minor}",
                   cuda=torch.version.cuda, cudnn=torch.backends.cudnn.version())
    return dict(gpu=gpu, **machine_receipt())


def main(argv: list[str] | None = None) -> dict | None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dry-run", action="store_true", help="CPU, tiny: check the path, measure nothing")
    parser.add_argument("--results", type=pathlib.Path, default=RESULTS, help="folder for the results files")
    parser.add_argument("--worker", choices=NETWORKS, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=pathlib.Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    settings = DRY_RUN if args.dry_run else FULL
    if args.worker:
        worker(args.worker, settings, args.out)
        return None
    if not args.dry_run and not torch.cuda.is_available():
        raise SystemExit("no CUDA GPU here: run this on a GPU machine, or pass --dry-run to check the path on CPU.")
    with tempfile.TemporaryDirectory() as tmp:
        runs = [launch(network, args.dry_run, pathlib.Path(tmp) / network) for network in NETWORKS]
    import inception_lab

    record = dict(dry_run=args.dry_run, settings=settings, recipe="rethinking", runs=runs, machine=machine(),
                  torch=torch.__version__, library_version=inception_lab.__version__,
                  date=datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC"),
                  command="python benchmarks/gpu_train_check.py" + (" --dry-run" if args.dry_run else ""))
    name = "gpu_train_check_dry_run" if args.dry_run else "gpu_train_check"
    args.results.mkdir(parents=True, exist_ok=True)
    (args.results / f"{name}.json").write_text(json.dumps(record, indent=1) + "\n")
    title = f"# Training throughput, inception_v3 at {settings['image_size']} px"
    lines = [title + (" (dry run)" if args.dry_run else ""),
             "", f"{record['date']}; {record['machine']['gpu'] or record['machine']['cpu_model']}; torch "
             f"{record['torch']}; batch {settings['batch_size']}, 1 process (DDP), recipe rethinking", "",
             "| network | images/s | peak memory (GiB) | parameters | amp |", "|---|---:|---:|---:|---|"]
    for r in runs:
        memory = "-" if r["peak_memory_gib"] is None else f"{r['peak_memory_gib']:.1f}"
        lines.append(f"| {r['network']} | {r['images_per_s']:.0f} | {memory} | {r['parameters']:,} | {r['amp']} |")
    (args.results / f"{name}.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return record


if __name__ == "__main__":
    main()
