"""The transcriber in a real meeting: aiortc peers say known sentences (espeak-ng) into
a live session; the server's transcriber (a hidden participant in its own process)
keeps each voice for the post-meeting transcript, and captions the peers whose preset
has `transcription_enabled` live (docs/transcription.md, docs/protocol.md "Captions")."""

import asyncio
import json
import os
import signal
import time
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from salon.ai.wer import wer
from salon.client import RealtimeClient
from tests.live import Meeting, eventually
from tests.speech import SpeechTrack, espeak_available, place, say, speech_bounds

pytestmark = [pytest.mark.solo,  # measures rates and timings: runs alone
              pytest.mark.asyncio,
              pytest.mark.skipif(not espeak_available(), reason="needs espeak-ng")]

ALICE = "Good morning everyone, thanks for joining the weekly planning call."
BOB = "I finished the review of the new onboarding flow yesterday."
#: When the first speaker starts talking, seconds after their microphone starts.
SPEAKS_AFTER = 3.0


async def _captioned_preset(room: Meeting) -> str:
    name = f"captioned-{uuid.uuid4().hex[:8]}"
    await room.admin.create_preset(name, permissions={"transcription_enabled": True})
    return name


async def _speaker(room: Meeting, sessions: list, name: str, voice: Any,
                   preset: str = "group_call_host") -> RealtimeClient:
    """A peer that publishes `voice` (a SpeechTrack, or samples to say)."""
    peer = await room.join(preset, name=name)
    from salon.client.media import MediaSession

    media = await MediaSession.attach(peer, ice_hosts=["127.0.0.1"])
    sessions.append(media)
    await media.publish("audio", voice if isinstance(voice, SpeechTrack) else SpeechTrack(voice))
    return peer


async def _session_id(room: Meeting) -> str:
    return (await room.admin.active_session(room.id))["id"]


async def _end(room: Meeting) -> None:
    for peer in room.peers:
        if not peer.closed.is_set():
            await peer.leave()


async def _ready(room: Meeting, session_id: str, field: str,
                 timeout: float = 90) -> dict[str, Any]:
    async def check() -> dict[str, Any] | None:
        session = await room.admin.call("GET", f"/sessions/{session_id}")
        assert session[field] != "FAILED", session
        return session if session[field] == "READY" else None
    return await eventually(check, timeout=timeout, every=0.5)


async def _download(room: Meeting, path: str, key: str) -> str:
    link = await room.admin.call("GET", path)
    async with httpx.AsyncClient(timeout=10) as http:
        answer = await http.get(link[key])
    assert answer.status_code == 200, answer.text
    return answer.text


