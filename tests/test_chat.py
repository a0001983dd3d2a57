"""Chat with real clients: message types, private messages, replies, edits, deletes, pins,
history, every denial (which stores nothing), rate limits, and chat files over HTTP."""

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from salon.client import ApiError, RealtimeClient, RealtimeError
from tests.live import Meeting, eventually

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(64))
MAX_FILE = 10 * 1024 * 1024


def pid(peer: RealtimeClient) -> str:
    return peer.joined["self"]["participant_id"]


def texts(messages: list[dict[str, Any]]) -> list[str]:
    return [m["payload"].get("text") for m in messages]


async def denied(call: Any, code: str) -> RealtimeError:
    with pytest.raises(RealtimeError) as refused:
        await call
    assert refused.value.code == code, refused.value
    return refused.value


async def test_every_message_type_reaches_everyone_else(room: Meeting) -> None:
    host = await room.join("group_call_host", name="Host")
    guest = await room.join(name="Guest")
    other = await room.join()

    text = await host.send_text("hello, room")
    assert text["type"] == "text" and text["payload"] == {"text": "hello, room"}
    assert text["display_name"] == "Host" and text["participant_id"] == pid(host)
    assert text["private"] is False and text["to"] == [] and text["created_at"].endswith("Z")
    custom = await guest.send_custom({"kind": "poll-card", "html": "<b>hi</b>"})
    assert custom["type"] == "custom" and custom["payload"]["kind"] == "poll-card"

    image = await guest.upload_file(PNG, "dots.png", "image/png")
    assert image["size"] == len(PNG) and image["content_type"] == "image/png"
    sent_image = await guest.send_file(image["id"], image=True)
    assert sent_image["type"] == "image"
    assert sent_image["payload"]["link"] == image["link"]
    assert sent_image["payload"]["name"] == "dots.png"
    doc = await other.upload_file(b"minutes of the meeting\n", "notes.txt", "text/plain")
    sent_doc = await other.send_file(doc["id"])
    assert sent_doc["type"] == "file" and sent_doc["payload"]["size"] == 23

    order = [text["id"], custom["id"], sent_image["id"], sent_doc["id"]]
    for peer, own in ((host, {text["id"]}), (guest, {custom["id"], sent_image["id"]}),
                      (other, {sent_doc["id"]})):
        seen = [(await peer.wait_for("chat.message"))["message"]["id"]
                for _ in range(len(order) - len(own))]
        assert seen == [m for m in order if m not in own]  # in order, never one's own
    history = (await other.chat_history())["messages"]
    assert [m["id"] for m in history] == order
    assert history[2] == sent_image

    content, kind = await host.download_file(sent_image["payload"]["link"])
    assert content == PNG and kind == "image/png"
    content, kind = await host.download_file(sent_doc["payload"]["link"])
    assert content == b"minutes of the meeting\n" and kind.startswith("text/plain")


async def test_private_messages_reach_only_sender_and_recipients(room: Meeting) -> None:
    alice_p = await room.participant(name="Alice")
    alice = await room.connect(alice_p["token"])
    alice_tab = await room.connect(alice_p["token"])  # a second peer of the same person
    bob = await room.join(name="Bob")
    carol = await room.join(name="Carol")

    secret = await alice.send_text("just for Bob", to=[pid(bob)])
    assert secret["private"] is True and secret["to"] == [pid(bob)]
    assert (await bob.wait_for("chat.message"))["message"]["id"] == secret["id"]
    assert (await alice_tab.wait_for("chat.message"))["message"]["id"] == secret["id"]
    reply = await bob.send_text("thanks", to=[pid(alice)], reply_to=secret["id"])
    assert reply["reply_to"] == secret["id"]
    public = await alice.send_text("hello all")
    # Carol's first chat event is the public one: the private messages never reached her.
    assert (await carol.wait_for("chat.message"))["message"]["id"] == public["id"]
    await asyncio.sleep(0.1)
    assert carol.drain("chat.message") == []

    assert texts((await carol.chat_history())["messages"]) == ["hello all"]
    assert texts((await bob.chat_history())["messages"]) == ["just for Bob", "thanks",
                                                             "hello all"]
    assert texts((await alice_tab.chat_history(filter="private"))["messages"]) == [
        "just for Bob", "thanks"]
    assert texts((await bob.chat_history(filter="public"))["messages"]) == ["hello all"]
    assert texts((await alice.chat_history(participant_id=pid(bob)))["messages"]) == [
        "just for Bob", "thanks"]
    assert (await carol.chat_history(participant_id=pid(alice)))["messages"] == []

    # Nobody acts on, or replies to, a message they cannot see.
    await denied(carol.send_text("me too", reply_to=secret["id"]), "NOT_FOUND")
    await denied(carol.delete_message(secret["id"]), "NOT_FOUND")
    host = await room.join("group_call_host")
    await denied(host.pin_message(secret["id"]), "NOT_FOUND")
    # A group message: each recipient sees it, the others do not.
    group = await host.send_text("to Bob and Carol", to=[pid(bob), pid(carol)])
    for peer in (bob, carol):
        await peer.wait_for("chat.message", lambda d: d["message"]["id"] == group["id"])
    assert "to Bob and Carol" not in texts((await alice.chat_history())["messages"])


