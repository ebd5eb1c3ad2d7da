"""What the reader sees: one palette, figures with alternative text, plots and diagrams drawn from the code.

* :mod:`~inception_lab.viz.palette` -- the Okabe-Ito colours in one order, for plots, widgets and the browser.
* :mod:`~inception_lab.viz.display` -- ``glue`` for prose numbers; :func:`~inception_lab.viz.display.show` for
  figures with their alt text.
* :mod:`~inception_lab.viz.plotting` -- charts of what :mod:`inception_lab.experiments` measures.
* :mod:`~inception_lab.viz.diagrams` -- block diagrams of modules and networks, drawn from their specs.
"""
