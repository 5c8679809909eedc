"""Chinese identifiers checked the way the issuing standards define them, not by shape alone.

Each `*_problem` function returns None for a valid value or a bilingual reason (engine.messages.Message) saying
what is wrong. They are JSON Schema formats (FORMATS, asserted by engine.model.forms.validate) so any form field
can use them, and `check_applicant_identity` applies them to the applicant block of a case.
"""
from __future__ import annotations

import re
from datetime import date

from ..clock import local_date
from ..messages import Message

# ---------------------------------------------------------------- 居民身份证号码 GB 11643-1999
_ID_WEIGHTS = [2 ** (17 - i) % 11 for i in range(17)]  # 7 9 10 5 8 4 2 1 6 3 7 9 10 5 8 4 2
_ID_CHECK = "10X98765432"
# Province-level part of the address code (GB/T 2260), plus 71 台湾, 81 香港, 82 澳门, 83 台湾居民居住证,
# 91 外国人永久居留身份证 (2023 edition), which use the same number and check digit.
_ID_REGIONS = {11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46,
               50, 51, 52, 53, 54, 61, 62, 63, 64, 65, 71, 81, 82, 83, 91}


def id_check_digit(first17: str) -> str:
    """ISO 7064 MOD 11-2 check character of the first 17 digits of an ID number."""
    return _ID_CHECK[sum(int(c) * w for c, w in zip(first17, _ID_WEIGHTS)) % 11]


def id_number_problem(value: str) -> Message | None:
    """居民身份证号码: 18 characters, a plausible region, a real birth date not in the future, the check digit."""
    if len(value) != 18:
        return Message(f"应为 18 位（现为 {len(value)} 位）", f"must have 18 characters (has {len(value)})")
    if not re.fullmatch(r"[0-9]{17}[0-9Xx]", value):
        return Message("前 17 位应为数字，末位为数字或 X", "must be 17 digits followed by a digit or X")
    if int(value[:2]) not in _ID_REGIONS:
        return Message("地址码（前 6 位）不是有效的行政区划", "the region code (first 6 digits) is not a known region")
    try:
        born = date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        return Message("出生日期（第 7–14 位）不是有效日期", "the birth date (digits 7-14) is not a real date")
    if born.year < 1900 or born > local_date():
        return Message("出生日期（第 7–14 位）不合理", "the birth date (digits 7-14) is not plausible")
    if value[17].upper() != id_check_digit(value[:17]):
        return Message("校验码（末位）不正确，请核对号码", "the check digit (last character) is wrong; check the number")
    return None


# ---------------------------------------------------------------- 统一社会信用代码 GB 32100-2015
_CODE_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # no I, O, S, V, Z
_CODE_WEIGHTS = [3 ** i % 31 for i in range(17)]  # 1 3 9 27 19 26 16 17 20 29 25 13 8 24 10 30 28
_CODE_CHAR = re.compile(f"[{_CODE_ALPHABET}]{{18}}")


def credit_check_char(first17: str) -> str:
    """MOD 31 check character of the first 17 characters of a unified social credit code."""
    total = sum(_CODE_ALPHABET.index(c) * w for c, w in zip(first17, _CODE_WEIGHTS))
    return _CODE_ALPHABET[(31 - total % 31) % 31]


def credit_code_problem(value: str) -> Message | None:
    """统一社会信用代码: 18 characters of 0-9 and capitals except I O S V Z, a region code, the check character."""
    if len(value) != 18:
        return Message(f"应为 18 位（现为 {len(value)} 位）", f"must have 18 characters (has {len(value)})")
    if not _CODE_CHAR.fullmatch(value):
        return Message("只能由数字和大写字母组成（不含 I、O、S、V、Z）",
                       "may only hold digits and capital letters other than I, O, S, V, Z")
    if not value[2:8].isdigit():
        return Message("第 3–8 位应为行政区划代码（数字）", "characters 3-8 must be a region code (digits)")
    if value[17] != credit_check_char(value[:17]):
        return Message("校验码（末位）不正确，请核对代码", "the check character (last one) is wrong; check the code")
    return None


# ---------------------------------------------------------------- telephone numbers
_MOBILE = re.compile(r"1[3-9][0-9]{9}")
# Area code 010, 02X or 0XXX (03XX-09XX); local number of 7 or 8 digits not starting with 0 or 1; optional extension.
_LANDLINE = re.compile(r"(?:0(?:10|2[0-9]|[3-9][0-9]{2})-?|\(0(?:10|2[0-9]|[3-9][0-9]{2})\))"
                       r"[2-9][0-9]{6,7}(?:(?:-|转|#)[0-9]{1,6})?")


def mobile_problem(value: str) -> Message | None:
    """手机号码: 11 digits, 1 then 3-9."""
    if _MOBILE.fullmatch(value):
        return None
    return Message("应为 11 位手机号码（1 开头，第二位为 3–9）", "must be an 11-digit mobile number (1, then 3-9)")


def landline_problem(value: str) -> Message | None:
    """固定电话: area code (010, 02X, 0XXX), a 7- or 8-digit number, optionally an extension (-, 转 or #)."""
    if _LANDLINE.fullmatch(value):
        return None
    return Message("应为区号加号码，如 0571-87654321（分机可加 -123）",
                   "must be an area code and a number, e.g. 0571-87654321 (extension as -123)")


def phone_problem(value: str) -> Message | None:
    """A mobile or a landline number."""
    if _MOBILE.fullmatch(value) or _LANDLINE.fullmatch(value):
        return None
    return Message("应为手机号码或带区号的固定电话", "must be a mobile number or a landline with its area code")


# JSON Schema `format` names, for forms: {"type": "string", "format": "cn-id-number"}.
FORMATS = {
    "cn-id-number": id_number_problem,
    "cn-credit-code": credit_code_problem,
    "cn-mobile": mobile_problem,
    "cn-landline": landline_problem,
    "cn-phone": phone_problem,
}

# The shape of each format as an ECMAScript-compatible regular expression (no check digits), so a browser can hint
# before the server checks (web/formkit.py puts it in the input's `pattern`).
SHAPES = {
    "cn-id-number": "[0-9]{17}[0-9Xx]",
    "cn-credit-code": "[0-9A-HJ-NP-RTUW-Y]{18}",
    "cn-mobile": _MOBILE.pattern,
    "cn-landline": _LANDLINE.pattern,
    "cn-phone": f"{_MOBILE.pattern}|{_LANDLINE.pattern}",
}

_APPLICANT_FIELDS = (("id_number", id_number_problem, Message("身份证号", "ID number")),
                     ("credit_code", credit_code_problem, Message("统一社会信用代码", "Unified social credit code")),
                     ("phone", phone_problem, Message("联系电话", "Phone")))


def check_applicant_identity(applicant: dict) -> dict[str, str]:
    """Field path ('applicant.id_number', ...) -> message for each identifier of the applicant that is given and
    wrong. Missing identifiers are not reported here: whether one is required is the matter's rule."""
    out: dict[str, str] = {}
    for key, problem, label in _APPLICANT_FIELDS:
        value = applicant.get(key) if isinstance(applicant, dict) else None
        if value is None or value == "":
            continue
        reason = problem(value) if isinstance(value, str) else Message("应为文本", "must be text")
        if reason is not None:
            out[f"applicant.{key}"] = Message(f"{label}有误：{reason}", f"{label.en} is not valid: {reason.en}")
    return out
