"""Livestreams as the API answers them: the fields of the official SDK's livestream
models (`cloudflare/types/realtime_kit/livestream_*_response.py`), quirks included:
`disabled` a string, the list answered as one object with `paging` inside `data`, the
session's seconds typed differently per route (strings on active-livestream-session,
integers on livestreams/sessions, numbers on the livestream's sessions)."""

from typing import Literal

from typing_extensions import TypedDict

from salon.realtime.messages.base import Timestamp, closed

Status = Literal["LIVE", "IDLE", "ERRORED", "INVOKED"]


@closed
class LivestreamStarted(TypedDict):
    """POST /meetings/{meeting_id}/livestreams."""

    id: str
    status: Status
    #: Where an RTMP encoder would publish (`rtmp://host:1935/live/`); null when salon
    #: takes no RTMP (`SALON_RTMP_PORT=0` and no `SALON_RTMP_PUBLIC_URL`).
    ingest_server: str | None
    stream_key: str
    #: salon's own HLS playlist: `{public_url}/live/{id}/index.m3u8`.
    playback_url: str


@closed
class Livestream(TypedDict):
    id: str
    name: str | None
    #: null for an independent livestream.
    meeting_id: str | None
    ingest_server: str | None
    stream_key: str
    playback_url: str
    status: Status
    #: "true" or "false" (a string, as RealtimeKit's schema has it).
    disabled: str
    created_at: Timestamp
    updated_at: Timestamp


@closed
class IndependentLivestream(TypedDict):
    """POST /livestreams (RealtimeKit's docs; not in SDK 5.9.0)."""

    id: str
    name: str | None
    meeting_id: None
    ingest_server: str | None
    stream_key: str
    playback_url: str
    status: Status


@closed
class ListPaging(TypedDict):
    total_count: int
    start_offset: int
    end_offset: int


@closed
class LivestreamList(TypedDict):
    """GET /livestreams: RealtimeKit's schema answers one object; salon puts the page's
    livestreams in `livestreams` and the first one's fields beside them (what the SDK
    reads), with `paging`."""

    id: str | None
    name: str | None
    meeting_id: str | None
    ingest_server: str | None
    stream_key: str | None
    playback_url: str | None
    status: Status | None
    disabled: str | None
    created_at: Timestamp | None
    updated_at: Timestamp | None
    livestreams: list[Livestream]
    paging: ListPaging


@closed
class SessionStrings(TypedDict):
    """A livestream session on `…/active-livestream-session` (seconds as strings)."""

    id: str
    livestream_id: str
    err_message: str | None
    ingest_seconds: str
    viewer_seconds: str
    invoked_time: Timestamp
    started_time: Timestamp | None
    stopped_time: Timestamp | None
    created_at: Timestamp
    updated_at: Timestamp


@closed
class SessionNumbers(TypedDict):
    """A livestream session on `/livestreams/{id}` (seconds as numbers)."""

    id: str
    livestream_id: str
    err_message: str | None
    ingest_seconds: float
    viewer_seconds: float
    invoked_time: Timestamp
    started_time: Timestamp | None
    stopped_time: Timestamp | None
    created_at: Timestamp
    updated_at: Timestamp


@closed
class SessionIntegers(TypedDict):
    """`/livestreams/sessions/{id}` (whole seconds; no `invoked_time` in the schema)."""

    id: str
    livestream_id: str
    err_message: str | None
    ingest_seconds: int
    viewer_seconds: int
    started_time: Timestamp | None
    stopped_time: Timestamp | None
    created_at: Timestamp
    updated_at: Timestamp


@closed
class LivestreamWithSession(TypedDict):
    livestream: Livestream
    session: SessionStrings


@closed
class LivestreamWithSessions(TypedDict):
    livestream: Livestream
    #: The newest session of the page asked for (null: none yet).
    session: SessionNumbers | None
    paging: ListPaging


@closed
class Stopped(TypedDict):
    message: str


@closed
class Analytics(TypedDict):
    count: int
    total_ingest_seconds: int
    total_viewer_seconds: int


@closed
class DayAnalytics(TypedDict):
    date: str
    count: int
    total_ingest_seconds: int
    total_viewer_seconds: int