async def test_the_post_meeting_transcript_attributes_each_voice_in_order(
        room: Meeting, sessions: list) -> None:
    """transcribe_on_end and summarize_on_end on a real meeting: two people speak in
    turn; when the session ends, the transcript has each sentence, said by the right
    person, in order, at the right time on the session's clock; then a summary."""
    await room.admin.call("PATCH", f"/meetings/{room.id}", json={
        "transcribe_on_end": True, "summarize_on_end": True,
        "ai_config": {"summarization": {"text_format": "plain_text", "word_limit": 150}}})
    alice_says, bob_says = say(ALICE, "en-us"), say(BOB, "en-gb")
    alice_secs = alice_says.size / 16000
    # Alice talks from 3 s; Bob, who joins a little later, once she is done. (What is
    # said before the transcriber has joined comes from the server's backlog: the next
    # test.)
    alice_track = SpeechTrack(place([(SPEAKS_AFTER, alice_says)], 30))
    alice = await _speaker(room, sessions, "Alice", alice_track)
    session_id = await _session_id(room)
    assert alice.joined["room"]["meeting"]["transcribe_on_end"] is True  # people are told
    bob_track = SpeechTrack(place([(SPEAKS_AFTER + alice_secs + 1.0, bob_says)], 30))
    bob = await _speaker(room, sessions, "Bob", bob_track)
    await asyncio.sleep(SPEAKS_AFTER + alice_secs + bob_says.size / 16000 + 2.5)
    await _end(room)

    session = await _ready(room, session_id, "transcript_status")
    started = datetime.fromisoformat(session["started_at"].replace("Z", "+00:00")).timestamp()
    lines = json.loads(await _download(room, f"/sessions/{session_id}/transcript?format=JSON",
                                       "transcript_download_url"))
    spoken = " ".join(line["sentence"] for line in lines)
    assert [line["peerData"]["displayName"] for line in lines][0] == "Alice", lines
    by_person: dict[str, list[dict[str, Any]]] = {}
    for line in lines:
        by_person.setdefault(line["peerData"]["displayName"], []).append(line)
    assert set(by_person) == {"Alice", "Bob"}, spoken
    assert max(line["startTime"] for line in by_person["Alice"]) < \
        min(line["startTime"] for line in by_person["Bob"])
    for name, peer, track, offset, said in (
            ("Alice", alice, alice_track, SPEAKS_AFTER, ALICE),
            ("Bob", bob, bob_track, SPEAKS_AFTER + alice_secs + 1.0, BOB)):
        theirs = by_person[name]
        assert wer(said, " ".join(line["sentence"] for line in theirs)) <= 0.25, theirs
        assert {line["peerData"]["id"] for line in theirs} == {peer.peer_id}
        assert {line["peerData"]["userId"] for line in theirs} == {
            peer.joined["self"]["participant_id"]}
        # on the session's clock: where the speech was in the publisher's track
        expected_ms = (track.started + offset - started) * 1000
        assert abs(theirs[0]["startTime"] - expected_ms) < 1000, (name, theirs[0],
                                                                    expected_ms)

    await _ready(room, session_id, "summary_status")
    summary = await _download(room, f"/sessions/{session_id}/summary",
                              "summaryDownloadUrl")
    assert summary.strip() and "#" not in summary  # plain text, as the meeting asked
    assert len(summary.split()) <= 150


async def test_what_is_said_before_the_transcriber_has_joined_is_transcribed(
        room: Meeting, sessions: list) -> None:
    """The first speaker talks at once, while the transcriber is still starting,
    joining and subscribing (1.3 s or more): the server keeps each voice's last seconds
    for it (`media.backlog`), so the sentence is whole in the transcript, in its place."""
    await room.admin.call("PATCH", f"/meetings/{room.id}", json={"transcribe_on_end": True})
    says = say(BOB, "en-gb")
    track = SpeechTrack(place([(0.2, says)], 10))
    bob = await _speaker(room, sessions, "Bob", track)
    session_id = await _session_id(room)
    await asyncio.sleep(0.2 + says.size / 16000 + 2.0)
    await _end(room)

    session = await _ready(room, session_id, "transcript_status")
    started = datetime.fromisoformat(session["started_at"].replace("Z", "+00:00")).timestamp()
    lines = json.loads(await _download(room, f"/sessions/{session_id}/transcript?format=JSON",
                                       "transcript_download_url"))
    assert lines and {line["peerData"]["id"] for line in lines} == {bob.peer_id}, lines
    assert wer(BOB, " ".join(line["sentence"] for line in lines)) <= 0.25, lines
    expected_ms = (track.started + 0.2 - started) * 1000
    assert abs(lines[0]["startTime"] - expected_ms) < 1000, (lines[0], expected_ms)


