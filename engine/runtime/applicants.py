"""Applicant identities: a person (身份证号) or a business (统一社会信用代码) signs up with a mobile number, which is
their user name once the 6-digit code sent to it through the outbox is confirmed (一次认证). Until then the account
is inactive and cannot sign in.

Sign-ups are throttled per address and a code allows a few wrong tries, because both endpoints are public. The code
is kept only as a hash; the SMS with it is an outbox row written in the sign-up's own transaction, so an account
never exists without its code having been queued.
"""
from __future__ import annotations

import hashlib
import re
import hmac
import secrets
from datetime import timedelta

from sqlalchemy import delete, func, select

from ..db import Applicant, Group, LoginFailure, Membership, User
from ..errors import Conflict, Invalid, TooManyAttempts
from ..messages import Message
from ..model.identifiers import credit_code_problem, id_number_problem, mobile_problem
from . import org, outbox
from .access import APPLICANTS
from .users import hash_password

CODE_TTL = timedelta(minutes=15)
CODE_TRIES = 5                      # wrong codes before the code is void
SIGNUPS_PER_ADDRESS = 10            # sign-ups from one address within WINDOW
RESEND_GAP = timedelta(seconds=60)  # one new code per phone per minute
RESENDS_PER_ADDRESS = 5             # new codes asked for from one address within WINDOW
WINDOW = timedelta(hours=1)
MIN_PASSWORD = 8
TYPES = ("person", "company")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def _code_hash(user_id: int, code: str) -> str:
    return hashlib.sha256(f"{user_id}:{code}".encode()).hexdigest()


def _problems(body: dict) -> dict:
    """Field -> message for each thing wrong with a sign-up, all at once."""
    out: dict = {}
    kind = body.get("type")
    if kind not in TYPES:
        out["type"] = Message("应为 person（个人）或 company（企业）", "must be person or company")
    name = (body.get("name") or "").strip()
    if not name or len(name) > 200:
        out["name"] = Message("名称必填，至多 200 字", "required, up to 200 characters")
    phone = body.get("phone") or ""
    reason = mobile_problem(phone)
    if reason is not None:
        out["phone"] = reason
    email = body.get("email")
    if email not in (None, "") and not (isinstance(email, str) and len(email) <= 254 and EMAIL.match(email)):
        out["email"] = Message("电子邮箱格式不正确", "not an e-mail address")
    password = body.get("password") or ""
    if len(password) < MIN_PASSWORD or password.isdigit() or password.isalpha():
        out["password"] = Message(f"密码至少 {MIN_PASSWORD} 位，且须同时含字母和数字",
                                  f"at least {MIN_PASSWORD} characters with letters and digits")
    if kind == "person":
        value = body.get("id_number") or ""
        reason = id_number_problem(value) if value else Message("个人须填身份证号", "a person gives an ID number")
        if reason is not None:
            out["id_number"] = reason
        if body.get("credit_code"):
            out["credit_code"] = Message("个人不填统一社会信用代码", "a person has no credit code")
    elif kind == "company":
        value = body.get("credit_code") or ""
        reason = credit_code_problem(value) if value else Message("企业须填统一社会信用代码",
                                                                   "a business gives its credit code")
        if reason is not None:
            out["credit_code"] = reason
        if body.get("id_number"):
            reason = id_number_problem(body["id_number"])  # the legal representative's, if given
            if reason is not None:
                out["id_number"] = reason
    return out


def _throttle(s, key: str, limit: int, now, message: Message) -> None:
    since = now - WINDOW
    count, oldest = s.execute(select(func.count(), func.min(LoginFailure.at))
                              .where(LoginFailure.key == key, LoginFailure.at >= since)).one()
    if count >= limit:
        oldest = oldest if oldest.tzinfo else oldest.replace(tzinfo=now.tzinfo)
        wait = max(1, int((oldest + WINDOW - now).total_seconds()))
        raise TooManyAttempts(message, retry_after=wait)


