"""Plugins: the app's registry over REST, and activation, messages and state in sessions."""

import asyncio
import uuid
from typing import Any

import httpx
import pytest

from salon.client import AdminClient, RealtimeError
from tests.live import Meeting
from tests.servers import SalonServer
from tests.test_api_errors import MISSING, assert_error

WHITEBOARD = {"name": "Whiteboard", "url": "https://plugins.example/whiteboard",
              "icon": "https://plugins.example/whiteboard.svg",
              "description": "Draw together."}


# --- the registry over REST (both databases) ---------------------------------------------


def _create(http: httpx.Client, **fields: Any) -> dict[str, Any]:
    body = {"name": f"plugin-{uuid.uuid4().hex[:8]}", "url": "https://plugins.example/x",
            **fields}
    response = http.post("/plugins", json=body)
    assert response.status_code == 201, response.text
    return response.json()["data"]


def test_registry_crud(http: httpx.Client) -> None:
    name = f"Whiteboard {uuid.uuid4().hex[:8]}"
    created = _create(http, **{**WHITEBOARD, "name": name})
    assert uuid.UUID(created["id"])
    assert {k: created[k] for k in WHITEBOARD} == {**WHITEBOARD, "name": name}
    assert created["created_at"].endswith("Z") and created["updated_at"]
    assert http.get(f"/plugins/{created['id']}").json()["data"] == created

    bare = _create(http)
    assert bare["icon"] is None and bare["description"] is None
    listed = http.get("/plugins", params={"per_page": 100}).json()
    ids = [p["id"] for p in listed["data"]]
    assert ids.index(bare["id"]) < ids.index(created["id"])  # newest first
    assert listed["paging"]["total_count"] >= 2
    found = http.get("/plugins", params={"search": name.upper()}).json()
    assert [p["id"] for p in found["data"]] == [created["id"]]
    page = http.get("/plugins", params={"per_page": 1, "page_no": 2}).json()
    assert len(page["data"]) == 1 and page["paging"]["start_offset"] == 1

    patched = http.patch(f"/plugins/{created['id']}",
                         json={"description": "Sketch.", "icon": None}).json()["data"]
    assert patched["description"] == "Sketch." and patched["icon"] is None
    assert patched["name"] == name and patched["url"] == WHITEBOARD["url"]
    assert patched["updated_at"] >= created["updated_at"]

    replaced = http.put(f"/plugins/{created['id']}",
                        json={"name": name, "url": "http://plugins.example/v2"}).json()["data"]
    assert replaced["url"] == "http://plugins.example/v2" and replaced["description"] is None

    deleted = http.delete(f"/plugins/{created['id']}")
    assert deleted.status_code == 200 and deleted.json()["data"]["id"] == created["id"]
    assert_error(http.get(f"/plugins/{created['id']}"), 404, created["id"])
    assert_error(http.delete(f"/plugins/{created['id']}"), 404)


@pytest.mark.parametrize(
    ("body", "needles"),
    [
        ({"url": "https://x.example"}, ["body.name", "required"]),
        ({"name": "No URL"}, ["body.url", "required"]),
        ({"name": "   ", "url": "https://x.example"}, ["body.name"]),
        ({"name": "n" * 256, "url": "https://x.example"}, ["body.name", "255"]),
        ({"name": 7, "url": "https://x.example"}, ["body.name"]),
        ({"name": "FTP", "url": "ftp://x.example/p"}, ["body.url"]),
        ({"name": "Relative", "url": "/plugin"}, ["body.url"]),
        ({"name": "Icon", "url": "https://x.example", "icon": "logo.png"}, ["body.icon"]),
        ({"name": "Long", "url": "https://x.example", "description": "d" * 2001},
         ["body.description", "2000"]),
        ({"name": "Typo", "url": "https://x.example", "descripton": "?"},
         ["body.descripton", "not a known field"]),
    ],
)
def test_registry_validation(http: httpx.Client, body: dict, needles: list[str]) -> None:
    assert_error(http.post("/plugins", json=body), 400, *needles)


