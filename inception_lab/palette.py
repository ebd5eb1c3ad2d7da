"""The book's colours, in one place: the Okabe-Ito palette and the one order in which chart series take them.

Okabe & Ito, "Color Universal Design" (2002): eight colours that stay distinct under protanopia, deuteranopia and
tritanopia. Every renderer reads them from here: the charts and diagrams (:mod:`inception_lab.viz`), the
ipywidgets explorers, and the live explorers in the browser, whose page script gets them in the JSON of
:func:`inception_lab.cost.explorers.spec` (the page's script and style sheet hold no colour of their own). So
series ``k`` of a chart, a cost explorer and its live version is one colour. Pure data, no imports: the bottom
layer of the library, shipped to the browser with the formula layer.
"""

#: The eight Okabe-Ito colours by name.
OKABE_ITO: dict[str, str] = {
    "orange": "#E69F00", "sky blue": "#56B4E9", "bluish green": "#009E73", "yellow": "#F0E442",
    "blue": "#0072B2", "vermillion": "#D55E00", "reddish purple": "#CC79A7", "black": "#000000",
}

#: The order in which the series of a chart take colours (yellow late: it is faint on white).
SERIES_ORDER: tuple[str, ...] = ("blue", "orange", "bluish green", "vermillion", "sky blue", "reddish purple",
                                 "yellow", "black")

#: :data:`SERIES_ORDER` as colours: series ``k`` of every chart is ``CYCLE[k % 8]``.
CYCLE: tuple[str, ...] = tuple(OKABE_ITO[name] for name in SERIES_ORDER)

#: The colour of a message that something went wrong (an explorer setting that cannot be built).
ALERT: str = OKABE_ITO["vermillion"]


def series_colour(index: int) -> str:
    """Colour of the ``index``-th series of a chart (cycling through :data:`CYCLE`)."""
    if not isinstance(index, int) or isinstance(index, bool) or index < 0:
        raise ValueError(f"index must be a non-negative int, got {index!r}.")
    return CYCLE[index % len(CYCLE)]
