"""Numbers and dates at the edge of their types: a 400 (or INVALID), never a 500.

A page number past SQLite's 64-bit integers, a date whose day after does not exist, a
time whose UTC form is before the year 1 — each used to reach the database or datetime
arithmetic and fail there.
"""

from datetime import date

import httpx
import pytest

from salon.client import RealtimeError
from salon.core.errors import InvalidRequest
from tests.live import Meeting
from tests.test_api_errors import assert_error

HUGE = "999999999999999999"


def test_page_numbers_are_capped(http: httpx.Client, meeting: dict) -> None:
    for path in ("/meetings", "/sessions", "/presets", "/plugins",
                 f"/meetings/{meeting['id']}/participants"):
        assert_error(http.get(f"{path}?page_no={HUGE}"), 400, "page_no")
        last = http.get(f"{path}?page_no=1000000&per_page=100")
        assert last.status_code == 200, last.text
        assert last.json()["paging"]["start_offset"] == 99_999_900


@pytest.mark.parametrize("query", [
    "start_time=0001-01-01T00:00:00%2B14:00",
    "end_time=9999-12-31T23:00:00-10:00",
])
def test_times_that_leave_the_calendar_in_utc_are_400(http: httpx.Client, query: str) -> None:
    field = query.split("=")[0]
    for path in ("/meetings", "/sessions"):
        assert_error(http.get(f"{path}?{query}"), 400, field, "UTC")


def test_the_calendars_last_millisecond_is_an_end_time_like_any(http: httpx.Client,
                                                                meeting: dict) -> None:
    """Each list takes in what was shown up to its `end_time`'s millisecond: of the
    calendar's last one there is no millisecond after (it was a 500)."""
    for path in ("/meetings", "/sessions", "/recordings", "/livestreams"):
        listed = http.get(f"{path}?end_time=9999-12-31T23:59:59.999Z&per_page=100")
        assert listed.status_code == 200, (path, listed.text)
        if path == "/meetings":
            assert meeting["id"] in [m["id"] for m in listed.json()["data"]]


def test_times_are_read_as_utc(http: httpx.Client, meeting: dict) -> None:
    created = meeting["created_at"]
    for query, found in ((f"start_time={created}", True),
                         (f"start_time={created[:-1]}", True),  # no zone: UTC
                         ("start_time=0001-01-01T00:00:00Z", True),
                         ("end_time=0001-01-01T00:00:00", False),
                         # as shown (to the millisecond; stored to the microsecond)
                         (f"end_time={created}", True),
                         ("end_time=9999-12-31T23:59:59%2B05:00", True)):
        listed = http.get(f"/meetings?{query}&per_page=100")
        assert listed.status_code == 200, listed.text
        assert (meeting["id"] in [m["id"] for m in listed.json()["data"]]) == found, query


@pytest.mark.parametrize(("query", "needle"), [
    ("end_date=0001-01-01", "end_date"),
    ("start_date=1969-12-31&end_date=1970-01-05", "start_date"),
    ("start_date=2024-02-01&end_date=2024-01-01", "after"),
    ("start_date=2020-01-01&end_date=2024-01-01", "366"),
    ("start_date=2020-01-01", "366"),
])
def test_daywise_ranges_are_checked(http: httpx.Client, query: str, needle: str) -> None:
    assert_error(http.get(f"/analytics/daywise?{query}"), 400, needle)


@pytest.mark.parametrize("query", [
    "start_date=9999-12-31&end_date=9999-12-31", "end_date=9999-12-31",
    "start_date=1970-01-01&end_date=1970-01-01", "end_date=1970-01-05",
    "start_date=2030-01-01", "start_date=2024-01-01&end_date=2024-12-31",
])
def test_daywise_at_the_ends_of_the_calendar(http: httpx.Client, query: str) -> None:
    response = http.get(f"/analytics/daywise?{query}")
    assert response.status_code == 200, response.text
    assert response.json()["data"]["session_stats"]["sessions_count"] == 0


def test_daywise_defaults() -> None:
    from salon.services.sessions import daywise_range

    today = date(2026, 3, 10)
    assert daywise_range(None, None, today) == (date(2026, 2, 9), today)
    assert daywise_range(None, date(1970, 1, 5), today) == (date(1970, 1, 1), date(1970, 1, 5))
    assert daywise_range(date(2030, 1, 1), None, today) == (date(2030, 1, 1), date(2030, 1, 1))
    assert daywise_range(date(2026, 1, 1), None, today) == (date(2026, 1, 1), today)
    with pytest.raises(InvalidRequest):
        daywise_range(date(2024, 1, 1), None, today)


async def test_chat_history_bounds_out_of_range_are_invalid(room: Meeting) -> None:
    peer = await room.join("group_call_host")
    await peer.request("chat.send", text="hello")
    for bound in ({"before": "0001-01-01T00:00:00+14:00"},
                  {"after": "9999-12-31T23:59:59-05:00"}):
        with pytest.raises(RealtimeError) as refused:
            await peer.request("chat.history", **bound)
        assert refused.value.code == "INVALID" and "UTC" in refused.value.message
    assert (await peer.request("chat.history", before="0001-01-01T00:00:00Z"))["messages"] == []
    assert len((await peer.request("chat.history",
                                   after="2000-01-01T00:00:00"))["messages"]) == 1
    assert await peer.ping() == {"pong": True}
