"""``python -m inception_lab.train``: train any preset with any recipe, on a CPU, a GPU, or many under ``torchrun``.

Examples::

    python -m inception_lab.train --preset mini_inception_v3 --recipe rethinking --data shapes --epochs 3 --out runs/a
    python -m inception_lab.train ... --out runs/a --resume            # continue a run that was stopped
    torchrun --standalone --nproc_per_node=8 -m inception_lab.train --preset inception_v3 --recipe rethinking \\
        --data imagefolder:/data/imagenet --batch-size 32 --epochs 100 --out runs/v3

The run writes ``checkpoint.pt`` (every ``--checkpoint-every`` steps and at each epoch's end), ``metrics.csv`` (one
row per epoch), ``receipt.json`` (what ran, where, how well) and TensorBoard logs when tensorboard is installed,
all into ``--out``. Everything goes through :func:`inception_lab.train.fit`, the library's one training loop.
"""

from __future__ import annotations

import argparse
import ast
import dataclasses
import inspect
import json
import pathlib
import sys
from collections.abc import Sequence
from typing import Any

import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset

import inception_lab
from inception_lab import data
from inception_lab.models import PRESETS, build_model
from inception_lab.runtime import describe_device, machine_receipt, pick_device
from inception_lab.train import datasets, distributed
from inception_lab.train.loop import fit
from inception_lab.train.recipes import RECIPES, TrainingRecipe, get_recipe
from inception_lab.train.records import FitResult

#: What ``--data`` accepts: the synthetic shapes, CIFAR-10 (downloaded), a folder of class folders, random images.
DATA_KINDS = ("shapes", "cifar10", "imagefolder:PATH", "synthetic")