def sign_up(services, body: dict, address: str | None = None) -> dict:
    """Create an inactive applicant account and queue its confirmation code (Invalid, Conflict for a phone
    already registered, TooManyAttempts past the address's limit)."""
    problems = _problems(body)
    if problems:
        raise Invalid(Message("注册信息有误", "the sign-up is not valid"), problems)
    phone = body["phone"]
    now = services.clock()
    with services.uow() as s:
        if address:
            _throttle(s, f"signup:{address}", SIGNUPS_PER_ADDRESS, now,
                      Message("注册过于频繁，请稍后再试", "too many sign-ups from this address; try later"))
        taken = s.scalar(select(User.id).where(User.username == phone)) or s.scalar(
            select(Applicant.user_id).where(Applicant.phone == phone))
        if taken is not None:
            raise Conflict(Message("该手机号已注册", "this mobile number is already registered"))
        user = User(username=phone, display_name=body["name"].strip(), password_hash=hash_password(body["password"]),
                    hall=org.check_hall(s, None), active=False, auth_epoch=0, created_at=now)
        s.add(user)
        if s.get(Group, APPLICANTS) is None:
            s.add(Group(name=APPLICANTS, title="申请人"))
        s.flush()
        s.add(Membership(user_id=user.id, group_name=APPLICANTS))
        code = f"{secrets.randbelow(10 ** 6):06d}"
        person = body["type"] == "person"
        row = Applicant(user_id=user.id, type=body["type"], name=body["name"].strip(), phone=phone,
                        id_number=body.get("id_number") or None, credit_code=None if person else body["credit_code"],
                        legal_rep=(body.get("legal_representative") or None) if not person else None,
                        email=(body.get("email") or "").strip() or None,
                        code_hash=_code_hash(user.id, code), code_expires=now + CODE_TTL, code_attempts=0,
                        verified_at=None, created_at=now)
        s.add(row)
        outbox.enqueue(s, "sms", phone, {"template": "verify_code", "code": code,
                                         "text": f"【一网通办】您的注册验证码为 {code}，15 分钟内有效。"},
                       key=f"verify:{user.id}:{code}", now=now)
        if address:
            s.add(LoginFailure(key=f"signup:{address}", at=now))
            s.execute(delete(LoginFailure).where(LoginFailure.key.like("signup:%"), LoginFailure.at < now - WINDOW))
        return profile_of(row, pending=True)


def _since_last(s, key: str, gap: timedelta, now, message: Message) -> None:
    last = s.scalar(select(func.max(LoginFailure.at)).where(LoginFailure.key == key, LoginFailure.at >= now - gap))
    if last is not None:
        last = last if last.tzinfo else last.replace(tzinfo=now.tzinfo)
        raise TooManyAttempts(message, retry_after=max(1, int((last + gap - now).total_seconds()) + 1))


RESENT = Message("如该号码有待验证的注册，新的验证码已发送，15 分钟内有效；原验证码已作废。",
                 "If this number has a sign-up waiting for confirmation, a new code has been sent (valid for 15 "
                 "minutes) and the old one no longer works.")


