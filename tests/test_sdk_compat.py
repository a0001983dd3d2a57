"""The official `cloudflare` SDK, pointed at salon, calls every control-plane endpoint.

Each call goes through the SDK's own request building and response parsing, so a field
salon names or types differently from RealtimeKit shows up here as a failure.
"""

from collections.abc import Iterator

import cloudflare
import pytest
from cloudflare import Cloudflare

from tests.servers import SalonServer


@pytest.fixture
def cf(server: SalonServer) -> Iterator[Cloudflare]:
    with Cloudflare(api_token=server.api_token, base_url=f"{server.url}/client/v4",
                    max_retries=0) as client:
        yield client


@pytest.fixture
def ids(server: SalonServer) -> dict[str, str]:
    return {"account_id": server.account_id, "app_id": server.app_id}


def test_apps_list_and_create(cf: Cloudflare, server: SalonServer) -> None:
    created = cf.realtime_kit.apps.post(account_id=server.account_id, name="sdk app")
    assert created.success and created.data.app.name == "sdk app"
    listed = cf.realtime_kit.apps.get(account_id=server.account_id, search="sdk app")
    assert [app.id for app in listed.data] == [created.data.app.id]
    assert listed.paging.total_count == 1
    everything = cf.realtime_kit.apps.get(account_id=server.account_id, sort_order="ASC")
    assert server.app_id in [app.id for app in everything.data]


def test_meeting_lifecycle(cf: Cloudflare, ids: dict[str, str]) -> None:
    meetings = cf.realtime_kit.meetings
    created = meetings.create(
        ids["app_id"],
        account_id=ids["account_id"],
        title="SDK standup",
        persist_chat=True,
        session_keep_alive_time_in_secs=120,
        ai_config={"summarization": {"word_limit": 300, "summary_type": "daily_standup"}},
        recording_config={"video_config": {"codec": "VP8", "width": 640, "height": 480},
                          "storage_config": {"type": "aws", "access_key": "AK", "secret": "S",
                                             "bucket": "b", "region": "us-east-1"}},
    )
    meeting = created.data
    assert created.success and meeting.title == "SDK standup" and meeting.status == "ACTIVE"
    assert meeting.persist_chat is True and meeting.session_keep_alive_time_in_secs == 120
    assert meeting.ai_config.summarization.word_limit == 300
    assert meeting.ai_config.summarization.text_format == "markdown"  # default kept
    assert meeting.ai_config.transcription.language == "en-US"
    assert meeting.recording_config.video_config.codec == "VP8"
    storage = meeting.recording_config.storage_config
    assert storage.bucket == "b"
    assert "secret" not in storage.model_dump() and "access_key" not in (storage.model_extra or {})

    fetched = meetings.get_meeting_by_id(meeting.id, **ids)
    assert fetched.data.model_dump() == meeting.model_dump()  # every field, as created

    updated = meetings.update_meeting_by_id(
        meeting.id, **ids, status="INACTIVE", ai_config={"transcription": {"language": "en-IN"}}
    )
    assert updated.data.status == "INACTIVE"
    assert updated.data.ai_config.transcription.language == "en-IN"
    assert updated.data.ai_config.summarization.word_limit == 300  # merged, not replaced

    replaced = meetings.replace_meeting_by_id(meeting.id, **ids, title="Replaced")
    assert replaced.data.title == "Replaced"
    assert replaced.data.persist_chat is False  # omitted → default
    assert replaced.data.session_keep_alive_time_in_secs == 60
    assert replaced.data.ai_config.summarization.word_limit == 500
    assert replaced.data.status == "INACTIVE"  # status is not part of PUT

    listed = meetings.get(ids["app_id"], account_id=ids["account_id"], search="Replaced")
    assert [m.id for m in listed.data] == [meeting.id]
    inactive = meetings.get(ids["app_id"], account_id=ids["account_id"], status="INACTIVE",
                            per_page=100)
    assert meeting.id in [m.id for m in inactive.data]


