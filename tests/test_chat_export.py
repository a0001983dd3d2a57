"""Chat beyond the session: S6 CSV export behind signed expiring links, the
`meeting.chatSynced` webhook, and persisted chat surviving a crash and a restart."""

import asyncio
import csv
import io
from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import orjson
import pytest
from cloudflare import Cloudflare

from salon.client import ApiError
from tests.live import FAST, Meeting, admin_for
from tests.servers import SalonServer, ThrowawayPostgres, cleanup, launch, restart, start
from tests.webhook_receiver import Receiver

TTL = 4
COLUMNS = ["id", "participantId", "sessionId", "meetingId", "displayName", "pinned",
           "isEdited", "payloadType", "payload", "createdAt"]
PNG = b"\x89PNG\r\n\x1a\n" + bytes(32)
HOOKED = {**FAST, "SALON_WEBHOOK_RETRY_BASE_SECS": "0.2"}


@pytest.fixture(scope="module")
def hooked() -> Iterator[tuple[SalonServer, Receiver]]:
    receiver = Receiver().up()
    server = start("", env={**HOOKED, "SALON_CHAT_EXPORT_TTL_SECS": str(TTL)})
    try:
        yield server, receiver
        assert "Traceback" not in server.log(), server.log()
    finally:
        cleanup(server)
        receiver.down()


def rows(text: str) -> list[dict[str, str]]:
    reader = csv.DictReader(io.StringIO(text))
    assert reader.fieldnames == COLUMNS
    return list(reader)


async def test_export_holds_every_message_and_chat_synced_fires(
    hooked: tuple[SalonServer, Receiver]
) -> None:
    server, receiver = hooked
    async with admin_for(server) as admin:
        await admin.call("POST", "/webhooks", json={
            "name": "chat", "url": receiver.url("/chat"),
            "events": ["meeting.chatSynced", "meeting.ended"]})
        quiet = Meeting(server, admin, await admin.create_meeting(title="Quiet"))
        chatty = Meeting(server, admin, await admin.create_meeting(title="Chatty"))
        try:
            await (await quiet.join("group_call_host")).kick_all()  # a session without chat
            receiver.wait_for("/chat", 1)

            host = await chatty.join("group_call_host", name="Host")
            guest = await chatty.join(name="Guest, the second")
            session_id = host.joined["room"]["session_id"]
            guest_id = guest.joined["self"]["participant_id"]
            text = await host.send_text('hello, "world"\nline two')
            private = await host.send_text("psst", to=[guest_id])
            custom = await guest.send_custom({"kind": "card", "n": 1})
            image = await guest.upload_file(PNG, "p.png", "image/png")
            sent_image = await guest.send_file(image["id"], image=True)
            doc = await guest.upload_file(b"notes", "n.txt", "text/plain")
            sent_doc = await guest.send_file(doc["id"])
            gone = await guest.send_text("oops, wrong room")
            await host.edit_message(text["id"], text="hello, world")
            await host.pin_message(custom["id"])
            await guest.delete_message(gone["id"])
            await host.kick_all()
            posts = receiver.wait_for("/chat", 3)
        finally:
            await quiet.close()
            await chatty.close()

        bodies = [orjson.loads(post.body) for post in posts]
        synced = [b for b in bodies if b["event"] == "meeting.chatSynced"]
        assert len(synced) == 1  # none for the quiet session
        hook = synced[0]
        assert hook["sessionId"] == session_id and hook["meetingId"] == chatty.id
        assert hook["title"] == "Chatty" and hook["organizedBy"]["id"] == server.app_id
        assert hook["startedAt"] and hook["endedAt"] and hook["createdAt"]
        expiry = datetime.fromisoformat(hook["chatDownloadUrlExpiry"])
        assert 0 < (expiry - datetime.now(UTC)).total_seconds() <= TTL
        assert hook["chatDownloadUrl"].startswith(f"{server.url}/chat-exports/{session_id}.csv?")

        async with httpx.AsyncClient() as http:
            download = await http.get(hook["chatDownloadUrl"])  # no credentials needed
            assert download.status_code == 200, download.text
            assert download.headers["content-type"].startswith("text/csv")
            exported = {row["id"]: row for row in rows(download.text)}
            # S6 through the official SDK gives a fresh link to the same file.
            with Cloudflare(api_token=server.api_token, base_url=f"{server.url}/client/v4",
                            max_retries=0) as cf:
                s6 = await asyncio.to_thread(cf.realtime_kit.sessions.get_session_chat,
                                             session_id, account_id=server.account_id,
                                             app_id=server.app_id)
            assert s6.success and s6.data.chat_download_url_expiry
            again = await http.get(s6.data.chat_download_url)
            assert {row["id"] for row in rows(again.text)} == set(exported)

    assert list(exported) == [m["id"] for m in (text, private, custom, sent_image, sent_doc,
                                                gone)]
    first = exported[text["id"]]
    assert first["payload"] == "hello, world" and first["isEdited"] == "true"
    assert first["payloadType"] == "TEXT_MESSAGE" and first["displayName"] == "Host"
    assert first["sessionId"] == session_id and first["meetingId"] == chatty.id
    assert first["participantId"] == host.joined["self"]["participant_id"]
    assert first["createdAt"] == text["created_at"] and first["pinned"] == "false"
    assert exported[private["id"]]["payload"] == "psst"  # the record holds private ones too
    card = exported[custom["id"]]
    assert card["payloadType"] == "CUSTOM_MESSAGE" and card["pinned"] == "true"
    assert orjson.loads(card["payload"]) == {"kind": "card", "n": 1}
    assert exported[sent_image["id"]]["payloadType"] == "IMAGE_MESSAGE"
    assert exported[sent_image["id"]]["payload"] == image["link"]
    assert exported[sent_doc["id"]]["payloadType"] == "FILE_MESSAGE"
    assert exported[gone["id"]]["payload"] == "oops, wrong room"  # deleted, still said
    assert exported[gone["id"]]["displayName"] == "Guest, the second"


