"""Bad input over plain HTTP: every error is the RealtimeKit envelope with the right status."""

import uuid

import httpx
import pytest

from tests.servers import SalonServer

MISSING = "00000000-0000-0000-0000-000000000000"


def assert_error(response: httpx.Response, status: int, *needles: str) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["success"] is False
    assert body["error"]["code"] == status
    message = body["error"]["message"]
    assert isinstance(message, str) and message
    for needle in needles:
        assert needle in message, message
    return message


# --- malformed bodies -------------------------------------------------------------------


@pytest.mark.parametrize("raw", [b"{bad", b"", b"null", b"[1, 2]", b'"text"', b"\xff\xfe"])
def test_malformed_json_is_400(http: httpx.Client, raw: bytes) -> None:
    response = http.post("/meetings/x/participants", content=raw,
                         headers={"content-type": "application/json"})
    assert response.status_code == 400, response.text
    assert response.json()["success"] is False


@pytest.mark.parametrize("raw", [b'{"title": "\xff"}', b'{"title": ' + b"[" * 5000 + b"]" * 5000 + b"}"])
def test_a_body_not_utf8_or_nested_too_deep_is_not_valid_json(http: httpx.Client,
                                                               raw: bytes) -> None:
    response = http.post("/meetings", content=raw, headers={"content-type": "application/json"})
    assert assert_error(response, 400) == "Request body is not valid JSON"


@pytest.mark.parametrize(("body", "where"), [
    ({"ai_config": None}, "body.ai_config"),
    ({"ai_config": 5}, "body.ai_config"),
    ({"recording_config": {"video_config": []}}, "body.recording_config.video_config"),
])
def test_a_nested_object_of_the_wrong_type_is_named(http: httpx.Client, body: dict,
                                                    where: str) -> None:
    assert assert_error(http.post("/meetings", json=body), 400) == \
        f"{where}: must be a JSON object"


def test_a_trailing_slash_is_no_route(http: httpx.Client) -> None:
    """No redirect (a POST rarely survives one): the envelope's 404."""
    response = http.post("/meetings/", json={})
    assert response.status_code == 404
    assert response.json() == {"success": False,
                               "error": {"code": 404, "message": "No such endpoint."}}


@pytest.mark.parametrize("raw", [b"{bad", b"[1, 2]", b'"text"', b"\xff\xfe", b"null"])
def test_malformed_json_on_add_participant(http: httpx.Client, meeting: dict, raw: bytes) -> None:
    response = http.post(f"/meetings/{meeting['id']}/participants", content=raw,
                         headers={"content-type": "application/json"})
    assert_error(response, 400)


@pytest.mark.parametrize("declared", ["application/x-www-form-urlencoded", "text/plain",
                                      "application/xml", "application/octet-stream"])
def test_body_without_content_type_is_read_as_json(http: httpx.Client, declared: str) -> None:
    response = http.post("/meetings", content=b'{"title": "curl -d"}',
                         headers={"content-type": declared})
    assert response.status_code == 201, response.text
    assert response.json()["data"]["title"] == "curl -d"


def test_search_folds_case_in_every_script(http: httpx.Client) -> None:
    """On SQLite too, whose own lower() folds ASCII only."""
    made = http.post("/meetings", json={"title": "École d'ÉTÉ Ωmega"}).json()["data"]
    for search in ("école", "ÉCOLE", "d'été", "ωMEGA"):
        found = http.get("/meetings", params={"search": search, "per_page": 100}).json()
        assert made["id"] in [m["id"] for m in found["data"]], search


