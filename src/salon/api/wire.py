"""How stored objects look on the wire: exactly the fields the official SDK reads, as
`salon.api.schemas` types them (and the OpenAPI document says)."""

from typing import Any

from sqlalchemy import Row

from salon.api.schemas import recordings as recording_shapes
from salon.api.schemas import resources as shapes
from salon.api.schemas import sessions as session_shapes
from salon.core.clock import isoformat
from salon.core.meetings import public_recording_config
from salon.services.participants import Added
from salon.services.sessions import Attendance, SessionView
from salon.store.models import (
    App,
    Meeting,
    Participant,
    PeerEvent,
    Preset,
    Recording,
    Webhook,
)


def app(row: App) -> shapes.App:
    return {"id": row.id, "name": row.name, "created_at": isoformat(row.created_at)}


def meeting(row: Meeting | Row[Any]) -> shapes.Meeting:
    data: shapes.Meeting = {
        "id": row.id,
        "title": row.title,
        "status": row.status,
        "record_on_start": row.record_on_start,
        "live_stream_on_start": row.live_stream_on_start,
        "persist_chat": row.persist_chat,
        "summarize_on_end": row.summarize_on_end,
        "transcribe_on_end": row.transcribe_on_end,
        "session_keep_alive_time_in_secs": row.session_keep_alive_time_in_secs,
        "ai_config": row.ai_config,
        "recording_config": public_recording_config(row.recording_config),
        "created_at": isoformat(row.created_at),
        "updated_at": isoformat(row.updated_at),
    }
    if row.preferred_region is not None:
        data["preferred_region"] = row.preferred_region
    return data


def participant(row: Participant | Added, preset_name: str,
                token: str | None = None) -> shapes.Participant:
    data: shapes.Participant = {
        "id": row.id,
        "custom_participant_id": row.custom_participant_id,
        "preset_name": preset_name,
        "name": row.name,
        "picture": row.picture,
        "created_at": isoformat(row.created_at),
        "updated_at": isoformat(row.updated_at),
    }
    if token is not None:
        data["token"] = token
    return data


def deleted_participant(row: Participant) -> shapes.DeletedParticipant:
    return {
        "id": row.id,
        "custom_participant_id": row.custom_participant_id,
        "preset_id": row.preset_id,
        "created_at": isoformat(row.created_at),
        "updated_at": isoformat(row.updated_at),
    }


def preset_summary(row: Preset) -> shapes.PresetSummary:
    return {
        "id": row.id,
        "name": row.name,
        "created_at": isoformat(row.created_at),
        "updated_at": isoformat(row.updated_at),
    }


def preset(row: Preset) -> shapes.Preset:
    return {**preset_summary(row), **row.tree()}  # type: ignore[typeddict-item]


def webhook(row: Webhook) -> shapes.Webhook:
    return {
        "id": row.id,
        "name": row.name,
        "url": row.url,
        "events": row.events,
        "enabled": row.enabled,
        "created_at": isoformat(row.created_at),
        "updated_at": isoformat(row.updated_at),
    }


def session(view: SessionView) -> session_shapes.Session:
    row = view.row
    data: session_shapes.Session = {
        "id": row.id,
        "associated_id": row.meeting_id,
        "meeting_display_name": row.meeting_display_name or "",
        "type": row.type,
        "status": row.status,
        "live_participants": row.live_participants if row.status == "LIVE" else 0,
        "max_concurrent_participants": row.max_concurrent_participants,
        "minutes_consumed": round(view.minutes_consumed, 4),
        "organization_id": row.app_id,
        "started_at": isoformat(row.started_at),
        "created_at": isoformat(row.created_at),
        "updated_at": isoformat(row.updated_at),
        "meta": row.meta or {},
        "transcript_status": view.transcript_status,  # type: ignore[typeddict-item]
        "summary_status": view.summary_status,  # type: ignore[typeddict-item]
    }
    if row.ended_at is not None:
        data["ended_at"] = isoformat(row.ended_at)
    if view.breakout_rooms is not None:
        data["breakout_rooms"] = [session(child) for child in view.breakout_rooms]
    return data


def peer_event(row: PeerEvent) -> session_shapes.PeerEvent:
    return {
        "id": row.id,
        "event_name": row.event_name,
        "minutes_consumed": round(row.minutes_consumed, 4),
        "participant_id": row.participant_id,
        "peer_id": row.peer_id,
        "session_id": row.session_id,
        "socket_session_id": row.socket_session_id,
        "preset_view_type": row.preset_view_type,
        "created_at": isoformat(row.created_at),
        "updated_at": isoformat(row.created_at),
    }


def attendance(row: Attendance) -> session_shapes.SessionParticipant:
    peer = row.peer
    data: session_shapes.SessionParticipant = {
        "id": peer.id,
        "user_id": row.user_id,
        "custom_participant_id": peer.custom_participant_id,
        "display_name": peer.display_name,
        "preset_name": peer.preset_name,
        "joined_at": isoformat(row.joined_at),
        "left_at": isoformat(row.left_at),
        "duration": round(row.duration, 4),
        "created_at": isoformat(peer.created_at),
        "updated_at": isoformat(peer.updated_at),
    }
    if row.peer_events is not None:
        data["peer_events"] = [peer_event(e) for e in row.peer_events]
    return data


# --- recordings ---------------------------------------------------------------------------


def recording_base(row: Recording) -> recording_shapes.RecordingBase:
    return {
        "id": row.id,
        "status": row.status,  # type: ignore[typeddict-item]
        "invoked_time": isoformat(row.invoked_time),
        "output_file_name": row.output_file_name,
        "started_time": isoformat(row.started_time) if row.started_time else None,
        "stopped_time": isoformat(row.stopped_time) if row.stopped_time else None,
        "download_url": _download_url(row),
        "audio_download_url": row.audio_download_url,
        "download_url_expiry": (isoformat(row.download_url_expiry)
                                if row.download_url_expiry else None),
        "file_size": row.file_size,
        "session_id": row.session_id,
        "recording_duration": row.recording_duration,
    }


def _download_url(row: Recording) -> str | list[recording_shapes.TrackLayerUrls] | None:
    """A composite's link; a track recording's links per layer and file (RealtimeKit's
    track-recording shape), once stored."""
    if row.kind != "track" or row.download_url is None:
        return row.download_url
    layers: dict[str, dict[str, recording_shapes.TrackFileUrl]] = {}
    for file in row.files or []:
        if file.get("url"):
            layer = layers.setdefault(file.get("layer") or "default", {})
            layer[file["name"]] = {"download_url": file["url"]}
    return [{"layer_name": name, "download_urls": urls} for name, urls in layers.items()]


def storage_view(config: dict[str, Any]) -> recording_shapes.StorageView | None:
    """Every field but the secrets, each `null` when not set (as the meeting's
    `recording_config.storage_config` shows it)."""
    storage = config.get("storage_config")
    if not storage:
        return None
    return {key: storage.get(key)  # type: ignore[return-value]
            for key in recording_shapes.StorageView.__annotations__}


def recording(row: Recording) -> recording_shapes.Recording:
    return {**recording_base(row), "start_reason": row.start_reason,  # type: ignore[typeddict-item]
            "stop_reason": row.stop_reason, "storage_config": storage_view(row.config)}


def listed_recording(row: Recording, of: Meeting) -> recording_shapes.ListedRecording:
    shown = meeting(of)
    shown.pop("ai_config")
    shown.pop("preferred_region", None)
    return {**recording_base(row), "meeting": shown,  # type: ignore[typeddict-item]
            "storage_config": storage_view(row.config)}