async def test_hidden_participants_read_but_cannot_be_addressed(room: Meeting) -> None:
    preset = f"observer-{room.id[:8]}"
    await room.admin.create_preset(preset, permissions={
        "hidden_participant": True,
        "chat": {"private": {"can_send": True, "can_receive": True, "text": True}}})
    observer = await room.join(preset)
    guest = await room.join()
    said = await guest.send_text("hello")
    assert (await observer.wait_for("chat.message"))["message"]["id"] == said["id"]
    refusal = await denied(guest.send_text("psst", to=[pid(observer)]), "NOT_FOUND")
    assert pid(observer) in refusal.message  # as if absent: nobody may see it
    assert texts((await observer.chat_history())["messages"]) == ["hello"]


async def test_reply_edit_delete_pin_and_their_events(room: Meeting) -> None:
    host = await room.join("group_call_host")
    guest = await room.join()
    other = await room.join()

    first = await guest.send_text("first")
    answer = await other.send_text("an answer", reply_to=first["id"])
    assert answer["reply_to"] == first["id"]
    await denied(other.send_text("to nothing", reply_to="no-such-message"), "NOT_FOUND")

    edited = await guest.edit_message(first["id"], text="first (edited)")
    assert edited["edited"] is True and edited["payload"]["text"] == "first (edited)"
    for peer in (host, other):
        update = await peer.wait_for("chat.updated")
        assert update["action"] == "edit" and update["message"]["payload"]["text"] == \
            "first (edited)" and update["by_peer_id"] == guest.peer_id
    await denied(other.edit_message(first["id"], text="hijacked"), "FORBIDDEN")
    await denied(other.edit_message(first["id"], text=" "), "FORBIDDEN")  # not theirs first
    await denied(host.edit_message(first["id"], text="even a host"), "FORBIDDEN")
    await denied(guest.edit_message(first["id"], payload={"a": 1}), "INVALID")
    card = await guest.send_custom({"v": 1})
    assert (await guest.edit_message(card["id"], payload={"v": 2}))["payload"] == {"v": 2}

    await denied(guest.pin_message(first["id"]), "FORBIDDEN")  # no pin_participant
    await denied(guest.pin_message("no-such-message"), "FORBIDDEN")  # whatever the message
    pinned = await host.pin_message(first["id"])
    assert pinned["pinned"] is True
    assert (await guest.wait_for("chat.updated", lambda d: d["action"] == "pin"))[
        "message"]["id"] == first["id"]
    assert [m["id"] for m in await other.pinned_messages()] == [first["id"]]
    await host.pin_message(answer["id"])
    await host.unpin_message(first["id"])
    assert (await other.wait_for("chat.updated", lambda d: d["action"] == "unpin"))[
        "message"]["pinned"] is False
    assert [m["id"] for m in await guest.pinned_messages()] == [answer["id"]]

    await denied(other.delete_message(first["id"]), "FORBIDDEN")  # not the author
    assert await guest.delete_message(first["id"]) == {"deleted": first["id"]}
    for peer in (host, other):
        gone = await peer.wait_for("chat.deleted")
        assert gone == {"message_id": first["id"], "by_peer_id": guest.peer_id}
    await host.delete_message(answer["id"])  # a host (kick_participant) deletes anyone's
    assert (await guest.wait_for("chat.deleted"))["message_id"] == answer["id"]
    assert await guest.pinned_messages() == []  # deleting unpins
    assert [m["id"] for m in (await other.chat_history())["messages"]] == [card["id"]]
    await denied(guest.edit_message(first["id"], text="back"), "NOT_FOUND")
    await denied(host.pin_message(first["id"]), "NOT_FOUND")


