"""The answers' shapes (`salon.api.schemas`, the OpenAPI document's source) against the
official `cloudflare` 5.9.0 SDK's response models: every field the SDK reads is there,
and every field salon adds is one of its documented additions (docs/api.md)."""

import importlib
import types
import typing
from typing import Any, Union

import pytest

from salon.api.schemas import live, recordings, resources, sessions

SDK = "cloudflare.types.realtime_kit."

#: (SDK module, response model, path below `data`, salon's shape, salon's additions)
PAIRS = [
    ("meeting_create_response", "MeetingCreateResponse", (), resources.Meeting,
     {"preferred_region"}),
    ("meeting_get_meeting_by_id_response", "MeetingGetMeetingByIDResponse", (),
     resources.Meeting, {"preferred_region"}),
    ("meeting_add_participant_response", "MeetingAddParticipantResponse", (),
     resources.Participant, set()),
    ("meeting_get_meeting_participant_response", "MeetingGetMeetingParticipantResponse", (),
     resources.Participant, {"token"}),
    ("meeting_delete_meeting_participant_response",
     "MeetingDeleteMeetingParticipantResponse", (), resources.DeletedParticipant, {"id"}),
    ("meeting_refresh_participant_token_response", "MeetingRefreshParticipantTokenResponse",
     (), resources.ParticipantToken, set()),
    ("preset_create_response", "PresetCreateResponse", (), resources.Preset, set()),
    ("preset_get_response", "PresetGetResponse", (), resources.PresetSummary, set()),
    ("app_post_response", "AppPostResponse", ("app",), resources.App, set()),
    ("session_get_session_details_response", "SessionGetSessionDetailsResponse", (),
     sessions.Session, {"meta", "transcript_status", "summary_status"}),
    ("session_get_sessions_response", "SessionGetSessionsResponse", ("sessions",),
     sessions.Session, {"meta", "transcript_status", "summary_status"}),
    ("session_get_session_transcripts_response", "SessionGetSessionTranscriptsResponse", (),
     sessions.TranscriptLink, set()),
    ("session_get_session_summary_response", "SessionGetSessionSummaryResponse", (),
     sessions.SummaryLink, set()),
    ("session_generate_summary_of_transcripts_response",
     "SessionGenerateSummaryOfTranscriptsResponse", (), sessions.SummaryJob, set()),
    ("session_get_session_participants_response", "SessionGetSessionParticipantsResponse",
     ("participants",), sessions.SessionParticipant, set()),
    ("session_get_session_chat_response", "SessionGetSessionChatResponse", (),
     sessions.ChatDownload, set()),
    ("active_session_get_active_session_response", "ActiveSessionGetActiveSessionResponse",
     (), sessions.Session, {"meta", "transcript_status", "summary_status"}),
    ("active_session_kick_all_participants_response",
     "ActiveSessionKickAllParticipantsResponse", (), live.KickedAll, set()),
    ("active_session_kick_participants_response", "ActiveSessionKickParticipantsResponse",
     (), live.Kicked, set()),
    ("active_session_create_poll_response", "ActiveSessionCreatePollResponse", (),
     live.PollCreated, set()),
    ("analytics_get_org_analytics_response", "AnalyticsGetOrgAnalyticsResponse", (),
     sessions.Daywise, set()),
    ("session_get_participant_data_from_peer_id_response",
     "SessionGetParticipantDataFromPeerIDResponse", ("participant",),
     sessions.PeerReportParticipant, {"peer_stats", "preset_name", "quality_stats"}),
    ("recording_start_recordings_response", "RecordingStartRecordingsResponse", (),
     recordings.Recording, set()),
    ("recording_get_one_recording_response", "RecordingGetOneRecordingResponse", (),
     recordings.Recording, set()),
    ("recording_pause_resume_stop_recording_response",
     "RecordingPauseResumeStopRecordingResponse", (), recordings.Recording, set()),
    ("recording_get_recordings_response", "RecordingGetRecordingsResponse", (),
     recordings.ListedRecording, set()),
    ("recording_get_recordings_response", "RecordingGetRecordingsResponse", ("meeting",),
     resources.MeetingBase, set()),
    ("recording_get_active_recordings_response", "RecordingGetActiveRecordingsResponse", (),
     recordings.RecordingBase, set()),
    ("recording_start_track_recording_response", "RecordingStartTrackRecordingResponse",
     ("recording",), recordings.RecordingBase, set()),
    ("recording_get_one_recording_response", "RecordingGetOneRecordingResponse",
     ("start_reason",), recordings.StartReason, set()),
    ("recording_get_one_recording_response", "RecordingGetOneRecordingResponse",
     ("start_reason", "caller"), recordings.Caller, set()),
]


def _inner(annotation: Any) -> Any:
    """`Optional[List[X]]` → `X`."""
    while typing.get_origin(annotation) in (Union, types.UnionType, list):
        annotation = next(a for a in typing.get_args(annotation) if a is not type(None))
    return annotation


def sdk_fields(module: str, model: str, path: tuple[str, ...]) -> set[str]:
    kind = getattr(importlib.import_module(SDK + module), model)
    for name in ("data", *path):
        kind = _inner(kind.model_fields[name].annotation)
    # The wire name: `user_Id` is RealtimeKit's spelling of the SDK's `user_id`.
    return {field.alias or name for name, field in kind.model_fields.items()}


@pytest.mark.parametrize(("module", "model", "path", "shape", "additions"), PAIRS,
                         ids=[pair[1] for pair in PAIRS])
def test_answers_have_the_sdk_fields(module: str, model: str, path: tuple[str, ...],
                                     shape: Any, additions: set[str]) -> None:
    ours = set(typing.get_type_hints(shape))
    theirs = sdk_fields(module, model, path)
    assert theirs - ours == set(), f"fields the SDK reads that salon lacks: {theirs - ours}"
    assert ours - theirs == additions
