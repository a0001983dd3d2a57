"""Webhook delivery: payload shapes, signing, and real servers posting to a real receiver.

Deliveries are enqueued in-process against a running server's database, as session code
will do; the server's own dispatcher must find them, sign them and send them to an HTTP
receiver on loopback that records the raw bytes.
"""

import asyncio
import base64
import json
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from salon.client import RealtimeClient, ws_url
from salon.settings import Settings
from salon.store import migrate
from salon.store.database import Database
from salon.store.models import WebhookDelivery
from salon.webhooks import outbox, payloads, signing
from salon.webhooks.dispatcher import RetryPolicy
from tests.servers import SalonServer, ThrowawayPostgres, cleanup, launch, start
from tests.webhook_receiver import HANG, Received, Receiver, eventually  # noqa: F401

#: Fast retries so the suite stays quick: 0.2 s, 0.4 s, then give up after 3 attempts.
FAST = {
    "SALON_WEBHOOK_RETRY_BASE_SECS": "0.2",
    "SALON_WEBHOOK_RETRY_MAX_SECS": "0.4",
    "SALON_WEBHOOK_MAX_ATTEMPTS": "3",
    "SALON_WEBHOOK_TIMEOUT_SECS": "1",
    # these tests queue deliveries from their own process, which the server's dispatcher
    # is not told of: it finds them by looking
    "SALON_WEBHOOK_POLL_SECS": "0.5",
}


T0 = datetime(2026, 11, 28, 4, 38, 58, 123000, tzinfo=UTC)
T1 = datetime(2026, 11, 28, 4, 40, 0, tzinfo=UTC)
T2 = datetime(2026, 11, 28, 5, 0, 0, tzinfo=UTC)


# --- the server's database, in-process -----------------------------------------------------


def with_db(server: SalonServer, work: Callable[[AsyncSession], Any]) -> Any:
    async def run() -> Any:
        database = Database(Settings(data_dir=Path(server.data_dir),
                                     database_url=server.database_url))
        try:
            async with database.session() as db:
                return await work(db)
        finally:
            await database.dispose()

    return asyncio.run(run())


def enqueue(server: SalonServer, app_id: str, payload: dict[str, Any]) -> int:
    async def work(db: AsyncSession) -> int:
        added = await outbox.enqueue(db, app_id, payload)
        await db.commit()
        return added

    return with_db(server, work)


def deliveries(server: SalonServer, app_id: str) -> list[WebhookDelivery]:
    async def work(db: AsyncSession) -> list[WebhookDelivery]:
        query = (select(WebhookDelivery).where(WebhookDelivery.app_id == app_id)
                 .order_by(WebhookDelivery.created_at, WebhookDelivery.id))
        return list(await db.scalars(query))

    return with_db(server, work)


def settled(server: SalonServer, app_id: str, count: int = 1) -> list[WebhookDelivery]:
    """The app's deliveries once `count` of them are delivered or failed."""

    def check() -> list[WebhookDelivery] | None:
        rows = deliveries(server, app_id)
        return rows if sum(row.status != "pending" for row in rows) >= count else None

    return eventually(check, what=f"{count} settled deliveries")


# --- fixtures ------------------------------------------------------------------------------


@contextmanager
def hooks_server(backend: str, env: dict[str, str]) -> Iterator[SalonServer]:
    database = ThrowawayPostgres() if backend == "postgresql" else None
    salon = start(database.url if database else "", env=env)
    try:
        yield salon
        # Every failure mode here is expected: none may leave a traceback in the log.
        assert "Traceback" not in salon.log(), salon.log()
    finally:
        cleanup(salon)
        if database:
            database.drop()


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def fast_server(request: pytest.FixtureRequest) -> Iterator[SalonServer]:
    with hooks_server(request.param, FAST) as salon:
        yield salon


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    receiver = Receiver().up()
    yield receiver
    receiver.released.set()
    receiver.down()