async def test_history_before_after_and_limit(room: Meeting) -> None:
    peer = await room.join()
    sent = [await peer.send_text(f"m{i}") for i in range(7)]
    stamps = [m["created_at"] for m in sent]
    assert stamps == sorted(stamps) and len(set(stamps)) == 7  # strictly increasing

    latest = await peer.chat_history(limit=3)
    assert texts(latest["messages"]) == ["m4", "m5", "m6"] and latest["has_more"] is True
    page = await peer.chat_history(before=stamps[4], limit=3)
    assert texts(page["messages"]) == ["m1", "m2", "m3"] and page["has_more"] is True
    page = await peer.chat_history(before=stamps[2], limit=3)
    assert texts(page["messages"]) == ["m0", "m1"] and page["has_more"] is False
    page = await peer.chat_history(after=stamps[1], limit=2)
    assert texts(page["messages"]) == ["m2", "m3"] and page["has_more"] is True
    page = await peer.chat_history(after=stamps[1], before=stamps[5])
    assert texts(page["messages"]) == ["m2", "m3", "m4"] and page["has_more"] is False
    await denied(peer.chat_history(limit=201), "INVALID")
    await denied(peer.chat_history(limit=0), "INVALID")
    await denied(peer.chat_history(before="yesterday-ish"), "INVALID")


async def test_every_denial_stores_nothing(room: Meeting) -> None:
    host = await room.join("group_call_host")
    guest = await room.join()
    other = await room.join()
    doc = await other.upload_file(b"a text file", "a.txt", "text/plain")

    await denied(guest.send_text("   "), "INVALID")
    await denied(guest.send_text("x" * 4001), "INVALID")
    await denied(guest.send_custom({"blob": "y" * 17000}), "INVALID")
    await denied(guest.request("chat.send", type="custom", payload=[1, 2]), "INVALID")
    await denied(guest.request("chat.send", type="text", text="hi", payload={"a": 1}),
                 "INVALID")
    await denied(guest.request("chat.send", type="image", text="hi"), "INVALID")
    await denied(guest.send_file(doc["id"], image=True), "INVALID")  # not an image
    await denied(guest.send_file("no-such-file"), "NOT_FOUND")
    await denied(guest.send_text("to me", to=[pid(guest)]), "INVALID")
    await denied(guest.send_text("to a ghost", to=["no-such-participant"]), "NOT_FOUND")

    # Live permission changes, one at a time, each refused with the permission named.
    async def without(patch: dict[str, Any]) -> None:
        await host.update_permissions([guest.peer_id], {"chat": patch})
        await guest.wait_for("permissions.updated")

    await without({"public": {"can_send": False}})
    refusal = await denied(guest.send_text("hi"), "FORBIDDEN")
    assert "chat.public.can_send" in refusal.message
    await denied(guest.send_file(doc["id"]), "FORBIDDEN")
    await without({"public": {"can_send": True, "files": False}})
    assert "chat.public.files" in (await denied(guest.send_file(doc["id"]), "FORBIDDEN")).message
    await without({"private": {"can_send": False}})
    refusal = await denied(guest.send_text("psst", to=[pid(other)]), "FORBIDDEN")
    assert "chat.private.can_send" in refusal.message
    await without({"private": {"can_send": True, "text": False}})
    assert "chat.private.text" in (
        await denied(guest.send_text("psst", to=[pid(other)]), "FORBIDDEN")).message
    await without({"private": {"files": False}})
    with pytest.raises(ApiError) as no_upload:
        await guest.upload_file(b"data", "b.txt", "text/plain")
    assert no_upload.value.status == 403
    await host.update_permissions([other.peer_id],
                                  {"chat": {"private": {"can_receive": False}}})
    await other.wait_for("permissions.updated")
    refusal = await denied(host.send_text("psst", to=[pid(other)]), "FORBIDDEN")
    assert "chat.private.can_receive" in refusal.message

    assert (await host.chat_history())["messages"] == []
    assert (await other.chat_history())["messages"] == []
    assert host.drain("chat.message") == [] and other.drain("chat.message") == []


