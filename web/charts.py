"""Charts drawn on the server as SVG: no script and no CDN, so the dashboard works in a closed government network
and prints as it shows. Each chart is a titled <svg role="img"> whose bars carry a <title> with their figure."""
from __future__ import annotations

from markupsafe import Markup, escape

PALETTE = ("#1f6feb", "#8a8f98", "#d29922", "#2da44e", "#cf222e", "#8250df")
FONT = 'font-family="system-ui, sans-serif" font-size="12"'


def _num(v) -> str:
    if v is None:
        return "—"
    return f"{v:.1f}" if isinstance(v, float) and not float(v).is_integer() else f"{int(v)}"


def hbars(title: str, rows: list[tuple[str, list[float | None]]], series: list[str], unit: str = "",
          width: int = 560, label_width: int = 170) -> Markup:
    """Horizontal bars, one group per row and one bar per series (e.g. days used / promised / statutory)."""
    if not rows:
        return _empty(title, width)
    bar, gap, pad = 12, 8, 24
    group = bar * len(series) + gap
    height = pad + len(rows) * group + 28
    top = max([v for _, vs in rows for v in vs if v is not None] or [1]) or 1
    scale = (width - label_width - 60) / top
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="{escape(title)}" viewBox="0 0 {width} '
           f'{height}" width="{width}" height="{height}" {FONT} class="chart">', f"<title>{escape(title)}</title>"]
    for i, (label, values) in enumerate(rows):
        y = pad + i * group
        out.append(f'<text x="{label_width - 6}" y="{y + bar * len(series) / 2 + 4}" text-anchor="end">'
                   f"{escape(_clip(label))}</text>")
        for j, v in enumerate(values):
            w = 0 if v is None else max(v * scale, 1 if v else 0)
            by = y + j * bar
            tip = f"{label} · {series[j]}: {_num(v)}{unit}"
            out.append(f'<rect x="{label_width}" y="{by}" width="{w:.1f}" height="{bar - 2}" '
                       f'fill="{PALETTE[j % len(PALETTE)]}"><title>{escape(tip)}</title></rect>')
            out.append(f'<text x="{label_width + w + 4:.1f}" y="{by + bar - 3}" font-size="10">{_num(v)}</text>')
    out += _legend(series, 8, height - 10)
    out.append("</svg>")
    return Markup("".join(out))


def columns(title: str, points: list[tuple[str, float]], unit: str = "", width: int = 560, height: int = 200,
            color: str = PALETTE[0]) -> Markup:
    """Vertical columns over a sequence (cases per day); every nth label shown so they never overlap."""
    if not points:
        return _empty(title, width)
    left, bottom, top_pad = 36, 34, 16
    plot_w, plot_h = width - left - 8, height - bottom - top_pad
    top = max(v for _, v in points) or 1
    step = plot_w / len(points)
    every = max(1, int(len(points) / max(1, plot_w // 60)))
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="{escape(title)}" viewBox="0 0 {width} '
           f'{height}" width="{width}" height="{height}" {FONT} class="chart">', f"<title>{escape(title)}</title>",
           f'<line x1="{left}" y1="{top_pad + plot_h}" x2="{width - 8}" y2="{top_pad + plot_h}" stroke="#999"/>',
           f'<text x="{left - 4}" y="{top_pad + 4}" text-anchor="end" font-size="10">{_num(top)}</text>',
           f'<text x="{left - 4}" y="{top_pad + plot_h}" text-anchor="end" font-size="10">0</text>']
    for i, (label, v) in enumerate(points):
        h = v / top * plot_h
        x = left + i * step
        out.append(f'<rect x="{x + 1:.1f}" y="{top_pad + plot_h - h:.1f}" width="{max(step - 2, 1):.1f}" '
                   f'height="{h:.1f}" fill="{color}"><title>{escape(f"{label}: {_num(v)}{unit}")}</title></rect>')
        if i % every == 0:
            out.append(f'<text x="{x + step / 2:.1f}" y="{height - 18}" text-anchor="middle" font-size="10">'
                       f"{escape(label[5:] if len(label) == 10 else _clip(label, 8))}</text>")
    out.append("</svg>")
    return Markup("".join(out))


def share_bars(title: str, rows: list[tuple[str, float | None]], width: int = 560, label_width: int = 170) -> Markup:
    """Shares (0..1) as bars on a 0–100 % axis (on-time rate per department)."""
    return hbars(title, [(k, [None if v is None else round(v * 100, 1)]) for k, v in rows], ["%"], "%",
                 width, label_width)


def titled(svg: Markup) -> Markup:
    """The chart with its title (its <title>, for screen readers and tooltips) also written above it."""
    text = str(svg)
    title = Markup(text.split("<title>", 1)[1].split("</title>", 1)[0]).unescape()
    head, rest = text.split(">", 1)
    w = head.split('width="')[1].split('"')[0]
    h = int(float(head.split('height="')[1].split('"')[0]))
    head = head.replace(f'height="{h}"', f'height="{h + 20}"').replace(f'0 0 {w} {h}"', f'0 0 {w} {h + 20}"')
    return Markup(f'{head}><text x="6" y="14" font-weight="600">{escape(title)}</text>'
                  f'<g transform="translate(0,20)">{rest[:-6]}</g></svg>')


def _legend(series: list[str], x: int, y: int) -> list[str]:
    out = []
    for j, name in enumerate(series):
        if len(series) == 1:
            break
        out.append(f'<rect x="{x}" y="{y - 9}" width="10" height="10" fill="{PALETTE[j % len(PALETTE)]}"/>'
                   f'<text x="{x + 14}" y="{y}">{escape(name)}</text>')
        x += 24 + 12 * len(name)
    return out


def _empty(title: str, width: int) -> Markup:
    return Markup(f'<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="{escape(title)}" viewBox="0 0 '
                  f'{width} 40" width="{width}" height="40" {FONT} class="chart"><title>{escape(title)}</title>'
                  f'<text x="8" y="24" fill="#666">—</text></svg>')


def _clip(text: str, n: int = 14) -> str:
    text = str(text)
    return text if len(text) <= n else text[: n - 1] + "…"
