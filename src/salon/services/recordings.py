"""Recording jobs: start, list, read and steer them; move them through their lifecycle.

The rules (bodies, precedence, transitions) are `salon.core.recordings`; this module
applies them to rows. Every status change that RealtimeKit announces queues its
`recording.statusUpdate` in the same transaction (the outbox), so a change is never
without its webhook, crash or not. The scheduler (`salon.recording.scheduler`) runs the
recorders; REST and realtime callers change rows here and then wake it.
"""

import asyncio
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from salon.core import recordings as rules
from salon.core.clock import isoformat, shown_until, utcnow
from salon.core.errors import Conflict, InvalidRequest, NotFound
from salon.core.ids import new_uuid
from salon.core.paging import Page
from salon.core.presets import PresetBody
from salon.recording.storage import check_storage_config
from salon.services import meetings, presets
from salon.store.models import App, Meeting, Participant, Preset, Recording, Session
from salon.webhooks import outbox, payloads


async def get(db: AsyncSession, app_id: str, recording_id: str) -> Recording:
    row = await db.get(Recording, recording_id)
    if row is None or row.app_id != app_id:
        raise NotFound(f"Recording {recording_id} not found.")
    return row


async def active_of(db: AsyncSession, meeting_id: str) -> list[Recording]:
    rows = await db.scalars(select(Recording).where(
        Recording.meeting_id == meeting_id, Recording.status.in_(rules.ACTIVE))
        .order_by(Recording.invoked_time))
    return list(rows)


async def start(db: AsyncSession, app_id: str, body: rules.StartRecording, *,
                session_id: str | None, reason: rules.StartReason = "API_CALL",
                caller: dict[str, Any] | None = None,
                by_peer_id: str | None = None) -> Recording:
    """Queue a composite recording (INVOKED); the scheduler picks it up."""
    meeting = await meetings.get(db, app_id, body.meeting_id)
    _refuse_inactive(meeting)
    config = rules.effective_config(body, meeting.recording_config or {})
    # In a thread: the first azure, gcs or sftp config imports its library (up to a
    # second), which on the event loop would stall every room of the node.
    if config.get("storage_config") is not None:
        await asyncio.to_thread(check_storage_config, config["storage_config"])
    if not body.allow_multiple_recordings:
        await _refuse_second(db, meeting)
    now = utcnow()
    name = rules.output_file_name(config.get("file_name_prefix"), meeting.id, now,
                                  rules.extension_for(config))
    row = _new(app_id, meeting.id, "composite", name, config, session_id, now,
               reason, caller or rules.caller("ORGANIZATION"), by_peer_id,
               allow_multiple=body.allow_multiple_recordings)
    db.add(row)
    await db.commit()
    return row


async def start_track(db: AsyncSession, app_id: str, body: rules.StartTrackRecording, *,
                      session_id: str | None) -> Recording:
    """Queue a track recording: one audio file per participant and layer."""
    meeting = await meetings.get(db, app_id, body.meeting_id)
    _refuse_inactive(meeting)
    if body.layers is not None and len(body.layers) > 1:
        raise InvalidRequest("layers: a track recording takes one layer for now (its "
                             "files are named by that layer's file_name_prefix).")
    await _refuse_second(db, meeting, kind="track")
    now = utcnow()
    layers = {k: v.model_dump(exclude_none=True) for k, v in (body.layers or {}).items()}
    prefix = next((layer.get("file_name_prefix") for layer in layers.values()
                   if layer.get("file_name_prefix")), None) or "default"
    config = {"user_ids": body.user_ids, "layers": layers, "track_prefix": prefix,
              **({"max_seconds": body.max_seconds} if body.max_seconds else {})}
    name = rules.output_file_name(prefix, meeting.id, now, "webm")
    row = _new(app_id, meeting.id, "track", name, config, session_id, now, "API_CALL",
               rules.caller("ORGANIZATION"), None, allow_multiple=False)
    db.add(row)
    await db.commit()
    return row


def _new(app_id: str, meeting_id: str, kind: str, name: str, config: dict[str, Any],
         session_id: str | None, now: datetime, reason: str, caller: dict[str, Any],
         by_peer_id: str | None, *, allow_multiple: bool) -> Recording:
    return Recording(
        id=new_uuid(), app_id=app_id, meeting_id=meeting_id, session_id=session_id,
        kind=kind, status="INVOKED", output_file_name=name, config=config,
        start_reason={"reason": reason, "caller": caller}, stop_reason=None,
        by_peer_id=by_peer_id, allow_multiple=allow_multiple, invoked_time=now,
        updated_at=now)