def default_image_size(preset: str) -> int:
    """32 px for the mini presets; the paper's input for the full networks (299 for v2/v3, 224 for v1/BN)."""
    if preset.startswith("mini_"):
        return 32
    return 299 if "inception_v" in preset else 224


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The command line; unknown presets, recipes and data kinds are refused with the allowed values."""
    p = argparse.ArgumentParser(prog="python -m inception_lab.train", description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--preset", required=True, choices=sorted(PRESETS), metavar="PRESET",
                   help=f"network to train, one of {sorted(PRESETS)}")
    p.add_argument("--recipe", default="lab_adam", choices=sorted(RECIPES), metavar="RECIPE",
                   help=f"training recipe, one of {sorted(RECIPES)}")
    p.add_argument("--lr", type=float, default=None,
                   help="initial learning rate instead of the recipe's (e.g. scaled for a larger global batch)")
    p.add_argument("--data", default="shapes", help=f"one of {DATA_KINDS}")
    p.add_argument("--out", required=True, type=pathlib.Path, help="folder for checkpoint, metrics and receipt")
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--batch-size", type=int, default=32, help="images per process per step")
    p.add_argument("--resume", action="store_true", help="continue from OUT/checkpoint.pt")
    p.add_argument("--checkpoint-every", type=int, default=None, help="also checkpoint every N steps")
    p.add_argument("--max-steps", type=int, default=None)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--image-size", type=int, default=None, help="default: 32 for mini presets, else the paper's")
    p.add_argument("--n-train", type=int, default=3000, help="shapes/synthetic: training images")
    p.add_argument("--n-test", type=int, default=1000, help="shapes: test images (0: no validation)")
    p.add_argument("--num-classes", type=int, default=None, help="synthetic data: classes (default 1000)")
    p.add_argument("--cifar-root", default="data", help="where CIFAR-10 is, or is downloaded to")
    p.add_argument("--augment", action="store_true", help="cifar10/imagefolder: random crops/flips")
    p.add_argument("--option", action="append", default=[], metavar="KEY=VALUE",
                   help="a builder option of the preset, e.g. aux_logits=False (repeatable)")
    p.add_argument("--device", default=None, help="cuda, mps or cpu (default: the best available)")
    p.add_argument("--amp", default="auto", choices=("auto", "on", "off"), help="mixed precision (CUDA only)")
    p.add_argument("--channels-last", default="auto", choices=("auto", "on", "off"), help="auto: on for CUDA")
    p.add_argument("--sync-bn", action="store_true", help="synchronise BatchNorm across processes (CUDA)")
    p.add_argument("--workers", type=int, default=0, help="data-loader worker processes")
    p.add_argument("--threads", type=int, default=None, help="CPU threads per process (default: torch's)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    return p.parse_args(argv)


def parse_options(pairs: Sequence[str]) -> dict[str, Any]:
    """``["aux_logits=False", "width_divisor=4"]`` -> ``{"aux_logits": False, "width_divisor": 4}``."""
    options = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.isidentifier():
            raise ValueError(f"--option needs KEY=VALUE with a Python literal value, got {pair!r}.")
        try:
            options[key] = ast.literal_eval(value)
        except (ValueError, SyntaxError):
            options[key] = value  # a bare word: a string option such as first_conv=plain
    return options


def make_datasets(args: argparse.Namespace, image_size: int) -> tuple[Dataset, Dataset | None, int]:
    """The training set, the validation set (or ``None``) and the number of classes that ``--data`` names."""
    kind = args.data
    if kind == "shapes":
        train_set, test_set = data.make_splits(args.n_train, max(args.n_test, 1), image_size, seed=0)
        return train_set, test_set if args.n_test else None, len(data.CLASS_NAMES)
    if kind == "cifar10":
        train_set = data.cifar10(args.cifar_root, train=True, transform=data.cifar10_transform(args.augment))
        return train_set, data.cifar10(args.cifar_root, train=False), 10
    if kind == "synthetic":
        classes = args.num_classes or 1000
        return datasets.synthetic_images(args.n_train, image_size, classes), None, classes
    if kind.startswith("imagefolder:"):
        root = pathlib.Path(kind.removeprefix("imagefolder:"))
        if (root / "train").is_dir():
            train_set = datasets.imagefolder(root / "train", image_size, args.augment)
            val = datasets.imagefolder(root / "val", image_size) if (root / "val").is_dir() else None
        else:
            train_set, val = datasets.imagefolder(root, image_size, args.augment), None
        return train_set, val, len(train_set.classes)
    raise ValueError(f"--data must be one of {DATA_KINDS}, got {kind!r}.")


def training_recipe(args: argparse.Namespace) -> TrainingRecipe:
    """The ``--recipe``, with ``--lr`` in place of its initial rate when given."""
    recipe = get_recipe(args.recipe)
    return recipe if args.lr is None else recipe.replace(lr=args.lr)


def build(args: argparse.Namespace, num_classes: int) -> nn.Module:
    """The preset with the recipe's model options (dropout, when the builder takes it) and ``--option`` ones."""
    recipe = training_recipe(args)
    accepted = inspect.signature(PRESETS[args.preset]).parameters
    options = {k: v for k, v in recipe.model_options().items() if k in accepted}
    options.update(parse_options(args.option))
    return build_model(args.preset, num_classes=num_classes, **options)


def check_args(args: argparse.Namespace) -> None:
    """Numbers in range, before any process group, data or file (a bad argument leaves nothing behind)."""
    for name in ("epochs", "batch_size"):
        if getattr(args, name) < 1:
            raise ValueError(f"--{name.replace('_', '-')} must be >= 1, got {getattr(args, name)}.")
    for name in ("checkpoint_every", "max_steps", "threads", "image_size", "num_classes"):
        value = getattr(args, name)
        if value is not None and value < 1:
            raise ValueError(f"--{name.replace('_', '-')} must be >= 1, got {value}.")
    if args.lr is not None and not args.lr > 0:
        raise ValueError(f"--lr must be > 0, got {args.lr}.")
    if args.workers < 0 or args.n_train < 1 or args.n_test < 0:
        raise ValueError("--workers and --n-test must be >= 0, --n-train >= 1.")
    if not (args.data in ("shapes", "cifar10", "synthetic") or args.data.startswith("imagefolder:")):
        raise ValueError(f"--data must be one of {DATA_KINDS}, got {args.data!r}.")
    if args.resume and not (args.out / "checkpoint.pt").is_file():
        raise ValueError(f"--resume: no checkpoint at {args.out / 'checkpoint.pt'} (drop --resume to start anew).")