def test_registry_edit_validation_changes_nothing(http: httpx.Client) -> None:
    plugin = _create(http)
    url = f"/plugins/{plugin['id']}"
    assert_error(http.patch(url, json={"url": "mailto:someone"}), 400, "body.url")
    assert_error(http.patch(url, json={"name": None}), 400, "body.name")
    assert_error(http.patch(url, json={"id": MISSING}), 400, "not a known field")
    assert_error(http.patch(url, json=[1]), 400)
    assert_error(http.put(url, json={"name": "only a name"}), 400, "body.url")
    assert http.get(url).json()["data"] == plugin


def test_registry_names_are_unique_per_app(server: SalonServer, http: httpx.Client) -> None:
    first, second = _create(http), _create(http)
    assert_error(http.post("/plugins", json={"name": first["name"], "url": "https://a.example"}),
                 409, first["name"])
    assert_error(http.patch(f"/plugins/{second['id']}", json={"name": first["name"]}), 409)
    assert_error(http.put(f"/plugins/{second['id']}",
                          json={"name": first["name"], "url": "https://a.example"}), 409)
    # renaming to its own name is fine, and another app may use the name
    assert http.patch(f"/plugins/{first['id']}", json={"name": first["name"]}).status_code == 200
    other = _other_app(server)
    created = httpx.post(f"{other}/plugins", headers=server.headers,
                         json={"name": first["name"], "url": "https://a.example"})
    assert created.status_code == 201, created.text


def _other_app(server: SalonServer) -> str:
    created = httpx.post(f"{server.account_url}/apps", json={"name": "neighbour"},
                         headers=server.headers)
    assert created.status_code == 201, created.text
    return f"{server.account_url}/{created.json()['data']['app']['id']}"


def test_registry_ids_of_other_apps_and_unknown_ids_are_404(server: SalonServer,
                                                            http: httpx.Client) -> None:
    plugin = _create(http)
    other = _other_app(server)
    path = f"{other}/plugins/{plugin['id']}"
    body = {"name": "Stolen", "url": "https://x.example"}
    for method, json in (("GET", None), ("PATCH", {"name": "Stolen"}), ("PUT", body),
                         ("DELETE", None)):
        assert_error(httpx.request(method, path, json=json, headers=server.headers), 404)
        assert_error(http.request(method, f"/plugins/{MISSING}", json=json), 404, MISSING)
    listed = httpx.get(f"{other}/plugins", headers=server.headers).json()
    assert listed["data"] == [] and listed["paging"]["total_count"] == 0
    assert http.get(f"/plugins/{plugin['id']}").json()["data"] == plugin


# --- live sessions ------------------------------------------------------------------------


async def _register(admin: AdminClient, **fields: Any) -> dict[str, Any]:
    return await admin.call("POST", "/plugins", json={
        "name": f"plugin-{uuid.uuid4().hex[:8]}", "url": "https://plugins.example/p", **fields})


async def _preset(admin: AdminClient, plugins: dict[str, Any]) -> str:
    name = f"plugins-{uuid.uuid4().hex[:8]}"
    await admin.create_preset(name, permissions={"plugins": plugins})
    return name


async def _refused(call: Any, code: str, *needles: str) -> RealtimeError:
    with pytest.raises(RealtimeError) as refused:
        await call
    assert refused.value.code == code, refused.value
    for needle in needles:
        assert needle in refused.value.message, refused.value.message
    return refused.value