async def test_rate_limits_per_participant(room: Meeting) -> None:
    talker = await room.join()
    listener = await room.join()
    started = time.monotonic()
    results = await asyncio.gather(*(talker.send_text(f"#{i}") for i in range(200)),
                                   return_exceptions=True)
    refilled = (time.monotonic() - started) * 180 / 60  # tokens back while sending
    refused = [r for r in results if isinstance(r, RealtimeError)]
    accepted = [r for r in results if isinstance(r, dict)]
    assert len(accepted) + len(refused) == 200
    assert refused and all(r.code == "RATE_LIMITED" for r in refused)
    assert 180 <= len(accepted) <= 180 + refilled + 1  # a full bucket, plus refills
    history = await listener.chat_history(limit=200)
    assert len(history["messages"]) == len(accepted)  # refused ones were never stored

    sender = await room.join()
    doc = await sender.upload_file(PNG, "x.png", "image/png")
    started = time.monotonic()
    results = await asyncio.gather(*(sender.send_file(doc["id"], image=True)
                                     for _ in range(25)), return_exceptions=True)
    refilled = (time.monotonic() - started) * 20 / 60
    refused = [r for r in results if isinstance(r, RealtimeError)]
    assert refused and all(r.code == "RATE_LIMITED" for r in refused)
    assert 20 <= 25 - len(refused) <= 20 + refilled + 1
    await sender.send_text("text still flows")  # a separate budget

    uploader = await room.join()
    statuses = []
    for i in range(21):
        try:
            await uploader.upload_file(PNG, f"{i}.png", "image/png")
            statuses.append(201)
        except ApiError as error:
            statuses.append(error.status)
    assert statuses.count(201) == 20 and statuses[-1] == 429


async def test_uploads_are_checked_and_served_only_to_the_meeting(room: Meeting) -> None:
    host = await room.join("group_call_host")
    guest = await room.join()
    url = f"{room.server.url}/realtime/v1/files"
    auth = {"Authorization": f"Bearer {guest.token}"}

    async with httpx.AsyncClient(timeout=30) as http:
        async def upload(body: Any, kind: str | None, token: str | None = guest.token,
                         name: str = "f") -> httpx.Response:
            headers = {"Authorization": f"Bearer {token}"} if token else {}
            if kind:
                headers["Content-Type"] = kind
            return await http.post(url, params={"name": name}, content=body, headers=headers)

        assert (await upload(b"x", "text/plain", token=None)).status_code == 401
        assert (await upload(b"x", "text/plain", token="not-a-token")).status_code == 401
        html = await upload(b"<script>alert(1)</script>", "text/html")
        assert html.status_code == 415 and "text/html" in html.json()["error"]["message"]
        assert (await upload(b"x", None)).status_code == 415
        assert (await upload(b"x", "application/octet-stream")).status_code == 415
        fake = await upload(b"GIF89a but actually text", "image/png")
        assert fake.status_code == 415 and fake.json()["success"] is False
        assert (await upload(b"", "text/plain")).status_code == 400
        assert (await upload(b"x", "text/plain", name="")).status_code == 400
        big = await upload(b"x" * (MAX_FILE + 1), "text/plain")
        assert big.status_code == 413 and str(MAX_FILE) in big.json()["error"]["message"]

        async def stream() -> AsyncIterator[bytes]:  # no Content-Length: counted as it comes
            for _ in range(11):
                yield b"y" * (1024 * 1024)

        assert (await upload(stream(), "text/plain")).status_code == 413
        exact = await upload(b"z" * MAX_FILE, "text/plain", name="../../etc/passwd")
        assert exact.status_code == 201, exact.text
        stored = exact.json()["data"]
        assert stored["size"] == MAX_FILE and stored["name"] == "passwd"
        flipped = await upload(b"x", "text/plain", name="report\u202efdp.exe")
        assert flipped.json()["data"]["name"] == "reportfdp.exe"  # no right-to-left override

        # A participant who is not in the session may not upload.
        absent = await room.participant()
        assert (await upload(b"x", "text/plain", token=absent["token"])).status_code == 403

        image = (await upload(PNG, "image/png", name="p.png")).json()["data"]
        link = image["link"]
        assert (await http.get(link)).status_code == 401
        assert (await http.get(link, headers={"Authorization": "Bearer nope"})).status_code \
            == 401
        mine = await http.get(link, headers={"Authorization": f"Bearer {host.token}"})
        assert mine.status_code == 200 and mine.content == PNG
        assert mine.headers["content-type"] == "image/png"
        assert mine.headers["x-content-type-options"] == "nosniff"
        # Any participant of the meeting, joined or not, may read it; nobody else.
        assert (await http.get(link, headers={"Authorization": f"Bearer {absent['token']}"})
                ).status_code == 200
        elsewhere = await room.admin.create_meeting(title="elsewhere")
        stranger = await room.admin.add_participant(elsewhere["id"], "stranger",
                                                    "group_call_host")
        foreign = await http.get(link, headers={"Authorization": f"Bearer {stranger['token']}"})
        assert foreign.status_code == 404 and foreign.json()["success"] is False
        assert (await http.get(f"{url}/no-such-file", headers=auth)).status_code == 404
    # Nor can a message in another meeting point at it.
    outsider = await room.connect(stranger["token"])  # the token joins "elsewhere"
    await denied(outsider.send_file(image["id"], image=True), "NOT_FOUND")


