"""The channels the outbox delivers notifications through (engine.runtime.outbox senders, chosen from configuration
where the worker starts; a channel that is not configured falls back to the log sender):

- `sms`: an HTTP SMS gateway — POST JSON `{"to", "text", "key"}` to `ONEWINDOW_SMS_URL` with
  `Authorization: Bearer ONEWINDOW_SMS_TOKEN` and the outbox key as `Idempotency-Key` (the same for every attempt,
  so the gateway drops a repeat); anything but a 2xx is a failure, tried again with back-off.
- `email`: SMTP (`ONEWINDOW_SMTP_HOST`, `_PORT` (25), `_USER`, `_PASSWORD`, `_FROM`, `_STARTTLS=1`); the
  Message-ID is derived from the outbox key, so a receiver can tell a repeat.
- `inapp`: a UserNotice row per user (a group target fans out to its members), written in the delivery's own
  transaction; a repeat is a no-op (the key is unique).
"""
from __future__ import annotations

import hashlib
import json
import smtplib
import ssl
import urllib.error
import urllib.request
from email.message import EmailMessage
from email.utils import formatdate
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import object_session

from ..db import OutboxMessage, UserNotice
from ..errors import Invalid

TIMEOUT = 10


def _text(row: OutboxMessage) -> tuple[dict, str]:
    payload = json.loads(row.payload)
    text = payload.get("text") or ""
    if payload.get("text_en") and row.kind == "email":
        text = f"{text}\n\n{payload['text_en']}"
    return payload, text


class SmsGateway:
    """POST each SMS to an HTTP gateway."""

    def __init__(self, url: str, token: str = "", timeout: float = TIMEOUT):
        parts = urlsplit(url or "")
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise Invalid(f"ONEWINDOW_SMS_URL must be an http(s) URL, not {url!r}", {"ONEWINDOW_SMS_URL": "http(s)"})
        self.url, self.token, self.timeout = url, token, timeout

    def __call__(self, row: OutboxMessage) -> None:
        payload, text = _text(row)
        body = json.dumps({"to": row.target, "text": text, "key": row.key, "case": payload.get("case")},
                          ensure_ascii=False, sort_keys=True).encode("utf-8")
        headers = {"Content-Type": "application/json; charset=utf-8", "Idempotency-Key": row.key,
                   "User-Agent": "onewindow-sms/1"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        request = urllib.request.Request(self.url, data=body, method="POST", headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310 - checked above
                status = response.status
        except urllib.error.HTTPError as exc:
            raise ConnectionError(f"HTTP {exc.code} from the SMS gateway") from None
        if not 200 <= status < 300:
            raise ConnectionError(f"HTTP {status} from the SMS gateway")


class SmtpSender:
    """Send each e-mail over SMTP (STARTTLS when asked)."""

    def __init__(self, host: str, port: int = 25, user: str = "", password: str = "", sender: str = "",
                 starttls: bool = False, timeout: float = TIMEOUT):
        self.host, self.port, self.user, self.password = host, int(port), user, password
        self.sender = sender or (user if "@" in user else f"onewindow@{host}")
        self.starttls, self.timeout = starttls, timeout

    def message(self, row: OutboxMessage) -> EmailMessage:
        payload, text = _text(row)
        msg = EmailMessage()
        msg["From"], msg["To"] = self.sender, row.target
        title = payload.get("title") or "通知"
        msg["Subject"] = f"【一网通办】{title}" + (f" {payload['case']}" if payload.get("case") else "")
        msg["Date"] = formatdate(localtime=False)
        domain = self.sender.rpartition("@")[2] or "onewindow"
        msg["Message-ID"] = f"<{hashlib.sha256(row.key.encode()).hexdigest()[:32]}@{domain}>"
        msg["X-Onewindow-Key"] = row.key
        msg.set_content(text)
        return msg

    def __call__(self, row: OutboxMessage) -> None:
        msg = self.message(row)
        with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
            if self.starttls:
                smtp.starttls(context=ssl.create_default_context())
            if self.user:
                smtp.login(self.user, self.password)
            smtp.send_message(msg)


def deliver_inapp(row: OutboxMessage) -> None:
    """Make the notice visible: one row per user the target names (in the delivery's transaction)."""
    from .notify import fan_out

    s = object_session(row)
    payload = json.loads(row.payload)
    for username in fan_out(s, row.target, row.case_id):
        key = row.key if username == row.target else f"{row.key}:{username}"
        if s.scalar(select(UserNotice.id).where(UserNotice.key == key)) is not None:
            continue
        s.add(UserNotice(username=username, case_id=row.case_id, event=payload.get("event") or "",
                         title=payload.get("title") or "", text=payload.get("text") or "",
                         text_en=payload.get("text_en") or "", key=key, created_at=row.created_at, read_at=None))
    s.flush()


def _flag(value: str | None) -> bool:
    return str(value or "").strip().lower() in ("1", "true", "yes", "on")


def senders_from_env(env) -> dict:
    """The senders the configuration asks for (sms and email); what is not configured is left to the log sender."""
    out: dict = {}
    if env.get("ONEWINDOW_SMS_URL"):
        out["sms"] = SmsGateway(env["ONEWINDOW_SMS_URL"], env.get("ONEWINDOW_SMS_TOKEN", ""))
    if env.get("ONEWINDOW_SMTP_HOST"):
        out["email"] = SmtpSender(env["ONEWINDOW_SMTP_HOST"], int(env.get("ONEWINDOW_SMTP_PORT") or 25),
                                  env.get("ONEWINDOW_SMTP_USER", ""), env.get("ONEWINDOW_SMTP_PASSWORD", ""),
                                  env.get("ONEWINDOW_SMTP_FROM", ""), _flag(env.get("ONEWINDOW_SMTP_STARTTLS")))
    return out


def describe(senders: dict) -> str:
    """One line for the worker's start: which channel goes where."""
    parts = []
    for kind in ("sms", "email", "inapp", "webhook"):
        s = senders.get(kind)
        parts.append(f"{kind}: " + ("log" if s is None else s.url if isinstance(s, SmsGateway) else
                                    f"smtp {s.host}:{s.port}" if isinstance(s, SmtpSender) else "on"))
    return "; ".join(parts)
