"""Printable documents handed to the applicant: the acceptance receipt (受理回执) and the one-time
notice of what is missing (一次性告知书), as PDF with Chinese text and a QR verification code.

reportlab's built-in CID font STSong-Light renders Chinese without any system font; ASCII facts
(case number, verification code) are also set in Helvetica so they are plain text in the PDF.
Times are printed in the hall's zone (engine.clock), as the pages show them.
"""
from __future__ import annotations

import hashlib
import hmac
from io import BytesIO

from reportlab.graphics import renderPDF
from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.graphics.shapes import Drawing
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen import canvas

from ..clock import for_people

CJK = "STSong-Light"
_registered = False

APPLICANT_TYPES = {"person": "个人", "company": "企业"}


def _font() -> str:
    global _registered
    if not _registered:
        pdfmetrics.registerFont(UnicodeCIDFont(CJK))
        _registered = True
    return CJK


def verification_code(secret: str, number: str, kind: str) -> str:
    """A short code that proves the document was issued here for this case (checkable without a login)."""
    digest = hmac.new(secret.encode(), f"{kind}:{number}".encode(), hashlib.sha256).hexdigest()
    return digest[:10].upper()


def _qr(c: canvas.Canvas, text: str, x: float, y: float, size: float = 32 * mm) -> None:
    widget = QrCodeWidget(text)
    x0, y0, x1, y1 = widget.getBounds()
    d = Drawing(size, size, transform=[size / (x1 - x0), 0, 0, size / (y1 - y0), 0, 0])
    d.add(widget)
    renderPDF.draw(d, c, x, y)


def _document(title: str, case: dict, lines: list[tuple[str, str]], body: list[str], code: str, qr_text: str,
              footer: str) -> bytes:
    font = _font()
    buf = BytesIO()
    c = canvas.Canvas(buf, pagesize=A4, invariant=1, pageCompression=0)
    c.setTitle(f"{title} {case['number']}")
    width, height = A4
    c.setFont(font, 20)
    c.drawCentredString(width / 2, height - 30 * mm, title)
    y = height - 48 * mm
    for label, value in lines:
        c.setFont(font, 12)
        c.drawString(25 * mm, y, f"{label}：")
        c.drawString(60 * mm, y, str(value or ""))
        y -= 9 * mm
    c.setFont("Helvetica", 11)
    c.drawString(60 * mm, y, f"Case No. {case['number']}   Code {code}")
    y -= 12 * mm
    c.setFont(font, 12)
    for text in body:
        for chunk in [text[i:i + 38] for i in range(0, len(text), 38)] or [""]:
            if y < 60 * mm:
                c.showPage()
                c.setFont(font, 12)
                y = height - 30 * mm
            c.drawString(25 * mm, y, chunk)
            y -= 8 * mm
    _qr(c, qr_text, width - 60 * mm, 22 * mm)
    c.setFont(font, 10)
    c.drawString(25 * mm, 40 * mm, f"验证码：{code}")
    c.drawString(25 * mm, 33 * mm, footer)
    c.showPage()
    c.save()
    return buf.getvalue()


def _applicant_lines(case: dict) -> list[tuple[str, str]]:
    a = case.get("applicant") or {}
    ident = a.get("credit_code") or a.get("id_number") or ""
    return [("申请人", a.get("name", "")), ("申请人类型", APPLICANT_TYPES.get(a.get("type", ""), a.get("type", ""))),
            ("证件号码", ident), ("联系电话", a.get("phone", ""))]


def receipt_pdf(case: dict, matter_name: str, materials: list[str], code: str, verify_url: str,
                promised_days=None) -> bytes:
    """受理回执: what was accepted, when, and how to check the case."""
    lines = [("办件编号", case["number"]), ("办理事项", matter_name), *_applicant_lines(case),
             ("受理时间", for_people(case["created_at"]))]
    if promised_days:
        lines.append(("承诺时限", f"{promised_days} 个工作日"))
    body = ["您的申请已受理。已收取材料："] + [f"  {i}. {m}" for i, m in enumerate(materials, 1)] if materials \
        else ["您的申请已受理。"]
    return _document("受理回执", case, lines, body, code, verify_url,
                     "请凭本回执及办件编号查询进度、领取结果。扫描二维码可核验本回执。")


def notice_pdf(case: dict, matter_name: str, missing: list[str], remark: str, code: str, verify_url: str) -> bytes:
    """一次性告知书: everything that is missing, told at once and in writing."""
    lines = [("办件编号", case["number"]), ("办理事项", matter_name), *_applicant_lines(case),
             ("告知时间", for_people(case["created_at"]))]
    body = ["经审查，您的申请暂不予受理。请一次性补齐以下材料后再来办理："]
    body += [f"  {i}. {m}" for i, m in enumerate(missing, 1)] or ["  （无）"]
    if remark:
        body += ["说明：" + remark]
    return _document("一次性告知书", case, lines, body, code, verify_url,
                     "本告知书一次性告知全部所缺材料。扫描二维码可核验本告知书。")
