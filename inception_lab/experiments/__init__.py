"""What the chapters measure: the lab runner, budgets, knock-outs, fits, timing, fields, calibration, the family.

* :mod:`~inception_lab.experiments.runner` -- the lab: presets x seeds under one recipe, results with receipts.
* :mod:`~inception_lab.experiments.budget` -- the equal-MACs rule that sizes the lab's mini presets.
* :mod:`~inception_lab.experiments.knockout` -- branch knock-outs through the branch contract.
* :mod:`~inception_lab.experiments.representation` -- the representational-bottleneck experiment of chapter 5.
* :mod:`~inception_lab.experiments.cuts` -- the narrowest cut of a chain or module (principle 1, chapter 5).
* :mod:`~inception_lab.experiments.kernel_fit` -- how well factorized kernels fit a square one, made-up or trained
  (chapter 4).
* :mod:`~inception_lab.experiments.receptive_field` -- exact and gradient-measured receptive fields.
* :mod:`~inception_lab.experiments.timing` -- interleaved, repeated timing with medians.
* :mod:`~inception_lab.experiments.calibration` -- confidence and calibration error (chapter 6).
* :mod:`~inception_lab.experiments.family` -- the family side by side, and the naming crosswalk.
* :mod:`~inception_lab.experiments.features` -- feature maps of modules and branches, captured with hooks.
* :mod:`~inception_lab.experiments.findings` -- when a measured difference is a finding: paired seeds, sign test.
* :mod:`~inception_lab.experiments.cpu_limits` -- the CPU's compute peak and bandwidth (the roofline's two lines).
* :mod:`~inception_lab.experiments.layer_time` -- a network's time and MACs by kind of layer, timed in place.
* :mod:`~inception_lab.experiments.aux_heads` -- chapter 2's paired aux-head comparisons, by the findings rule.
* :mod:`~inception_lab.experiments.bn_sweep` -- chapter 3's paired BN vs no-BN verdicts over learning rates.

Each returns data; drawing lives in :mod:`inception_lab.viz`.
"""
