"""How stored objects look on the wire: exactly the fields the official SDK reads."""

from typing import Any

from salon.core.clock import isoformat
from salon.core.meetings import public_recording_config
from salon.store.models import App, Meeting, Participant, Preset, Webhook


def app(row: App) -> dict[str, Any]:
    return {"id": row.id, "name": row.name, "created_at": isoformat(row.created_at)}


def meeting(row: Meeting) -> dict[str, Any]:
    data: dict[str, Any] = {
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


def participant(row: Participant, preset: Preset, token: str | None = None) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": row.id,
        "custom_participant_id": row.custom_participant_id,
        "preset_name": preset.name,
        "name": row.name,
        "picture": row.picture,
        "created_at": isoformat(row.created_at),
        "updated_at": isoformat(row.updated_at),
    }
    if token is not None:
        data["token"] = token
    return data


def deleted_participant(row: Participant) -> dict[str, Any]:
    return {
        "id": row.id,
        "custom_participant_id": row.custom_participant_id,
        "preset_id": row.preset_id,
        "created_at": isoformat(row.created_at),
        "updated_at": isoformat(row.updated_at),
    }


def preset_summary(row: Preset) -> dict[str, Any]:
    return {
        "id": row.id,
        "name": row.name,
        "created_at": isoformat(row.created_at),
        "updated_at": isoformat(row.updated_at),
    }


def preset(row: Preset) -> dict[str, Any]:
    return {**preset_summary(row), **row.tree()}


def webhook(row: Webhook) -> dict[str, Any]:
    return {
        "id": row.id,
        "name": row.name,
        "url": row.url,
        "events": row.events,
        "enabled": row.enabled,
        "created_at": isoformat(row.created_at),
        "updated_at": isoformat(row.updated_at),
    }