async def test_activate_and_deactivate_for_everyone_with_denials(
        room: Meeting, live_server: SalonServer) -> None:
    plugin = await _register(room.admin, **WHITEBOARD | {"name": f"wb-{uuid.uuid4().hex[:6]}"})
    host = await room.join("group_call_host")
    guest = await room.join()

    await _refused(guest.activate_plugin(plugin["id"]), "FORBIDDEN", "plugins.can_start")
    await _refused(host.activate_plugin(MISSING), "NOT_FOUND", MISSING)
    foreign = httpx.post(f"{_other_app(live_server)}/plugins", headers=live_server.headers,
                         json={"name": "Foreign", "url": "https://x.example"}).json()["data"]
    await _refused(host.activate_plugin(foreign["id"]), "NOT_FOUND")
    await _refused(host.request("plugin.activate"), "INVALID", "plugin_id")

    active = await host.activate_plugin(plugin["id"])
    assert active["id"] == plugin["id"] and active["name"] == plugin["name"]
    assert active["active"] is True and active["activated_by"] == host.peer_id
    assert active["access"] == {"access_control": "FULL_ACCESS", "handles_view_only": False}
    for peer in (host, guest):
        event = await peer.wait_for("plugin.activated")
        assert event["plugin"]["id"] == plugin["id"] and event["by_peer_id"] == host.peer_id
        assert event["plugin"]["url"] == plugin["url"]
    await _refused(host.activate_plugin(plugin["id"]), "CONFLICT", "already active")

    listed = await guest.plugins()
    assert listed["active"] == [plugin["id"]]
    entry = next(p for p in listed["plugins"] if p["id"] == plugin["id"])
    assert entry["active"] is True and entry["activated_by"] == host.peer_id
    assert entry["access"]["access_control"] == "FULL_ACCESS"
    assert all(not p["active"] for p in listed["plugins"] if p["id"] != plugin["id"])

    await _refused(guest.deactivate_plugin(plugin["id"]), "FORBIDDEN", "plugins.can_close")
    assert (await host.deactivate_plugin(plugin["id"]))["active"] is False
    for peer in (host, guest):
        closed = await peer.wait_for("plugin.deactivated")
        assert closed == {"plugin_id": plugin["id"], "by_peer_id": host.peer_id,
                          "reason": "closed"}
    await _refused(host.deactivate_plugin(plugin["id"]), "CONFLICT", "not active")
    # Rights come before the room's state: without can_close, closing a plugin that is
    # not active is still FORBIDDEN (it does not tell whether it is active).
    await _refused(guest.deactivate_plugin(plugin["id"]), "FORBIDDEN", "plugins.can_close")
    assert (await guest.plugins())["active"] == []


async def test_the_activator_may_close_without_can_close(room: Meeting) -> None:
    plugin = await _register(room.admin)
    starter = await _preset(room.admin, {"can_start": True, "can_close": False})
    first = await room.join(starter)
    second = await room.join(starter)
    await first.activate_plugin(plugin["id"])
    await _refused(second.deactivate_plugin(plugin["id"]), "FORBIDDEN", "plugins.can_close")
    await first.deactivate_plugin(plugin["id"])
    assert (await second.wait_for("plugin.deactivated"))["by_peer_id"] == first.peer_id