@dataclass
class HookApp:
    """A fresh app per test, so no webhook of another test receives its events."""

    id: str
    http: httpx.Client

    def webhook(self, url: str, events: list[str], enabled: bool = True) -> dict:
        body = {"name": "hook", "url": url, "events": events, "enabled": enabled}
        response = self.http.post(f"/{self.id}/webhooks", json=body)
        assert response.status_code == 201, response.text
        return response.json()["data"]


@contextmanager
def new_app(server: SalonServer) -> Iterator[HookApp]:
    with httpx.Client(base_url=server.account_url, headers=server.headers, timeout=10) as http:
        created = http.post("/apps", json={"name": f"hooks-{uuid.uuid4().hex[:8]}"})
        assert created.status_code == 201, created.text
        yield HookApp(created.json()["data"]["app"]["id"], http)


@pytest.fixture
def app(fast_server: SalonServer) -> Iterator[HookApp]:
    with new_app(fast_server) as hook_app:
        yield hook_app


def path() -> str:
    return f"/hook/{uuid.uuid4().hex}"


def meeting(app_id: str = "app1", ended_at: datetime | None = None) -> dict[str, Any]:
    return payloads.meeting_object(
        meeting_id="m-1", session_id="s-1", title="Weekly sync", status="LIVE",
        created_at=T0, started_at=T1, ended_at=ended_at, app_id=app_id, app_name="Example",
    )


def joined(app_id: str) -> dict[str, Any]:
    return payloads.participant_joined(
        meeting(app_id), peer_id="peer-1", display_name="Mary Sue",
        custom_participant_id="user-123", joined_at=T1,
    )


def verify(public_key_pem: str, body: bytes, signature: str) -> None:
    """What a receiver does: RSA-SHA256 PKCS#1 v1.5 over the raw body bytes."""
    key = serialization.load_pem_public_key(public_key_pem.encode())
    assert isinstance(key, rsa.RSAPublicKey)
    key.verify(base64.b64decode(signature), body, padding.PKCS1v15(), hashes.SHA256())


# --- payloads ------------------------------------------------------------------------------


def test_meeting_object_is_realtimekit_shaped() -> None:
    assert meeting() == {
        "id": "m-1",
        "sessionId": "s-1",
        "title": "Weekly sync",
        "roomName": "m-1",
        "status": "LIVE",
        "createdAt": "2026-11-28T04:38:58.123Z",
        "startedAt": "2026-11-28T04:40:00.000Z",
        "organizedBy": {"id": "app1", "name": "Example"},
    }
    assert meeting(ended_at=T2)["endedAt"] == "2026-11-28T05:00:00.000Z"


def test_event_payloads() -> None:
    started = payloads.meeting_started(meeting())
    assert started == {"event": "meeting.started", "meeting": meeting()}

    ended = payloads.meeting_ended(meeting(ended_at=T2), "ALL_PARTICIPANTS_LEFT")
    assert ended["event"] == "meeting.ended"
    assert ended["reason"] == "ALL_PARTICIPANTS_LEFT"
    assert ended["meeting"]["endedAt"] == "2026-11-28T05:00:00.000Z"

    assert joined("app1") == {
        "event": "meeting.participantJoined",
        "meeting": meeting(),
        "participant": {
            "peerId": "peer-1",
            "userDisplayName": "Mary Sue",
            "customParticipantId": "user-123",
            "clientSpecificId": "user-123",
            "joinedAt": "2026-11-28T04:40:00.000Z",
        },
    }

    left = payloads.participant_left(
        meeting(), peer_id="peer-1", display_name=None, custom_participant_id="user-123",
        joined_at=T1, left_at=T2,
    )
    assert left["event"] == "meeting.participantLeft"
    assert left["participant"]["userDisplayName"] is None
    assert left["participant"]["joinedAt"] == "2026-11-28T04:40:00.000Z"
    assert left["participant"]["leftAt"] == "2026-11-28T05:00:00.000Z"


# --- retry policy --------------------------------------------------------------------------


