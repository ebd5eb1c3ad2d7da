"""Torch building blocks of the family: conv atoms, the branch contract, scratch BatchNorm, folding, init, losses.

* :mod:`~inception_lab.nn.layers` -- conv atoms and factorized convolutions.
* :mod:`~inception_lab.nn.branches` -- the branch contract (:class:`~inception_lab.nn.branches.MultiBranch`,
  :class:`~inception_lab.nn.branches.Split`) and :func:`~inception_lab.nn.branches.to_spec`.
* :mod:`~inception_lab.nn.shape_walk` -- a network's stages walked through :mod:`inception_lab.shapes` (no forward
  pass).
* :mod:`~inception_lab.nn.batchnorm` -- BatchNorm written from [BN, Alg. 1]; :mod:`~inception_lab.nn.folding` folds it.
* :mod:`~inception_lab.nn.initialization` -- the weight-initialization schemes of the papers and torchvision.
* :mod:`~inception_lab.nn.losses` -- the auxiliary-head loss [GoogLeNet, §5] and label smoothing [Rethinking, §7].
* :mod:`~inception_lab.nn.reduction` -- grid-size reduction blocks [Rethinking, §5, Figs. 9-10].
* :mod:`~inception_lab.nn.equivalence` -- proof that two modules are the same network.

This layer imports only the formula layer (:mod:`inception_lab.checks`, :mod:`inception_lab.shapes`,
:mod:`inception_lab.cost`); the import contract in ``pyproject.toml`` keeps it so.
"""
