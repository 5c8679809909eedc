"""One template for every printed document: title, number, fields, sections, closing lines, then the issuing
authority with its seal and date, and a QR code that opens the public verification page.

A sheet is the content a document was issued with (engine.window.notices): `title`, `number`, `fields`
[[label, value]], `sections` [{heading, lines}], `closing` [lines], `authority`, `issued` (local ISO time).
Certificates are turned into the same shape (`certificate_sheet`). Text is wrapped by measured width and split at
line breaks, so nothing prints as a box; times are the hall's local time as issued.
"""
from __future__ import annotations

from datetime import datetime
from io import BytesIO

from reportlab.graphics.barcode import qrencoder
from reportlab.lib.colors import Color, black
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen import canvas

from .fonts import font_for
from .seal import draw_seal, seal_texts

WIDTH, HEIGHT = A4
LEFT, RIGHT, TOP, BOTTOM = 25 * mm, WIDTH - 25 * mm, HEIGHT - 25 * mm, 25 * mm
FIXED = "编号：核验码扫码核验第页共，。：（）年月日0123456789-已注销作废原因长期有效"
GREY = Color(0.35, 0.35, 0.35)
VOID = Color(0.85, 0.1, 0.1, alpha=0.25)


def issued_day(issued: str | None) -> str:
    try:
        d = datetime.fromisoformat(str(issued))
    except (TypeError, ValueError):
        return str(issued or "")
    return f"{d:%Y年%m月%d日}"


def _texts(sheet: dict) -> str:
    parts = [sheet.get("title", ""), sheet.get("number", ""), sheet.get("authority", ""),
             issued_day(sheet.get("issued")), seal_texts(sheet.get("authority", "")), sheet.get("status_text", ""),
             sheet.get("code", ""), FIXED]
    for label, value in sheet.get("fields") or []:
        parts += [str(label), str(value)]
    for sec in sheet.get("sections") or []:
        parts += [str(sec.get("heading") or "")] + [str(x) for x in sec.get("lines") or []]
    parts += [str(x) for x in sheet.get("closing") or []]
    return "".join(parts)


def _wrap(text: str, font: str, size: float, width: float) -> list[str]:
    """Lines of `text` no wider than `width`: split at line breaks, then by measured width (CJK breaks anywhere;
    a Latin word is kept whole when it fits on a line)."""
    out = []
    for para in str(text).replace("\r", "").split("\n"):
        line = ""
        for token in _tokens(para):
            if stringWidth(line + token, font, size) <= width:
                line += token
                continue
            if line:
                out.append(line)
                line = ""
            token = token.lstrip(" ")
            while stringWidth(token, font, size) > width:  # a token longer than a line: cut it
                cut = len(token)
                while cut > 1 and stringWidth(token[:cut], font, size) > width:
                    cut -= 1
                out.append(token[:cut])
                token = token[cut:]
            line = token
        out.append(line)
    return out


def _tokens(text: str) -> list[str]:
    tokens, word = [], ""
    for ch in text:
        if ch.isascii() and not ch.isspace():
            word += ch
            continue
        if word:
            tokens.append(word)
            word = ""
        tokens.append(ch)
    if word:
        tokens.append(word)
    return tokens


class _Page:
    def __init__(self, c, font: str):
        self.c, self.font, self.y, self.page = c, font, TOP, 1

    def need(self, height: float) -> None:
        if self.y - height < BOTTOM + 12 * mm:
            self.c.showPage()
            self.page += 1
            self.y = TOP

    def line(self, text: str, size: float = 12, x: float = LEFT, leading: float = 1.7, colour=black) -> None:
        self.need(size * leading)
        self.c.setFillColor(colour)
        self.c.setFont(self.font, size)
        self.c.drawString(x, self.y - size, text)
        self.y -= size * leading


RATE_CAPTION = "扫码评价（好差评）"


def render(sheet: dict, verify_url: str, rate_url: str | None = None) -> bytes:
    """The PDF of a sheet; the QR code opens `verify_url`. With `rate_url` (the 受理通知书) a second QR code beside it
    opens the case's rating page (好差评): printed, not part of the sealed content."""
    pf = font_for(_texts(sheet) + verify_url + (RATE_CAPTION + rate_url if rate_url else ""))
    clean = {ord(ch): " " for ch in pf.missing}  # a character the font lacks prints as a blank, not a box
    font = pf.name
    buf = BytesIO()
    c = canvas.Canvas(buf, pagesize=A4, invariant=1, initialFontName=font)
    c.setTitle(f"{sheet.get('title', '')} {sheet.get('number', '')}")
    c.setAuthor(sheet.get("authority", ""))
    c.setSubject(verify_url)
    p = _Page(c, font)
    c.setFont(font, 22)
    c.drawCentredString(WIDTH / 2, p.y - 22, sheet.get("title", "").translate(clean))
    p.y -= 34
    c.setFont(font, 10)
    c.setFillColor(GREY)
    c.drawRightString(RIGHT, p.y - 10, f"编号：{sheet.get('number', '')}")
    p.y -= 22
    labels = [f"{str(label).translate(clean)}：" for label, _ in sheet.get("fields") or []]
    label_w = min(max([stringWidth(x, font, 12) for x in labels] + [20 * mm]) + 3 * mm, 48 * mm)
    for label, value in sheet.get("fields") or []:
        lines = _wrap(str(value).translate(clean), font, 12, RIGHT - LEFT - label_w)
        p.need(12 * 1.7 * len(lines))
        c.setFillColor(GREY)
        c.setFont(font, 12)
        c.drawString(LEFT, p.y - 12, f"{str(label).translate(clean)}：")
        for text in lines:
            p.line(text, 12, LEFT + label_w)
    for sec in sheet.get("sections") or []:
        p.y -= 4
        p.line(f"{str(sec.get('heading') or '').translate(clean)}：", 13)
        for item in sec.get("lines") or []:
            for text in _wrap(str(item).translate(clean), font, 12, RIGHT - LEFT - 8 * mm):
                p.line(text, 12, LEFT + 8 * mm)
    p.y -= 6
    for item in sheet.get("closing") or []:
        for text in _wrap(str(item).translate(clean), font, 10.5, RIGHT - LEFT):
            p.line(text, 10.5, colour=GREY)
    _footer(c, p, sheet, verify_url, clean, rate_url)
    if sheet.get("status_text"):
        _void(c, font, sheet["status_text"].translate(clean))
    c.showPage()
    c.save()
    return buf.getvalue()