def test_retry_backoff_doubles_up_to_the_cap() -> None:
    policy = RetryPolicy(base_secs=1, max_secs=300, max_attempts=8)
    assert [policy.delay(n) for n in range(1, 11)] == [1, 2, 4, 8, 16, 32, 64, 128, 256, 300]


def test_retry_rule_follows_realtimekit() -> None:
    policy = RetryPolicy(base_secs=1, max_secs=300, max_attempts=3)
    assert policy.status_after(200, 1) == "delivered"
    assert policy.status_after(204, 3) == "delivered"
    assert policy.status_after(500, 1) == "pending"
    assert policy.status_after(503, 2) == "pending"
    assert policy.status_after(None, 2) == "pending"  # timeout or network error
    assert policy.status_after(500, 3) == "failed"  # out of attempts
    assert policy.status_after(None, 3) == "failed"
    for code in (301, 400, 404, 410, 429):
        assert policy.status_after(code, 1) == "failed"


# --- signing -------------------------------------------------------------------------------


def test_signature_verifies_over_exact_bytes_only() -> None:
    signer = signing.WebhookSigner(
        private_key=(key := rsa.generate_private_key(public_exponent=65537, key_size=2048)),
        public_key_pem=signing.public_pem(key.public_key()),
    )
    body = b'{"event":"meeting.started","meeting":{"id":"m-1"}}'
    signature = signer.sign(body)
    verify(signer.public_key_pem, body, signature)
    assert signer.public_key_pem.startswith("-----BEGIN PUBLIC KEY-----")
    with pytest.raises(InvalidSignature):  # a re-serialised body is a different body
        verify(signer.public_key_pem, json.dumps(json.loads(body)).encode(), signature)


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_key_is_created_once_and_shared(backend: str, tmp_path: Path) -> None:
    postgres = ThrowawayPostgres() if backend == "postgresql" else None
    settings = Settings(data_dir=tmp_path, database_url=postgres.url if postgres else "")

    def load() -> signing.WebhookSigner:
        """One process's start-up: its own engine and event loop."""

        async def run() -> signing.WebhookSigner:
            database = Database(settings)
            try:
                async with database.session() as db:
                    return await signing.load_signer(db)
            finally:
                await database.dispose()

        return asyncio.run(run())

    async def migrated() -> None:
        database = Database(settings)
        await migrate.upgrade(database)
        await database.dispose()

    try:
        asyncio.run(migrated())
        with ThreadPoolExecutor(2) as pool:  # two processes starting at once
            signers = [*pool.map(lambda _: load(), range(2)), load()]
    finally:
        if postgres:
            postgres.drop()
    assert len({signer.public_key_pem for signer in signers}) == 1
    verify(signers[2].public_key_pem, b"{}", signers[0].sign(b"{}"))


# --- delivery through a running server -----------------------------------------------------


def test_public_key_document(fast_server: SalonServer) -> None:
    response = httpx.get(f"{fast_server.url}/.well-known/webhooks.json")  # no credentials
    assert response.status_code == 200
    document = response.json()
    assert document["success"] is True and document["message"] == ""
    key = serialization.load_pem_public_key(document["data"]["publicKey"].encode())
    assert isinstance(key, rsa.RSAPublicKey) and key.key_size == 2048


