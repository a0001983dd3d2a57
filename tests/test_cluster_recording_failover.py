"""A recording goes on after its meeting's node dies (docs/cluster.md "Recordings go
on"), with real nodes: salon processes on 127.0.0.2–3, one PostgreSQL, one Redis, the
recorder a real process that joins the meeting as its hidden peer and writes a real MP4
(tests/fake_recorder.py: black frames and silence, since these nodes run no media).

The node running the meeting and its recorder are killed with SIGKILL, as a machine
dies; a peer with `auto_resume` comes back on the other node, which carries the session
and the recording on; the stored file holds what was recorded before and after."""

import asyncio
import functools
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import av
import httpx
import pytest

from salon.client import AdminClient, RealtimeClient
from tests import test_cluster_jobs
from tests.cluster import Cluster, cluster_of
from tests.machines import kill_machine

ENV = {"SALON_RECORDER": "tests.fake_recorder:run_joining_recording",
       "SALON_MEDIA_BACKEND": "none", "SALON_RTMP_PORT": "0"}
#: Recorded on each side of the failover.
PART_SECS = 3.0


@pytest.fixture
def cluster() -> Iterator[Cluster]:
    with cluster_of(1, env=ENV) as started:
        yield started


#: The REST-visible states a recording reaches, polled (30 s unless told).
until = functools.partial(test_cluster_jobs.until, timeout=30)


def duration_of(path: Path) -> float:
    """Seconds of video that decode (frames over the frame rate)."""
    with av.open(str(path)) as container:
        video = container.streams.video[0]
        frames = sum(1 for _ in container.decode(video))
        return frames / float(video.average_rate or 10)


def duration_of_bytes(data: bytes) -> float:
    with tempfile.NamedTemporaryFile(suffix=".mp4") as file:
        file.write(data)
        file.flush()
        return duration_of(Path(file.name))


async def test_a_recording_goes_on_after_its_meeting_s_node_is_killed(
        cluster: Cluster) -> None:
    first = cluster.nodes[0]
    async with AdminClient(first.url, cluster.account_id, cluster.app_id,
                           cluster.api_token) as admin:
        meeting = (await admin.create_meeting(title="recorded"))["id"]
        host = await admin.add_participant(meeting, "host", "group_call_host", name="Host")
        guest = await admin.add_participant(meeting, "guest", "group_call_participant",
                                            name="Guest")
    rest = httpx.AsyncClient(headers=cluster.headers, timeout=10)
    ada = await RealtimeClient.join(first.ws, host["token"])
    bea = None
    try:
        started = await rest.post(f"{cluster.app_url(first)}/recordings",
                                  json={"meeting_id": meeting})
        assert started.status_code == 201, started.text
        rid = started.json()["data"]["id"]

        async def status(node: Any, *wanted: str) -> dict[str, Any] | None:
            row = (await rest.get(f"{cluster.app_url(node)}/recordings/{rid}")).json()["data"]
            return row if row["status"] in wanted else None

        assert await until(lambda: status(first, "RECORDING"))
        recording_since = time.monotonic()
        # The second node joins the cluster; a peer that joins now is told of both.
        second = await asyncio.to_thread(cluster.start_node, 1, ENV)
        bea = await RealtimeClient.join(first.ws, guest["token"], auto_resume=True)
        assert sorted(bea.joined["nodes"]) == sorted([first.url, second.url])
        await cluster.wait_on_record(meeting, peers=2)
        await asyncio.sleep(max(0.0, PART_SECS - (time.monotonic() - recording_since)))
        before = time.monotonic() - recording_since
        session_id = bea.joined["room"]["session_id"]

        kill_machine(first.process.pid)
        first.process.wait()
        await asyncio.wait_for(bea.resumed.wait(), 30)
        assert bea.joined["room"]["session_id"] == session_id  # the session carried on
        assert cluster.owner(meeting) == second.node_id

        async def carried_on() -> bool:
            return "goes on here" in second.log()

        assert await until(carried_on), second.log()
        carried_since = time.monotonic()
        assert await status(second, "RECORDING")

        # Peers hear of it as of any recording (in the room's state after a resume).
        async def seen() -> bool:
            state = await bea.request("state")
            return any(r["id"] == rid and r["status"] == "RECORDING"
                       for r in state["room"]["recordings"])

        assert await until(seen, timeout=10)
        await asyncio.sleep(PART_SECS)
        after = time.monotonic() - carried_since
        stopped = await rest.put(f"{cluster.app_url(second)}/recordings/{rid}",
                                 json={"action": "stop"})
        assert stopped.status_code == 200, stopped.text
        done = await until(lambda: status(second, "UPLOADED", "ERRORED"))
        assert done and done["status"] == "UPLOADED", done

        stored = await rest.get(done["download_url"])
        assert stored.status_code == 200
        recorded = await asyncio.to_thread(duration_of_bytes, stored.content)
        # What node one wrote until it was killed, as node two found it: media time,
        # which on a busy machine falls behind the wall clock (a slow encoder, the last
        # fragment lost), so only bounded loosely by it — but never ahead of it.
        part = second.data_dir / "recordings" / "work" / rid / "parts" / "000"
        earlier = await asyncio.to_thread(duration_of, part / done["output_file_name"])
        assert 0.5 <= earlier <= before + 1.0, (earlier, before)
        # The file: that part, then what node two recorded (its recorder's start and
        # the outage cut out): longer than the part by a sizeable piece of the second.
        assert earlier + 0.5 <= recorded <= before + after + 3.0, (recorded, earlier, after)
        assert abs(done["recording_duration"] - recorded) <= 1
        assert "cannot be read" not in second.log()
    finally:
        await rest.aclose()
        for peer in (ada, bea):
            if peer is not None:
                await peer.close()