def _footer(c, p: _Page, sheet: dict, verify_url: str, clean: dict, rate_url: str | None = None) -> None:
    """Authority, date and seal at the right; the QR code and verification code at the left."""
    p.need(62 * mm)
    top = p.y - 6 * mm
    authority = sheet.get("authority", "").translate(clean)
    c.setFillColor(black)
    c.setFont(p.font, 13)
    c.drawRightString(RIGHT - 6 * mm, top - 22 * mm, authority)
    c.drawRightString(RIGHT - 6 * mm, top - 30 * mm, issued_day(sheet.get("issued")))
    sx = RIGHT - 6 * mm - max(stringWidth(authority, p.font, 13), 30 * mm) / 2
    draw_seal(c, sx, top - 22 * mm, 21 * mm, authority, p.font)
    size = 30 * mm
    _qr(c, verify_url, LEFT, top - size - 2 * mm, size)
    c.setFillColor(GREY)
    c.setFont(p.font, 9)
    c.drawString(LEFT, top - size - 7 * mm, "扫码核验")
    if sheet.get("code"):
        c.drawString(LEFT, top - size - 12 * mm, f"核验码：{sheet['code']}")
    if rate_url:
        x = LEFT + size + 8 * mm
        _qr(c, rate_url, x, top - size - 2 * mm, size)
        c.setFillColor(GREY)
        c.setFont(p.font, 9)
        c.drawString(x, top - size - 7 * mm, RATE_CAPTION)
        c.setFont(p.font, 6.5)
        c.drawString(LEFT, top - size - 16 * mm, rate_url)
        p.y = top - size - 20 * mm
        return
    p.y = top - size - 16 * mm


def _qr(c, text: str, x: float, y: float, size: float) -> None:
    """A QR code drawn module by module (no font, no drawing renderer: nothing but the CJK font in the PDF)."""
    qr = qrencoder.QRCode(None, qrencoder.QRErrorCorrectLevel.M)
    qr.addData(text)
    qr.make()
    n = qr.getModuleCount()
    cell = size / (n + 2)  # a quiet zone of one module on each side
    c.saveState()
    c.setFillColor(black)
    for row in range(n):
        for col in range(n):
            if qr.isDark(row, col):
                c.rect(x + (col + 1) * cell, y + size - (row + 2) * cell, cell, cell, stroke=0, fill=1)
    c.restoreState()


def _void(c, font: str, text: str) -> None:
    """A revoked certificate still prints, crossed by what happened to it."""
    c.saveState()
    c.setFillColor(VOID)
    c.setFont(font, 64)
    c.translate(WIDTH / 2, HEIGHT / 2)
    c.rotate(30)
    c.drawCentredString(0, 0, text[:6])
    c.restoreState()


def certificate_sheet(cert: dict) -> dict:
    """A certificate (engine.window.certificates view) as a sheet: what it certifies, to whom, until when."""
    content = cert.get("content") or {}
    holder = content.get("holder") or {}
    key = str(holder.get("key") or cert.get("holder_key") or "")
    id_label = "统一社会信用代码" if len(key) == 18 and not key[:17].isdigit() else "证件号码"
    fields = [["证照名称", cert.get("name") or content.get("name", "")], ["证照编号", cert.get("number", "")],
              ["持证主体", holder.get("name") or cert.get("holder", "")]]
    if key:
        fields.append([id_label, key])
    fields += [["关联办件", content.get("case") or ""], ["发证日期", content.get("issued") or ""],
               ["有效期至", content.get("valid_until") or "长期有效"], ["发证机关", content.get("issuer") or ""]]
    sections = [{"heading": "电子印章", "lines": [f"Ed25519 {cert.get('signature', '')[:44]}…"]}]
    status_text = ""
    if cert.get("status") == "revoked":
        status_text = "已注销"
        sections.append({"heading": "注销原因", "lines": [cert.get("revoke_reason") or ""]})
    issued = content.get("issued") or ""
    return {"title": cert.get("name") or "电子证照", "number": cert.get("number", ""), "fields": fields,
            "sections": sections, "closing": ["本证照为加盖电子印章的电子证照，与纸质证照具有同等效力。",
                                              "扫描二维码可核验其真伪及当前是否有效。"],
            "authority": content.get("issuer") or "", "issued": f"{issued}T00:00:00" if issued else "",
            "code": cert.get("verify_code", ""), "status_text": status_text}