def test_signed_delivery_to_enabled_subscribers_only(
    fast_server: SalonServer, app: HookApp, receiver: Receiver
) -> None:
    paths = {name: path() for name in ("joined", "disabled", "other_event", "both")}
    hooks = {
        "joined": app.webhook(receiver.url(paths["joined"]), ["meeting.participantJoined"]),
        "disabled": app.webhook(receiver.url(paths["disabled"]), ["meeting.participantJoined"],
                                enabled=False),
        "other_event": app.webhook(receiver.url(paths["other_event"]), ["meeting.started"]),
        "both": app.webhook(receiver.url(paths["both"]),
                            ["meeting.started", "meeting.participantJoined"]),
    }
    payload = joined(app.id)
    assert enqueue(fast_server, app.id, payload) == 2

    public_key = httpx.get(f"{fast_server.url}/.well-known/webhooks.json") \
        .json()["data"]["publicKey"]
    rows = {row.webhook_id: row for row in settled(fast_server, app.id, count=2)}
    assert set(rows) == {hooks["joined"]["id"], hooks["both"]["id"]}
    for name in ("joined", "both"):
        [hit] = receiver.wait_for(paths[name], 1)
        row = rows[hooks[name]["id"]]
        verify(public_key, hit.body, hit.headers["rtk-signature"])
        assert hit.body == row.body.encode()
        assert json.loads(hit.body) == payload
        assert hit.headers["content-type"] == "application/json"
        assert hit.headers["rtk-uuid"] == hit.headers["dyte-uuid"] == row.id
        assert hit.headers["rtk-webhook-id"] == hit.headers["dyte-webhook-id"] == hooks[name]["id"]
        assert hit.headers["dyte-signature"] == hit.headers["rtk-signature"]
        assert (row.status, row.attempts, row.last_status_code) == ("delivered", 1, 200)
        assert row.last_error is None and row.delivered_at is not None
    assert receiver.at(paths["disabled"]) == receiver.at(paths["other_event"]) == []


def test_server_errors_and_timeouts_are_retried(
    fast_server: SalonServer, app: HookApp, receiver: Receiver
) -> None:
    where = path()
    receiver.scripts[where] = [500, HANG]  # then 200
    app.webhook(receiver.url(where), ["meeting.participantJoined"])
    enqueue(fast_server, app.id, joined(app.id))

    [row] = settled(fast_server, app.id)
    assert (row.status, row.attempts, row.last_status_code) == ("delivered", 3, 200)
    hits = receiver.wait_for(where, 3)
    assert {hit.headers["rtk-uuid"] for hit in hits} == {row.id}
    assert {hit.body for hit in hits} == {row.body.encode()}
    # Backoff: 0.2 s after the first failure; 0.4 s after the timeout (1 s) ended the second.
    assert hits[1].at - hits[0].at >= 0.18
    assert hits[2].at - hits[1].at >= 1.3


def test_client_errors_are_not_retried(
    fast_server: SalonServer, app: HookApp, receiver: Receiver
) -> None:
    where = path()
    receiver.scripts[where] = [400]
    app.webhook(receiver.url(where), ["meeting.participantJoined"])
    enqueue(fast_server, app.id, joined(app.id))

    [row] = settled(fast_server, app.id)
    assert (row.status, row.attempts, row.last_status_code) == ("failed", 1, 400)
    assert row.last_error == "HTTP 400"
    assert len(receiver.at(where)) == 1  # `failed` is final: nothing will pick it up again


def test_gives_up_after_max_attempts(
    fast_server: SalonServer, app: HookApp, receiver: Receiver
) -> None:
    where = path()
    receiver.scripts[where] = [500, 502, 503, 200]
    app.webhook(receiver.url(where), ["meeting.participantJoined"])
    enqueue(fast_server, app.id, joined(app.id))

    [row] = settled(fast_server, app.id)
    assert (row.status, row.attempts, row.last_status_code) == ("failed", 3, 503)
    assert len(receiver.at(where)) == 3