@pytest.mark.parametrize(
    ("body", "needles"),
    [
        ({"session_keep_alive_time_in_secs": 59}, ["session_keep_alive_time_in_secs", "60"]),
        ({"session_keep_alive_time_in_secs": 601}, ["session_keep_alive_time_in_secs", "600"]),
        ({"session_keep_alive_time_in_secs": "soon"}, ["session_keep_alive_time_in_secs"]),
        ({"persist_chat": "maybe"}, ["persist_chat"]),
        ({"title": 5}, ["title"]),
        ({"ai_config": {"summarization": {"word_limit": 149}}}, ["word_limit", "150"]),
        ({"ai_config": {"summarization": {"word_limit": 1001}}}, ["word_limit", "1000"]),
        ({"ai_config": {"summarization": {"summary_type": "gossip"}}}, ["summary_type"]),
        ({"ai_config": {"transcription": {"language": "xx"}}}, ["language"]),
        # RealtimeKit's and Whisper's codes are known, but the bundled model is English-only
        ({"ai_config": {"transcription": {"language": "de"}}},
         ["body.ai_config.transcription.language: ", "multilingual",
          "SALON_TRANSCRIPTION_MODEL"]),
        ({"ai_config": {"transcription": {"language": "es"}}}, ["language", "English-only"]),
        ({"recording_config": {"max_seconds": 10}}, ["max_seconds"]),
        ({"recording_config": {"video_config": {"width": 4000}}}, ["width"]),
        ({"recording_config": {"storage_config": {"type": "dropbox"}}}, ["storage_config"]),
        ({"preferred_region": "mars-1"}, ["preferred_region"]),
        ({"sesion_keep_alive_time_in_secs": 60}, ["sesion_keep_alive_time_in_secs", "not a known"]),
    ],
)
def test_meeting_validation(http: httpx.Client, body: dict, needles: list[str]) -> None:
    assert_error(http.post("/meetings", json=body), 400, *needles)


def test_english_languages_in_either_spelling_are_accepted(http: httpx.Client,
                                                          meeting: dict) -> None:
    for code in ("en-IN", "en", "en-GB"):
        answer = http.patch(f"/meetings/{meeting['id']}",
                            json={"ai_config": {"transcription": {"language": code}}})
        assert answer.status_code == 200, answer.text
        assert answer.json()["data"]["ai_config"]["transcription"]["language"] == code
    refused = http.put(f"/meetings/{meeting['id']}",
                       json={"ai_config": {"transcription": {"language": "fr"}}})
    assert_error(refused, 400, "language", "English-only")


def test_meeting_patch_validation_changes_nothing(http: httpx.Client, meeting: dict) -> None:
    url = f"/meetings/{meeting['id']}"
    assert_error(http.patch(url, json={"status": "PAUSED"}), 400, "status")
    assert_error(http.patch(url, json={"session_keep_alive_time_in_secs": 1000}), 400)
    assert_error(http.patch(url, json={"ai_config": {"summarization": {"word_limit": 5}}}), 400,
                 "word_limit")
    assert_error(http.patch(url, json=[1]), 400)
    assert_error(http.put(url, json={"session_keep_alive_time_in_secs": 30}), 400)
    after = http.get(url).json()["data"]
    assert after == meeting


def test_keep_alive_bounds_are_inclusive(http: httpx.Client) -> None:
    for value in (60, 600):
        response = http.post("/meetings", json={"session_keep_alive_time_in_secs": value})
        assert response.status_code == 201
        assert response.json()["data"]["session_keep_alive_time_in_secs"] == value


@pytest.mark.parametrize(
    ("query", "needle"),
    [("page_no=abc", "page_no"), ("per_page=-1", "per_page"), ("per_page=101", "per_page"),
     ("start_time=yesterday", "start_time"), ("status=OPEN", "status")],
)
def test_list_query_validation(http: httpx.Client, query: str, needle: str) -> None:
    assert_error(http.get(f"/meetings?{query}"), 400, needle)


# --- participants -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "needles"),
    [
        ({"preset_name": "group_call_host"}, ["custom_participant_id", "required"]),
        ({"custom_participant_id": "u"}, ["preset_name", "required"]),
        ({"custom_participant_id": "", "preset_name": "group_call_host"}, ["custom_participant_id"]),
        ({"custom_participant_id": 7, "preset_name": "group_call_host"}, ["custom_participant_id"]),
        ({"custom_participant_id": "u", "preset_name": "group_call_host", "picture": "nope"},
         ["picture"]),
        ({"custom_participant_id": "u", "preset_name": "no_such_preset"}, ["'no_such_preset'"]),
    ],
)
def test_add_participant_validation(
    http: httpx.Client, meeting: dict, body: dict, needles: list[str]
) -> None:
    assert_error(http.post(f"/meetings/{meeting['id']}/participants", json=body), 400, *needles)
    listed = http.get(f"/meetings/{meeting['id']}/participants").json()
    assert listed["paging"]["total_count"] == 0


