"""A meeting's LIVE livestream whose node died (docs/cluster.md "Jobs"): it waits while
its meeting's session may still be carried on, the node carrying it on takes the dead
node's claim over — exactly one node, and no sweep can end it meanwhile — and runs its
encoder again (a real one: tests/fake_livestreamer.py writes HLS); a livestream whose
session is over ends ERRORED as before."""

import asyncio
from pathlib import Path

from salon.cluster.claims import JobClaims
from salon.core.clock import utcnow
from salon.core.ids import new_uuid
from salon.core.livestreams import StartLivestream
from salon.livestream.outputs import PLAYLIST
from salon.livestream.runner import LivestreamRunner, RunnerSettings, hls_dir
from salon.recording.spec import LOST_MEETING, RecordingOutcome
from salon.services import livestreams, participant_tokens
from salon.services.livestreams import Urls
from salon.store.database import Database
from salon.store.models import Livestream, LivestreamSession, Session
from tests import test_cluster_jobs
from tests.test_cluster_jobs import (
    _session,
    app_id_of,
    kill,
    new_meeting,
    node,
    until,
)

FAKE_LIVESTREAMER = "tests.fake_livestreamer:run_recording"
#: The migrated PostgreSQL database the nodes of a test share (a fixture).
database = test_cluster_jobs.database


async def _live_stream_of_a_session(database: Database, claims: JobClaims,
                                    session_status: str) -> str:
    """A meeting with a session (`session_status`) whose livestream is LIVE, claimed by
    `claims`' node."""
    app_id = await app_id_of(database)
    meeting_id = await new_meeting(database)
    now = utcnow()
    async with database.session() as db:
        session = Session(id=new_uuid(), app_id=app_id, meeting_id=meeting_id,
                          status=session_status, started_at=now, last_seen_at=now,
                          created_at=now, updated_at=now)
        db.add(session)
        await db.commit()
        _, stream = await livestreams.start_meeting(
            db, app_id, meeting_id, StartLivestream(), session_id=session.id)
        assert await claims.claim(db, LivestreamSession, LivestreamSession.id, stream.id)
        row = await db.get(LivestreamSession, stream.id)
        row.status, row.started_time = "LIVE", now
        await db.commit()
        return stream.id


async def test_a_live_livestream_of_a_dead_node_is_taken_over_once(
        cluster: str, database: Database, tmp_path: Path) -> None:
    ghost_claims = JobClaims("node-c")
    carried = await _live_stream_of_a_session(database, ghost_claims, "LIVE")
    abandoned = await _live_stream_of_a_session(database, ghost_claims, "ENDED")
    async with database.session() as db:
        signer = await participant_tokens.load_signer(db, 3600)
    async with node(cluster, "node-c") as ghost, node(cluster, "node-a") as a, \
            node(cluster, "node-b") as b:
        runners = {registry.node_id: LivestreamRunner(database, RunnerSettings(
            max_concurrent=1, encoder=FAKE_LIVESTREAMER,
            data_dir=tmp_path / registry.node_id, gateway_url="ws://127.0.0.1:1",
            urls=Urls(f"http://{registry.node_id}:1", "rtmp://127.0.0.1/live/")), signer,
            claims=JobClaims.for_node(registry)) for registry in (a, b)}
        try:
            # node C is alive: its stream is nobody else's
            assert not await runners["node-a"].take_over(carried)
            await kill(ghost)
            await runners["node-b"].recover()
            assert await _session(database, carried) == ("LIVE", "node-c")  # it waits
            assert (await _session(database, abandoned))[0] == "ERRORED"  # nobody came back

            won = await asyncio.gather(*(runner.take_over(carried)
                                         for runner in runners.values()))
            assert sorted(won) == [False, True]
            winner = "node-a" if won[0] else "node-b"
            loser = next(key for key in runners if key != winner)
            assert await _session(database, carried) == ("LIVE", winner)
            await runners[loser].recover()  # its claimer is alive: nothing to end
            assert await _session(database, carried) == ("LIVE", winner)

            # the encoder runs again, on the winner: a playlist of its own there
            livestream_id = (await _row(database, carried)).livestream_id
            playlist = hls_dir(tmp_path / winner, livestream_id) / PLAYLIST
            assert await until(lambda: _has_segments(playlist), timeout=20)
            assert carried in runners[winner].running
        finally:
            for runner in runners.values():
                await runner.stop()
        row = await _row(database, carried)
        assert (row.status, row.claimed_by) == ("IDLE", winner)  # stopped with its node


async def _row(database: Database, key: str) -> LivestreamSession:
    async with database.session() as db:
        row = await db.get(LivestreamSession, key)
        assert row is not None
        return row


async def _has_segments(playlist: Path) -> bool:
    return playlist.is_file() and ".ts" in playlist.read_text()