async def test_a_node_drained_with_sigterm_hands_its_recording_over(
        cluster: Cluster) -> None:
    """SIGTERM to the node running the meeting and its recorder: it hands the meeting
    over, and the recording with it — its recorder stops without finishing the
    recording (its file closed cleanly: a whole part), the claim is let go, and the node
    the peers resume on carries the recording on. One file covers before and after."""
    first = cluster.nodes[0]
    async with AdminClient(first.url, cluster.account_id, cluster.app_id,
                           cluster.api_token) as admin:
        meeting = (await admin.create_meeting(title="drained"))["id"]
        guest = await admin.add_participant(meeting, "guest", "group_call_participant",
                                            name="Guest")
    rest = httpx.AsyncClient(headers=cluster.headers, timeout=10)
    second = await asyncio.to_thread(cluster.start_node, 1, ENV)
    bea = await RealtimeClient.join(first.ws, guest["token"], auto_resume=True)
    try:
        assert cluster.owner(meeting) == first.node_id
        started = await rest.post(f"{cluster.app_url(first)}/recordings",
                                  json={"meeting_id": meeting})
        assert started.status_code == 201, started.text
        rid = started.json()["data"]["id"]

        async def row(*wanted: str) -> dict[str, Any] | None:
            found = (await rest.get(f"{cluster.app_url(second)}/recordings/{rid}")
                     ).json()["data"]
            return found if found["status"] in wanted else None

        assert await until(lambda: row("RECORDING"))
        assert claim_of(cluster, rid) == ("RECORDING", first.node_id)
        recording_since = time.monotonic()
        await cluster.wait_on_record(meeting, peers=1)
        await asyncio.sleep(PART_SECS)
        session_id = bea.joined["room"]["session_id"]

        before = time.monotonic() - recording_since
        assert await asyncio.to_thread(first.stop) == 0  # drained, then gone
        await asyncio.wait_for(bea.resumed.wait(), 30)
        assert bea.joined["room"]["session_id"] == session_id  # the session carried on
        assert cluster.owner(meeting) == second.node_id
        log = first.log()
        assert "left for the node that carries the recording on" in log, log
        assert "Traceback" not in log, log

        # Not finished at the drain: still RECORDING, and carried on by the second node.
        async def carried_on() -> bool:
            return claim_of(cluster, rid) == ("RECORDING", second.node_id)

        assert await until(carried_on), (claim_of(cluster, rid),
                                         second.log())
        carried_since = time.monotonic()
        assert await row("RECORDING")

        async def seen() -> bool:
            state = await bea.request("state")
            return any(r["id"] == rid and r["status"] == "RECORDING"
                       for r in state["room"]["recordings"])

        assert await until(seen, timeout=10)
        await asyncio.sleep(PART_SECS)
        after = time.monotonic() - carried_since
        stopped = await rest.put(f"{cluster.app_url(second)}/recordings/{rid}",
                                 json={"action": "stop"})
        assert stopped.status_code == 200, stopped.text
        done = await until(lambda: row("UPLOADED", "ERRORED"))
        assert done and done["status"] == "UPLOADED", done
        assert done["stop_reason"] == {"reason": "API_CALL"}, done

        stored = await rest.get(done["download_url"])
        assert stored.status_code == 200
        recorded = await asyncio.to_thread(duration_of_bytes, stored.content)
        # The first node's part: its recorder stopped cleanly at the drain (a finished
        # file, not a repaired work file), as long as it recorded before the SIGTERM.
        part = second.data_dir / "recordings" / "work" / rid / "parts" / "000"
        earlier = await asyncio.to_thread(duration_of, part / done["output_file_name"])
        assert before - 1.5 <= earlier <= before + 3.0, (earlier, before)
        assert earlier + 0.5 <= recorded <= earlier + after + 3.0, (recorded, earlier, after)
        assert abs(done["recording_duration"] - recorded) <= 1
        assert "cannot be read" not in second.log()
    finally:
        await rest.aclose()
        await bea.close()