def test_duplicate_custom_participant_id_is_409(http: httpx.Client, meeting: dict) -> None:
    url = f"/meetings/{meeting['id']}/participants"
    body = {"custom_participant_id": "dup", "preset_name": "group_call_participant"}
    assert http.post(url, json=body).status_code == 201
    assert_error(http.post(url, json=body), 409, "dup")
    assert http.get(url).json()["paging"]["total_count"] == 1


def test_edit_participant_with_unknown_preset(http: httpx.Client, meeting: dict) -> None:
    url = f"/meetings/{meeting['id']}/participants"
    added = http.post(url, json={"custom_participant_id": "e", "preset_name": "group_call_host"})
    pid = added.json()["data"]["id"]
    assert_error(http.patch(f"{url}/{pid}", json={"preset_name": "ghost"}), 400, "'ghost'")
    assert http.get(f"{url}/{pid}").json()["data"]["preset_name"] == "group_call_host"


# --- presets ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "needles"),
    [
        ({}, ["name", "required"]),
        ({"name": "x", "config": {"view_type": "THEATRE"}}, ["view_type"]),
        ({"name": "x", "config": {"media": {"video": {"frame_rate": 60}}}}, ["frame_rate"]),
        ({"name": "x", "config": {"media": {"video": {"quality": "8k"}}}}, ["quality"]),
        ({"name": "x", "permissions": {"waiting_room_type": "LOBBY"}}, ["waiting_room_type"]),
        ({"name": "x", "permissions": {"stage_access": "SOMETIMES"}}, ["stage_access"]),
        ({"name": "x", "permissions": {"media": {"audio": {"can_produce": "YES"}}}},
         ["can_produce"]),
        ({"name": "x", "permissions": {"recorder_type": "CAMERA"}}, ["recorder_type"]),
        ({"name": "x", "ui": {"design_tokens": {"theme": "neon"}}}, ["theme"]),
        ({"name": "x", "ui": {"design_tokens": {"colors": {"danger": "red"}}}}, ["danger"]),
        ({"name": "x", "permissions": {"kick_everyone": True}}, ["kick_everyone"]),
    ],
)
def test_preset_validation(http: httpx.Client, body: dict, needles: list[str]) -> None:
    assert_error(http.post("/presets", json=body), 400, *needles)


def test_preset_conflicts_and_in_use(http: httpx.Client, meeting: dict) -> None:
    created = http.post("/presets", json={"name": "busy_preset"})
    assert created.status_code == 201, created.text
    preset = created.json()["data"]
    assert_error(http.post("/presets", json={"name": "busy_preset"}), 409, "busy_preset")
    assert_error(http.patch(f"/presets/{preset['id']}", json={"name": "group_call_host"}), 409)
    assert_error(http.patch(f"/presets/{preset['id']}",
                            json={"config": {"max_screenshare_count": -1}}), 400,
                 "max_screenshare_count")

    participants = f"/meetings/{meeting['id']}/participants"
    added = http.post(participants, json={"custom_participant_id": "b",
                                          "preset_name": "busy_preset"}).json()["data"]
    assert_error(http.delete(f"/presets/{preset['id']}"), 409, "busy_preset", "1 participant")
    assert http.get(f"/presets/{preset['id']}").status_code == 200

    http.delete(f"{participants}/{added['id']}")
    assert http.delete(f"/presets/{preset['id']}").status_code == 200
    assert_error(http.get(f"/presets/{preset['id']}"), 404)