def train(args: argparse.Namespace, model: nn.Module | None = None) -> FitResult:
    """Run the command line's training; ``model`` replaces the preset (a benchmark passes torchvision's network).

    Under ``torchrun`` each process trains on its share of every batch; only rank 0 prints and writes files.
    """
    check_args(args)
    device = pick_device(args.device)
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    procs = distributed.init(device.type)
    if device.type == "cuda" and procs.distributed:
        device = torch.device("cuda", procs.local_rank)
    try:
        image_size = args.image_size or default_image_size(args.preset)
        train_set, val_set, num_classes = make_datasets(args, image_size)
        if len(train_set) < procs.world_size:
            raise ValueError(f"the training set has {len(train_set)} images, fewer than the {procs.world_size} "
                             "processes: every process needs at least one.")
        torch.manual_seed(args.seed)  # the same initial weights on every process (DDP also copies rank 0's)
        model = build(args, num_classes) if model is None else model
        if args.sync_bn:
            if device.type != "cuda":
                raise ValueError("--sync-bn needs CUDA: torch's SyncBatchNorm rejects CPU inputs. On CPUs each "
                                 "process normalises its own share of the batch (chapter 8 measures the effect).")
            model = nn.SyncBatchNorm.convert_sync_batchnorm(model)
        sampler = distributed.EpochSampler(train_set, num_replicas=procs.world_size, rank=procs.rank,
                                           seed=args.seed)
        pin = device.type == "cuda"
        train_loader = DataLoader(train_set, batch_size=args.batch_size, sampler=sampler, num_workers=args.workers,
                                  pin_memory=pin, generator=torch.Generator())
        val_loader = None if val_set is None else DataLoader(val_set, batch_size=max(256, args.batch_size),
                                                             num_workers=args.workers, pin_memory=pin)
        on_cuda = device.type == "cuda"
        channels_last = args.channels_last == "on" or (args.channels_last == "auto" and on_cuda)
        amp = {"auto": None, "on": True, "off": False}[args.amp]
        run_info = dict(preset=args.preset, options=parse_options(args.option), data=args.data,
                        image_size=image_size, n_train=len(train_set))
        if procs.is_main:
            print(f"{args.preset} | recipe {training_recipe(args).name} | {args.data}: {len(train_set):,} training "
                  f"images, {num_classes} classes | {procs.world_size} process(es) x batch {args.batch_size} = "
                  f"{procs.world_size * args.batch_size} per step | {describe_device(device)}", flush=True)
        result = fit(model, train_loader, epochs=args.epochs, recipe=training_recipe(args), val_loader=val_loader,
                     device=device, amp=amp, seed=args.seed, progress=not args.no_progress, max_steps=args.max_steps,
                     out_dir=args.out, checkpoint_every=args.checkpoint_every, resume=args.resume,
                     run_info=run_info, channels_last=channels_last)
        if procs.is_main:
            write_receipt(args, result, run_info)
            print(result.receipt.format(), flush=True)
        return result
    finally:
        distributed.shutdown()


def write_receipt(args: argparse.Namespace, result: FitResult, run_info: dict[str, Any]) -> None:
    """``OUT/receipt.json``: the command, the run, the receipt, the final metrics and the machine."""
    record = dict(command=sys.argv, arguments={k: str(v) if isinstance(v, pathlib.Path) else v
                                               for k, v in vars(args).items()},
                  run=run_info, recipe=training_recipe(args).to_dict(), receipt=dataclasses.asdict(result.receipt),
                  library_version=inception_lab.__version__, machine=machine_receipt())
    (args.out / "receipt.json").write_text(json.dumps(record, indent=1, default=str) + "\n")


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m inception_lab.train`` and the ``inception-lab-train`` console script."""
    args = parse_args(argv)
    try:
        train(args)
    except (ValueError, FileNotFoundError, ImportError, RuntimeError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0
