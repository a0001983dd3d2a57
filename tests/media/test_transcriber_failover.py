"""Live transcription goes on after the meeting's node is killed (docs/cluster.md
"Failover"): two real nodes sharing a data directory, in the private network namespace
with a Redis of their own. A captioned peer speaks (espeak-ng) before the kill and after
she resumes on the other node: the node carrying the session on starts a transcriber for
it (she is seated by a resume, not a join), her captions reach the listener again, and
the post-meeting transcript has what she said on both nodes."""

import asyncio
import contextlib
import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest

from salon.ai.wer import wer
from salon.client import AdminClient
from salon.client.media import MediaSession
from tests.cluster import Cluster, cluster_of, private_redis
from tests.live import eventually
from tests.speech import SpeechTrack, espeak_available, say
from tests.test_cluster_rooms import join_anywhere

pytestmark = [pytest.mark.solo,  # measures rates and timings: runs alone
              pytest.mark.asyncio,
              pytest.mark.skipif(not espeak_available(), reason="needs espeak-ng")]

BEFORE = "Good morning everyone, thanks for joining the weekly planning call."
AFTER = "I finished the review of the new onboarding flow yesterday."


class CuedSpeech(SpeechTrack):
    """A microphone that is silent until told to say a clip (`cue`), in real time."""

    def __init__(self) -> None:
        super().__init__(np.zeros(0, dtype=np.float32))

    def cue(self, samples: np.ndarray) -> float:
        """Say `samples` from now on; returns how long that takes."""
        pcm = (np.clip(samples, -1, 1) * 32767).astype(np.int16)
        said = min(self.position, self.pcm.size)
        self.pcm = np.concatenate([self.pcm[:said],
                                   np.zeros(self.position - said, np.int16), pcm])
        return samples.size / 16000


@pytest.fixture(scope="module")
def shared_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("shared-data")


@pytest.fixture(scope="module")
def cluster(shared_data: Path) -> Iterator[Cluster]:
    env = {"SALON_ICE_HOSTS": "127.0.0.1", "SALON_DATA_DIR": str(shared_data),
           "SALON_KEEP_ALIVE_CAP_SECS": "3"}
    with private_redis() as redis_url, cluster_of(2, env, redis_url) as started:
        yield started


def final_of(peer_id: str):  # noqa: ANN201 - a wait_for filter
    return lambda c: not c["isPartialTranscript"] and c["peerId"] == peer_id


@pytest.mark.parametrize("transcribe_on_end", [True, False])
async def test_captions_and_the_transcript_go_on_after_the_node_is_killed(
        cluster: Cluster, sessions: list, transcribe_on_end: bool) -> None:
    """With `transcribe_on_end` the new node's transcriber starts as the session is carried
    on; without it, once a captioned peer is back (seated by a resume, no join)."""
    entry = cluster.nodes[0]
    async with AdminClient(entry.url, cluster.account_id, cluster.app_id,
                           cluster.api_token) as admin:
        preset = f"captioned-{uuid.uuid4().hex[:8]}"
        await admin.create_preset(preset, permissions={"transcription_enabled": True})
        meeting = await admin.create_meeting(title="transcribed")
        await admin.call("PATCH", f"/meetings/{meeting['id']}",
                         json={"transcribe_on_end": transcribe_on_end})
        alice_p = await admin.add_participant(meeting["id"], "alice", preset, name="Alice")
        carol_p = await admin.add_participant(meeting["id"], "carol",
                                              "group_call_participant", name="Carol")
    before, after = say(BEFORE, "en-us"), say(AFTER, "en-gb")  # as tests/media/test_transcriber.py
    alice = await join_anywhere(cluster, cluster.nodes[0].ws, alice_p["token"],
                                auto_resume=True)
    carol = await join_anywhere(cluster, cluster.nodes[1].ws, carol_p["token"],
                                auto_resume=True)
    owner = cluster.node(str(cluster.owner(meeting["id"])))
    index = cluster.nodes.index(owner)
    print("node logs:", *(node.log_path for node in cluster.nodes))  # shown on failure
    try:
        media = await MediaSession.attach(alice, ice_hosts=["127.0.0.1"])
        sessions.append(media)
        voice = CuedSpeech()
        await media.publish("audio", voice)
        session_id = alice.joined["room"]["session_id"]

        # on the first node: the transcriber captions her
        await said_and_captioned(voice, before, BEFORE, alice.peer_id, carol, 60)
        await cluster.wait_on_record(meeting["id"], 2)
        await asyncio.to_thread(owner.kill)
        await asyncio.wait_for(asyncio.gather(alice.resumed.wait(), carol.resumed.wait()),
                               30)
        assert cluster.owner(meeting["id"]) != owner.node_id
        assert alice.joined["room"]["session_id"] == session_id  # the same session
        carol.drain("transcript")

        # on the node that carries the session on: a transcriber again, captions again
        await said_and_captioned(voice, after, AFTER, alice.peer_id, carol, 60)

        await alice.leave()
        await carol.leave()
        if not transcribe_on_end:
            return
        lines = await transcript(cluster, cluster.nodes[1 - index], session_id)
        said = " ".join(line["sentence"] for line in lines)
        assert {line["peerData"]["displayName"] for line in lines} == {"Alice"}, lines
        # what she said before the kill (captured on the dead node) and after it
        assert "onboarding" in said.lower() and "planning" in said.lower(), said
        first_at = min(line["startTime"] for line in lines if "planning" in
                       line["sentence"].lower())
        last_at = max(line["startTime"] for line in lines if "onboarding" in
                      line["sentence"].lower())
        assert first_at < last_at, lines
    finally:
        await alice.close()
        await carol.close()
        if owner.process.poll() is not None:  # killed: the next test has it back
            await asyncio.to_thread(cluster.start_node, index,
                                    {"SALON_ICE_HOSTS": "127.0.0.1",
                                     "SALON_DATA_DIR": owner.env["SALON_DATA_DIR"],
                                     "SALON_KEEP_ALIVE_CAP_SECS": "3"})


async def said_and_captioned(voice: CuedSpeech, samples: np.ndarray, text: str,
                             speaker: str, listener: Any, within: float) -> None:
    """Say `text` until the listener gets its whole caption: a transcriber that has just
    started subscribes in the middle of a sentence, or after it."""
    deadline = time.monotonic() + within
    heard: list[str] = []
    while not heard or wer(text, heard[-1]) > 0.25:
        assert time.monotonic() < deadline, f"no whole caption of {text!r}: {heard}"
        with contextlib.suppress(TimeoutError):
            caption = await listener.wait_for("transcript", final_of(speaker),
                                              timeout=voice.cue(samples) + 8)
            heard.append(caption["transcript"])


async def transcript(cluster: Cluster, node: Any, session_id: str) -> list[dict[str, Any]]:
    """The session's post-meeting transcript (JSON lines), once READY."""
    base = cluster.app_url(node)
    async with httpx.AsyncClient(headers=cluster.headers, timeout=10) as rest:
        async def ready() -> dict[str, Any] | None:
            session = (await rest.get(f"{base}/sessions/{session_id}")).json()["data"]
            assert session["transcript_status"] != "FAILED", session
            return session if session["transcript_status"] == "READY" else None
        await eventually(ready, timeout=120, every=0.5)
        link = (await rest.get(f"{base}/sessions/{session_id}/transcript",
                               params={"format": "JSON"})).json()["data"]
        answer = await rest.get(link["transcript_download_url"])
    assert answer.status_code == 200, answer.text
    return json.loads(answer.text)