async def test_one_node_ends_its_crash_s_live_livestream_at_start(
        database: Database, tmp_path: Path) -> None:
    """Without a cluster nobody carries a session on: a LIVE livestream a crash left ends
    ERRORED at the next start even while its session is still marked LIVE."""
    stream = await _live_stream_of_a_session(database, JobClaims("crashed"), "LIVE")
    async with database.session() as db:
        signer = await participant_tokens.load_signer(db, 3600)
    runner = LivestreamRunner(database, RunnerSettings(
        max_concurrent=1, encoder=FAKE_LIVESTREAMER, data_dir=tmp_path,
        gateway_url="ws://127.0.0.1:1", urls=Urls("http://127.0.0.1:1", "rtmp://x/")),
        signer)
    await runner.recover(starting=True)
    assert (await _row(database, stream)).status == "ERRORED"


def _runner(database: Database, signer: participant_tokens.TokenSigner, tmp_path: Path,
            claims: JobClaims) -> LivestreamRunner:
    return LivestreamRunner(database, RunnerSettings(
        max_concurrent=1, encoder=FAKE_LIVESTREAMER, data_dir=tmp_path / claims.node_id,
        gateway_url="ws://127.0.0.1:1",
        urls=Urls(f"http://{claims.node_id}:1", "rtmp://127.0.0.1/live/")), signer,
        claims=claims)


async def test_the_node_running_the_meeting_takes_over_when_only_the_encoder_s_node_died(
        cluster: str, database: Database, tmp_path: Path) -> None:
    """The encoder ran on node C, the meeting on node A; C dies, A lives: nobody adopts
    the session, so A's sweep takes the livestream over (it does not stay LIVE with no
    encoder), and the meeting's peers are told its new `playback_url`, which names A.
    (That telling once lived only in the adoption hook, so a takeover won by the sweep
    after a failover — it races the hook — left peers with the dead node's URL.)"""
    carried = await _live_stream_of_a_session(database, JobClaims("node-c"), "LIVE")
    row = await _row(database, carried)
    async with database.session() as db:
        signer = await participant_tokens.load_signer(db, 3600)
    async with node(cluster, "node-c") as ghost, node(cluster, "node-a") as a, \
            node(cluster, "node-b") as b:
        runner_a = _runner(database, signer, tmp_path, JobClaims.for_node(a))
        runner_b = _runner(database, signer, tmp_path, JobClaims.for_node(b))
        runner_a.carries = lambda meeting_id, session_id: session_id == row.session_id
        told: list[tuple[str, str, str | None]] = []
        for runner in (runner_a, runner_b):
            runner.announce = lambda livestream, session, runner=runner: told.append(
                (runner.claims.node_id, session.status, session.claimed_by))
        try:
            await kill(ghost)
            await runner_b.recover()  # B does not run the meeting: it waits
            assert await _session(database, carried) == ("LIVE", "node-c")
            assert told == []
            await runner_a.recover()
            assert await _session(database, carried) == ("LIVE", "node-a")
            assert carried in runner_a.running
            assert told == [("node-a", "LIVE", "node-a")]  # its peers hear of A's playlist
        finally:
            await runner_a.stop()
            await runner_b.stop()


async def test_an_encoder_s_end_does_not_end_a_livestream_another_node_claimed(
        cluster: str, database: Database, tmp_path: Path) -> None:
    stream = await _live_stream_of_a_session(database, JobClaims("node-b"), "LIVE")
    async with database.session() as db:
        signer = await participant_tokens.load_signer(db, 3600)
    runner = _runner(database, signer, tmp_path, JobClaims("node-a"))
    await runner._finish(stream, RecordingOutcome(stop_reason="ALL_PEERS_LEFT"))
    assert await _session(database, stream) == ("LIVE", "node-b")


async def test_a_handed_over_meeting_s_livestream_is_let_go_for_the_next_node(
        cluster: str, database: Database, tmp_path: Path) -> None:
    """A node hands the meeting's room over (alive): its encoder's end does not end the
    livestream; the claim is let go, and the node carrying the session on takes it."""
    stream = await _live_stream_of_a_session(database, JobClaims("node-a"), "LIVE")
    async with database.session() as db:
        signer = await participant_tokens.load_signer(db, 3600)
    async with node(cluster, "node-a") as a, node(cluster, "node-b") as b:
        runner_a = _runner(database, signer, tmp_path, JobClaims.for_node(a))
        runner_b = _runner(database, signer, tmp_path, JobClaims.for_node(b))
        try:
            assert not await runner_b.take_over(stream)  # A holds it
            meeting_id = (await _meeting_of(database, stream))
            runner_a._meeting_of[stream] = meeting_id  # as its running encoder's
            runner_a.hand_off(meeting_id)
            await runner_a._finish(stream, RecordingOutcome(stop_reason="ALL_PEERS_LEFT"))
            row = await _row(database, stream)
            assert (row.status, row.claimed_by) == ("LIVE", None)
            assert await runner_b.take_over(stream)
            assert await _session(database, stream) == ("LIVE", "node-b")
        finally:
            await runner_a.stop()
            await runner_b.stop()


async def _meeting_of(database: Database, key: str) -> str:
    async with database.session() as db:
        row = await db.get(LivestreamSession, key)
        livestream = await db.get(Livestream, row.livestream_id)
        return livestream.meeting_id


