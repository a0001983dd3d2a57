"""The recording rules without a server: the lifecycle, the bodies and their precedence
over the meeting's config, the room's view of recordings, the webhook payload, and the
test recorder itself (pause, stop, max_seconds)."""

import threading
from datetime import UTC, datetime
from pathlib import Path

import av
import pytest
from pydantic import ValidationError

from salon.core import recordings as rules
from salon.core.errors import Conflict, InvalidRequest
from salon.core.meetings import RecordingConfig
from salon.core.presets import Permissions, PresetBody
from salon.core.room import Peer, Room, RoomError
from salon.core.room.outcome import Record
from salon.core.room.recordings import may_record, recordings_updated
from salon.recording.spec import RecordingSpec
from salon.webhooks import payloads
from tests.fake_recorder import run_recording

NOW = datetime(2026, 12, 5, 10, 0, tzinfo=UTC)
DEFAULTS = RecordingConfig().model_dump()


def test_transitions_follow_the_lifecycle() -> None:
    assert rules.can_move("INVOKED", "RECORDING")
    assert rules.can_move("RECORDING", "PAUSED") and rules.can_move("PAUSED", "RECORDING")
    assert rules.can_move("PAUSED", "UPLOADING") and rules.can_move("UPLOADING", "UPLOADED")
    assert all(rules.can_move(status, "ERRORED") for status in
               ("INVOKED", "RECORDING", "PAUSED", "UPLOADING"))
    assert not rules.can_move("UPLOADED", "ERRORED")
    assert not rules.can_move("ERRORED", "RECORDING")
    assert not rules.can_move("INVOKED", "PAUSED")


@pytest.mark.parametrize(("status", "action", "claimed", "result"), [
    ("RECORDING", "pause", True, "PAUSED"),
    ("PAUSED", "resume", True, "RECORDING"),
    ("RECORDING", "stop", True, "UPLOADING"),
    ("PAUSED", "stop", True, "UPLOADING"),
    ("INVOKED", "stop", True, "UPLOADING"),
    ("INVOKED", "stop", False, "ERRORED"),
])
def test_actions_allowed(status: str, action: rules.Action, claimed: bool, result: str) -> None:
    assert rules.after_action(status, action, claimed=claimed) == result


@pytest.mark.parametrize(("status", "action"), [
    ("PAUSED", "pause"), ("RECORDING", "resume"), ("INVOKED", "pause"),
    ("UPLOADING", "stop"), ("UPLOADED", "stop"), ("ERRORED", "resume")])
def test_actions_refused_with_a_reason(status: str, action: rules.Action) -> None:
    with pytest.raises(Conflict, match=f"Cannot {action} a recording that is {status}"):
        rules.after_action(status, action, claimed=True)


def test_body_over_meeting_config_over_defaults() -> None:
    meeting = {**DEFAULTS, "max_seconds": 600, "file_name_prefix": "weekly",
               "video_config": {**DEFAULTS["video_config"], "codec": "VP8", "width": 640}}
    body = rules.StartRecording.model_validate(
        {"meeting_id": "m", "max_seconds": 120, "video_config": {"width": 1920}})
    config = rules.effective_config(body, meeting)
    assert config["max_seconds"] == 120  # body
    assert config["file_name_prefix"] == "weekly"  # meeting
    assert config["video_config"]["width"] == 1920  # body
    # An omitted nested field keeps the meeting's, not the body model's default.
    assert config["video_config"]["codec"] == "VP8"
    assert config["video_config"]["height"] == 720  # default
    assert rules.extension_for(config) == "webm"
    vp9 = rules.StartRecording.model_validate({"meeting_id": "m",
                                               "video_config": {"codec": "VP9"}})
    assert rules.extension_for(rules.effective_config(vp9, DEFAULTS)) == "webm"


def test_a_url_recording_keeps_its_page_and_takes_http_or_https_only() -> None:
    body = rules.StartRecording.model_validate({"meeting_id": "m",
                                                "url": "https://example.com/app?a=1"})
    config = rules.effective_config(body, DEFAULTS)
    assert config["url"] == "https://example.com/app?a=1"
    assert rules.extension_for(config) == "mp4"
    for wrong in ("ftp://example.com/app", "file:///etc/passwd", "javascript:alert(1)",
                  "example.com/app", "https://"):
        with pytest.raises(ValidationError, match="url"):
            rules.StartRecording.model_validate({"meeting_id": "m", "url": wrong})