# --- webhooks ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "needles"),
    [
        ({"url": "https://a.example/h", "events": ["meeting.started"]}, ["name"]),
        ({"name": "h", "events": ["meeting.started"]}, ["url"]),
        ({"name": "h", "url": "ftp://a.example/h", "events": ["meeting.started"]}, ["url"]),
        ({"name": "h", "url": "https://a.example/h", "events": []}, ["events"]),
        ({"name": "h", "url": "https://a.example/h", "events": ["meeting.exploded"]}, ["events"]),
        ({"name": "h", "url": "https://a.example/h", "events": "meeting.started"}, ["events"]),
        ({"name": "h", "url": "https://a.example/h", "events": ["meeting.started"],
          "enabled": "yes"}, ["enabled"]),
        ({"name": "h", "url": "http://[::1", "events": ["meeting.started"]}, ["url"]),
        ({"name": "h", "url": "http://[zz]/h", "events": ["meeting.started"]}, ["url"]),
        ({"name": "h", "url": "http://a.example:99999/h", "events": ["meeting.started"]},
         ["url"]),
        ({"name": "h", "url": "http://a.example:-1/h", "events": ["meeting.started"]}, ["url"]),
        ({"name": "h", "url": "http://a.example:0/h", "events": ["meeting.started"]}, ["url"]),
        ({"name": "h", "url": "http://user@/h", "events": ["meeting.started"]}, ["url"]),
    ],
)
def test_webhook_validation(http: httpx.Client, body: dict, needles: list[str]) -> None:
    assert_error(http.post("/webhooks", json=body), 400, *needles)


def test_a_url_that_is_not_one_is_said_in_words(http: httpx.Client) -> None:
    body = {"name": "h", "url": "ftp://a.example/h", "events": ["meeting.started"]}
    assert assert_error(http.post("/webhooks", json=body), 400) == (
        "body.url: Value error, must be a valid http or https URL: a host, a port of "
        "1-65535 if any, brackets around an IPv6 address")


def test_webhook_patch_validation(http: httpx.Client) -> None:
    hook = http.post("/webhooks", json={"name": "h", "url": "https://a.example/h",
                                        "events": ["meeting.ended"]}).json()["data"]
    assert_error(http.patch(f"/webhooks/{hook['id']}", json={"url": "http://[::1"}), 400, "url")
    assert_error(http.patch(f"/webhooks/{hook['id']}", json={"events": ["nope"]}), 400, "events")
    assert_error(http.patch(f"/webhooks/{hook['id']}", json={"secret": "x"}), 400, "secret")
    assert http.get(f"/webhooks/{hook['id']}").json()["data"] == hook


def test_well_formed_urls_are_kept_as_written(http: httpx.Client) -> None:
    for url in ("http://[::1]:8080/h", "https://a.example/h?x=1#f", "http://127.0.0.1:1/x"):
        created = http.post("/webhooks", json={"name": "h", "url": url,
                                               "events": ["meeting.started"]})
        assert created.status_code == 201, created.text
        assert created.json()["data"]["url"] == url


def test_plugin_urls_are_parsed(http: httpx.Client) -> None:
    for field in ("url", "icon"):
        for url in ("http://[::1", "https://a.example:70000/p", "http://:80/p"):
            body = {"name": "p", "url": "https://a.example/p", field: url}
            assert_error(http.post("/plugins", json=body), 400, field)
    made = http.post("/plugins", json={"name": "url check", "url": "https://a.example/p",
                                       "icon": "http://[::1]:9/i.png"})
    assert made.status_code == 201, made.text
    assert_error(http.patch(f"/plugins/{made.json()['data']['id']}",
                            json={"icon": "http://[::1"}), 400, "icon")