def test_participant_lifecycle(cf: Cloudflare, ids: dict[str, str]) -> None:
    meetings = cf.realtime_kit.meetings
    meeting = meetings.create(ids["app_id"], account_id=ids["account_id"], title="P").data
    added = meetings.add_participant(
        meeting.id, **ids, custom_participant_id="user-1", preset_name="group_call_host",
        name="Ada", picture="https://example.org/ada.png",
    ).data
    assert added.token and added.preset_name == "group_call_host" and added.name == "Ada"

    one = meetings.get_meeting_participant(added.id, **ids, meeting_id=meeting.id).data
    assert one.custom_participant_id == "user-1" and "token" not in one.model_dump()

    listed = meetings.get_meeting_participants(meeting.id, **ids)
    assert [p.id for p in listed.data] == [added.id] and listed.paging.total_count == 1
    assert all("token" not in p.model_dump() for p in listed.data)

    edited = meetings.edit_participant(added.id, **ids, meeting_id=meeting.id,
                                       name="Ada L.", preset_name="webinar_viewer").data
    assert edited.name == "Ada L." and edited.preset_name == "webinar_viewer" and edited.token

    refreshed = meetings.refresh_participant_token(added.id, **ids, meeting_id=meeting.id).data
    assert refreshed.token and refreshed.token != added.token

    deleted = meetings.delete_meeting_participant(added.id, **ids, meeting_id=meeting.id).data
    assert deleted.custom_participant_id == "user-1" and deleted.preset_id
    with pytest.raises(cloudflare.NotFoundError):
        meetings.get_meeting_participant(added.id, **ids, meeting_id=meeting.id)


def test_default_presets_are_seeded(cf: Cloudflare, ids: dict[str, str]) -> None:
    page = cf.realtime_kit.presets.get(ids["app_id"], account_id=ids["account_id"], per_page=100)
    names = {p.name for p in page.data}
    assert {"group_call_host", "group_call_participant", "webinar_presenter",
            "webinar_viewer"} <= names
    viewer = next(p for p in page.data if p.name == "webinar_viewer")
    full = cf.realtime_kit.presets.get_preset_by_id(viewer.id, **ids).data
    assert full.config.view_type == "WEBINAR"
    assert full.permissions.stage_enabled is True
    assert full.permissions.stage_access == "CAN_REQUEST"
    assert full.permissions.media.video.can_produce == "CAN_REQUEST"
    assert full.permissions.can_accept_production_requests is False


