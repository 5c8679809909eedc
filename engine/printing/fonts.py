"""The Chinese font printed documents are set in, embedded as a subset of the characters each document uses.

reportlab embeds TrueType outlines only, and Debian's free CJK fonts (Noto Serif/Sans CJK) are OpenType with CFF
outlines. So the characters a document needs are cut out of the OpenType font with fontTools and their outlines
converted to TrueType quadratics (cu2qu); reportlab then embeds that small font as a subset. A TrueType CJK font
(WenQuanYi, Droid Sans Fallback, AR PL) is used as it is. `ONEWINDOW_CJK_FONT` names a font file (`path` or
`path#index` for a collection); otherwise the first of FONT_CANDIDATES that exists is used.

Without any CJK font the documents fall back to reportlab's built-in STSong-Light, which is NOT embedded (a
viewer must bring the font); `font_for(...).embedded` says which happened.
"""
from __future__ import annotations

import hashlib
import io
import os
import threading
from dataclasses import dataclass
from pathlib import Path

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfbase.ttfonts import TTFont as ReportlabTTFont

FONT_CANDIDATES = [
    "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto-cjk/NotoSerifCJK-Regular.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
    "/usr/share/fonts/truetype/arphic/uming.ttc",
]
FALLBACK = "STSong-Light"
_lock = threading.Lock()
_cache: dict[str, "PrintFont"] = {}


@dataclass(frozen=True)
class PrintFont:
    name: str          # the reportlab font name to set text in
    embedded: bool     # False only for the built-in fallback
    missing: str       # characters of the text the font has no glyph for (printed as blanks, never as boxes)


def source_font() -> tuple[Path, int] | None:
    """(file, face index) of the CJK font to use, preferring a Simplified Chinese face in a collection."""
    configured = os.environ.get("ONEWINDOW_CJK_FONT")
    if configured:
        path, _, index = configured.partition("#")
        return (Path(path), int(index or -1)) if Path(path).exists() else None
    for candidate in FONT_CANDIDATES:
        if Path(candidate).exists():
            return Path(candidate), -1
    return None


def _face(path: Path, index: int):
    """The fontTools font of the chosen face: `index`, else the collection's 'SC' face, else the first."""
    from fontTools.ttLib import TTCollection, TTFont

    if path.suffix.lower() not in (".ttc", ".otc"):
        return TTFont(str(path), lazy=True)
    if index < 0:
        faces = TTCollection(str(path), lazy=True).fonts
        names = [str(f["name"].getDebugName(4) or "") for f in faces]
        index = next((i for i, n in enumerate(names) if " SC" in n or "GB" in n), 0)
    return TTFont(str(path), fontNumber=index, lazy=True)


def _subset_truetype(path: Path, index: int, text: str, name: str = "") -> tuple[bytes, str]:
    """A TrueType font with only the glyphs `text` needs (CFF outlines converted), and the characters it lacks."""
    from fontTools import subset
    from fontTools.pens.cu2quPen import Cu2QuPen
    from fontTools.pens.ttGlyphPen import TTGlyphPen
    from fontTools.ttLib import newTable

    font = _face(path, index)
    cmap = font.getBestCmap() or {}
    chars = sorted({ch for ch in text if ch.isprintable()})
    missing = "".join(ch for ch in chars if ord(ch) not in cmap and not ch.isspace())
    options = subset.Options()
    options.desubroutinize, options.notdef_outline, options.hinting = True, True, False
    options.layout_features, options.name_IDs, options.name_languages = [], ["*"], ["*"]
    sub = subset.Subsetter(options)
    sub.populate(text="".join(chars) + " ")
    sub.subset(font)
    if "CFF " in font:  # OpenType/CFF: redraw every kept glyph as TrueType quadratics
        order = font.getGlyphOrder()
        glyphs = font.getGlyphSet()
        glyf = newTable("glyf")
        glyf.glyphOrder, glyf.glyphs = order, {}
        for glyph in order:
            pen = TTGlyphPen(None)
            glyphs[glyph].draw(Cu2QuPen(pen, 1.0, reverse_direction=True))
            glyf[glyph] = pen.glyph()
        font["loca"], font["glyf"] = newTable("loca"), glyf
        for table in ("CFF ", "VORG"):
            if table in font:
                del font[table]
        font["head"].glyphDataFormat = 0
        maxp = font["maxp"]
        maxp.tableVersion = 0x00010000
        for attr in ("maxZones", "maxTwilightPoints", "maxStorage", "maxFunctionDefs", "maxInstructionDefs",
                     "maxStackElements", "maxSizeOfInstructions", "maxComponentElements"):
            setattr(maxp, attr, 0)
        maxp.maxZones = 1
        post = font["post"]
        post.formatType, post.extraNames, post.mapping, post.glyphOrder = 2.0, [], {}, order
        font.sfntVersion = "\x00\x01\x00\x00"
    if name:  # reportlab registers faces by PostScript name: each subset needs its own, or glyphs get mixed up
        for record in font["name"].names:
            if record.nameID in (1, 3, 4, 6, 16):
                record.string = name
    buf = io.BytesIO()
    font.save(buf)
    return buf.getvalue(), missing


def font_for(text: str) -> PrintFont:
    """A registered reportlab font that has every character of `text` the source font has (subset, embedded)."""
    source = source_font()
    if source is None:
        with _lock:
            if FALLBACK not in pdfmetrics.getRegisteredFontNames():
                pdfmetrics.registerFont(UnicodeCIDFont(FALLBACK))
        return PrintFont(FALLBACK, False, "")
    chars = "".join(sorted(set(text)))
    key = hashlib.sha256(f"{source[0]}#{source[1]}\n{chars}".encode()).hexdigest()[:16]
    with _lock:
        found = _cache.get(key)
        if found is not None:
            return found
        name = f"CJK-{key}"
        data, missing = _subset_truetype(source[0], source[1], chars, name)
        pdfmetrics.registerFont(ReportlabTTFont(name, io.BytesIO(data)))
        found = _cache[key] = PrintFont(name, True, missing)
        if len(_cache) > 64:  # reportlab keeps registered fonts; drop our oldest handle (names are unique)
            _cache.pop(next(iter(_cache)))
        return found