async def test_a_stopping_node_lets_go_of_livestreams_whose_meeting_goes_on(
        cluster: str, database: Database, tmp_path: Path) -> None:
    """A node that stops in a cluster (`hand_off_at_stop`) ends no meeting livestream
    whose meeting's session goes on, though it runs none of their rooms: the claim is let
    go, and the node running the meeting takes it over at its sweep. A livestream whose
    session is over is ended as before."""
    goes_on = await _live_stream_of_a_session(database, JobClaims("node-a"), "LIVE")
    over = await _live_stream_of_a_session(database, JobClaims("node-a"), "ENDED")
    meeting_session = (await _row(database, goes_on)).session_id
    async with database.session() as db:
        signer = await participant_tokens.load_signer(db, 3600)
    async with node(cluster, "node-a") as a, node(cluster, "node-b") as b:
        runner_a = _runner(database, signer, tmp_path, JobClaims.for_node(a))
        runner_b = _runner(database, signer, tmp_path, JobClaims.for_node(b))
        runner_b.carries = lambda meeting_id, session_id: session_id == meeting_session
        told: list[str | None] = []
        runner_b.announce = lambda livestream, session: told.append(session.claimed_by)
        try:
            runner_a.hand_off_at_stop = True
            for stream in (goes_on, over):  # as its encoders end at the stop
                await runner_a._finish(stream, RecordingOutcome(stop_reason="INTERNAL_ERROR"))
            assert await _session(database, goes_on) == ("LIVE", None)
            assert await _session(database, over) == ("IDLE", "node-a")
            await runner_b.recover()  # node A is still listed: its let-go claim is free
            assert await _session(database, goes_on) == ("LIVE", "node-b")
            assert goes_on in runner_b.running and told == ["node-b"]
        finally:
            await runner_a.stop()
            await runner_b.stop()


async def test_an_encoder_that_lost_its_meeting_lets_go_of_the_livestream(
        cluster: str, database: Database, tmp_path: Path) -> None:
    """The encoder ran on node A, the meeting on another node, which died or handed the
    room over: the encoder's connection went without the meeting ending
    (`lost_meeting`), so A lets go of the livestream for the node that carries the
    session on. An encoder whose meeting ended (no `lost_meeting`) ends it as before."""
    lost = await _live_stream_of_a_session(database, JobClaims("node-a"), "LIVE")
    ended = await _live_stream_of_a_session(database, JobClaims("node-a"), "LIVE")
    async with database.session() as db:
        signer = await participant_tokens.load_signer(db, 3600)
    async with node(cluster, "node-a") as a:
        runner_a = _runner(database, signer, tmp_path, JobClaims.for_node(a))
        try:
            await runner_a._finish(lost, RecordingOutcome(
                stop_reason="ALL_PEERS_LEFT", extra={LOST_MEETING: "1"}))
            await runner_a._finish(ended, RecordingOutcome(stop_reason="ALL_PEERS_LEFT"))
            assert await _session(database, lost) == ("LIVE", None)
            assert await _session(database, ended) == ("IDLE", "node-a")
        finally:
            await runner_a.stop()


async def test_a_draining_node_takes_no_livestream_over_and_starts_none(
        cluster: str, database: Database, tmp_path: Path) -> None:
    """A node told to stop (SIGTERM marks it draining before its websockets close) runs
    the meeting still, but its encoder let go of the livestream: it neither takes the
    session back (its new encoder could not join a closing server) nor starts a queued
    one; once it is not draining (a node that stays), its sweep takes the session."""
    let_go = await _live_stream_of_a_session(database, JobClaims("node-a"), "LIVE")
    meeting_session = (await _row(database, let_go)).session_id
    async with database.session() as db:
        row = await db.get(LivestreamSession, let_go)
        row.claimed_by = None  # as its encoder's end at the stop left it (`Handoff.let_go`)
        await db.commit()
        signer = await participant_tokens.load_signer(db, 3600)
    queued = await _queued_stream(database)
    async with node(cluster, "node-a") as a:
        runner_a = _runner(database, signer, tmp_path, JobClaims.for_node(a))
        runner_a.carries = lambda meeting_id, session_id: session_id == meeting_session
        runner_a.announce = lambda livestream, session: None
        try:
            a.draining = True
            await runner_a.recover()
            assert not await runner_a.take_over(let_go)
            await runner_a._claim()
            assert await _session(database, let_go) == ("LIVE", None)
            assert await _session(database, queued) == ("INVOKED", None)
            assert runner_a.running == {}
            a.draining = False
            await runner_a.recover()
            assert await _session(database, let_go) == ("LIVE", "node-a")
        finally:
            await runner_a.stop()


async def _queued_stream(database: Database) -> str:
    """A meeting livestream session waiting for an encoder (INVOKED, unclaimed)."""
    app_id = await app_id_of(database)
    meeting_id = await new_meeting(database)
    async with database.session() as db:
        _, stream = await livestreams.start_meeting(db, app_id, meeting_id, StartLivestream(),
                                                    session_id=None)
        await db.commit()
        return stream.id