# --- unknown ids, routes and methods ----------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", f"/meetings/{MISSING}"),
        ("PATCH", f"/meetings/{MISSING}"),
        ("PUT", f"/meetings/{MISSING}"),
        ("GET", f"/meetings/{MISSING}/participants"),
        ("POST", f"/meetings/{MISSING}/participants"),
        ("GET", f"/meetings/{MISSING}/participants/{MISSING}"),
        ("DELETE", f"/meetings/{MISSING}/participants/{MISSING}"),
        ("POST", f"/meetings/{MISSING}/participants/{MISSING}/token"),
        ("GET", f"/presets/{MISSING}"),
        ("DELETE", f"/presets/{MISSING}"),
        ("GET", f"/webhooks/{MISSING}"),
        ("DELETE", f"/webhooks/{MISSING}"),
        ("GET", "/meetings/not-a-uuid"),
    ],
)
def test_unknown_ids_are_404(http: httpx.Client, method: str, path: str) -> None:
    body = {"custom_participant_id": "u", "preset_name": "group_call_host"} \
        if method == "POST" and path.endswith("participants") else {}
    response = http.request(method, path, json=body if method in ("POST", "PUT", "PATCH") else None)
    assert_error(response, 404)


def test_unknown_participant_in_real_meeting_is_404(http: httpx.Client, meeting: dict) -> None:
    assert_error(http.get(f"/meetings/{meeting['id']}/participants/{MISSING}"), 404, MISSING)


def test_unknown_route_and_method(server: SalonServer, http: httpx.Client) -> None:
    assert_error(httpx.get(f"{server.url}/client/v4/nothing"), 404)
    assert_error(http.delete("/meetings"), 405)


# --- authentication and isolation -------------------------------------------------------


def test_missing_and_bad_tokens_are_401(server: SalonServer) -> None:
    url = f"{server.app_url}/meetings"
    assert_error(httpx.get(url), 401, "Authorization")
    assert_error(httpx.get(url, headers={"Authorization": "Bearer nope"}), 401)
    assert_error(httpx.get(url, headers={"Authorization": "Basic abc"}), 401, "Bearer")
    assert_error(httpx.get(url, headers={"Authorization": "Bearer"}), 401)
    assert_error(httpx.get(f"{server.account_url}/apps"), 401)


def test_other_account_and_unknown_app_are_404(server: SalonServer) -> None:
    other_account = f"{server.url}/client/v4/accounts/{'f' * 32}/realtime/kit"
    assert_error(httpx.get(f"{other_account}/{server.app_id}/meetings", headers=server.headers),
                 404)
    assert_error(httpx.get(f"{other_account}/apps", headers=server.headers), 404)
    assert_error(httpx.get(f"{server.account_url}/{'0' * 32}/meetings", headers=server.headers),
                 404)


def test_other_apps_ids_are_404(server: SalonServer, http: httpx.Client, meeting: dict) -> None:
    created = httpx.post(f"{server.account_url}/apps", json={"name": "neighbour"},
                         headers=server.headers)
    assert created.status_code == 201, created.text
    other = f"{server.account_url}/{created.json()['data']['app']['id']}"
    preset_id = http.get("/presets").json()["data"][0]["id"]
    for path in (f"/meetings/{meeting['id']}", f"/meetings/{meeting['id']}/participants",
                 f"/presets/{preset_id}"):
        assert_error(httpx.get(other + path, headers=server.headers), 404)
    # and nothing leaks the other way round either
    assert meeting["id"] not in [m["id"] for m in
                                 httpx.get(f"{other}/meetings", headers=server.headers)
                                 .json()["data"]]


def test_app_validation(server: SalonServer) -> None:
    url = f"{server.account_url}/apps"
    assert_error(httpx.post(url, json={}, headers=server.headers), 400, "name")
    assert_error(httpx.post(url, json={"name": "   "}, headers=server.headers), 400, "name")
    assert_error(httpx.post(url, json={"name": 3}, headers=server.headers), 400, "name")


def test_active_session_bodies_refuse_nul(http: httpx.Client, meeting: dict) -> None:
    base = f"/meetings/{meeting['id']}/active-session"
    assert_error(http.post(f"{base}/kick", json={"participant_ids": ["a\x00b"],
                                                 "custom_participant_ids": []}), 400)
    assert_error(http.post(f"{base}/mute", json={"participant_ids": [],
                                                 "custom_participant_ids": ["x\x00"]}), 400)
    assert_error(http.post(f"{base}/poll", json={"question": "why\x00", "options": ["a", "b"]}),
                 400)
    assert_error(http.post(f"{base}/poll", json={"question": "ok?", "options": ["a\x00", "b"]}),
                 400)


