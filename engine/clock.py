"""One clock for people.

Times are stored and computed in UTC. What people read (pages, printed documents, the date inside a case
number) is in the hall's time zone: the setting ONEWINDOW_TIMEZONE, default Asia/Shanghai. The JSON API gives
times in UTC with an explicit offset (`iso_utc`), so machines never guess a zone.
"""
from __future__ import annotations

import os
from datetime import date, datetime, timedelta, timezone, tzinfo
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

ENV = "ONEWINDOW_TIMEZONE"
DEFAULT_ZONE = "Asia/Shanghai"
# China has kept UTC+8 all year since 1991: the stand-in when the machine has no time zone database.
_CHINA = timezone(timedelta(hours=8), "CST")
_CHINA_NAMES = {"Asia/Shanghai", "Asia/Chongqing", "Asia/Harbin", "Asia/Urumqi", "PRC", "Etc/GMT-8"}


def zone_name() -> str:
    return os.environ.get(ENV) or DEFAULT_ZONE


def zone(name: str | None = None) -> tzinfo:
    """The zone called `name`, or the configured one; an unknown name is an error, never a silent UTC."""
    return _zone(name or zone_name())


@lru_cache(maxsize=16)
def _zone(name: str) -> tzinfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        if name in _CHINA_NAMES:
            return _CHINA
        raise ValueError(f"unknown time zone {name!r} (set {ENV} to a name such as Asia/Shanghai)") from None


def as_utc(at: datetime) -> datetime:
    """`at` as an aware UTC time; a naive time is UTC already (SQLite gives stored times back naive)."""
    return at.replace(tzinfo=timezone.utc) if at.tzinfo is None else at.astimezone(timezone.utc)


def _parse(at: datetime | str | None) -> datetime | None:
    if at is None or at == "":
        return None
    if isinstance(at, datetime):
        return as_utc(at)
    return as_utc(datetime.fromisoformat(str(at).replace("Z", "+00:00")))


def to_local(at: datetime | str | None, tz: tzinfo | None = None) -> datetime | None:
    """A stored time (datetime or ISO text; naive means UTC) in the hall's zone."""
    parsed = _parse(at)
    return None if parsed is None else parsed.astimezone(tz or zone())


def local_now(tz: tzinfo | None = None) -> datetime:
    return datetime.now(timezone.utc).astimezone(tz or zone())


def local_date(at: datetime | str | None = None, tz: tzinfo | None = None) -> date:
    """The hall's calendar date of `at` (default now): what a case number or a certificate carries."""
    return (to_local(at, tz) if at is not None else local_now(tz)).date()


def for_people(at: datetime | str | None, tz: tzinfo | None = None, seconds: bool = False) -> str:
    """'YYYY-MM-DD HH:MM' (or with ':SS') in the hall's zone; '' for no time; text that is not a time unchanged."""
    try:
        local = to_local(at, tz)
    except ValueError:
        return str(at)
    if local is None:
        return ""
    return local.strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")


def iso_utc(at: datetime | str | None) -> str | None:
    """The API's form of a time: ISO 8601 in UTC with its offset, whole seconds ('2026-11-30T17:30:00+00:00')."""
    parsed = _parse(at)
    return None if parsed is None else parsed.isoformat(timespec="seconds")
