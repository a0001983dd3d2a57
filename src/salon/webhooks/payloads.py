"""RealtimeKit's webhook payloads (reference §7.3): camelCase, with a top-level `event`.

Pure functions over plain values, so session code can build a payload from whatever it
holds and the shapes are unit-tested without a server.
"""

from datetime import datetime
from typing import Any, Literal

from salon.core.clock import isoformat

EndReason = Literal["HOST_ENDED_MEETING", "ALL_PARTICIPANTS_LEFT"]


def meeting_object(
    *,
    meeting_id: str,
    session_id: str,
    title: str | None,
    status: str,
    created_at: datetime,
    started_at: datetime,
    ended_at: datetime | None,
    app_id: str,
    app_name: str,
) -> dict[str, Any]:
    """The `meeting` every session event carries. `organizedBy` is the app, and `roomName`
    equals the meeting id, as in Cloudflare's examples. `endedAt` appears once ended."""
    meeting: dict[str, Any] = {
        "id": meeting_id,
        "sessionId": session_id,
        "title": title,
        "roomName": meeting_id,
        "status": status,
        "createdAt": isoformat(created_at),
        "startedAt": isoformat(started_at),
    }
    if ended_at is not None:
        meeting["endedAt"] = isoformat(ended_at)
    meeting["organizedBy"] = {"id": app_id, "name": app_name}
    return meeting


def meeting_started(meeting: dict[str, Any]) -> dict[str, Any]:
    return {"event": "meeting.started", "meeting": meeting}


def meeting_ended(meeting: dict[str, Any], reason: EndReason) -> dict[str, Any]:
    return {"event": "meeting.ended", "meeting": meeting, "reason": reason}


def participant_joined(
    meeting: dict[str, Any],
    *,
    peer_id: str,
    display_name: str | None,
    custom_participant_id: str,
    joined_at: datetime,
) -> dict[str, Any]:
    participant = _participant(peer_id, display_name, custom_participant_id, joined_at)
    return {"event": "meeting.participantJoined", "meeting": meeting, "participant": participant}


def participant_left(
    meeting: dict[str, Any],
    *,
    peer_id: str,
    display_name: str | None,
    custom_participant_id: str,
    joined_at: datetime,
    left_at: datetime,
) -> dict[str, Any]:
    participant = _participant(peer_id, display_name, custom_participant_id, joined_at)
    participant["leftAt"] = isoformat(left_at)
    return {"event": "meeting.participantLeft", "meeting": meeting, "participant": participant}


def chat_synced(
    meeting: dict[str, Any], *, chat_download_url: str, chat_download_url_expiry: datetime
) -> dict[str, Any]:
    """A session's chat export is ready: flat fields, not a `meeting` object (§7.3)."""
    return {
        "event": "meeting.chatSynced",
        "sessionId": meeting["sessionId"],
        "meetingId": meeting["id"],
        "title": meeting["title"],
        "chatDownloadUrl": chat_download_url,
        "chatDownloadUrlExpiry": isoformat(chat_download_url_expiry),
        "createdAt": meeting["createdAt"],
        "startedAt": meeting["startedAt"],
        "endedAt": meeting.get("endedAt"),
        "organizedBy": meeting["organizedBy"],
    }


def _participant(
    peer_id: str, display_name: str | None, custom_participant_id: str, joined_at: datetime
) -> dict[str, Any]:
    """`clientSpecificId` is RealtimeKit's deprecated alias of `customParticipantId`."""
    return {
        "peerId": peer_id,
        "userDisplayName": display_name,
        "customParticipantId": custom_participant_id,
        "clientSpecificId": custom_participant_id,
        "joinedAt": isoformat(joined_at),
    }


#: The statuses `recording.statusUpdate` is sent on (RealtimeKit's webhooks page).
RECORDING_WEBHOOK_STATUSES = frozenset({"RECORDING", "UPLOADING", "UPLOADED", "ERRORED"})


def recording_status_update(meeting: dict[str, Any], *, recording_id: str, status: str,
                            download_url: str | None, audio_download_url: str | None,
                            download_url_expiry: datetime | None,
                            started_time: datetime | None, stopped_time: datetime | None,
                            file_size: float | None, output_file_name: str,
                            recording_duration: int | None, app_id: str,
                            session_id: str | None) -> dict[str, Any]:
    """`recording.statusUpdate` (reference recording-and-ai §1.7): camelCase, `fileSize`
    a string of bytes, `recordingDuration` whole seconds, `roomUUID` the session id,
    `organizationId` the app id; `id` and `recordingId` are both the recording's id."""
    recording = {
        "id": recording_id,
        "recordingId": recording_id,
        "status": status,
        "downloadUrl": download_url,
        "audioDownloadUrl": audio_download_url,
        "downloadUrlExpiry": isoformat(download_url_expiry) if download_url_expiry else None,
        "startedTime": isoformat(started_time) if started_time else None,
        "stoppedTime": isoformat(stopped_time) if stopped_time else None,
        "fileSize": str(int(file_size)) if file_size is not None else None,
        "outputFileName": output_file_name,
        "meetingId": meeting["id"],
        "recordingDuration": recording_duration,
        "organizationId": app_id,
        "roomUUID": session_id,
    }
    return {"event": "recording.statusUpdate", "recording": recording, "meeting": meeting}


def meeting_transcript(meeting: dict[str, Any], *, transcript_download_url: str,
                       transcript_download_url_expiry: datetime) -> dict[str, Any]:
    """`meeting.transcript` (reference recording-and-ai §1.7): the session's transcript is
    READY; the link is to its CSV, RealtimeKit's default format."""
    return {
        "event": "meeting.transcript",
        "meeting": meeting,
        "transcriptDownloadUrl": transcript_download_url,
        "transcriptDownloadUrlExpiry": isoformat(transcript_download_url_expiry),
    }


def meeting_summary(meeting: dict[str, Any], *, summary_download_url: str,
                    summary_download_url_expiry: datetime) -> dict[str, Any]:
    """`meeting.summary` (§1.7): the session's summary is READY (a `.md` or `.txt`)."""
    return {
        "event": "meeting.summary",
        "meeting": meeting,
        "summaryDownloadUrl": summary_download_url,
        "summaryDownloadUrlExpiry": isoformat(summary_download_url_expiry),
    }
