"""One colour per element in every chart of the project: the report, the cascade plots, the refinery page.

``element_colour("Nd")`` is the same red wherever Nd is drawn. Light rare earths take the strong colours
(La blue, Ce orange, Pr green, Nd red), the magnet heavies stand out (Dy navy, Tb olive), the rest are
lighter tints; impurities and acids are greys and earth tones. A component that is not an element (a
lumped "NdPr", a pseudo-component) gets a fixed colour from :data:`OTHER_COLOURS`, chosen by its name so it
is stable from run to run. Colours are CSS hex strings (``#rrggbb``).
"""

from __future__ import annotations

import zlib

#: Colour of each element, by symbol.
ELEMENT_COLOURS: dict[str, str] = {
    "Sc": "#7f7f7f",
    "Y": "#17becf",
    "La": "#1f77b4",
    "Ce": "#ff7f0e",
    "Pr": "#2ca02c",
    "Nd": "#d62728",
    "Pm": "#c7c7c7",
    "Sm": "#9467bd",
    "Eu": "#8c564b",
    "Gd": "#e377c2",
    "Tb": "#bcbd22",
    "Dy": "#0b3d91",
    "Ho": "#ff9896",
    "Er": "#5fa052",
    "Tm": "#a58bc9",
    "Yb": "#c49c94",
    "Lu": "#e7969c",
    "Th": "#393b79",
    "U": "#637939",
    "Fe": "#843c39",
    "Al": "#7b4173",
    "Ca": "#b5cf6b",
    "Mg": "#de9ed6",
    "Si": "#9c9ede",
    "Na": "#e7cb94",
    "H": "#000000",
}

#: Colours for series that are not elements (scenarios, facilities, stages, commodities, countries).
OTHER_COLOURS: tuple[str, ...] = (
    "#4c72b0",
    "#dd8452",
    "#55a868",
    "#c44e52",
    "#8172b3",
    "#937860",
    "#da8bc3",
    "#8c8c8c",
    "#ccb974",
    "#64b5cd",
)


def element_colour(symbol: str) -> str:
    """The colour of element ``symbol`` (``"Nd"``); a stable colour from :data:`OTHER_COLOURS` otherwise."""
    found = ELEMENT_COLOURS.get(str(symbol).strip())
    if found is not None:
        return found
    return OTHER_COLOURS[zlib.crc32(str(symbol).encode("utf-8")) % len(OTHER_COLOURS)]


def series_colour(index: int) -> str:
    """The ``index``-th colour for series that are not elements (runs, facilities, stages)."""
    return OTHER_COLOURS[index % len(OTHER_COLOURS)]