async def test_export_links_refuse_tampering_and_expire(
    hooked: tuple[SalonServer, Receiver]
) -> None:
    server, _ = hooked
    async with admin_for(server) as admin:
        room = Meeting(server, admin, await admin.create_meeting(title="Links"))
        other = Meeting(server, admin, await admin.create_meeting(title="Other"))
        try:
            peer = await room.join()
            await peer.send_text("for the record")
            session_id = peer.joined["room"]["session_id"]
            elsewhere = (await other.join()).joined["room"]["session_id"]
            link = (await admin.call("GET", f"/sessions/{session_id}/chat"))["chat_download_url"]
            with pytest.raises(ApiError) as unknown:
                await admin.call("GET", "/sessions/no-such-session/chat")
            assert unknown.value.status == 404
        finally:
            await room.close()
            await other.close()

    base, query = link.split("?")
    params = dict(part.split("=", 1) for part in query.split("&"))
    async with httpx.AsyncClient() as http:
        assert (await http.get(link)).status_code == 200
        forged = f"{base}?expires={params['expires']}&signature={params['signature'][:-2]}xx"
        later = f"{base}?expires={int(params['expires']) + 3600}&signature={params['signature']}"
        swapped = link.replace(session_id, elsewhere)
        # Not ASCII: refused like any other bad signature, and nothing for the log.
        accented = f"{base}?expires={params['expires']}&signature={params['signature'][:-1]}é"
        logged = len(server.log())
        for bad in (forged, later, swapped, accented, f"{base}?expires=1&signature=%F0%9F%98%80"):
            refused = await http.get(bad)
            assert refused.status_code == 403, bad
            assert refused.json() == {"success": False, "error": {
                "code": 403, "message": "This chat download link is not valid."}}
        quiet = server.log()[logged:]
        assert "ERROR" not in quiet and "Traceback" not in quiet, quiet
        assert (await http.get(base)).status_code == 400
        wait = int(params["expires"]) - datetime.now(UTC).timestamp() + 0.3
        await asyncio.sleep(max(wait, 0))
        expired = await http.get(link)
        assert expired.status_code == 403 and "expired" in expired.json()["error"]["message"]


