"""The transcriber in a real meeting: aiortc peers say known sentences (espeak-ng) into
a live session; the server's transcriber (a hidden participant in its own process)
keeps each voice for the post-meeting transcript, and captions the peers whose preset
has `transcription_enabled` live (docs/transcription.md, docs/protocol.md "Captions")."""

import asyncio
import json
import uuid
from pathlib import Path
from typing import Any

import pytest

from salon.ai.recognizer import Recognizer
from salon.ai.wer import wer
from salon.client import RealtimeClient
from tests.live import Meeting, eventually
from tests.media.test_recording_engine import publisher
from tests.speech import SpeechTrack, espeak_available, place, say

pytestmark = [pytest.mark.asyncio,
              pytest.mark.skipif(not espeak_available(), reason="needs espeak-ng")]

ALICE = "Good morning everyone, thanks for joining the weekly planning call."
BOB = "I finished the review of the new onboarding flow yesterday."


async def _captioned_preset(room: Meeting) -> str:
    name = f"captioned-{uuid.uuid4().hex[:8]}"
    await room.admin.create_preset(name, permissions={"transcription_enabled": True})
    return name


async def _speaker(room: Meeting, sessions: list, name: str, samples: Any,
                   preset: str = "group_call_host") -> RealtimeClient:
    peer = await room.join(preset, name=name)
    from salon.client.media import MediaSession

    media = await MediaSession.attach(peer, ice_hosts=["127.0.0.1"])
    sessions.append(media)
    await media.publish("audio", SpeechTrack(samples))
    return peer


def _capture_dir(room: Meeting, session_id: str) -> Path:
    return room.server.data_dir / "transcription" / "work" / session_id


async def _session_id(room: Meeting) -> str:
    return (await room.admin.active_session(room.id))["id"]


async def _end(room: Meeting) -> None:
    for peer in room.peers:
        if not peer.closed.is_set():
            await peer.leave()


async def test_every_voice_is_kept_on_the_session_clock(room: Meeting, sessions: list) -> None:
    await room.admin.call("PATCH", f"/meetings/{room.id}", json={"transcribe_on_end": True})
    alice_says, bob_says = say(ALICE, "en-us"), say(BOB, "en-gb")
    alice_secs = alice_says.size / 16000
    # Alice talks from 0.5 s; Bob, who joins a little later, once she is done.
    alice = await _speaker(room, sessions, "Alice", place([(0.5, alice_says)], 30))
    session_id = await _session_id(room)
    assert alice.joined["room"]["meeting"]["transcribe_on_end"] is True  # people are told
    bob = await _speaker(room, sessions, "Bob", place([(alice_secs + 1.0, bob_says)], 30))
    await asyncio.sleep(alice_secs + bob_says.size / 16000 + 2.5)
    await _end(room)

    capture = _capture_dir(room, session_id)
    await eventually(lambda: (capture / "complete.json").exists(), timeout=30)
    lines = [json.loads(line) for line in
             (capture / "segments.jsonl").read_text().splitlines()]
    by_name = {line["name"]: line for line in lines}
    assert set(by_name) == {"Alice", "Bob"}
    assert by_name["Alice"]["peer_id"] == alice.peer_id
    assert by_name["Bob"]["peer_id"] == bob.peer_id
    assert by_name["Bob"]["participant_id"] == bob.joined["self"]["participant_id"]
    assert by_name["Alice"]["started_at"] < by_name["Bob"]["started_at"]
    assert by_name["Alice"]["joined_at"] <= by_name["Alice"]["started_at"] + 0.5
    recognizer = Recognizer()
    for name, said in (("Alice", ALICE), ("Bob", BOB)):
        line = by_name[name]
        segments = recognizer.transcribe(capture / line["file"])
        heard = " ".join(s.text for s in segments)
        assert wer(said, heard) <= 0.25, (name, heard)
        # where the sentence sits on the wall clock: Bob speaks about alice_secs + 1 s
        # after his track started, and his file starts with his track
        start = line["started_at"] + segments[0].start
        expected = (by_name["Alice"]["started_at"] + 0.5 if name == "Alice"
                    else by_name["Bob"]["started_at"] + alice_secs + 1.0)
        assert abs(start - expected) < 1.0, (name, start - expected)


async def test_captioned_peers_are_captioned_live_and_others_are_not(
        room: Meeting, sessions: list) -> None:
    preset = await _captioned_preset(room)
    listener = await room.join(name="Carol")
    alice_says, bob_says = say(ALICE, "en-us"), say(BOB, "en-gb")
    alice_secs = alice_says.size / 16000
    alice = await _speaker(room, sessions, "Alice", place([(1.0, alice_says)], 30), preset)
    await _speaker(room, sessions, "Bob", place([(alice_secs + 2.0, bob_says)], 30))

    final = await listener.wait_for(
        "transcript", lambda c: not c["isPartialTranscript"] and c["peerId"] == alice.peer_id,
        timeout=alice_secs + 20)
    assert final["name"] == "Alice"
    assert final["userId"] == alice.joined["self"]["participant_id"]
    assert wer(ALICE, final["transcript"]) <= 0.25, final["transcript"]
    await asyncio.sleep(bob_says.size / 16000 + 3.0)  # Bob has spoken by now
    captions = listener.drain("transcript")
    assert captions and all(c["peerId"] == alice.peer_id for c in captions)
    await _end(room)