async def test_captioned_peers_are_captioned_live_and_others_are_not(
        room: Meeting, sessions: list) -> None:
    """Alice's preset has transcription_enabled, Bob's not: the listener gets Alice's
    words as captions soon after she stops, never Bob's; the room stays responsive
    while the transcriber recognizes speech."""
    preset = await _captioned_preset(room)
    listener = await room.join(name="Carol")
    alice_says, bob_says = say(ALICE, "en-us"), say(BOB, "en-gb")
    alice_secs = alice_says.size / 16000
    alice_track = SpeechTrack(place([(SPEAKS_AFTER, alice_says)], 30))
    alice = await _speaker(room, sessions, "Alice", alice_track, preset)
    bob_speaks = SPEAKS_AFTER + alice_secs + 1.0
    await _speaker(room, sessions, "Bob", place([(bob_speaks, bob_says)], 30))

    pings: list[float] = []

    async def ping_while_she_speaks() -> None:
        while len(pings) < 40:
            began = time.perf_counter()
            await listener.request("ping")
            pings.append(time.perf_counter() - began)
            await asyncio.sleep(0.1)
    pinging = asyncio.create_task(ping_while_she_speaks())
    final = await listener.wait_for(
        "transcript", lambda c: not c["isPartialTranscript"] and c["peerId"] == alice.peer_id,
        timeout=alice_secs + 20)
    heard_at = time.time()
    assert final["name"] == "Alice"
    assert final["userId"] == alice.joined["self"]["participant_id"]
    assert wer(ALICE, final["transcript"]) <= 0.25, final["transcript"]
    # from the end of her speech (as her track played it) to the final caption
    latency = heard_at - (alice_track.started + SPEAKS_AFTER + speech_bounds(alice_says)[1])
    print(f"caption latency through the meeting: {latency:.2f} s")
    assert latency < 4.0, latency
    await pinging
    slowest = sorted(pings)[int(len(pings) * 0.95)]
    print(f"ping p95 while captioning: {slowest * 1000:.1f} ms")
    assert slowest < 0.25, pings
    await asyncio.sleep(max(0.0, alice_track.started + bob_speaks
                            + bob_says.size / 16000 + 3.0 - time.time()))  # Bob has spoken
    captions = listener.drain("transcript")
    assert all(c["peerId"] == alice.peer_id for c in captions), captions
    await _end(room)


def _transcriber_pids(server_pid: int) -> list[int]:
    """The server's spawned children that run a transcriber (not multiprocessing's
    resource tracker), from /proc."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ")
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        if parent == server_pid and b"spawn_main" in cmdline:
            found.append(int(entry.name))
    return found


async def test_a_transcriber_killed_mid_session_is_replaced(room: Meeting,
                                                            sessions: list) -> None:
    """SIGKILL the transcriber while the session goes on: the server starts another,
    and the captions of what is said next still arrive."""
    preset = await _captioned_preset(room)
    server = room.server.process.pid
    # Spawned children already there (a post-meeting worker, an earlier session's bot).
    before = set(_transcriber_pids(server))
    listener = await room.join(name="Carol")
    first, second = say(ALICE, "en-us"), say(BOB, "en-gb")
    first_secs = first.size / 16000
    alice = await _speaker(room, sessions, "Alice",
                           place([(SPEAKS_AFTER, first),
                                  (SPEAKS_AFTER + first_secs + 9.0, second)], 40),
                           preset)
    said = await listener.wait_for(
        "transcript", lambda c: not c["isPartialTranscript"] and c["peerId"] == alice.peer_id,
        timeout=first_secs + 20)
    assert wer(ALICE, said["transcript"]) <= 0.25
    pids = set(_transcriber_pids(server)) - before
    assert len(pids) == 1, pids
    os.kill(pids.pop(), signal.SIGKILL)
    again = await listener.wait_for(
        "transcript", lambda c: not c["isPartialTranscript"] and c["peerId"] == alice.peer_id,
        timeout=second.size / 16000 + 25)
    assert wer(BOB, again["transcript"]) <= 0.25, again["transcript"]
    assert "failed (start 1 of 3); starting another" in room.server.log()
    replacement = set(_transcriber_pids(server)) - before
    assert len(replacement) == 1, replacement  # the killed one is gone, another runs
    await _end(room)
