"""Checked identifiers: 身份证号 (GB 11643), 统一社会信用代码 (GB 32100), mobile and landline numbers, as asserted
JSON Schema formats and for the applicant. Valid test values get their check characters from the standards'
algorithms written out again here, not from the module under test."""
from __future__ import annotations

import pytest

from engine.errors import Invalid
from engine.model.forms import validate
from engine.model.identifiers import (check_applicant_identity, credit_code_problem, id_number_problem,
                                      landline_problem, mobile_problem, phone_problem)


def id_with_check(first17: str) -> str:
    """GB 11643-1999: weights 2^(17-i) mod 11, ISO 7064 MOD 11-2; 10 is written X."""
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    total = sum(int(c) * w for c, w in zip(first17, weights))
    return first17 + "10X98765432"[total % 11]


def code_with_check(first17: str) -> str:
    """GB 32100-2015: characters 0-9 A-H J-N P-R T-U W-Y valued 0..30, weights 3^i mod 31, check 31 - sum mod 31."""
    alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    weights = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]
    total = sum(alphabet.index(c) * w for c, w in zip(first17, weights))
    return first17 + alphabet[(31 - total % 31) % 31]


def wrong_last(value: str, alphabet: str) -> str:
    return value[:17] + next(c for c in alphabet if c != value[17])


VALID_IDS = ["11010519491231002X",  # the standard's own example
             id_with_check("33020619900101001"), id_with_check("44030019851231123"),
             id_with_check("65010220000229456"),  # 29 February of a leap year
             id_with_check("81000019991220000")]  # 香港居民居住证
VALID_CODES = ["91350100M000100Y43", code_with_check("91330206MA2H00000"), code_with_check("12100000400000624"),
               code_with_check("52110000MJ0000123"), code_with_check("Y1330206MA2AB0CD1")]


@pytest.mark.parametrize("value", VALID_IDS)
def test_valid_id_numbers(value):
    assert id_number_problem(value) is None


def test_lowercase_x_is_the_same_check_digit():
    assert id_number_problem("11010519491231002x") is None


@pytest.mark.parametrize("value, reason", [
    ("abc", "应为 18 位（现为 3 位）"),
    ("x", "应为 18 位（现为 1 位）"),
    ("110101900101123", "应为 18 位（现为 15 位）"),  # first-generation numbers are no longer valid
    ("11010119900101123A", "前 17 位应为数字，末位为数字或 X"),
    ("110101199001011234", "校验码（末位）不正确，请核对号码"),
    (wrong_last("11010519491231002X", "0123456789X"), "校验码（末位）不正确，请核对号码"),
    (id_with_check("11010119900230123"), "出生日期（第 7–14 位）不是有效日期"),  # 30 February
    (id_with_check("11010119900001123"), "出生日期（第 7–14 位）不是有效日期"),
    (id_with_check("11010119000229123"), "出生日期（第 7–14 位）不是有效日期"),  # 1900 was no leap year
    (id_with_check("11010118891231123"), "出生日期（第 7–14 位）不合理"),
    (id_with_check("11010129991231123"), "出生日期（第 7–14 位）不合理"),  # in the future
    (id_with_check("99010119900101123"), "地址码（前 6 位）不是有效的行政区划"),
    (id_with_check("00010119900101123"), "地址码（前 6 位）不是有效的行政区划"),
])
def test_invalid_id_numbers(value, reason):
    got = id_number_problem(value)
    assert got == reason and got.en and got.en != reason


def test_one_wrong_digit_anywhere_is_caught():
    good = "11010519491231002X"
    for i in range(17):
        for d in "0123456789":
            if d != good[i]:
                assert id_number_problem(good[:i] + d + good[i + 1:]) is not None, (i, d)


@pytest.mark.parametrize("value", VALID_CODES)
def test_valid_credit_codes(value):
    assert credit_code_problem(value) is None


@pytest.mark.parametrize("value, reason", [
    ("91330000ABCDEFGH", "应为 18 位（现为 16 位）"),
    ("abc", "应为 18 位（现为 3 位）"),
    ("91350100m000100y43", "只能由数字和大写字母组成（不含 I、O、S、V、Z）"),
    ("91350100MO00100Y43", "只能由数字和大写字母组成（不含 I、O、S、V、Z）"),  # letter O
    ("91350100M000100Y4I", "只能由数字和大写字母组成（不含 I、O、S、V、Z）"),
    (code_with_check("9135A100M000100Y4"), "第 3–8 位应为行政区划代码（数字）"),
    ("91350100M000100Y44", "校验码（末位）不正确，请核对代码"),
    ("91330206MA2XXXXX0X", "校验码（末位）不正确，请核对代码"),
])
def test_invalid_credit_codes(value, reason):
    assert credit_code_problem(value) == reason


def test_one_wrong_character_anywhere_is_caught():
    alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    good = "91350100M000100Y43"
    for i in [0, 1, 8, 9, 10, 11, 12, 13, 14, 15, 16]:  # characters 3-8 are digits, checked apart
        for c in alphabet:
            if c != good[i]:
                assert credit_code_problem(good[:i] + c + good[i + 1:]) is not None, (i, c)


