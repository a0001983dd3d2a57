"""Chat messages sent together are stored in one transaction (`salon.services.chat_writer`),
and one that fails its checks fails alone.

A real server in this process, so the test can hold the database's one SQLite
connection, as a busy moment would, while messages arrive."""

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import text

from salon.api.app import create_app
from salon.client import AdminClient, RealtimeClient, RealtimeError, ws_url
from salon.services import apps
from salon.settings import Settings
from tests.servers import free_port, in_process

SENDERS = 6


async def test_messages_sent_together_are_stored_together_and_fail_alone(
        tmp_path: Path) -> None:
    app = create_app(Settings(data_dir=tmp_path, media_backend="none"))
    port = free_port()
    async with in_process(app, port):
        async with app.state.database.session() as db:
            creds = await apps.create_with_token(db, "chat", None)
        base = f"http://127.0.0.1:{port}"
        async with AdminClient(base, creds.account_id, creds.app_id,
                               creds.api_token) as admin:
            meeting = await admin.create_meeting(title="batched chat")
            people = [await admin.add_participant(meeting["id"], f"u{i}",
                                                  "group_call_participant", name=f"P{i}")
                      for i in range(SENDERS + 1)]
        peers = [await RealtimeClient.join(ws_url(base), p["token"]) for p in people]
        listener, senders = peers[0], peers[1:]
        try:
            first = await senders[0].send_text("before")  # makes the writer
            writer = app.state.chat_writer
            batches = writer.batches

            # Hold the connection while every sender sends, one of them a reply to a
            # message that does not exist.
            async with app.state.database.session() as db:
                await db.execute(text("select 1"))
                sends = [asyncio.create_task(s.send_text(f"hello {i}"))
                         for i, s in enumerate(senders[:-1])]
                bad = asyncio.create_task(senders[-1].send_text("re: nothing",
                                                                reply_to="no-such-message"))
                await asyncio.sleep(0.3)
                assert not any(task.done() for task in [*sends, bad])  # nothing before it is stored
            stored = await asyncio.gather(*sends)
            with pytest.raises(RealtimeError) as failed:
                await bad
            assert failed.value.code == "NOT_FOUND"

            assert writer.batches - batches == 1  # one transaction for all of them
            assert sorted(m["payload"]["text"] for m in stored) == [f"hello {i}" for i in range(SENDERS - 1)]
            heard = []
            while len(heard) < SENDERS:
                heard.append((await listener.wait_for("chat.message"))["message"]["payload"]["text"])
            assert sorted(heard) == sorted(["before", *[m["payload"]["text"] for m in stored]])
            history = await listener.chat_history()
            assert [m["payload"]["text"] for m in history["messages"]][0] == first["payload"]["text"]
            assert len(history["messages"]) == SENDERS  # the failed one was not kept
        finally:
            for peer in peers:
                await peer.close()
