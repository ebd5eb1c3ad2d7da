"""Training the family as the papers did: one loop, the papers' recipes and optimizers, checkpoints, ``torchrun``.

* :mod:`~inception_lab.train.loop` -- :func:`fit`, the one training loop (chapters, the lab and the command line
  use it); :mod:`~inception_lab.train.run` its state and step; :mod:`~inception_lab.train.records` the
  :class:`History` and :class:`Receipt` it returns; :mod:`~inception_lab.train.evaluation` :func:`evaluate` and
  :func:`predict`.
* :mod:`~inception_lab.train.recipes` -- :class:`TrainingRecipe` and :data:`RECIPES` (GoogLeNet §6, BN §4.2,
  Rethinking §7-§8, the lab's Adam), from the data in :mod:`inception_lab.papers.training`.
* :mod:`~inception_lab.train.optim` -- :class:`RMSpropTF` (TensorFlow's RMSProp) and the other optimizers.
* :mod:`~inception_lab.train.schedules`, :mod:`~inception_lab.train.averaging` -- staircase decay, Polyak/EMA.
* :mod:`~inception_lab.train.checkpoint`, :mod:`~inception_lab.train.distributed` -- lossless checkpoints, and
  data parallelism under ``torchrun``.
* ``python -m inception_lab.train`` (:mod:`~inception_lab.train.cli`, data from
  :mod:`~inception_lab.train.datasets`) -- the entry point.

Chapter 2 introduces :func:`fit`; chapter 8 (``notebooks/08_training.ipynb``) the rest.
"""

from inception_lab.train.evaluation import evaluate, predict
from inception_lab.train.loop import fit
from inception_lab.train.optim import OPTIMIZERS, RMSpropTF
from inception_lab.train.recipes import RECIPES, TrainingRecipe, get_recipe
from inception_lab.train.records import FitResult, History, Receipt

__all__ = ["FitResult", "History", "OPTIMIZERS", "RECIPES", "RMSpropTF", "Receipt", "TrainingRecipe", "evaluate",
           "fit", "get_recipe", "predict"]
