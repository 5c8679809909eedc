"""Time limits as designers write them: ISO 8601 durations and date-times, read completely or refused.

Why a parser of our own: SpiffWorkflow and a lenient regular expression both accept text such as `P1W` or `P1.5D`
and then quietly yield nothing (or a fraction of a day). A limit that the platform cannot read must be refused by
`onewindow check`, naming the element, never discovered when a case runs.

What a duration means is decided by the calendar it is counted in (see engine.runtime.workcal): in working days
(the default, `工作日`), `P3D` is three working days, `P1W` five working days (a working week); with the property
`calendar=natural` (`自然日`), `P3D` is three calendar days and `P1W` seven. Months and years are calendar months
and years in both. Hours, minutes and seconds are clock time (`PT4H`).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

CALENDARS = ("workdays", "natural")
_DURATION = re.compile(r"P(?:(?P<years>\d+)Y)?(?:(?P<months>\d+)M)?(?:(?P<weeks>\d+)W)?(?:(?P<days>\d+)D)?"
                       r"(?:T(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?(?:(?P<seconds>\d+)S)?)?")


class DurationError(ValueError):
    """Text that is not a limit the platform can count; the message says what is wrong."""


@dataclass(frozen=True)
class Duration:
    years: int = 0
    months: int = 0
    weeks: int = 0
    days: int = 0
    hours: int = 0
    minutes: int = 0
    seconds: int = 0

    @property
    def has_date_part(self) -> bool:
        return bool(self.years or self.months or self.weeks or self.days)

    def working_days(self) -> int:
        """Days counted in working days (weeks are five)."""
        return self.weeks * 5 + self.days

    def natural_days(self) -> int:
        return self.weeks * 7 + self.days


def unquote(text: str) -> str:
    """A timer written as a Python string (`"PT48H"`) is the same value as the bare text."""
    text = text.strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'":
        return text[1:-1].strip()
    return text


def parse_duration(text: str) -> Duration:
    """An ISO 8601 duration (`P3D`, `P1W`, `PT4H`, `P1DT12H`, `P1M`), whole numbers only."""
    raw = unquote(str(text or ""))
    value = raw.upper()
    if not value.startswith("P"):
        raise DurationError(f"'{raw}' is not an ISO 8601 duration (it starts with P, e.g. P3D or PT4H)")
    m = _DURATION.fullmatch(value)
    if m is None:
        if re.search(r"\d[.,]\d", value):
            raise DurationError(f"'{raw}': fractions are not counted; write whole units (P1DT12H, not P1.5D)")
        if value.startswith("-") or "-" in value:
            raise DurationError(f"'{raw}': a limit cannot be negative")
        raise DurationError(f"'{raw}' is not an ISO 8601 duration (PnYnMnWnDTnHnMnS, e.g. P3D, P1W, PT4H)")
    if value in ("P", "PT") or value.endswith("T"):
        raise DurationError(f"'{raw}': a duration needs at least one number and unit (e.g. P3D)")
    return Duration(**{k: int(v) for k, v in m.groupdict().items() if v})


def parse_datetime(text: str) -> datetime:
    """An ISO 8601 date-time (`2026-12-01T09:00:00`, with or without an offset)."""
    raw = unquote(str(text or ""))
    try:
        return datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise DurationError(f"'{raw}' is not an ISO 8601 date-time (e.g. 2026-12-01T09:00:00+08:00)") from None


def parse_limit(text: str) -> Duration | datetime:
    """A task's due declaration: a duration, or a fixed date-time."""
    raw = unquote(str(text or ""))
    if raw.upper().startswith("P"):
        return parse_duration(raw)
    try:
        return parse_datetime(raw)
    except DurationError:
        raise DurationError(f"'{raw}' is neither an ISO 8601 duration (P3D, PT4H) nor a date-time") from None


def calendar_problem(value) -> str | None:
    """Why a `calendar` property is not one the platform knows, or None."""
    if value is None or str(value).strip() in CALENDARS:
        return None
    return f"calendar '{value}' is unknown (workdays: 工作日, the default; natural: 自然日)"
