"""What the papers print, one file per paper of ``references.bib``, transcribed as data.

* :mod:`~inception_lab.papers.going_deeper` -- [GoogLeNet] Szegedy et al. 2015, "Going Deeper with Convolutions".
* :mod:`~inception_lab.papers.batch_normalization` -- [BN] Ioffe and Szegedy 2015, "Batch Normalization".
* :mod:`~inception_lab.papers.rethinking` -- [Rethinking] Szegedy et al. 2016, "Rethinking the Inception
  Architecture for Computer Vision".

Each file holds the paper's tables and stated numbers as frozen data, and the functions that compare them with
what the code computes. Rules: models may read the papers' data; a paper file imports only the formula layer
(:mod:`inception_lab.checks`, :mod:`inception_lab.shapes`, :mod:`inception_lab.cost`), never a model or
:mod:`inception_lab.nn` (not even inside a function): a function that checks a network takes it as an argument
(``output_size_table(bn_inception())``).
"""