def claim_of(cluster: Cluster, rid: str) -> tuple[str, str]:
    """The recording's status and claimer, as the database has them."""
    out = subprocess.run(
        ["psql", cluster.database.url, "-tAc", "SELECT status || '|' || "
         f"coalesce(claimed_by, '') FROM recordings WHERE id = '{rid}'"],
        check=True, capture_output=True, text=True).stdout.strip()
    status, _, claimer = out.partition("|")
    return status, claimer


async def test_a_drained_node_s_recording_of_a_meeting_another_node_runs_goes_on_there(
        cluster: Cluster) -> None:
    """The recorder's node is not the meeting's (the meeting's node had no free recorder
    when the recording was asked for). Drained with SIGTERM, the recorder's node lets go
    of the recording, and the meeting's node carries it on at its sweep — beyond its
    limit of recorders, since a recording in progress is not dropped for the limit."""
    other = cluster.nodes[0]
    # the meeting's node: one recorder, taken by a first recording
    home = await asyncio.to_thread(cluster.start_node, 1,
                                   {**ENV, "SALON_MAX_CONCURRENT_RECORDINGS": "1"})
    async with AdminClient(home.url, cluster.account_id, cluster.app_id,
                           cluster.api_token) as admin:
        meeting = (await admin.create_meeting(title="recorded twice"))["id"]
        guest = await admin.add_participant(meeting, "guest", "group_call_participant",
                                            name="Guest")
    rest = httpx.AsyncClient(headers=cluster.headers, timeout=10)
    bea = await RealtimeClient.join(home.ws, guest["token"])
    try:
        assert cluster.owner(meeting) == home.node_id

        async def start() -> str:
            started = await rest.post(f"{cluster.app_url(home)}/recordings", json={
                "meeting_id": meeting, "allow_multiple_recordings": True})
            assert started.status_code == 201, started.text
            return started.json()["data"]["id"]

        async def recording(rid: str) -> tuple[str, str] | None:
            found = claim_of(cluster, rid)
            return found if found[0] == "RECORDING" else None

        first = await start()
        assert await until(lambda: recording(first)) == ("RECORDING", home.node_id)
        second = await start()  # the meeting's node is full: the other node records it
        assert await until(lambda: recording(second)) == ("RECORDING", other.node_id)
        await asyncio.sleep(PART_SECS)

        assert await asyncio.to_thread(other.stop) == 0
        log = other.log()
        assert "left for the node that carries the recording on" in log, log

        async def carried_on() -> bool:
            return claim_of(cluster, second) == ("RECORDING", home.node_id)

        assert await until(carried_on), (claim_of(cluster, second), home.log())
        assert "handed it over" in home.log()
        await asyncio.sleep(PART_SECS)
        stopped = await rest.put(f"{cluster.app_url(home)}/recordings/{second}",
                                 json={"action": "stop"})
        assert stopped.status_code == 200, stopped.text
        done = (await until(lambda: _final(rest, cluster.app_url(home), second)))
        assert done and done["status"] == "UPLOADED", done
        stored = await rest.get(done["download_url"])
        recorded = await asyncio.to_thread(duration_of_bytes, stored.content)
        part = home.data_dir / "recordings" / "work" / second / "parts" / "000"
        earlier = await asyncio.to_thread(duration_of, part / done["output_file_name"])
        assert earlier >= PART_SECS - 0.5, earlier
        assert earlier + 0.5 <= recorded, (recorded, earlier)
    finally:
        await rest.aclose()
        await bea.close()


