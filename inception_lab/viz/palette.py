"""The book's colours: the Okabe-Ito palette, safe for the common colour-vision deficiencies.

Okabe & Ito, "Color Universal Design" (2002): eight colours that stay distinct under protanopia, deuteranopia
and tritanopia. Every chart and diagram of the library takes its colours from here.
"""

from __future__ import annotations

#: The eight Okabe-Ito colours by name.
OKABE_ITO: dict[str, str] = {
    "orange": "#E69F00", "sky blue": "#56B4E9", "bluish green": "#009E73", "yellow": "#F0E442",
    "blue": "#0072B2", "vermillion": "#D55E00", "reddish purple": "#CC79A7", "black": "#000000",
}

#: The order in which series of a chart take colours (yellow last: it is faint on white).
CYCLE: tuple[str, ...] = tuple(OKABE_ITO[name] for name in ("blue", "orange", "bluish green", "vermillion",
                                                             "sky blue", "reddish purple", "yellow", "black"))


def series_colour(index: int) -> str:
    """Colour of the ``index``-th series of a chart (cycling through :data:`CYCLE`)."""
    if not isinstance(index, int) or isinstance(index, bool) or index < 0:
        raise ValueError(f"index must be a non-negative int, got {index!r}.")
    return CYCLE[index % len(CYCLE)]
