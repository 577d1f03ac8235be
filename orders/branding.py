"""A merchant's colours, made readable: the portal writes white text on the brand colour (the
header) and on the accent colour (buttons), and the accent colour on the page's light grounds
(links). A colour that reads at less than WCAG AA's 4.5:1 there is darkened, keeping its hue,
until it reads; the merchant's choice is kept as near as that allows."""

from __future__ import annotations

# The grounds the colours meet: white text, white cards, the page's light grey.
GROUNDS = ("#ffffff", "#f6f7f9")
AA = 4.5


def _channels(colour: str) -> tuple[float, float, float]:
    value = colour.lstrip("#")
    return tuple(int(value[i : i + 2], 16) / 255 for i in (0, 2, 4))  # type: ignore[return-value]


def luminance(colour: str) -> float:
    """WCAG's relative luminance of a #rrggbb colour."""

    def linear(c: float) -> float:
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (linear(c) for c in _channels(colour))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(one: str, other: str) -> float:
    light, dark = sorted((luminance(one), luminance(other)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def readable(colour: str) -> str:
    """The colour, or the nearest darker one of its hue that reads at 4.5:1 on every ground."""
    try:
        r, g, b = _channels(colour)
    except ValueError:
        return "#1f2937"
    for step in range(0, 101):
        keep = 1 - step / 100
        candidate = "#{:02x}{:02x}{:02x}".format(*(round(c * keep * 255) for c in (r, g, b)))
        if all(contrast(candidate, ground) >= AA for ground in GROUNDS):
            return candidate
    return "#000000"