async def _final(rest: httpx.AsyncClient, app_url: str, rid: str) -> dict[str, Any] | None:
    found = (await rest.get(f"{app_url}/recordings/{rid}")).json()["data"]
    return found if found["status"] in ("UPLOADED", "ERRORED") else None


async def test_a_recording_follows_its_meeting_when_the_meeting_s_node_dies(
        cluster: Cluster) -> None:
    """The recorder's node is not the meeting's. The meeting's node is killed: the
    recorder loses the meeting without the meeting ending, so its node lets go of the
    recording (its file closed cleanly) rather than finishing it, and the node that
    carries the session on carries the recording on."""
    recorder_node = cluster.nodes[0]
    home = await asyncio.to_thread(cluster.start_node, 1,
                                   {**ENV, "SALON_MAX_CONCURRENT_RECORDINGS": "1"})
    async with AdminClient(home.url, cluster.account_id, cluster.app_id,
                           cluster.api_token) as admin:
        meeting = (await admin.create_meeting(title="followed"))["id"]
        guest = await admin.add_participant(meeting, "guest", "group_call_participant",
                                            name="Guest")
    rest = httpx.AsyncClient(headers=cluster.headers, timeout=10)
    bea = await RealtimeClient.join(home.ws, guest["token"], auto_resume=True)
    try:
        assert cluster.owner(meeting) == home.node_id

        async def start() -> str:
            started = await rest.post(f"{cluster.app_url(home)}/recordings", json={
                "meeting_id": meeting, "allow_multiple_recordings": True})
            assert started.status_code == 201, started.text
            return started.json()["data"]["id"]

        async def recording(rid: str) -> tuple[str, str] | None:
            found = claim_of(cluster, rid)
            return found if found[0] == "RECORDING" else None

        first = await start()
        assert await until(lambda: recording(first)) == ("RECORDING", home.node_id)
        second = await start()  # the meeting's node is full: the other node records it
        assert await until(lambda: recording(second)) == (
            "RECORDING", recorder_node.node_id)
        await cluster.wait_on_record(meeting, peers=1)
        await asyncio.sleep(PART_SECS)

        kill_machine(home.process.pid)
        home.process.wait()
        await asyncio.wait_for(bea.resumed.wait(), 30)
        assert cluster.owner(meeting) == recorder_node.node_id  # the only node left

        async def carried_on() -> bool:
            return "handed it over" in recorder_node.log() and await recording(second) \
                == ("RECORDING", recorder_node.node_id)

        assert await until(carried_on), (claim_of(cluster, second), recorder_node.log())
        log = recorder_node.log()
        assert "left for the node that carries the recording on" in log, log
        await asyncio.sleep(PART_SECS)
        stopped = await rest.put(f"{cluster.app_url(recorder_node)}/recordings/{second}",
                                 json={"action": "stop"})
        assert stopped.status_code == 200, stopped.text
        done = await until(lambda: _final(rest, cluster.app_url(recorder_node), second))
        assert done and done["status"] == "UPLOADED", done
        stored = await rest.get(done["download_url"])
        recorded = await asyncio.to_thread(duration_of_bytes, stored.content)
        part = (recorder_node.data_dir / "recordings" / "work" / second / "parts" / "000"
                / done["output_file_name"])
        earlier = await asyncio.to_thread(duration_of, part)
        assert earlier >= PART_SECS - 0.5, earlier
        assert earlier + 0.5 <= recorded, (recorded, earlier)
    finally:
        await rest.aclose()
        await bea.close()
