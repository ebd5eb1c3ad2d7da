"""What the reader sees: figures with alternative text, charts and diagrams drawn from the code's data.

The colours are :mod:`inception_lab.palette` (the Okabe-Ito palette in one series order, shared with the browser).

* :mod:`~inception_lab.viz.display` -- ``glue`` for prose numbers; :func:`~inception_lab.viz.display.show` for
  figures with their alt text.
* :mod:`~inception_lab.viz.plotting` -- feature maps and images, torch-free.
* :mod:`~inception_lab.viz.feature_maps` -- chapter 2's feature-map selection (its figure and read-out).
* :mod:`~inception_lab.viz.cost_charts` -- the cost explorers' views (the explorer and its static twin draw alike).
* :mod:`~inception_lab.viz.experiment_charts` -- what :mod:`inception_lab.experiments` measures, with alt text.
* :mod:`~inception_lab.viz.diagrams` -- block diagrams of modules and networks, drawn from their specs.
* :mod:`~inception_lab.viz.perf` -- where the time goes: share of MACs against share of time, by kind of layer.
"""
