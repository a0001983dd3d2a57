"""`transcript.publish` and the `transcript` event: who may publish captions, of whom,
and what everyone receives (docs/protocol.md "Captions")."""

import uuid

import pytest

from salon.client import RealtimeError
from tests.live import Meeting

pytestmark = pytest.mark.asyncio

TRANSCRIBER = {"hidden_participant": True, "is_recorder": True, "recorder_type": "RECORDER"}


async def _presets(room: Meeting) -> dict[str, str]:
    """Presets of this test (names are unique per app, and the app is the run's)."""
    tag = uuid.uuid4().hex[:8]
    names = {"captioned": f"captioned-{tag}", "bot": f"bot-{tag}", "ghost": f"ghost-{tag}"}
    await room.admin.create_preset(names["captioned"],
                                   permissions={"transcription_enabled": True})
    await room.admin.create_preset(names["bot"], permissions=TRANSCRIBER)
    await room.admin.create_preset(names["ghost"], permissions={"hidden_participant": True})
    return names


async def test_captions_reach_everyone_in_realtimekit_shape(room: Meeting) -> None:
    preset = await _presets(room)
    speaker = await room.join(preset["captioned"], name="Alice")
    listener = await room.join(name="Bob")
    assert {p["peer_id"]: p["transcribed"] for p in listener.joined["room"]["peers"]} == {
        speaker.peer_id: True, listener.peer_id: False}
    bot = await room.join(preset["bot"], name="Transcriber")
    recorder = await room.join(preset["bot"], name="Recorder")  # another of salon's bots
    assert bot.peer_id not in {p["peer_id"] for p in (await listener.state())["room"]["peers"]}

    reply = await bot.request("transcript.publish", peer_id=speaker.peer_id, id="u1",
                              transcript="Hello every", is_partial=True)
    assert reply == {"delivered_to": 2}
    await bot.request("transcript.publish", peer_id=speaker.peer_id, id="u1",
                      transcript="Hello everyone.")
    for peer in (listener, speaker):
        partial = await peer.wait_for("transcript")
        final = await peer.wait_for("transcript")
        assert partial["isPartialTranscript"] is True and partial["transcript"] == "Hello every"
        assert final == {
            "id": "u1", "peerId": speaker.peer_id, "userId": speaker.joined["self"]["participant_id"],
            "customParticipantId": speaker.joined["self"]["custom_participant_id"], "name": "Alice",
            "transcript": "Hello everyone.", "isPartialTranscript": False,
            "timestamp": final["timestamp"]}
        assert final["timestamp"].endswith("Z")
    assert recorder.drain("transcript") == []  # bots hear no captions


async def test_only_the_transcriber_publishes_and_only_captioned_peers(room: Meeting) -> None:
    preset = await _presets(room)
    speaker = await room.join(preset["captioned"], name="Alice")
    plain = await room.join(name="Bob")
    ghost = await room.join(preset["ghost"], name="Ghost")
    bot = await room.join(preset["bot"], name="Transcriber")
    for impostor in (speaker, plain, ghost):  # a person, or hidden but not a recorder
        with pytest.raises(RealtimeError) as refused:
            await impostor.request("transcript.publish", peer_id=speaker.peer_id, id="x",
                                   transcript="I never said that.")
        assert refused.value.code == "FORBIDDEN"
        assert refused.value.message == (  # what is missing, not a permission it may have
            "You may not publish captions: only a hidden participant whose preset has "
            "'is_recorder' (salon's own recorder or transcriber) may.")
    with pytest.raises(RealtimeError) as refused:  # Bob's preset is not transcribed
        await bot.request("transcript.publish", peer_id=plain.peer_id, id="x", transcript="hi")
    assert refused.value.code == "FORBIDDEN" and refused.value.message == (
        f"Peer {plain.peer_id} is not captioned: its preset lacks 'transcription_enabled'.")
    with pytest.raises(RealtimeError) as refused:
        await bot.request("transcript.publish", peer_id="nobody", id="x", transcript="hi")
    assert refused.value.code == "NOT_FOUND"
    for bad in ({"peer_id": speaker.peer_id, "id": "x", "transcript": ""},
                {"peer_id": speaker.peer_id, "id": "x", "transcript": "a" * 4001},
                {"peer_id": speaker.peer_id, "transcript": "no id"},
                {"peer_id": speaker.peer_id, "id": "x", "transcript": "hi", "is_partial": "yes"}):
        with pytest.raises(RealtimeError) as refused:
            await bot.request("transcript.publish", **bad)
        assert refused.value.code == "INVALID"
    assert plain.drain("transcript") == []
    assert (await bot.request("ping")) is not None  # the connection carries on


async def test_a_bot_that_comes_for_an_ended_session_starts_no_new_one(room: Meeting) -> None:
    """The transcriber joins with the `session_id` it came for: arriving after that
    session ended is refused (SESSION_ENDED, 4005) and starts nothing."""
    import json

    import websockets

    from salon.client import ws_url

    preset = await _presets(room)
    bot_token = (await room.participant(preset["bot"], "Transcriber"))["token"]
    first = await room.join("group_call_host", name="Ann")
    session_id = first.joined["room"]["session_id"]
    bot = await room.connect(bot_token)  # the right session: in
    await bot.leave()
    await room.admin.call("POST", f"/meetings/{room.id}/active-session/kick-all")
    async with websockets.connect(ws_url(room.server.url)) as ws:
        await ws.send(json.dumps({"id": 1, "type": "join", "data": {
            "token": bot_token, "protocol": 1, "session_id": session_id}}))
        reply = json.loads(await ws.recv())
        with pytest.raises(websockets.ConnectionClosed):
            await ws.recv()
    assert reply["ok"] is False and reply["error"]["code"] == "SESSION_ENDED"
    assert ws.close_code == 4005
    with pytest.raises(Exception) as none_live:  # nothing was started
        await room.admin.active_session(room.id)
    assert "404" in str(none_live.value)