def test_preset_lifecycle(cf: Cloudflare, ids: dict[str, str]) -> None:
    presets = cf.realtime_kit.presets
    body = {
        "config": {
            "view_type": "GROUP_CALL",
            "max_screenshare_count": 2,
            "max_video_streams": {"desktop": 9, "mobile": 4},
            "media": {"video": {"quality": "hd", "frame_rate": 24},
                      "screenshare": {"quality": "fhd", "frame_rate": 5}},
        },
        "permissions": {
            "accept_waiting_requests": True, "can_accept_production_requests": False,
            "can_change_participant_permissions": False, "can_edit_display_name": True,
            "can_livestream": False, "can_record": False, "can_spotlight": False,
            "chat": {"private": {"can_receive": True, "can_send": True, "files": False,
                                 "text": True},
                     "public": {"can_send": True, "files": True, "text": True}},
            "connected_meetings": {"can_alter_connected_meetings": False,
                                   "can_switch_connected_meetings": True,
                                   "can_switch_to_parent_meeting": True},
            "disable_participant_audio": True, "disable_participant_screensharing": False,
            "disable_participant_video": False, "hidden_participant": False,
            "kick_participant": True, "pin_participant": True,
            "media": {"audio": {"can_produce": "ALLOWED"}, "video": {"can_produce": "ALLOWED"},
                      "screenshare": {"can_produce": "NOT_ALLOWED"}},
            "plugins": {"can_close": True, "can_edit_config": False, "can_start": True,
                        "config": {"0b6e6f4c-1e2a-4f5b-9c3d-2a1b0c9d8e7f":
                                   {"access_control": "VIEW_ONLY", "handles_view_only": True}}},
            "polls": {"can_create": True, "can_view": True, "can_vote": True},
            "recorder_type": "NONE", "show_participant_list": True,
            "waiting_room_type": "SKIP_ON_ACCEPT",
        },
        "ui": {"design_tokens": {
            "border_radius": "rounded", "border_width": "thin", "spacing_base": 4,
            "theme": "light",
            "colors": {"background": {"600": "#222222", "700": "#1f1f1f", "800": "#1b1b1b",
                                      "900": "#181818", "1000": "#141414"},
                       "brand": {"300": "#844d1c", "400": "#9d5b22", "500": "#b56927",
                                 "600": "#d37c30", "700": "#d9904f"},
                       "danger": "#FF2D2D", "success": "#62A504", "text": "#EEEEEE",
                       "text_on_brand": "#EEEEEE", "video_bg": "#191919", "warning": "#FFCD07"},
        }},
    }
    created = presets.create(ids["app_id"], account_id=ids["account_id"], name="sdk_moderator",
                             **body).data
    assert created.name == "sdk_moderator"
    assert created.config.media.screenshare.quality == "fhd"
    assert created.permissions.waiting_room_type == "SKIP_ON_ACCEPT"
    assert created.permissions.plugins.config["0b6e6f4c-1e2a-4f5b-9c3d-2a1b0c9d8e7f"] \
        .access_control == "VIEW_ONLY"
    assert created.ui.design_tokens.theme == "light"
    assert created.ui.design_tokens.colors.brand.api_500 == "#b56927"

    patched = presets.update(created.id, **ids,
                             permissions={"transcription_enabled": True,
                                          "chat": {"private": {"files": True}}}).data
    assert patched.permissions.transcription_enabled is True
    assert patched.permissions.chat.private.files is True
    assert patched.permissions.chat.private.can_send is True  # deep merge kept siblings
    assert patched.permissions.kick_participant is True

    replaced = presets.replace_preset_by_id(
        created.id, **ids, name="sdk_moderator_2", config=body["config"],
        permissions={**body["permissions"], "kick_participant": False}, ui=body["ui"],
    ).data
    assert replaced.name == "sdk_moderator_2"
    assert replaced.permissions.kick_participant is False
    assert replaced.permissions.transcription_enabled is False  # omitted → default again

    fetched = presets.get_preset_by_id(created.id, **ids).data
    assert fetched.name == "sdk_moderator_2"
    assert [p.id for p in presets.get(ids["app_id"], account_id=ids["account_id"],
                                      search="sdk_moderator_2").data] == [created.id]

    deleted = presets.delete(created.id, **ids).data
    assert deleted.id == created.id
    with pytest.raises(cloudflare.NotFoundError):
        presets.get_preset_by_id(created.id, **ids)


def test_webhook_lifecycle(cf: Cloudflare, ids: dict[str, str]) -> None:
    hooks = cf.realtime_kit.webhooks
    created = hooks.create_webhook(ids["app_id"], account_id=ids["account_id"], name="ops",
                                   url="https://hooks.example.org/rtk",
                                   events=["meeting.started", "meeting.ended"]).data
    assert created.enabled is True and created.events == ["meeting.started", "meeting.ended"]

    assert created.id in [h.id for h in hooks.get_webhooks(ids["app_id"],
                                                           account_id=ids["account_id"]).data]
    assert hooks.get_webhook_by_id(created.id, **ids).data.url == "https://hooks.example.org/rtk"

    edited = hooks.edit_webhook(created.id, **ids, enabled=False).data
    assert edited.enabled is False and edited.name == "ops"

    replaced = hooks.replace_webhook(created.id, **ids, name="ops2",
                                     url="http://127.0.0.1:9/hook",
                                     events=["meeting.participantJoined"]).data
    assert replaced.name == "ops2" and replaced.events == ["meeting.participantJoined"]
    assert replaced.enabled is True  # PUT: omitted → default

    deleted = hooks.delete_webhook(created.id, **ids).data
    assert deleted.id == created.id
    with pytest.raises(cloudflare.NotFoundError):
        hooks.get_webhook_by_id(created.id, **ids)


def test_sdk_sees_errors_as_exceptions(cf: Cloudflare, ids: dict[str, str]) -> None:
    with pytest.raises(cloudflare.BadRequestError) as bad:
        cf.realtime_kit.meetings.create(ids["app_id"], account_id=ids["account_id"],
                                        session_keep_alive_time_in_secs=601)
    assert bad.value.body["error"]["code"] == 400
    with pytest.raises(cloudflare.NotFoundError):
        cf.realtime_kit.meetings.get_meeting_by_id("00000000-0000-0000-0000-000000000000", **ids)
