"""How the papers trained their networks, as data: [GoogLeNet, §6], [BN, §4.2-§4.2.2], [Rethinking, §7-§8].

Each recipe is a mapping from a setting's name to a :class:`Setting`: its value, whether the paper states it
(``stated=True``, with the section and the words) or we chose it (``stated=False``, with the source of the choice:
a released training script, another sentence of the same group, or our reasoning). Nothing is a silent default:
``tests/test_recipes.py`` checks that every recipe names every setting in :data:`SETTINGS`.

Where a choice comes from a released script, it is one of two TensorFlow programs the Inception authors' colleagues
published: TF-slim's ``research/slim/train_image_classifier.py`` (flags such as ``--weight_decay 0.00004``,
``--opt_epsilon 1.0``, ``--rmsprop_momentum 0.9``) and the older ``research/inception`` trainer for Inception-v3
(``inception_train.py``: ``RMSPROP_MOMENTUM = 0.9``, ``RMSPROP_EPSILON = 1.0``; ``inception_model.py``:
``MOVING_AVERAGE_DECAY = 0.9999``, weight decay 0.00004 on every convolution and fully connected layer, the
auxiliary loss weighted 0.4, label smoothing 0.1). :mod:`inception_lab.train.recipes` turns a recipe into an
optimizer, a schedule and regularizers for any preset. Chapter 8 (``notebooks/08_training.ipynb``) shows them side
by side.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from inception_lab.papers.rethinking import TRAINING as RETHINKING_SECTION_8


@dataclass(frozen=True)
class Setting:
    """One training setting of a paper's recipe: the value and where it comes from.

    Attributes:
        value: the setting (a number, a name, or ``None`` for "off" / "the preset's own").
        stated: ``True`` when the paper states it; ``False`` when it is our choice.
        source: the section and words of the paper, or the source and reason of the choice.
    """

    value: Any
    stated: bool
    source: str


def paper(value: Any, source: str) -> Setting:
    """A setting the paper states (``source``: section and words)."""
    return Setting(value, True, source)


def chosen(value: Any, source: str) -> Setting:
    """A setting the paper leaves unsaid, with the source of our choice."""
    return Setting(value, False, source)


#: Every setting a recipe names, in the order the chapter prints them, with what each means.
SETTINGS: dict[str, str] = {
    "optimizer": "'momentum' (SGD with momentum), 'rmsprop_tf' (TensorFlow's RMSProp) or 'adam'",
    "momentum": "momentum coefficient (SGD's, or RMSProp's momentum on the lr-scaled step)",
    "rmsprop_decay": "RMSProp's decay of the running mean square (None for other optimizers)",
    "epsilon": "RMSProp's epsilon, inside the square root (None for other optimizers)",
    "lr": "initial learning rate, per step of one replica's batch",
    "lr_decay": "factor applied to the learning rate at each decay (1.0: constant)",
    "lr_decay_every_epochs": "epochs between two decays (a staircase, as TensorFlow's exponential_decay)",
    "warmup_epochs": "epochs of linear learning-rate warm-up before the schedule (0: none)",
    "weight_decay": "L2 penalty coefficient on the weights",
    "grad_clip_norm": "largest global gradient norm (None: no clipping)",
    "averaging": "parameter averaging for evaluation: 'polyak' (uniform mean), 'ema' or None",
    "averaging_decay": "EMA decay (None unless averaging is 'ema')",
    "averaging_start": "fraction of the run after which the average starts collecting",
    "label_smoothing": "epsilon of label-smoothing regularization (0: one-hot targets)",
    "aux_weight": "weight of each auxiliary classifier's loss",
    "dropout": "dropout before the classifier (None: the preset's own)",
    "batch_size": "images per replica per step",
    "replicas": "replicas (workers) training at once",
    "epochs": "passes over ImageNet's 1.28 million training images",
}

_SLIM = "TF-slim train_image_classifier.py"
_V3_TRAINER = "the Inception-v3 trainer of tensorflow/models (research/inception)"

#: [GoogLeNet, §6]: DistBelief, asynchronous SGD with momentum, a staircase schedule, Polyak averaging.
GOOGLENET: dict[str, Setting] = {
    "optimizer": paper("momentum", "§6: 'asynchronous stochastic gradient descent with 0.9 momentum'"),
    "momentum": paper(0.9, "§6: 'with 0.9 momentum'"),
    "rmsprop_decay": chosen(None, "not RMSProp"),
    "epsilon": chosen(None, "not RMSProp"),
    "lr": chosen(0.0015, "unstated; [BN, §4.2.2] trained its 'Inception' (GoogLeNet with two 3x3 for each 5x5) "
                         "'with the initial learning rate of 0.0015', batch 32, SGD with momentum"),
    "lr_decay": paper(0.96, "§6: 'decreasing the learning rate by 4% every 8 epochs'"),
    "lr_decay_every_epochs": paper(8, "§6: 'every 8 epochs'"),
    "warmup_epochs": chosen(0.0, "no warm-up is mentioned (warm-up came with large-batch training, after 2016)"),
    "weight_decay": chosen(0.0002, "unstated; [BN, §4.2.1] reduced Inception's L2 weight 'by a factor of 5' for "
                                   f"BN-x5, and {_SLIM} uses 0.00004 for the batch-normalized networks: 5 x 0.00004"),
    "grad_clip_norm": chosen(None, "no clipping is mentioned"),
    "averaging": paper("polyak", "§6: 'Polyak averaging [13] was used to create the final model used at "
                                 "inference time'"),
    "averaging_decay": chosen(None, "Polyak-Juditsky averaging is the uniform mean of the iterates"),
    "averaging_start": chosen(0.5, "unstated; we average the second half of the run, since the uniform mean from "
                                   "step 0 would keep the random initial weights in the average"),
    "label_smoothing": chosen(0.0, "label smoothing came later ([Rethinking, §7])"),
    "aux_weight": paper(0.3, "§5: 'the losses of the auxiliary classifiers were weighted by 0.3'"),
    "dropout": chosen(None, "the preset's own (Table 1: 40 % before the classifier)"),
    "batch_size": chosen(32, "unstated; [BN, §4.2] trained its GoogLeNet-like 'Inception' with 'the mini-batch "
                             "size of 32'"),
    "replicas": chosen(None, "unstated: 'DistBelief ... modest amount of model and data-parallelism' (§6)"),
    "epochs": chosen(None, "unstated: §6 reports no number of epochs"),
}

#: [BN, §4.2.2] "BN-Baseline: Same as Inception with Batch Normalization before each nonlinearity."
BN_BASELINE: dict[str, Setting] = {
    **GOOGLENET,
    "optimizer": paper("momentum", "[BN, §4.2]: 'Stochastic Gradient Descent with momentum'"),
    "momentum": chosen(0.9, "unstated in [BN]; [GoogLeNet, §6]'s 0.9"),
    "lr": paper(0.0015, "§4.2.2: 'Inception: ... trained with the initial learning rate of 0.0015'; "
                        "BN-Baseline: 'Same as Inception'"),
    "lr_decay": chosen(0.96, "§4.2.1: Inception's 'learning rate was decayed exponentially'; the rate is "
                             "[GoogLeNet, §6]'s 4 % every 8 epochs"),
    "lr_decay_every_epochs": chosen(8, "[GoogLeNet, §6]'s 8 epochs"),
    "averaging": chosen(None, "[BN] mentions no parameter averaging for evaluation"),
    "averaging_decay": chosen(None, "no averaging"),
    "averaging_start": chosen(None, "no averaging"),
    "aux_weight": chosen(0.3, "[BN] does not mention auxiliary classifiers; [GoogLeNet, §5]'s 0.3 for presets "
                              "that have them"),
    "batch_size": paper(32, "§4.2: 'using the mini-batch size of 32'"),
    "replicas": chosen(None, "unstated: 'a large-scale, distributed architecture' (§4.2)"),
    "epochs": chosen(None, "[BN] counts steps, not epochs (Fig. 3: BN-x5 reached 72.2 % after 2.1 million steps)"),
}

#: [BN, §4.2.1] the changes of "BN-x5" on top of BN-Baseline, and §4.2.2's rate.
BN_X5: dict[str, Setting] = {
    **BN_BASELINE,
    "lr": paper(0.0075, "§4.2.2: 'The initial learning rate was increased by a factor of 5, to 0.0075'"),
    "lr_decay_every_epochs": paper(8 / 6, "§4.2.1: 'we lower the learning rate 6 times faster' (than Inception: "
                                          "8 / 6 epochs between decays of 4 %, our reading)"),
    "weight_decay": paper(0.00004, f"§4.2.1: 'the weight of this loss is reduced by a factor of 5' (0.0002 / 5; "
                                   f"{_SLIM}'s 0.00004)"),
    "dropout": paper(0.0, "§4.2.1: 'Remove Dropout'"),
}

#: [BN, §4.2.2] "BN-x30: Like BN-x5, but with the initial learning rate 0.045 (30 times that of Inception)."
BN_X30: dict[str, Setting] = {
    **BN_X5,
    "lr": paper(0.045, "§4.2.2: 'BN-x30: Like BN-x5, but with the initial learning rate 0.045'"),
}

#: [Rethinking, §7-§8], the recipe of Inception-v3 (Table 3's last rows).
RETHINKING: dict[str, Setting] = {
    "optimizer": paper("rmsprop_tf", "§8: 'our best models were achieved using RMSProp' (TensorFlow's: ε inside "
                                     "the square root, the mean square starting at 1)"),
    "momentum": chosen(0.9, f"unstated; {_V3_TRAINER}: RMSPROP_MOMENTUM = 0.9 ({_SLIM}: --rmsprop_momentum 0.9)"),
    "rmsprop_decay": paper(RETHINKING_SECTION_8["decay"], "§8: 'RMSProp with decay of 0.9'"),
    "epsilon": paper(RETHINKING_SECTION_8["epsilon"], "§8: 'and ε = 1.0'"),
    "lr": paper(RETHINKING_SECTION_8["lr"], "§8: 'learning rate of 0.045'"),
    "lr_decay": paper(RETHINKING_SECTION_8["lr_decay"], "§8: 'decayed ... using an exponential rate of 0.94'"),
    "lr_decay_every_epochs": paper(RETHINKING_SECTION_8["lr_decay_every_epochs"], "§8: 'decayed every two epoch'"),
    "warmup_epochs": chosen(0.0, "no warm-up is mentioned; TF-slim's trainer has none"),
    "weight_decay": chosen(0.00004, f"unstated; {_V3_TRAINER} and {_SLIM}: 0.00004"),
    "grad_clip_norm": paper(RETHINKING_SECTION_8["grad_clip"], "§8: 'gradient clipping with threshold 2.0'"),
    "averaging": paper("ema", "§8: 'Model evaluations are performed using a running average of the "
                              "parameters computed over time'"),
    "averaging_decay": chosen(0.9999, f"unstated; {_V3_TRAINER}: MOVING_AVERAGE_DECAY = 0.9999, with TensorFlow's "
                                      "warm-up min(decay, (1 + n) / (10 + n)) after n updates"),
    "averaging_start": chosen(0.0, "TensorFlow's ExponentialMovingAverage starts at the first step"),
    "label_smoothing": paper(0.1, "§7: 'we used u(k) = 1/1000 and ε = 0.1'"),
    "aux_weight": chosen(0.4, f"unstated; {_V3_TRAINER}: the auxiliary loss 'weight=0.4'"),
    "dropout": chosen(None, "the preset's own (the released model: keep probability 0.8)"),
    "batch_size": paper(RETHINKING_SECTION_8["batch_size"], "§8: 'with batch size 32'"),
    "replicas": paper(RETHINKING_SECTION_8["replicas"], "§8: '50 replicas running each on a NVidia Kepler GPU'"),
    "epochs": paper(RETHINKING_SECTION_8["epochs"], "§8: 'for 100 epochs'"),
}

#: Images in ILSVRC-2012's training set (the "ImageNet" of all three papers): what one epoch is.
IMAGENET_TRAIN_IMAGES = 1_281_167

#: Every paper recipe by name, in the order of the papers.
PAPER_RECIPES: dict[str, dict[str, Setting]] = {
    "googlenet": GOOGLENET,
    "bn_baseline": BN_BASELINE,
    "bn_x5": BN_X5,
    "bn_x30": BN_X30,
    "rethinking": RETHINKING,
}

#: Which paper each recipe is from (for tables and receipts).
RECIPE_PAPERS: dict[str, str] = {
    "googlenet": "GoogLeNet, §6",
    "bn_baseline": "BN, §4.2.2 (BN-Baseline)",
    "bn_x5": "BN, §4.2.1-§4.2.2 (BN-x5)",
    "bn_x30": "BN, §4.2.2 (BN-x30)",
    "rethinking": "Rethinking, §7-§8",
}