def _refuse_inactive(meeting: Meeting) -> None:
    """The recorder joins as a participant: an INACTIVE meeting would keep it out, and
    the recording would end ERRORED after a 201."""
    if meeting.status == "INACTIVE":
        raise Conflict(f"Meeting {meeting.id} is INACTIVE: nobody can join it, so there "
                       "is nothing to record.")


async def _refuse_second(db: AsyncSession, meeting: Meeting, kind: str = "composite") -> None:
    """409 if a recording of `kind` runs. The meeting's row is locked first, until the
    caller commits its own: of two starts at once, the second sees the first's."""
    meeting_id = meeting.id
    await meetings.get(db, meeting.app_id, meeting_id, lock=True)
    running = await db.scalar(select(Recording.id).where(
        Recording.meeting_id == meeting_id, Recording.kind == kind,
        Recording.status.in_(rules.ACTIVE)).limit(1))
    if running is not None:
        # a track recording has no allow_multiple_recordings (one per meeting at a time)
        advice = ("stop it first, or set allow_multiple_recordings" if kind == "composite"
                  else "stop it first")
        raise Conflict(f"Meeting {meeting_id} is already being recorded (recording "
                       f"{running}); {advice}.")


async def act(db: AsyncSession, app_id: str, recording_id: str, action: rules.Action, *,
              caller: dict[str, Any] | None = None, by_peer_id: str | None = None) -> Recording:
    """Pause, resume or stop (409 if the status does not allow it). A stop is API_CALL."""
    row = await get(db, app_id, recording_id)
    new = rules.after_action(row.status, action, claimed=row.claimed_at is not None)
    fields: dict[str, Any] = {"by_peer_id": by_peer_id}
    if action == "stop":
        stop: dict[str, Any] = {"reason": "API_CALL"}
        if caller is not None:
            stop["caller"] = caller
        fields.update(stop_reason=stop, stopped_time=utcnow())
        if new == "ERRORED":
            fields["error"] = "stopped before a recorder picked it up"
    await move(db, row, new, **fields)
    return row


async def stop_meeting(db: AsyncSession, meeting_id: str, reason: rules.StopReason,
                       caller: dict[str, Any] | None = None,
                       by_peer_id: str | None = None) -> list[Recording]:
    """Stop every active recording of a meeting (a session ended: ALL_PEERS_LEFT)."""
    stopped = []
    for row in await active_of(db, meeting_id):
        stop: dict[str, Any] = {"reason": reason}
        if caller is not None:
            stop["caller"] = caller
        new = rules.after_action(row.status, "stop", claimed=row.claimed_at is not None)
        await move(db, row, new, stop_reason=stop, stopped_time=utcnow(),
                   by_peer_id=by_peer_id)
        stopped.append(row)
    return stopped


async def move(db: AsyncSession, row: Recording, status: str, **fields: Any) -> int:
    """Change a recording's status (as the lifecycle allows) and other fields, queue its
    webhook if RealtimeKit sends one for the new status, and commit. Returns how many
    deliveries were queued."""
    if status != row.status and not rules.can_move(row.status, status):
        raise Conflict(f"Recording {row.id} cannot go from {row.status} to {status}.")
    changed = status != row.status
    row.status = status
    for key, value in fields.items():
        setattr(row, key, value)
    row.updated_at = utcnow()
    queued = 0
    if changed and status in payloads.RECORDING_WEBHOOK_STATUSES:
        queued = await outbox.enqueue(db, row.app_id, await webhook_payload(db, row))
    await db.commit()
    return queued


async def webhook_payload(db: AsyncSession, row: Recording) -> dict[str, Any]:
    meeting = await db.get(Meeting, row.meeting_id)
    app = await db.get(App, row.app_id)
    session = await db.get(Session, row.session_id) if row.session_id else None
    assert meeting is not None and app is not None
    shown: dict[str, Any] = {"id": meeting.id, "sessionId": row.session_id,
                             "title": meeting.title,
                             "status": session.status if session else "LIVE",
                             "createdAt": isoformat(meeting.created_at),
                             "startedAt": isoformat(session.started_at) if session else None}
    if session is not None and session.ended_at is not None:
        shown["endedAt"] = isoformat(session.ended_at)
    shown["organizedBy"] = {"id": app.id, "name": app.name}
    body = payloads.recording_status_update(
        shown, recording_id=row.id, status=row.status,
        download_url=row.download_url, audio_download_url=row.audio_download_url,
        download_url_expiry=row.download_url_expiry, started_time=row.started_time,
        stopped_time=row.stopped_time, file_size=row.file_size,
        output_file_name=row.output_file_name, recording_duration=row.recording_duration,
        app_id=row.app_id, session_id=row.session_id)
    if row.kind == "track":
        # `downloadUrl` is one string in RealtimeKit's body: a track recording has a file
        # per voice, so every one is in `downloadUrls` too, as R4 lists them.
        body["recording"]["downloadUrls"] = [
            {"layerName": file.get("layer") or "default", "fileName": file["name"],
             "downloadUrl": file["url"]}
            for file in row.files or [] if file.get("url")] if row.download_url else None
    return body