def test_at_least_once_across_restarts() -> None:
    """Pending rows survive SIGTERM: a failed attempt is retried by the next process, and a
    request cut off by shutdown is released and sent again at once. (SQLite only: the
    outbox code is the same on both backends, and restarts are the slow part.)"""
    env = {**FAST, "SALON_WEBHOOK_MAX_ATTEMPTS": "100", "SALON_WEBHOOK_TIMEOUT_SECS": "10"}
    with hooks_server("sqlite", env) as server, new_app(server) as app:
        receiver = Receiver()  # not up yet: connections are refused
        first, second = path(), path()
        app.webhook(receiver.url(first), ["meeting.started"])
        app.webhook(receiver.url(second), ["meeting.participantJoined"])
        started = payloads.meeting_started(meeting(app.id))
        assert enqueue(server, app.id, started) == 1
        eventually(lambda: deliveries(server, app.id)[0].attempts >= 1, what="a failed attempt")

        assert server.stop() == 0
        [row] = deliveries(server, app.id)
        assert row.status == "pending" and "ConnectError" in row.last_error
        receiver.up()
        receiver.scripts[second] = [HANG]
        try:
            server.process = launch(server.env(), server.port, server.log_path)
            [hit] = receiver.wait_for(first, 1)
            assert hit.headers["rtk-uuid"] == row.id and hit.body == row.body.encode()
            eventually(lambda: deliveries(server, app.id)[0].status == "delivered")

            # A request in flight at shutdown: the server still stops at once, and the
            # next start sends the same delivery again without waiting for a lease.
            assert enqueue(server, app.id, joined(app.id)) == 1
            [cut_off] = receiver.wait_for(second, 1)
            began = time.monotonic()
            assert server.stop() == 0
            assert time.monotonic() - began < 5
            interrupted = deliveries(server, app.id)[1]
            assert (interrupted.status, interrupted.attempts) == ("pending", 0)
            server.process = launch(server.env(), server.port, server.log_path)
            again = receiver.wait_for(second, 2)[1]
            assert again.headers["rtk-uuid"] == cut_off.headers["rtk-uuid"] == interrupted.id
            eventually(lambda: deliveries(server, app.id)[1].status == "delivered")
        finally:
            receiver.released.set()
            receiver.down()


def test_a_commit_that_queued_deliveries_wakes_its_dispatcher(
        fast_server: SalonServer, app: HookApp, receiver: Receiver) -> None:
    """The outbox tells the database's dispatcher after the commit (not before, and not
    for a transaction that queued nothing or rolled back)."""
    app.webhook(receiver.url(path()), ["meeting.participantJoined"])
    told: list[str] = []

    async def run() -> None:
        database = Database(Settings(data_dir=Path(fast_server.data_dir),
                                     database_url=fast_server.database_url))
        database.on_webhooks_committed = lambda: told.append("woken")
        try:
            async with database.session() as db:
                await outbox.enqueue(db, app.id, payloads.meeting_started(meeting(app.id)))
                await db.rollback()  # nothing committed: nobody told
                assert told == []
                assert await outbox.enqueue(db, app.id, joined(app.id)) == 1
                assert told == []
                await db.commit()
                assert told == ["woken"]
                await db.commit()  # nothing new queued
                assert told == ["woken"]
        finally:
            await database.dispose()

    asyncio.run(run())


def test_retries_are_sent_when_due_by_an_idle_dispatcher(receiver: Receiver) -> None:
    """With a long idle poll, the server's own events go out when committed, and a retry
    when it is due (not at the next look)."""
    with hooks_server("sqlite", {**FAST, "SALON_WEBHOOK_POLL_SECS": "30"}) as server, \
            new_app(server) as hook_app:
        where = path()
        receiver.scripts[where] = [500]  # then 200
        hook_app.webhook(receiver.url(where), ["meeting.participantJoined"])
        meeting_id = hook_app.http.post(f"/{hook_app.id}/meetings", json={}).json()["data"]["id"]
        token = hook_app.http.post(f"/{hook_app.id}/meetings/{meeting_id}/participants", json={
            "name": "Ann", "preset_name": "group_call_host", "custom_participant_id": "ann",
        }).json()["data"]["token"]

        async def visit() -> None:
            peer = await RealtimeClient.join(ws_url(server.url), token)
            await asyncio.sleep(0.2)
            await peer.close()

        asyncio.run(visit())
        hits = receiver.wait_for(where, 2, timeout=5)
        assert hits[1].at - hits[0].at < 3  # 0.2 s of backoff, not 30 s of polling