async def test_export_cells_never_start_a_formula(hooked: tuple[SalonServer, Receiver]) -> None:
    """OWASP's CSV injection: a cell a spreadsheet would evaluate gets a `'` in front."""
    server, _ = hooked
    said = ["=HYPERLINK(\"http://evil\",\"x\")", "+1+2", "-3", "@SUM(A1)", "\tcmd", "\rcmd",
            "a=b, -c", "'quoted"]
    async with admin_for(server) as admin:
        room = Meeting(server, admin, await admin.create_meeting(title="Formulas"))
        try:
            peer = await room.join(name="=cmd|' /C calc'!A0")
            for text in said:
                await peer.send_text(text)
            session_id = peer.joined["room"]["session_id"]
            link = (await admin.call("GET", f"/sessions/{session_id}/chat"))["chat_download_url"]
        finally:
            await room.close()
    async with httpx.AsyncClient() as http:
        exported = rows((await http.get(link)).text)
    assert [row["payload"] for row in exported] == [
        "'=HYPERLINK(\"http://evil\",\"x\")", "'+1+2", "'-3", "'@SUM(A1)", "'\tcmd",
        "'\rcmd", "a=b, -c", "'quoted"]  # only the first character counts
    assert {row["displayName"] for row in exported} == {"'=cmd|' /C calc'!A0"}


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
async def test_persisted_chat_survives_a_crash_and_a_restart(backend: str) -> None:
    database = ThrowawayPostgres() if backend == "postgresql" else None
    receiver = Receiver().up()
    server = start(database.url if database else "", env=HOOKED)
    try:
        async with admin_for(server) as admin:
            await admin.call("POST", "/webhooks", json={
                "name": "chat", "url": receiver.url("/synced"), "events": ["meeting.chatSynced"]})
            room = Meeting(server, admin, await admin.create_meeting(title="Kept",
                                                                     persist_chat=True))
            host_p = await room.participant("group_call_host")
            guest_p = await room.participant()
            host = await room.connect(host_p["token"])
            guest = await room.connect(guest_p["token"])
            crashed_session = host.joined["room"]["session_id"]
            said = [await host.send_text("before the crash")]
            said.append(await guest.send_text("private, before the crash",
                                              to=[host_p["id"]]))
            upload = await guest.upload_file(PNG, "kept.png", "image/png")
            said.append(await guest.send_file(upload["id"], image=True))
            await host.pin_message(said[0]["id"])

            server.process.kill()  # no shutdown: whatever was acknowledged must be stored
            server.process.wait()
            await room.close()
            server.process = launch(server.env(), server.port, server.log_path)

            synced = orjson.loads(receiver.wait_for("/synced", 1)[0].body)
            assert synced["sessionId"] == crashed_session  # ended at start-up, chat synced
            host = await room.connect(host_p["token"])
            guest = await room.connect(guest_p["token"])
            assert host.joined["room"]["session_id"] != crashed_session
            history = (await host.chat_history())["messages"]
            assert [m["id"] for m in history] == [m["id"] for m in said]
            assert [m["id"] for m in await guest.pinned_messages()] == [said[0]["id"]]
            content, _ = await guest.download_file(history[2]["payload"]["link"])
            assert content == PNG
            said.append(await guest.send_text("after the crash"))

            await room.close()
            await asyncio.to_thread(restart, server)  # and a clean restart, for good measure
            peer = await room.join()
            history = (await peer.chat_history())["messages"]
            public = [m for m in said if not m["private"]]
            assert [m["id"] for m in history] == [m["id"] for m in public]
            await room.close()
        assert "Traceback" not in server.log(), server.log()
    finally:
        cleanup(server)
        receiver.down()
        if database:
            database.drop()
