"""Time as salon writes it on the wire: UTC, ISO-8601, millisecond precision, `Z` suffix."""

from datetime import UTC, datetime, timedelta


def utcnow() -> datetime:
    return datetime.now(UTC)


def isoformat(moment: datetime | None) -> str | None:
    """Format like RealtimeKit does: `2026-11-28T04:38:58.123Z`."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def shown_until(end: datetime) -> datetime:
    """The bound below which a stored time reads `end` or earlier on the wire: times are
    stored to the microsecond and shown to the millisecond, so a filter's `end_time`
    copied from an object's shown time must still take that object in. Use with `<`.
    The calendar's last millisecond (9999-12-31T23:59:59.999Z) has none after it: its
    bound is the last microsecond, which no stored time reaches."""
    shown = end.replace(microsecond=end.microsecond // 1000 * 1000)
    try:
        return shown + timedelta(milliseconds=1)
    except OverflowError:
        return datetime.max.replace(tzinfo=end.tzinfo)
