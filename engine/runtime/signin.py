"""Signing in: the same work for unknown users as for known ones, throttled per user name and per address, and
revocable — every token and session carries the user's sign-in epoch, which logout or `onewindow users revoke`
moves on, so what was handed out before no longer opens anything.

Failures are kept in the database (table login_failures), so several server processes throttle together.
"""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, func, select

from ..db import LoginFailure, User
from ..errors import TooManyAttempts
from .users import check_password, hash_password

WINDOW = timedelta(minutes=15)
PER_USER = 5      # failures per user name within WINDOW before it is locked for the rest of the window
PER_ADDRESS = 30  # failures per address within WINDOW (a password-spraying client)
_DUMMY = hash_password("not a password anyone has")  # unknown users cost one scrypt, like known ones


def check_throttle(s, username: str, address: str | None, now) -> None:
    since = now - WINDOW
    for key, limit in ((f"user:{username.lower()}", PER_USER), (f"addr:{address}", PER_ADDRESS)):
        if key.endswith(":None"):
            continue
        count, oldest = s.execute(select(func.count(), func.min(LoginFailure.at))
                                  .where(LoginFailure.key == key, LoginFailure.at >= since)).one()
        if count >= limit:
            oldest = oldest if oldest.tzinfo else oldest.replace(tzinfo=now.tzinfo)
            wait = max(1, int((oldest + WINDOW - now).total_seconds()))
            raise TooManyAttempts(f"登录失败次数过多，请 {wait // 60 + 1} 分钟后再试 (too many failed sign-ins; "
                                  f"try again in {wait} seconds)", retry_after=wait)


def verify(s, username: str, password: str, address: str | None, now) -> User | None:
    """The active user with that name and password, or None after recording the failure (the caller commits,
    then refuses: a failure must outlive the refusal to count)."""
    check_throttle(s, username, address, now)
    user = s.scalar(select(User).where(User.username == username, User.active.is_(True)))
    ok = check_password(user.password_hash if user is not None else _DUMMY, password) and user is not None
    if not ok:
        s.add(LoginFailure(key=f"user:{username.lower()}", at=now))
        if address:
            s.add(LoginFailure(key=f"addr:{address}", at=now))
        s.execute(delete(LoginFailure).where(LoginFailure.at < now - WINDOW))
        return None
    s.execute(delete(LoginFailure).where(LoginFailure.key == f"user:{username.lower()}"))
    return user