def test_an_interactive_recording_is_a_tar_of_h264() -> None:
    body = rules.StartRecording.model_validate({"meeting_id": "m",
                                                "interactive_config": {"type": "ID3"}})
    assert rules.extension_for(rules.effective_config(body, DEFAULTS)) == "tar"
    meeting_vp8 = {**DEFAULTS, "video_config": {**DEFAULTS["video_config"], "codec": "VP8"}}
    with pytest.raises(InvalidRequest, match="H.264"):
        rules.effective_config(body, meeting_vp8)
    plain = rules.StartRecording.model_validate({"meeting_id": "m",
                                                 "interactive_config": {"type": None}})
    assert rules.extension_for(rules.effective_config(plain, DEFAULTS)) == "mp4"


@pytest.mark.parametrize(("extra", "words"), [
    ({"rtmp_out_config": {"rtmp_url": "https://example.com/live"}}, "rtmp://"),
    *[({"rtmp_out_config": {"rtmp_url": url}}, "rtmp://")  # the scheme, and no host
      for url in ("rtmp://", "rtmp://a b/live", "rtmp://%20/live", "rtmps://xn--/k",
                  "rtmp://a.example:99999/live")],
    ({"rtmp_out_config": {"rtmp_url": "rtmp://example.com/live"},
      "video_config": {"codec": "VP8"}}, "H.264"),
    ({"rtmp_out_config": {"rtmp_url": "rtmp://example.com/live"},
      "video_config": {"codec": "VP9"}}, "H.264"),
])
def test_rtmp_out_is_rtmp_and_h264(extra: dict, words: str) -> None:
    body = rules.StartRecording.model_validate({"meeting_id": "m", **extra})
    with pytest.raises(InvalidRequest, match=words):
        rules.effective_config(body, DEFAULTS)


def test_rtmp_out_from_the_body_or_the_meeting() -> None:
    body = rules.StartRecording.model_validate(
        {"meeting_id": "m", "rtmp_out_config": {"rtmp_url": "rtmp://a.example/live/k"}})
    assert rules.rtmp_urls(rules.effective_config(body, DEFAULTS)) == ["rtmp://a.example/live/k"]
    meeting = {**DEFAULTS, "live_streaming_config": {"rtmp_url": "rtmps://b.example/app/k"}}
    plain = rules.StartRecording.model_validate({"meeting_id": "m"})
    assert rules.rtmp_urls(rules.effective_config(plain, meeting)) == ["rtmps://b.example/app/k"]
    assert rules.rtmp_urls(rules.effective_config(plain, DEFAULTS)) == []


def test_output_file_name_and_caller() -> None:
    assert rules.output_file_name("sync", "m", NOW, "mp4") == "sync_2026-12-05T10-00-00Z.mp4"
    assert rules.output_file_name(None, "m", NOW, "webm") == "m_2026-12-05T10-00-00Z.webm"
    assert rules.caller("USER", "Ada", "p1") == {"type": "USER", "name": "Ada", "user_Id": "p1"}


def test_the_recorder_preset_is_hidden_and_publishes_nothing() -> None:
    body = PresetBody.model_validate(rules.recorder_preset())
    p = body.permissions
    assert p.is_recorder and p.hidden_participant and p.recorder_type == "RECORDER"
    assert p.media.audio.can_produce == "NOT_ALLOWED"


def _peer(peer_id: str, **permissions: object) -> Peer:
    return Peer(peer_id, f"p-{peer_id}", f"c-{peer_id}", peer_id, None, "preset", "GROUP_CALL",
                Permissions.model_validate(permissions))


def test_a_recorder_alone_does_not_keep_the_session() -> None:
    room = Room("m", "t")
    room.connect(_peer("a"), NOW)
    room.connect(_peer("rec", hidden_participant=True, is_recorder=True), NOW)
    assert [p["peer_id"] for p in room.state_for(room.peers["a"])["peers"]] == ["a"]
    out = room.leave("a", NOW)
    assert room.idle_since == NOW and Record.SESSION_IDLE in [r.kind for r in out.records]
    ended = room.expire(NOW)
    assert [r.kind for r in ended.records][-1] == Record.SESSION_ENDED
    assert "rec" not in room.peers and not room.is_live
    assert [c.peer_id for c in ended.closes] == ["rec"]