async def test_chat_belongs_to_its_session_without_persist_chat(room: Meeting) -> None:
    participant = await room.participant()
    first = await room.connect(participant["token"])
    session_id = first.joined["room"]["session_id"]
    old = await first.send_text("said in the first session")
    await first.leave()
    await eventually(lambda: _session_over(room, session_id), timeout=10)

    again = await room.connect(participant["token"])
    assert again.joined["room"]["session_id"] != session_id
    assert (await again.chat_history())["messages"] == []
    await denied(again.edit_message(old["id"], text="too late"), "NOT_FOUND")
    await denied(again.send_text("re", reply_to=old["id"]), "NOT_FOUND")
    await again.send_text("new session")
    assert texts((await again.chat_history())["messages"]) == ["new session"]


async def test_persist_chat_keeps_history_across_sessions(room: Meeting) -> None:
    meeting = Meeting(room.server, room.admin,
                      await room.admin.create_meeting(title="persistent", persist_chat=True))
    try:
        host_p = await meeting.participant("group_call_host")
        guest_p = await meeting.participant()
        host = await meeting.connect(host_p["token"])
        guest = await meeting.connect(guest_p["token"])
        session_id = host.joined["room"]["session_id"]
        kept = await host.send_text("remember this")
        private = await host.send_text("between us", to=[pid(guest)])
        await host.pin_message(kept["id"])
        await host.kick_all()
        await eventually(lambda: _session_over(meeting, session_id), timeout=10)

        host = await meeting.connect(host_p["token"])
        guest = await meeting.connect(guest_p["token"])
        assert host.joined["room"]["session_id"] != session_id
        history = (await guest.chat_history())["messages"]
        assert [m["id"] for m in history] == [kept["id"], private["id"]]
        assert history[0]["session_id"] == session_id
        assert [m["id"] for m in await guest.pinned_messages()] == [kept["id"]]
        reply = await guest.send_text("I remember", reply_to=kept["id"])
        assert reply["session_id"] != session_id
        assert (await host.edit_message(kept["id"], text="remember this!"))["edited"] is True
        stranger = await meeting.join()
        assert texts((await stranger.chat_history())["messages"]) == [
            "remember this!", "I remember"]
    finally:
        await meeting.close()


async def _session_over(room: Meeting, session_id: str) -> bool:
    return (await room.admin.session(session_id))["status"] == "ENDED"
