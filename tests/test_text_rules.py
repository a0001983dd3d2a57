"""NUL and control characters: refused at the edges, on SQLite and PostgreSQL alike.

PostgreSQL keeps no NUL in text or JSON: a NUL that got through was a 500 there (or a
lost record of a live session) while SQLite stored it. Every string a client sends is
typed with `core.schema.text`; a NUL in the URL is a 400 before routing.
"""

import httpx
import pytest

from salon.client import RealtimeError
from tests.live import Meeting
from tests.servers import SalonServer
from tests.test_api_errors import assert_error

NUL = "a\x00b"


# --- REST bodies --------------------------------------------------------------------------


def test_nul_in_bodies_is_400(http: httpx.Client, meeting: dict) -> None:
    participants = f"/meetings/{meeting['id']}/participants"
    preset_id = http.get("/presets").json()["data"][0]["id"]
    cases = [
        ("POST", "/meetings", {"title": NUL}, "title"),
        ("PATCH", f"/meetings/{meeting['id']}", {"title": NUL}, "title"),
        ("PATCH", f"/meetings/{meeting['id']}",
         {"recording_config": {"storage_config": {"type": "aws", "secret": NUL}}}, "secret"),
        ("PATCH", f"/meetings/{meeting['id']}",
         {"ai_config": {"transcription": {"keywords": [NUL]}}}, "keywords"),
        ("POST", participants, {"custom_participant_id": NUL,
                                "preset_name": "group_call_host"}, "custom_participant_id"),
        ("POST", participants, {"custom_participant_id": "u", "name": NUL,
                                "preset_name": "group_call_host"}, "name"),
        ("POST", participants, {"custom_participant_id": "u",
                                "preset_name": "group_call_host\x00"}, "preset_name"),
        ("POST", "/presets", {"name": "p\x00"}, "name"),
        ("PATCH", f"/presets/{preset_id}", {"ui": {"design_tokens": {"logo": NUL}}}, "logo"),
        ("PATCH", f"/presets/{preset_id}",
         {"permissions": {"plugins": {"config": {NUL: {}}}}}, "config"),
        ("PATCH", f"/presets/{preset_id}", {"ui": {"config_diff": {"x": NUL}}}, "config_diff"),
        ("POST", "/webhooks", {"name": NUL, "url": "https://a.example/h",
                               "events": ["meeting.started"]}, "name"),
        ("POST", "/webhooks", {"name": "h", "url": "https://a.example/\x00",
                               "events": ["meeting.started"]}, "url"),
        ("POST", "/plugins", {"name": NUL, "url": "https://a.example/p"}, "name"),
        ("POST", "/plugins", {"name": "p", "url": "https://a.example/p",
                              "description": NUL}, "description"),
    ]
    for method, path, body, field in cases:
        assert_error(http.request(method, path, json=body), 400, field)
    assert http.get(participants).json()["paging"]["total_count"] == 0
    assert http.get(f"/meetings/{meeting['id']}").json()["data"]["title"] == "fixture meeting"


def test_names_refuse_control_characters_but_free_text_keeps_lines(
        http: httpx.Client, meeting: dict) -> None:
    participants = f"/meetings/{meeting['id']}/participants"
    for name in ("tab\there", "new\nline", "c1\x85"):
        assert_error(http.post(participants, json={"custom_participant_id": "u", "name": name,
                                                   "preset_name": "group_call_host"}), 400,
                     "name", "control characters")
        assert_error(http.post("/presets", json={"name": name}), 400, "name")
    titled = http.post("/meetings", json={"title": "Line one\nline two\twith a tab"})
    assert titled.status_code == 201, titled.text
    plugin = http.post("/plugins", json={"name": "Notes", "url": "https://a.example/n",
                                         "description": "Two\nlines"})
    assert plugin.status_code == 201, plugin.text


def test_app_names_refuse_nul(server: SalonServer) -> None:
    response = httpx.post(f"{server.account_url}/apps", json={"name": NUL},
                          headers=server.headers)
    assert_error(response, 400, "name")


# --- REST URLs ----------------------------------------------------------------------------


@pytest.mark.parametrize("path", [
    "/meetings/%00", "/meetings?search=%00", "/sessions?search=a%00", "/presets/%00",
    "/webhooks/%00", "/plugins/%00", "/sessions/%00", "/meetings/x%00/participants",
    "/presets?search=%00", "/plugins?search=%00", "/sessions/peer-report/%00",
])
def test_nul_in_the_url_is_400(http: httpx.Client, path: str) -> None:
    assert_error(http.get(path), 400, "NUL")


def test_nul_in_the_url_of_a_delete_or_put_is_400(http: httpx.Client) -> None:
    assert_error(http.delete("/presets/%00"), 400, "NUL")
    assert_error(http.put("/meetings/%00", json={}), 400, "NUL")


# --- realtime -----------------------------------------------------------------------------


async def test_join_names_follow_the_rename_rule(room: Meeting) -> None:
    person = await room.participant("group_call_participant", "Stored Name")
    for bad in ("Bad\x00Name", "   ", "x" * 256, "two\nlines"):
        with pytest.raises(RealtimeError) as refused:
            await room.connect(person["token"], name=bad)
        assert refused.value.code == "INVALID" and "name" in refused.value.message
    peer = await room.connect(person["token"], name="  Ada  ")
    me = next(p for p in (await peer.state())["room"]["peers"] if p["peer_id"] == peer.peer_id)
    assert me["name"] == "Ada"
    for bad in ("Bad\x00Name", "  ", "tab\tname"):
        with pytest.raises(RealtimeError) as refused:
            await peer.rename(bad)
        assert refused.value.code == "INVALID"
    assert (await peer.rename("  Ada L.  "))["name"] == "Ada L."


async def test_realtime_text_refuses_nul(room: Meeting) -> None:
    host = await room.join("group_call_host")
    requests = [
        ("chat.send", {"text": NUL}),
        ("chat.delete", {"message_id": "\x00"}),
        ("chat.history", {"participant_id": "\x00"}),
        ("poll.create", {"question": NUL, "options": ["a", "b"]}),
        ("poll.create", {"question": "q", "options": ["a", NUL]}),
        ("qna.ask", {"text": NUL}),
        ("broadcast", {"type": NUL}),
        ("plugin.activate", {"plugin_id": "\x00"}),
        ("store.set", {"store": NUL, "key": "k", "value": 1}),
    ]
    for kind, data in requests:
        with pytest.raises(RealtimeError) as refused:
            await host.request(kind, **data)
        assert refused.value.code == "INVALID", (kind, refused.value)
    sent = await host.request("chat.send", text="line one\nline two")
    with pytest.raises(RealtimeError) as refused:
        await host.request("chat.edit", message_id=sent["message"]["id"], text=NUL)
    assert refused.value.code == "INVALID"
    history = await host.request("chat.history")
    assert [m["payload"]["text"] for m in history["messages"]] == ["line one\nline two"]