def resend(services, phone: str, address: str | None = None) -> dict:
    """A new code for a pending sign-up: the old one is void (also one that expired or was voided by wrong tries).
    Throttled per phone (one a minute) and per address (a few an hour), for any number asked about. The answer is
    the same whether the number waits for confirmation, is already confirmed or is unknown, so it does not say who
    is registered."""
    phone = str(phone or "").strip()
    reason = mobile_problem(phone)
    if reason is not None:
        raise Invalid(Message("手机号码有误", "the mobile number is not valid"), {"phone": reason})
    now = services.clock()
    with services.uow() as s:
        slow = Message("验证码发送过于频繁，请稍后再试", "codes are asked for too often; try again later")
        if address:
            _throttle(s, f"resend-addr:{address}", RESENDS_PER_ADDRESS, now, slow)
        _since_last(s, f"resend:{phone}", RESEND_GAP, now, slow)
        s.add(LoginFailure(key=f"resend:{phone}", at=now))
        if address:
            s.add(LoginFailure(key=f"resend-addr:{address}", at=now))
        s.execute(delete(LoginFailure).where(LoginFailure.key.like("resend%"), LoginFailure.at < now - WINDOW))
        row = s.scalar(select(Applicant).where(Applicant.phone == phone))
        if row is not None and row.verified_at is None:
            code = f"{secrets.randbelow(10 ** 6):06d}"
            row.code_hash, row.code_expires, row.code_attempts = _code_hash(row.user_id, code), now + CODE_TTL, 0
            outbox.enqueue(s, "sms", phone, {"template": "verify_code", "code": code,
                                             "text": f"【一网通办】您的注册验证码为 {code}，15 分钟内有效。"},
                           key=f"verify:{row.user_id}:{secrets.token_hex(8)}", now=now)
    return {"status": "queued", "message": str(RESENT), "message_en": RESENT.en, "retry_after": int(RESEND_GAP.total_seconds())}


def verify(services, phone: str, code: str, address: str | None = None) -> dict:
    """Confirm the mobile with its code: the account becomes active. A wrong code counts (the count is committed
    before the refusal); after CODE_TRIES the code is void (TooManyAttempts)."""
    now = services.clock()
    wrong = None
    with services.uow() as s:
        if address:
            _throttle(s, f"verify:{address}", 30, now,
                      Message("验证过于频繁，请稍后再试", "too many confirmation attempts; try later"))
        row = s.scalar(select(Applicant).where(Applicant.phone == phone))
        if row is None or row.verified_at is not None:
            wrong = Message("没有待验证的注册", "no sign-up waits for confirmation with this number")
        elif row.code_attempts >= CODE_TRIES:
            raise TooManyAttempts("验证码错误次数过多，已失效 (too many wrong codes; the code is void)",
                                  retry_after=int(WINDOW.total_seconds()))
        else:
            expires = row.code_expires if row.code_expires.tzinfo else row.code_expires.replace(tzinfo=now.tzinfo)
            if now > expires:
                wrong = Message("验证码已过期", "the code has expired")
            elif not hmac.compare_digest(row.code_hash, _code_hash(row.user_id, code or "")):
                row.code_attempts += 1
                wrong = Message(f"验证码不正确（还可尝试 {CODE_TRIES - row.code_attempts} 次）",
                                f"wrong code ({CODE_TRIES - row.code_attempts} tries left)")
                if address:
                    s.add(LoginFailure(key=f"verify:{address}", at=now))
            else:
                row.verified_at, row.code_hash = now, ""
                s.get(User, row.user_id).active = True
                return profile_of(row)
    raise Invalid(wrong, {"code": wrong})


def profile_of(row: Applicant, pending: bool = False) -> dict:
    return {"type": row.type, "name": row.name, "phone": row.phone, "id_number": mask(row.id_number),
            "credit_code": row.credit_code, "status": "pending" if pending or row.verified_at is None else "active"}


def applicant_block(s, username: str) -> dict | None:
    """The applicant block of a case applied for by this account (from its confirmed identity), or None."""
    row = s.scalar(select(Applicant).join(User, User.id == Applicant.user_id).where(User.username == username))
    if row is None or row.verified_at is None:
        return None
    block = {"type": row.type, "name": row.name, "phone": row.phone}
    if row.id_number:
        block["id_number"] = row.id_number
    if row.credit_code:
        block["credit_code"] = row.credit_code
    if row.legal_rep:
        block["legal_representative"] = row.legal_rep
    if row.email:  # notices go there too (engine.runtime.notify)
        block["email"] = row.email
    return block


def mask(value: str | None) -> str | None:
    """An ID number as lists show it: the region and the check character only (3302**********0022 style)."""
    if not value or len(value) < 8:
        return value
    return value[:4] + "*" * (len(value) - 8) + value[-4:]
