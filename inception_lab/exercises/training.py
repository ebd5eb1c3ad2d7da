"""Exercises on training as the papers did: a schedule, an RMSProp step, the updates, data parallelism (ch. 8)."""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import nn

from inception_lab.exercises import Feedback, check_number
from inception_lab.papers.training import IMAGENET_TRAIN_IMAGES
from inception_lab.train import RECIPES, RMSpropTF

#: Exercise 8.1 setting: the recipe and the number of whole epochs.
RATE = dict(recipe="rethinking", epochs=9)
#: Exercise 8.2 setting: one gradient coordinate, a fresh optimizer, the paper's hyper-parameters.
FIRST_STEP = dict(gradient=0.1, lr=0.045, decay=0.9, epsilon=1.0)
#: Exercise 8.3 setting: [Rethinking, §8]'s 50 replicas x batch 32 for 100 epochs.
UPDATES = dict(replicas=50, batch_size=32, epochs=100)
#: Exercise 8.4 choices: why 2 processes x batch 8 differ from 1 process x batch 16 for mini_bn_inception.
WHY_DIFFERENT = {
    "a": "DistributedDataParallel sums the gradients of the processes instead of averaging them",
    "b": "each process's BatchNorm layers normalise with the mean and variance of its own 8 images",
    "c": "the two processes see the images in another order than the single process",
    "d": "the two processes start from different random initial weights",
}


def rate_after_epochs(answer: Any) -> Feedback:
    """Exercise 8.1: the learning rate of the ``rethinking`` recipe after 9 whole epochs."""
    recipe, k = RECIPES[RATE["recipe"]], RATE["epochs"]
    expected = recipe.lr_after_epochs(k)
    every, decay = recipe.lr_decay_every_epochs, recipe.lr_decay
    return check_number(answer, expected, what=f"the rate after {k} epochs", rel_tol=1e-6, hints={
        recipe.lr * decay ** (k / every): "That decays smoothly (an exponent of 4.5). The paper's rate is decayed "
                                          "'every two epoch': a staircase, so the exponent is floor(9 / 2).",
        recipe.lr * decay ** k: "That decays every epoch; the paper decays every two.",
        recipe.lr * decay ** math.ceil(k / every): "One decay too many: after 9 epochs only 4 full periods of two "
                                                   "epochs have ended.",
        recipe.lr * (1 - (1 - decay) * (k // every)): "That subtracts 6 % per period; the decay multiplies.",
    }, fallback=f"lr x {decay} ** floor(epochs / {every:g}), with lr = {recipe.lr}.")


def _first_step_tf() -> float:
    s = FIRST_STEP
    p = nn.Parameter(torch.zeros(1, dtype=torch.float64))
    opt = RMSpropTF([p], lr=s["lr"], decay=s["decay"], momentum=0.9, eps=s["epsilon"])
    p.grad = torch.tensor([s["gradient"]], dtype=torch.float64)
    opt.step()
    return -p.item()


def first_rmsprop_step(answer: Any) -> Feedback:
    """Exercise 8.2: the size of TensorFlow's first RMSProp step for one gradient coordinate (fresh optimizer)."""
    s = FIRST_STEP
    g, lr, rho, eps = s["gradient"], s["lr"], s["decay"], s["epsilon"]
    return check_number(answer, _first_step_tf(), what="TensorFlow's first step", rel_tol=1e-6, hints={
        lr * g / (math.sqrt((1 - rho) * g * g) + eps): "That is torch.optim.RMSprop: ε outside the root and the "
                                                       "mean square starting at 0.",
        lr * g / math.sqrt((1 - rho) * g * g + eps): "ε is inside the root, but TensorFlow's mean square starts "
                                                     "at 1, not 0: ms = 1 + 0.1 (g² - 1).",
        lr * g: "That is plain SGD; the denominator sqrt(ms + ε) is not 1 yet.",
        lr * g / math.sqrt(g * g + eps): "That is the steady state (ms = g²); after one step ms = 1 + 0.1 (g² - 1).",
    }, fallback="ms = 1 + (1 - 0.9)(g² - 1), then step = lr g / sqrt(ms + ε).")


def updates_for_100_epochs(answer: Any) -> Feedback:
    """Exercise 8.3: parameter updates of [Rethinking, §8]'s run, all 50 asynchronous replicas together."""
    u = UPDATES
    images = IMAGENET_TRAIN_IMAGES * u["epochs"]
    expected = images / u["batch_size"]
    return check_number(answer, expected, what="the number of updates", rel_tol=1e-3, hints={
        images / (u["batch_size"] * u["replicas"]): "That counts synchronous steps of one 1600-image batch. The "
                                                     "paper's replicas were asynchronous: each applied its own "
                                                     "32-image gradient (a replica's share is the same number).",
        IMAGENET_TRAIN_IMAGES / u["batch_size"]: "That is one epoch; the paper trained for 100.",
    }, fallback=f"Each update consumes one batch of {u['batch_size']} of the {IMAGENET_TRAIN_IMAGES:,} x "
                f"{u['epochs']} images.")


def why_two_processes_differ(answer: Any) -> Feedback:
    """Exercise 8.4 (conceptual): why 2 processes differ from 1 at the same global batch with BatchNorm."""
    if not isinstance(answer, str) or answer.strip().lower() not in WHY_DIFFERENT:
        return Feedback(False, f"answer with one letter of {sorted(WHY_DIFFERENT)}, got {answer!r}.")
    choice = answer.strip().lower()
    replies = {
        "a": "DDP averages the gradients (it divides the all-reduced sum by the number of processes), and the "
             "network without BatchNorm matched the single process to 1e-7: the reduction is not the cause.",
        "b": "BatchNorm in train mode normalises with batch statistics, and each process only has its share of the "
             "batch: 8 images give other means and variances than 16. SyncBatchNorm all-reduces them (on GPUs).",
        "c": "The EpochSampler deals every second index of one permutation to each process: batch k of both "
             "processes together is exactly batch k of the single process.",
        "d": "Both processes seed the same way before building the network, and DistributedDataParallel copies "
             "rank 0's weights to the others at the start anyway.",
    }
    return Feedback(choice == "b", replies[choice])