async def test_messages_and_state_relayed_and_view_only_peers(room: Meeting) -> None:
    plugin = await _register(room.admin)
    plugin_id = plugin["id"]
    viewer_preset = await _preset(room.admin, {
        "config": {plugin_id: {"access_control": "VIEW_ONLY", "handles_view_only": True}}})
    host = await room.join("group_call_host")
    guest = await room.join()
    viewer = await room.join(viewer_preset)

    await _refused(host.plugin_message(plugin_id, {"x": 1}), "CONFLICT", "not active")
    await _refused(host.set_plugin_state(plugin_id, "k", 1), "CONFLICT")
    await host.activate_plugin(plugin_id)

    reply = await host.plugin_message(plugin_id, {"stroke": [1, 2, 3]})
    assert reply["delivered_to"] == 2
    for peer in (guest, viewer):
        got = await peer.wait_for("plugin.message")
        assert got["plugin_id"] == plugin_id and got["payload"] == {"stroke": [1, 2, 3]}
        assert got["from_peer_id"] == host.peer_id and got["timestamp"].endswith("Z")
    reply = await guest.plugin_message(plugin_id, "only for you", to=[viewer.peer_id])
    assert reply["delivered_to"] == 1
    assert (await viewer.wait_for("plugin.message"))["payload"] == "only for you"
    await _refused(guest.plugin_message(plugin_id, 1, to=[MISSING]), "NOT_FOUND")

    listed = await viewer.plugins()
    mine = next(p for p in listed["plugins"] if p["id"] == plugin_id)
    assert mine["access"] == {"access_control": "VIEW_ONLY", "handles_view_only": True}
    await _refused(viewer.plugin_message(plugin_id, "hi"), "FORBIDDEN", "VIEW_ONLY")
    await _refused(viewer.set_plugin_state(plugin_id, "page", 2), "FORBIDDEN", "VIEW_ONLY")
    other = await _register(room.admin)  # VIEW_ONLY on an inactive plugin: FORBIDDEN too
    await host.update_permissions([viewer.peer_id], {"plugins": {"config": {
        other["id"]: {"access_control": "VIEW_ONLY"}}}})
    await viewer.wait_for("permissions.updated")
    await _refused(viewer.plugin_message(other["id"], "hi"), "FORBIDDEN", "VIEW_ONLY")
    await _refused(viewer.set_plugin_state(other["id"], "k", 1), "FORBIDDEN", "VIEW_ONLY")

    await guest.set_plugin_state(plugin_id, "page", 3)
    await guest.set_plugin_state(plugin_id, "doc", {"title": "Plan"})
    for peer in (host, viewer):
        change = await peer.wait_for("plugin.state", lambda d: d["key"] == "doc")
        assert change == {"plugin_id": plugin_id, "key": "doc", "value": {"title": "Plan"},
                          "by_peer_id": guest.peer_id}
    assert await viewer.plugin_state(plugin_id) == {"page": 3, "doc": {"title": "Plan"}}
    assert await viewer.plugin_state(plugin_id, "page") == 3
    await host.set_plugin_state(plugin_id, "page", None)
    assert await viewer.plugin_state(plugin_id) == {"doc": {"title": "Plan"}}
    await _refused(host.set_plugin_state(plugin_id, "k" * 257, 1), "INVALID", "key")

    # a live permission change makes the guest view-only too
    await host.update_permissions([guest.peer_id], {"plugins": {"config": {
        plugin_id: {"access_control": "VIEW_ONLY"}}}})
    await guest.wait_for("permissions.updated")
    await _refused(guest.plugin_message(plugin_id, "x"), "FORBIDDEN")
    # nothing was relayed for refused messages; the sender never hears its own
    await asyncio.sleep(0.1)
    assert host.drain("plugin.message") == []
    assert guest.drain("plugin.message") == []

    # deactivating drops the plugin's state: activated again, it starts empty
    await host.deactivate_plugin(plugin_id)
    await host.activate_plugin(plugin_id)
    assert await host.plugin_state(plugin_id) == {}


async def test_late_joiners_learn_active_plugins(room: Meeting) -> None:
    plugin = await _register(room.admin)
    host = await room.join("group_call_host")
    await host.activate_plugin(plugin["id"])
    late = await room.join()
    [active] = late.joined["room"]["plugins"]
    assert active["id"] == plugin["id"] and active["activated_by"] == host.peer_id
    assert active["access"]["access_control"] == "FULL_ACCESS"
    assert (await late.plugins())["active"] == [plugin["id"]]
    assert (await late.state())["room"]["plugins"][0]["id"] == plugin["id"]


async def test_deleting_a_registered_plugin_closes_it_in_live_sessions(room: Meeting) -> None:
    plugin = await _register(room.admin)
    host = await room.join("group_call_host")
    guest = await room.join()
    await host.activate_plugin(plugin["id"])
    await room.admin.call("DELETE", f"/plugins/{plugin['id']}")
    closed = await guest.wait_for("plugin.deactivated")
    assert closed == {"plugin_id": plugin["id"], "by_peer_id": None, "reason": "deleted"}
    assert (await guest.plugins())["active"] == []
    await _refused(host.activate_plugin(plugin["id"]), "NOT_FOUND")


async def test_a_new_session_starts_with_no_active_plugin(room: Meeting) -> None:
    plugin = await _register(room.admin)
    host = await room.join("group_call_host")
    await host.activate_plugin(plugin["id"])
    await host.kick_all()
    await asyncio.wait_for(host.closed.wait(), 5)
    again = await room.join("group_call_host")
    assert again.joined["room"]["plugins"] == []
    assert (await again.plugins())["active"] == []
