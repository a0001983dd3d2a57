"""The presets every new app starts with (reference §2.4).

`group_call_host` and `group_call_participant` for meetings; `webinar_presenter` and
`webinar_viewer` follow Cloudflare's webinar recipe: stage enabled for both, presenters
`ALLOWED` on stage and media, viewers `CAN_REQUEST`, and only presenters accept requests.
"""

from typing import Any

from salon.core.merge import deep_merge
from salon.core.presets import PresetBody

_HOST_POWERS: dict[str, Any] = {
    "accept_waiting_requests": True,
    "can_accept_production_requests": True,
    "accept_stage_requests": True,
    "kick_participant": True,
    "pin_participant": True,
    "disable_participant_audio": True,
    "disable_participant_video": True,
    "disable_participant_screensharing": True,
    "can_spotlight": True,
    "can_record": True,
    "can_livestream": True,
    "can_change_participant_permissions": True,
    "chat": {"private": {"can_send": True, "can_receive": True, "text": True, "files": True}},
    "plugins": {"can_edit_config": True},
    "connected_meetings": {
        "can_alter_connected_meetings": True,
        "can_switch_connected_meetings": True,
        "can_switch_to_parent_meeting": True,
    },
}

_ATTENDEE: dict[str, Any] = {
    "chat": {"private": {"can_send": True, "can_receive": True, "text": True, "files": True}},
    "polls": {"can_create": False},
    "plugins": {"can_start": False, "can_close": False},
}


def _media(value: str) -> dict[str, Any]:
    return {kind: {"can_produce": value} for kind in ("audio", "video", "screenshare")}


DEFAULT_PRESETS: dict[str, dict[str, Any]] = {
    "group_call_host": {
        "config": {"view_type": "GROUP_CALL"},
        "permissions": _HOST_POWERS,
    },
    "group_call_participant": {
        "config": {"view_type": "GROUP_CALL"},
        "permissions": deep_merge(
            _ATTENDEE, {"waiting_room_type": "SKIP", "connected_meetings": {
                "can_switch_connected_meetings": True, "can_switch_to_parent_meeting": True}},
        ),
    },
    "webinar_presenter": {
        "config": {"view_type": "WEBINAR"},
        "permissions": deep_merge(
            _HOST_POWERS,
            {"stage_enabled": True, "stage_access": "ALLOWED", "media": _media("ALLOWED")},
        ),
    },
    "webinar_viewer": {
        "config": {"view_type": "WEBINAR"},
        "permissions": deep_merge(
            _ATTENDEE,
            {
                "stage_enabled": True,
                "stage_access": "CAN_REQUEST",
                "media": _media("CAN_REQUEST"),
                "show_participant_list": False,
            },
        ),
    },
}


def default_presets() -> list[PresetBody]:
    """Full, validated bodies for the default presets, in a stable order."""
    return [PresetBody.model_validate({"name": name, **tree}) for name, tree in DEFAULT_PRESETS.items()]