def test_a_bad_control_body_is_a_400_without_a_live_session(
        http: httpx.Client, meeting: dict) -> None:
    """The body is checked before the live session is looked for (api.md, AS2-AS6): the
    meeting here has none, and a good body would be a 404."""
    base = f"/meetings/{meeting['id']}/active-session"
    for action in ("kick", "mute"):
        assert assert_error(http.post(f"{base}/{action}", json={}), 400) == \
            "Name participants in 'participant_ids' or 'custom_participant_ids'."
        assert_error(http.post(f"{base}/{action}", json={"participant_ids": ["x"]}), 404)
    for body, says in (({"question": "Which?", "options": ["one"]}, "A poll needs 2 to 10 options."),
                       ({"question": "Which?", "options": ["a", " a "]},
                        "Poll options must differ from each other."),
                       ({"question": "  ", "options": ["a", "b"]}, "A poll question")):
        assert says in assert_error(http.post(f"{base}/poll", json=body), 400)
    assert assert_error(http.post(f"{base}/poll", json={"question": "Which?",
                                                       "options": ["a", "b"]}), 404) == \
        f"Meeting {meeting['id']} has no active session."


# --- routes that take no body -----------------------------------------------------------


def test_a_route_without_a_body_refuses_fields_and_takes_nothing_empty_or_null(
        http: httpx.Client, meeting: dict) -> None:
    participant = http.post(f"/meetings/{meeting['id']}/participants", json={
        "name": "Ann", "preset_name": "group_call_host", "custom_participant_id": "ann-nobody",
    }).json()["data"]
    refresh = f"/meetings/{meeting['id']}/participants/{participant['id']}/token"
    for raw in (b"", b"{}", b"null"):
        response = http.post(refresh, content=raw, headers={"content-type": "application/json"})
        assert response.status_code == 200, (raw, response.text)
    assert assert_error(http.post(refresh, json={"preset_name": "x"}), 400) == \
        "body.preset_name: is not a known field"
    assert assert_error(http.post(refresh, json=[1]), 400) == "Request body must be a JSON object"
    kick_all = f"/meetings/{meeting['id']}/active-session/kick-all"
    assert assert_error(http.post(kick_all, json={"reason": "bye"}), 400) == \
        "body.reason: is not a known field"
    stop = f"/meetings/{meeting['id']}/active-livestream/stop"
    assert assert_error(http.post(stop, json={"reason": "bye"}), 400) == \
        "body.reason: is not a known field"
    assert_error(http.post(stop, json={}), 404)  # no livestream: the body was fine


def test_a_delete_refuses_a_body_and_deletes_nothing(http: httpx.Client, meeting: dict) -> None:
    """Every DELETE takes no body: a field is refused, not ignored, and nothing goes."""
    participant = http.post(f"/meetings/{meeting['id']}/participants", json={
        "name": "Bo", "preset_name": "group_call_host", "custom_participant_id": "bo-delete",
    }).json()["data"]
    preset = http.post("/presets", json={"name": f"p-{uuid.uuid4().hex[:8]}"}).json()["data"]
    hook = http.post("/webhooks", json={"name": "h", "url": "https://hooks.example/x",
                                        "events": ["meeting.started"]}).json()["data"]
    plugin = http.post("/plugins", json={"name": f"pl-{uuid.uuid4().hex[:8]}",
                                         "url": "https://plugins.example/p"}).json()["data"]
    routes = [f"/meetings/{meeting['id']}/participants/{participant['id']}",
              f"/presets/{preset['id']}", f"/webhooks/{hook['id']}", f"/plugins/{plugin['id']}"]
    for route in routes:
        refused = http.request("DELETE", route, json={"force": True})
        assert assert_error(refused, 400) == "body.force: is not a known field", route
    for route in routes:  # all still there, and a DELETE without a body (or {}) works
        assert http.get(route).status_code == 200, route
        assert http.request("DELETE", route, json={}).status_code == 200, route
