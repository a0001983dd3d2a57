"""Livestreams and their sessions rendered exactly as the official SDK parses them
(`salon.api.schemas.livestreams`)."""

from typing import Any

from salon.core.clock import isoformat
from salon.services.livestreams import Urls, ingest_seconds
from salon.store.models import Livestream, LivestreamSession


def _time(value: Any) -> str | None:
    return isoformat(value) if value is not None else None


def livestream(row: Livestream, urls: Urls) -> dict[str, Any]:
    return {
        "id": row.id,
        "name": row.name,
        "meeting_id": row.meeting_id,
        "ingest_server": urls.ingest_server,
        "stream_key": row.stream_key,
        "playback_url": urls.playback(row.id),
        "status": row.status,
        "disabled": "true" if row.disabled else "false",
        "created_at": isoformat(row.created_at),
        "updated_at": isoformat(row.updated_at),
    }


def started(row: Livestream, urls: Urls) -> dict[str, Any]:
    return {"id": row.id, "status": row.status, "ingest_server": urls.ingest_server,
            "stream_key": row.stream_key, "playback_url": urls.playback(row.id)}


def independent(row: Livestream, urls: Urls) -> dict[str, Any]:
    return {**started(row, urls), "name": row.name, "meeting_id": None}


def _session(row: LivestreamSession) -> dict[str, Any]:
    return {
        "id": row.id,
        "livestream_id": row.livestream_id,
        "err_message": row.err_message,
        "invoked_time": isoformat(row.invoked_time),
        "started_time": _time(row.started_time),
        "stopped_time": _time(row.stopped_time),
        "created_at": isoformat(row.invoked_time),
        "updated_at": isoformat(row.updated_at),
    }


def session_strings(row: LivestreamSession) -> dict[str, Any]:
    return {**_session(row), "ingest_seconds": str(int(ingest_seconds(row))),
            "viewer_seconds": str(int(row.viewer_seconds))}


def session_numbers(row: LivestreamSession) -> dict[str, Any]:
    return {**_session(row), "ingest_seconds": round(ingest_seconds(row), 3),
            "viewer_seconds": round(row.viewer_seconds, 3)}


def session_integers(row: LivestreamSession) -> dict[str, Any]:
    shown = _session(row)
    del shown["invoked_time"]
    return {**shown, "ingest_seconds": int(ingest_seconds(row)),
            "viewer_seconds": int(row.viewer_seconds)}
