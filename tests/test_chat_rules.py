"""Chat rules without a server: permissions, audiences, stamps, files, export links."""

from datetime import UTC, datetime, timedelta

import pytest

from salon.core.errors import Forbidden, InvalidRequest
from salon.core.presets import Permissions
from salon.core.room import Peer, Room, RoomError
from salon.core.room import chat as rules
from salon.services.chat_export import ExportLinks
from salon.services.chat_files import clean_name
from salon.webhooks import payloads

NOW = datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)


def _peer(room: Room, peer_id: str, participant_id: str, **permissions: object) -> Peer:
    peer = Peer(peer_id=peer_id, participant_id=participant_id,
                custom_participant_id=participant_id, name=peer_id, picture=None,
                preset_name="p", view_type="GROUP_CALL",
                permissions=Permissions.model_validate(permissions))
    room.connect(peer, NOW)
    return peer


@pytest.fixture
def room() -> Room:
    room = Room("meeting", "title")
    dm = {"chat": {"private": {"can_send": True, "can_receive": True, "text": True,
                               "files": True}}}
    _peer(room, "a1", "alice", **dm)
    _peer(room, "a2", "alice", **dm)
    _peer(room, "b1", "bob", **dm)
    _peer(room, "c1", "carol")  # default preset: no private chat
    _peer(room, "h1", "hidden", hidden_participant=True, **dm)
    return room


def test_stamps_are_millisecond_precise_and_strictly_increasing() -> None:
    board = rules.ChatBoard()
    first = board.stamp(NOW)
    assert first == NOW.replace(microsecond=678000)
    assert board.stamp(NOW) == first + timedelta(milliseconds=1)
    assert board.stamp(NOW - timedelta(seconds=5)) == first + timedelta(milliseconds=2)
    assert board.stamp(NOW + timedelta(seconds=1)) == (NOW + timedelta(seconds=1)).replace(
        microsecond=678000)


def test_private_audience_and_recipient_rules(room: Room) -> None:
    draft = rules.prepare_send(room, "a1", "text", ["bob", "bob", "alice"], NOW)
    assert draft.targets == ("bob",) and draft.participant_id == "alice"
    meta = rules.MessageMeta("m", draft.session_id, "alice", "text", draft.targets)
    assert rules.audience(room, meta, but="a1") == {"a2", "b1"}
    assert meta.visible_to("bob") and not meta.visible_to("carol")
    public = rules.MessageMeta("p", draft.session_id, "alice", "text")
    assert rules.audience(room, public, but="a1") == {"a2", "b1", "c1", "h1"}

    for to, code in ((["carol"], "FORBIDDEN"), (["hidden"], "NOT_FOUND"),
                     (["nobody"], "NOT_FOUND"), (["alice"], "INVALID")):
        with pytest.raises(RoomError) as refused:
            rules.prepare_send(room, "a1", "text", to, NOW)
        assert refused.value.code == code, to
    with pytest.raises(RoomError) as refused:
        rules.prepare_send(room, "c1", "text", ["alice"], NOW)
    assert "chat.private.can_send" in refused.value.message


def test_who_may_edit_delete_and_pin(room: Room) -> None:
    host = _peer(room, "x1", "host", kick_participant=True, pin_participant=True)
    meta = rules.MessageMeta("m", "s", "bob", "text")
    rules.check_edit(room, "b1", meta)
    rules.check_delete(room, "b1", meta)
    rules.check_delete(room, host.peer_id, meta)
    rules.check_pin(room, host.peer_id, meta)
    for check, peer_id in ((rules.check_edit, "a1"), (rules.check_edit, "x1"),
                           (rules.check_delete, "a1"), (rules.check_pin, "b1")):
        with pytest.raises(RoomError) as refused:
            check(room, peer_id, meta)
        assert refused.value.code == "FORBIDDEN"
    private = rules.MessageMeta("m", "s", "bob", "text", ("alice",))
    with pytest.raises(RoomError) as unseen:
        rules.check_delete(room, host.peer_id, private)
    assert unseen.value.code == "NOT_FOUND"


def test_content_rules() -> None:
    assert rules.text_payload("hi") == {"text": "hi"}
    for bad in (None, "", "  \n", "x" * (rules.MAX_TEXT_CHARS + 1)):
        with pytest.raises(RoomError):
            rules.text_payload(bad)
    with pytest.raises(RoomError):
        rules.custom_payload({"x": "y" * rules.MAX_CUSTOM_BYTES})
    with pytest.raises(RoomError):
        rules.check_file_kind("image", "application/pdf")
    rules.check_file_kind("file", "application/pdf")
    assert rules.sniff_image(b"\x89PNG\r\n\x1a\n....") == "image/png"
    assert rules.sniff_image(b"RIFF\x00\x00\x00\x00WEBPVP8 ") == "image/webp"
    assert rules.sniff_image(b"<svg>") is None
    assert "image/svg+xml" not in rules.FILE_CONTENT_TYPES
    assert "text/html" not in rules.FILE_CONTENT_TYPES
    assert clean_name("C:\\Users\\ada\\report.pdf") == "report.pdf"
    assert clean_name("../../x\x00y.txt") == "x_y.txt"
    assert clean_name("invoice\u202egpj.exe") == "invoicegpj.exe"  # shown as "…exe.jpg"
    bidi = "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
    assert clean_name(f"{bidi}a{bidi}b.txt{bidi}") == "ab.txt"
    with pytest.raises(InvalidRequest):
        clean_name(bidi)


def test_export_links_sign_and_expire() -> None:
    links = ExportLinks.from_secret("secret", "http://h:1/", 60)
    url, expiry = links.link("session", NOW)
    assert url.startswith("http://h:1/chat-exports/session.csv?expires=")
    assert expiry == NOW.replace(microsecond=0) + timedelta(seconds=60)
    query = dict(p.split("=") for p in url.split("?")[1].split("&"))
    expires, signature = int(query["expires"]), query["signature"]
    links.verify("session", expires, signature, NOW)
    for args in (("other", expires, signature), ("session", expires + 1, signature),
                 ("session", expires, signature[:-1] + "é"), ("session", expires, "ü" * 43)):
        with pytest.raises(Forbidden, match="not valid"):
            links.verify(*args, NOW)
    with pytest.raises(Forbidden, match="expired"):
        links.verify("session", expires, signature, NOW + timedelta(seconds=61))
    other_key = ExportLinks.from_secret("another", "http://h:1", 60)
    with pytest.raises(Forbidden, match="not valid"):
        other_key.verify("session", expires, signature, NOW)


def test_chat_synced_payload_is_flat() -> None:
    meeting = payloads.meeting_object(
        meeting_id="m", session_id="s", title="T", status="LIVE", created_at=NOW,
        started_at=NOW, ended_at=NOW, app_id="a", app_name="App")
    body = payloads.chat_synced(meeting, chat_download_url="u",
                                chat_download_url_expiry=NOW)
    assert body == {"event": "meeting.chatSynced", "sessionId": "s", "meetingId": "m",
                    "title": "T", "chatDownloadUrl": "u",
                    "chatDownloadUrlExpiry": "2026-01-02T03:04:05.678Z",
                    "createdAt": "2026-01-02T03:04:05.678Z",
                    "startedAt": "2026-01-02T03:04:05.678Z",
                    "endedAt": "2026-01-02T03:04:05.678Z",
                    "organizedBy": {"id": "a", "name": "App"}}