async def list_page(db: AsyncSession, app_id: str, page: Page, *, meeting_id: str | None,
                    expired: bool | None, search: str | None, sort_order: str,
                    start_time: datetime | None, end_time: datetime | None,
                    status: Sequence[str] | None) -> tuple[list[tuple[Recording, Meeting]], int]:
    """The app's recordings with their meetings, by invoked time."""
    query = (select(Recording, Meeting).join(Meeting, Meeting.id == Recording.meeting_id)
             .where(Recording.app_id == app_id))
    if meeting_id:
        query = query.where(Recording.meeting_id == meeting_id)
    if search:
        query = query.where(or_(Recording.meeting_id == search, Recording.id == search,
                                func.lower(Meeting.title).contains(search.lower(),
                                                                   autoescape=True)))
    if expired is not None:
        now = utcnow()
        lapsed = Recording.download_url_expiry < now
        query = query.where(lapsed if expired else or_(Recording.download_url_expiry.is_(None),
                                                       Recording.download_url_expiry >= now))
    if start_time is not None:
        query = query.where(Recording.invoked_time >= start_time)
    if end_time is not None:
        query = query.where(Recording.invoked_time < shown_until(end_time))
    if status:
        query = query.where(Recording.status.in_(list(status)))
    total = await db.scalar(select(func.count()).select_from(query.subquery())) or 0
    order = Recording.invoked_time.asc() if sort_order == "ASC" else Recording.invoked_time.desc()
    rows = await db.execute(query.order_by(order, Recording.id)
                            .offset(page.offset).limit(page.per_page))
    return [(recording, meeting) for recording, meeting in rows.all()], total


async def active(db: AsyncSession, app_id: str, meeting_id: str) -> Recording:
    """The meeting's newest active recording (404 if none)."""
    await meetings.get(db, app_id, meeting_id)
    rows = await active_of(db, meeting_id)
    if not rows:
        raise NotFound(f"Meeting {meeting_id} has no active recording.")
    return rows[-1]


async def recorder_participant(db: AsyncSession, row: Recording) -> Participant:
    """The hidden participant a recording's recorder joins as (one per recording)."""
    return await hidden_recorder(db, row.app_id, row.meeting_id, _recorder_id(row),
                                 "Recorder")


async def retire_recorder(db: AsyncSession, row: Recording) -> None:
    """The recording's recorder is done for good (not handed to another node): the tokens
    minted for it — a url recording's page was given one — stop letting anyone in.
    Commits."""
    participant = await db.scalar(select(Participant).where(
        Participant.meeting_id == row.meeting_id,
        Participant.custom_participant_id == _recorder_id(row)))
    if participant is not None:
        participant.token_version += 1
        participant.updated_at = utcnow()
        await db.commit()


def _recorder_id(row: Recording) -> str:
    return f"recorder-{row.id}"


async def hidden_recorder(db: AsyncSession, app_id: str, meeting_id: str,
                          custom_participant_id: str, name: str) -> Participant:
    """The hidden participant of the app's recorder preset (made on first use) that
    recorders and transcribers join as: the meeting's one with `custom_participant_id`,
    made if there is none yet (a transcriber started again in its session reuses it)."""
    existing = await db.scalar(select(Participant).where(
        Participant.meeting_id == meeting_id,
        Participant.custom_participant_id == custom_participant_id))
    if existing is not None:
        return existing
    preset = await _recorder_preset(db, app_id)
    if preset is None:
        body = PresetBody.model_validate(rules.recorder_preset())
        try:
            preset = await presets.create(db, app_id, body)
        except (Conflict, IntegrityError):  # another recording of the app made it first
            await db.rollback()
            preset = await _recorder_preset(db, app_id)
            assert preset is not None
    now = utcnow()
    participant = Participant(
        id=new_uuid(), app_id=app_id, meeting_id=meeting_id, preset_id=preset.id,
        custom_participant_id=custom_participant_id, name=name, picture=None,
        token_version=1, created_at=now, updated_at=now)
    db.add(participant)
    await db.commit()
    return participant


async def _recorder_preset(db: AsyncSession, app_id: str) -> Preset | None:
    return await db.scalar(select(Preset).where(
        Preset.app_id == app_id, Preset.name == rules.RECORDER_PRESET_NAME))
