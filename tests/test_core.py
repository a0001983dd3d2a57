"""Unit tests of the pure domain rules in `salon.core` (no server, no database)."""

import pytest
from pydantic import ValidationError

from salon.core import meetings, presets
from salon.core.default_presets import DEFAULT_PRESETS, default_presets
from salon.core.merge import deep_merge
from salon.core.paging import Page


def test_deep_merge_merges_mappings_and_replaces_the_rest() -> None:
    base = {"a": {"b": 1, "c": [1]}, "d": 1}
    merged = deep_merge(base, {"a": {"c": [2]}, "e": None})
    assert merged == {"a": {"b": 1, "c": [2]}, "d": 1, "e": None}
    assert base == {"a": {"b": 1, "c": [1]}, "d": 1}  # inputs untouched


def test_page_offsets() -> None:
    assert Page.of(None, None) == Page(1, 20)
    assert Page.of(0, 0) == Page(1, 20)
    page = Page.of(3, 10)
    assert page.offset == 20
    assert page.paging(25, 5) == {"total_count": 25, "start_offset": 20, "end_offset": 24}
    assert page.paging(5, 0) == {"total_count": 5, "start_offset": 20, "end_offset": 20}


def test_default_presets_follow_the_webinar_recipe() -> None:
    bodies = {body.name: body for body in default_presets()}
    assert list(bodies) == list(DEFAULT_PRESETS)
    presenter, viewer = bodies["webinar_presenter"], bodies["webinar_viewer"]
    for body, value in ((presenter, "ALLOWED"), (viewer, "CAN_REQUEST")):
        assert body.config.view_type == "WEBINAR"
        assert body.permissions.stage_enabled is True
        assert body.permissions.stage_access == value
        media = body.permissions.media
        assert {media.audio.can_produce, media.video.can_produce,
                media.screenshare.can_produce} == {value}
    assert presenter.permissions.can_accept_production_requests is True
    assert viewer.permissions.can_accept_production_requests is False
    host, guest = bodies["group_call_host"], bodies["group_call_participant"]
    assert host.permissions.kick_participant and host.permissions.accept_waiting_requests
    assert not guest.permissions.kick_participant
    assert host.permissions.connected_meetings.can_alter_connected_meetings
    assert not guest.permissions.connected_meetings.can_alter_connected_meetings


def test_preset_patch_is_deep_and_validated_whole() -> None:
    stored = presets.PresetBody(name="p").wire()
    patched = presets.patched(stored, {"permissions": {"chat": {"public": {"files": False}}}})
    assert patched.permissions.chat.public.files is False
    assert patched.permissions.chat.public.text is True
    with pytest.raises(ValidationError):
        presets.patched(stored, {"config": {"media": {"video": {"frame_rate": 31}}}})
    with pytest.raises(ValidationError):
        presets.patched(stored, {"permissions": {"polls": {"can_vote": "yes"}}})


def test_preset_colours_keep_their_numeric_keys() -> None:
    tree = presets.PresetBody(name="p").tree()
    assert set(tree["ui"]["design_tokens"]["colors"]["brand"]) == {"300", "400", "500", "600", "700"}
    assert tree["ui"]["design_tokens"]["colors"]["background"]["1000"] == "#141414"


def test_meeting_defaults_and_nulls() -> None:
    settings = meetings.MeetingSettings.model_validate({"record_on_start": None})
    assert settings.record_on_start is False
    assert settings.session_keep_alive_time_in_secs == 60
    assert settings.ai_config.summarization.word_limit == 500
    assert settings.ai_config.transcription.language == "en-US"
    assert settings.recording_config.max_seconds == 86400


def test_meeting_patch_merges_nested_configs() -> None:
    current = {**meetings.MeetingSettings(title="t").model_dump(mode="json"), "status": "ACTIVE"}
    merged = meetings.patched(current, {"ai_config": {"summarization": {"word_limit": 150}},
                                        "status": "INACTIVE"})
    assert merged.status == "INACTIVE"
    assert merged.title == "t"
    assert merged.ai_config.summarization.word_limit == 150
    assert merged.ai_config.summarization.summary_type == "general"
    with pytest.raises(ValidationError):
        meetings.patched(current, {"session_keep_alive_time_in_secs": 601})


def test_storage_secrets_are_never_read_back() -> None:
    config = meetings.RecordingConfig.model_validate(
        {"storage_config": {"type": "sftp", "host": "h", "password": "pw", "private_key": "k",
                            "access_key": "a", "secret": "s"}}
    ).model_dump(mode="json")
    visible = meetings.public_recording_config(config)["storage_config"]
    assert visible["host"] == "h"
    assert not set(meetings.STORAGE_SECRETS) & set(visible)
    assert config["storage_config"]["password"] == "pw"  # still stored for the recorder
