"""Webhooks fired by real sessions: started, joined, left, ended (with its reason)."""

import asyncio
import base64
from collections.abc import Iterator

import httpx
import orjson
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

from tests.live import FAST, Meeting, admin_for
from tests.servers import SalonServer, cleanup, start
from tests.webhook_receiver import Receiver, eventually

EVENTS = ["meeting.started", "meeting.ended", "meeting.participantJoined",
          "meeting.participantLeft"]


@pytest.fixture(scope="module")
def hooked() -> Iterator[tuple[SalonServer, Receiver]]:
    receiver = Receiver().up()
    server = start("", env={**FAST, "SALON_WEBHOOK_RETRY_BASE_SECS": "0.2"})
    try:
        yield server, receiver
        assert "Traceback" not in server.log(), server.log()
    finally:
        cleanup(server)
        receiver.down()


def verified(server: SalonServer, body: bytes, signature: str) -> dict:
    pem = httpx.get(f"{server.url}/.well-known/webhooks.json").json()["data"]["publicKey"]
    key = serialization.load_pem_public_key(pem.encode())
    key.verify(base64.b64decode(signature), body, padding.PKCS1v15(), hashes.SHA256())
    return orjson.loads(body)


async def test_a_session_fires_its_webhooks(hooked: tuple[SalonServer, Receiver]) -> None:
    server, receiver = hooked
    async with admin_for(server) as admin:
        await admin.call("POST", "/webhooks", json={"name": "all", "url": receiver.url("/all"),
                                                    "events": EVENTS})
        room = Meeting(server, admin, await admin.create_meeting(title="Hooked"))
        try:
            host = await room.join("group_call_host", name="Host")
            guest = await room.join(name="Guest")
            session_id = host.joined["room"]["session_id"]
            await guest.leave()
            await host.kick_all()
            posts = receiver.wait_for("/all", 6)
        finally:
            await room.close()
    payloads = [verified(server, post.body, post.headers["rtk-signature"]) for post in posts]
    # Deliveries run concurrently, so they may arrive in any order.
    assert sorted(p["event"] for p in payloads) == sorted(
        ["meeting.started", "meeting.ended"] + ["meeting.participantJoined"] * 2
        + ["meeting.participantLeft"] * 2)
    for payload in payloads:
        assert payload["meeting"]["id"] == room.id
        assert payload["meeting"]["sessionId"] == session_id
        assert payload["meeting"]["title"] == "Hooked"
        assert payload["meeting"]["organizedBy"]["id"] == server.app_id
    ended = next(p for p in payloads if p["event"] == "meeting.ended")
    assert ended["reason"] == "HOST_ENDED_MEETING" and ended["meeting"]["endedAt"]
    left = [p for p in payloads if p["event"] == "meeting.participantLeft"]
    assert {p["participant"]["peerId"] for p in left} == {host.peer_id, guest.peer_id}
    assert all(p["participant"]["leftAt"] >= p["participant"]["joinedAt"] for p in left)
    joined = [p for p in payloads if p["event"] == "meeting.participantJoined"]
    assert {p["participant"]["userDisplayName"] for p in joined} == {"Host", "Guest"}
    assert len({post.headers["rtk-uuid"] for post in posts}) == 6


async def test_keep_alive_end_says_all_participants_left(
    hooked: tuple[SalonServer, Receiver]
) -> None:
    server, receiver = hooked
    async with admin_for(server) as admin:
        await admin.call("POST", "/webhooks", json={"name": "ends", "url": receiver.url("/ends"),
                                                    "events": ["meeting.ended"]})
        room = Meeting(server, admin, await admin.create_meeting(title="Quiet"))
        try:
            peer = await room.join()
            await peer.leave()
            post = receiver.wait_for("/ends", 1, timeout=10)[0]
        finally:
            await room.close()
    payload = verified(server, post.body, post.headers["rtk-signature"])
    assert payload["event"] == "meeting.ended"
    assert payload["reason"] == "ALL_PARTICIPANTS_LEFT"
    assert payload["meeting"]["id"] == room.id
    eventually(lambda: len(receiver.at("/ends")) == 1)


async def test_a_burst_of_joins_fires_one_webhook_each(
    hooked: tuple[SalonServer, Receiver]
) -> None:
    """Joins recorded together (one batch, `session_records._peers_joined`) keep their
    webhooks: one `meeting.participantJoined` per peer, with its own name and time."""
    server, receiver = hooked
    async with admin_for(server) as admin:
        await admin.call("POST", "/webhooks", json={
            "name": "joins", "url": receiver.url("/joins"),
            "events": ["meeting.participantJoined"]})
        room = Meeting(server, admin, await admin.create_meeting(title="Burst"))
        try:
            tokens = [(await room.participant(name=f"Burst {i}"))["token"] for i in range(12)]
            peers = await asyncio.gather(*(room.connect(token) for token in tokens))
            posts = receiver.wait_for("/joins", 12, timeout=10)
            session_id = peers[0].joined["room"]["session_id"]
            people = (await admin.session_participants(session_id, per_page=50))
        finally:
            await room.close()
    payloads = [verified(server, post.body, post.headers["rtk-signature"]) for post in posts]
    assert sorted(p["participant"]["userDisplayName"] for p in payloads) == sorted(
        f"Burst {i}" for i in range(12))
    assert {p["participant"]["peerId"] for p in payloads} == {peer.peer_id for peer in peers}
    assert all(p["meeting"]["sessionId"] == session_id and p["meeting"]["title"] == "Burst"
               for p in payloads)
    assert len(people["participants"]) == 12


async def test_a_kick_all_fires_one_left_webhook_each_with_minutes(
    hooked: tuple[SalonServer, Receiver]
) -> None:
    """Leaves recorded together (`session_records._peers_left`) keep their webhooks and
    the session's minutes."""
    server, receiver = hooked
    async with admin_for(server) as admin:
        await admin.call("POST", "/webhooks", json={
            "name": "leaves", "url": receiver.url("/leaves"),
            "events": ["meeting.participantLeft"]})
        room = Meeting(server, admin, await admin.create_meeting(title="Leaving"))
        try:
            host = await room.join("group_call_host", name="Host")
            guests = [await room.join(name=f"Guest {i}") for i in range(10)]
            session_id = host.joined["room"]["session_id"]
            await host.kick_all()

            def ours() -> list[dict]:  # peers of earlier tests may still be leaving
                bodies = [verified(server, post.body, post.headers["rtk-signature"])
                          for post in receiver.at("/leaves")]
                return [b for b in bodies if b["meeting"]["id"] == room.id]

            eventually(lambda: len(ours()) >= 11, 10, "11 participantLeft of this meeting")
            payloads = ours()
            people = (await admin.session_participants(session_id, per_page=50))
            session = await admin.session(session_id)
        finally:
            await room.close()
    assert len(payloads) == 11
    assert {p["participant"]["peerId"] for p in payloads} == {
        host.peer_id, *(g.peer_id for g in guests)}
    assert all(p["participant"]["leftAt"] >= p["participant"]["joinedAt"] for p in payloads)
    assert len(people["participants"]) == 11
    assert all(p["left_at"] is not None for p in people["participants"])
    total = sum(p["duration"] for p in people["participants"])
    assert abs(session["minutes_consumed"] - total) < 0.001