def test_a_recorder_arriving_first_starts_an_idle_session() -> None:
    room = Room("m", "t")
    out = room.connect(_peer("rec", hidden_participant=True), NOW)
    kinds = [r.kind for r in out.records]
    assert kinds[0] == Record.SESSION_STARTED and kinds[-1] == Record.SESSION_IDLE
    resumed = room.connect(_peer("a"), NOW)
    assert room.idle_since is None
    assert Record.SESSION_RESUMED in [r.kind for r in resumed.records]


def test_only_can_record_may_steer_and_everyone_hears() -> None:
    room = Room("m", "t")
    room.connect(_peer("a"), NOW)
    room.connect(_peer("host", can_record=True), NOW)
    with pytest.raises(RoomError) as refused:
        may_record(room, "a")
    assert refused.value.code == "FORBIDDEN" and "can_record" in str(refused.value)
    may_record(room, "host")
    view = {"id": "r1", "status": "RECORDING"}
    out = recordings_updated(room, [view], "host", {"recording": view})
    assert out.reply == {"recording": view}
    assert out.events[0].to == {"a", "host"}
    assert room.state_for(room.peers["a"])["recordings"] == [view]
    recordings_updated(room, [{"id": "r1", "status": "UPLOADING"}], None)
    assert room.recordings == {}


def test_webhook_payload_quirks() -> None:
    payload = payloads.recording_status_update(
        {"id": "m"}, recording_id="r", status="UPLOADED", download_url="u",
        audio_download_url=None, download_url_expiry=NOW, started_time=NOW,
        stopped_time=NOW, file_size=2044680.0, output_file_name="x.mp4",
        recording_duration=1800, app_id="app", session_id="s")
    recording = payload["recording"]
    assert payload["event"] == "recording.statusUpdate"
    assert recording["fileSize"] == "2044680" and recording["recordingDuration"] == 1800
    assert recording["roomUUID"] == "s" and recording["organizationId"] == "app"
    assert recording["id"] == recording["recordingId"] == "r"


class _Control:
    def __init__(self) -> None:
        self.stop: str | None = None
        self.pause = False
        self.began = threading.Event()

    def paused(self) -> bool:
        return self.pause

    def stop_requested(self) -> str | None:
        return self.stop

    def started(self) -> None:
        self.began.set()


def test_the_test_recorder_stops_at_max_seconds(tmp_path: Path) -> None:
    spec = RecordingSpec("r", "composite", "ws://unused", "t", tmp_path, "short",
                         max_seconds=1)
    control = _Control()
    outcome = run_recording(spec, control)  # type: ignore[arg-type]
    assert control.began.is_set() and outcome.stop_reason == "MAX_SECONDS"
    with av.open(str(outcome.files[0].path)) as container:
        assert 0.9 <= container.duration / 1_000_000 <= 1.3


def test_the_test_recorder_leaves_pauses_out(tmp_path: Path) -> None:
    spec = RecordingSpec("r", "composite", "ws://unused", "t", tmp_path, "paused")
    control = _Control()
    threading.Timer(0.5, lambda: setattr(control, "pause", True)).start()
    threading.Timer(1.5, lambda: setattr(control, "pause", False)).start()
    threading.Timer(2.0, lambda: setattr(control, "stop", "API_CALL")).start()
    outcome = run_recording(spec, control)  # type: ignore[arg-type]
    assert outcome.stop_reason == "API_CALL"
    assert 0.8 <= outcome.duration_secs <= 1.4  # 2 s minus a 1 s pause


def test_a_size_the_api_takes_is_drawn_as_a_multiple_of_4() -> None:
    """The API takes 1–1920; the compositor draws multiples of 4: rounded up, so a
    recording of 17x9 is 20x12 rather than a recorder that fails."""
    from salon.recording.spec_config import config_video
    sizes = {w: config_video({"width": w, "height": w}, None).width
             for w in (1, 4, 5, 17, 1919, 1920)}
    assert sizes == {1: 4, 4: 4, 5: 8, 17: 20, 1919: 1920, 1920: 1920}
