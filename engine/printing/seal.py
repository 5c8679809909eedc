"""The hall's electronic seal as printed: a red ring, a five-pointed star, the issuing authority's name along the
upper arc and the seal's purpose across the bottom — drawn as vectors, so it prints sharp at any size. The seal
that proves anything is the Ed25519 signature the verification page checks; this is its visible sign."""
from __future__ import annotations

import math

from reportlab.lib.colors import Color

RED = Color(0.80, 0.07, 0.07, alpha=0.85)


def seal_texts(authority: str, purpose: str = "电子印章") -> str:
    return authority + purpose + "★"


def draw_seal(c, x: float, y: float, r: float, authority: str, font: str, purpose: str = "电子印章") -> None:
    """A seal of radius `r` centred at (x, y)."""
    c.saveState()
    c.setStrokeColor(RED)
    c.setFillColor(RED)
    c.setLineWidth(r * 0.06)
    c.circle(x, y, r * 0.94, stroke=1, fill=0)
    _star(c, x, y, r * 0.30)
    text = authority[:16] or "政务服务中心"
    size = min(r * 0.26, (r * 1.0 * math.pi * 1.1) / max(len(text), 1))
    c.setFont(font, size)
    spread = min(math.radians(230), math.radians(26) * len(text))  # the arc the name takes, centred on the top
    radius = r * 0.94 - r * 0.06 - size * 0.75
    for i, ch in enumerate(text):
        angle = math.pi / 2 + spread / 2 - (spread * (i + 0.5) / len(text))
        cx, cy = x + radius * math.cos(angle), y + radius * math.sin(angle)
        c.saveState()
        c.translate(cx, cy)
        c.rotate(math.degrees(angle) - 90)
        c.drawCentredString(0, -size * 0.35, ch)
        c.restoreState()
    c.setFont(font, r * 0.17)
    c.drawCentredString(x, y - r * 0.58, purpose)
    c.restoreState()


def _star(c, x: float, y: float, r: float) -> None:
    path = c.beginPath()
    for i in range(10):
        radius = r if i % 2 == 0 else r * 0.382
        angle = math.pi / 2 + i * math.pi / 5
        px, py = x + radius * math.cos(angle), y + radius * math.sin(angle)
        path.moveTo(px, py) if i == 0 else path.lineTo(px, py)
    path.close()
    c.drawPath(path, stroke=0, fill=1)