@pytest.mark.parametrize("value", ["13800000000", "15912345678", "19987654321", "16600001111"])
def test_mobile_numbers(value):
    assert mobile_problem(value) is None and phone_problem(value) is None
    assert landline_problem(value) is not None


@pytest.mark.parametrize("value", ["x", "1380000000", "138000000001", "12800000000", "23800000000", "+8613800000000",
                                   "138-0000-0000"])
def test_not_mobile_numbers(value):
    assert mobile_problem(value) is not None


@pytest.mark.parametrize("value", ["010-62345678", "01062345678", "021-55556666", "0571-87654321", "0574-8765432",
                                   "(0571)87654321", "010-62345678-123", "0571-87654321转8001", "0755-26668888#12"])
def test_landlines(value):
    assert landline_problem(value) is None and phone_problem(value) is None
    assert mobile_problem(value) is not None


@pytest.mark.parametrize("value", ["87654321", "0571-07654321", "0571-17654321", "1-87654321", "0571-876543",
                                   "0571-876543210", "0571-87654321-", "0571-87654321-1234567", "x"])
def test_not_landlines(value):
    assert landline_problem(value) is not None and phone_problem(value) is not None


IDENTITY = {
    "type": "object",
    "properties": {
        "id_number": {"type": "string", "title": "身份证号", "format": "cn-id-number"},
        "credit_code": {"type": "string", "title": "统一社会信用代码", "format": "cn-credit-code"},
        "mobile": {"type": "string", "title": "手机号码", "format": "cn-mobile"},
        "landline": {"type": "string", "title": "办公电话", "format": "cn-landline"},
        "phone": {"type": "string", "title": "联系电话", "format": "cn-phone"},
        "born": {"type": "string", "title": "出生日期", "format": "date"},
        "holders": {"type": "array", "title": "股东",
                    "items": {"type": "object", "properties": {
                        "id_number": {"type": "string", "title": "身份证号", "format": "cn-id-number"}}}},
    },
}


def test_formats_are_asserted_in_any_form():
    validate(IDENTITY, {"id_number": VALID_IDS[1], "credit_code": VALID_CODES[1], "mobile": "13800000000",
                        "landline": "0571-87654321", "phone": "010-62345678", "born": "1990-01-01",
                        "holders": [{"id_number": VALID_IDS[0]}]})
    with pytest.raises(Invalid) as exc:
        validate(IDENTITY, {"id_number": "110101199001011234", "credit_code": "91330000ABCDEFGH", "mobile": "x",
                            "landline": "13800000000", "phone": "abc", "born": "1990-02-30",
                            "holders": [{"id_number": VALID_IDS[0]}, {"id_number": "abc"}]})
    assert exc.value.fields == {
        "id_number": "身份证号有误：校验码（末位）不正确，请核对号码",
        "credit_code": "统一社会信用代码有误：应为 18 位（现为 16 位）",
        "mobile": "手机号码有误：应为 11 位手机号码（1 开头，第二位为 3–9）",
        "landline": "办公电话有误：应为区号加号码，如 0571-87654321（分机可加 -123）",
        "phone": "联系电话有误：应为手机号码或带区号的固定电话",
        "born": "出生日期应为日期，如 2026-01-31",
        "holders.1.id_number": "股东第 2 项的身份证号有误：应为 18 位（现为 3 位）",
    }
    assert exc.value.fields["id_number"].en == \
        "身份证号 is not valid: the check digit (last character) is wrong; check the number"


def test_formats_apply_to_strings_only():
    with pytest.raises(Invalid) as exc:
        validate(IDENTITY, {"phone": 13800000000})
    assert exc.value.fields == {"phone": "联系电话应为文本"}


def test_check_applicant_identity():
    assert check_applicant_identity({"type": "person", "name": "张三", "id_number": VALID_IDS[0],
                                     "phone": "13800000000"}) == {}
    assert check_applicant_identity({"type": "company", "name": "甲公司", "credit_code": VALID_CODES[0],
                                     "phone": "0571-87654321"}) == {}
    assert check_applicant_identity({"type": "person", "name": "张三"}) == {}  # absent: the matter decides
    got = check_applicant_identity({"type": "company", "name": "甲公司", "credit_code": "91330000ABCDEFGH",
                                    "id_number": "110101199001011234", "phone": "x"})
    assert got == {"applicant.id_number": "身份证号有误：校验码（末位）不正确，请核对号码",
                   "applicant.credit_code": "统一社会信用代码有误：应为 18 位（现为 16 位）",
                   "applicant.phone": "联系电话有误：应为手机号码或带区号的固定电话"}
    assert got["applicant.phone"].en == "Phone is not valid: must be a mobile number or a landline with its area code"
    assert check_applicant_identity({"id_number": 110105194912310020}) == {"applicant.id_number": "身份证号有误：应为文本"}
