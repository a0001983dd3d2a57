"""Post-meeting transcripts and summaries end to end, on SQLite and PostgreSQL: a real
server (uvicorn on loopback, in this process so the test can call
`app.state.post_meeting` as the live transcriber does), the real tiny.en model on
espeak-ng speech in a capture directory, real webhooks to a loopback receiver, the REST
routes (every answer checked against /openapi.json) and the official SDK.
"""

import asyncio
import csv
import dataclasses
import io
import json
import os
import re
import shutil
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import cloudflare
import httpx
import orjson
import pytest
from cloudflare import AsyncCloudflare
from fastapi import FastAPI

from salon.ai.summary import count_words
from salon.api.app import create_app
from salon.core.ids import new_uuid
from salon.services import transcripts
from salon.settings import Settings
from salon.store.models import Meeting, Session, SessionTranscript
from salon.transcription.capture import capture_root
from salon.transcription.files import from_json
from salon.transcription.jobs import PostMeetingJobs
from tests.capture import Said, write_capture
from tests.servers import ThrowawayPostgres, free_port, in_process, run_cli
from tests.speech import espeak_available
from tests.webhook_receiver import Receiver

pytestmark = pytest.mark.skipif(not espeak_available(), reason="needs espeak-ng")

ALICE = dict(participant_id="user-alice", peer_id="peer-a",
             custom_participant_id="alice@example.com", name="Alice")
BOB = dict(participant_id="user-bob", peer_id="peer-b",
           custom_participant_id="bob@example.com", name="Bob")
CAROL = dict(participant_id="user-carol", peer_id="peer-c",
             custom_participant_id="carol@example.com", name="Carol")

#: Who says what, when (s after the session start); the words each line must contain.
MEETING = [
    (Said(**ALICE, voice="en-us", at=1.0, joined_at=0.5,
          text="The quarterly budget review meeting will start after lunch."),
     ("budget", "lunch")),
    (Said(**BOB, voice="en-gb", at=6.5, joined_at=2.0,
          text="Please send the slides to the design team before Friday."),
     ("slides", "friday")),
    (Said(**CAROL, voice="en-us+f3", at=12.0, joined_at=3.0, left_at=20.0,
          text="We decided to move the product launch to next month."),
     ("product launch", "month")),
    # Alice again, in a second file after a gap in her audio.
    (Said(**ALICE, voice="en-us", at=17.0, joined_at=0.5,
          text="I will update the project plan by tomorrow."),
     ("project plan",)),
]
FORMATS = {"CSV": "text/csv", "JSON": "application/json", "SRT": "application/x-subrip",
           "VTT": "text/vtt"}
TIMING = re.compile(r"^(\d\d):(\d\d):(\d\d)([,.])(\d{3}) --> (\d\d):(\d\d):(\d\d)[,.](\d{3})$")


@dataclass
class Salon:
    app: FastAPI
    settings: Settings
    http: httpx.AsyncClient
    url: str
    account_id: str
    app_id: str
    token: str
    other_app_id: str
    other_token: str
    hooks: Receiver
    llm: Receiver
    backend: str

    @property
    def jobs(self) -> PostMeetingJobs:
        return self.app.state.post_meeting

    @property
    def app_url(self) -> str:
        return f"{self.url}/client/v4/accounts/{self.account_id}/realtime/kit/{self.app_id}"

    def sdk(self, token: str | None = None) -> AsyncCloudflare:
        return AsyncCloudflare(api_token=token or self.token, base_url=f"{self.url}/client/v4",
                               max_retries=0)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
async def salon(request: pytest.FixtureRequest,
                tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Salon]:
    database = ThrowawayPostgres() if request.param == "postgresql" else None
    data_dir = tmp_path_factory.mktemp(f"salon-{request.param}")
    env = {**os.environ, "SALON_DATA_DIR": str(data_dir),
           "SALON_DATABASE_URL": database.url if database else ""}
    creds = json.loads(run_cli(env, "apps", "create", "test", "--json").stdout)
    other = json.loads(run_cli(env, "apps", "create", "neighbour", "--json").stdout)
    scoped = json.loads(run_cli(env, "tokens", "create", "--app", other["app_id"], "--name",
                                "neighbour", "--json").stdout)
    hooks, llm = Receiver().up(), Receiver().up()
    llm.scripts["/v1/chat/completions"] = [500] * 50
    port = free_port()
    settings = Settings(data_dir=data_dir, database_url=database.url if database else "",
                        media_backend="none", port=port, webhook_retry_base_secs=0.2,
                        # An LLM endpoint that fails: every summary must fall back.
                        summary_llm_url=llm.url("/v1"), summary_llm_timeout_secs=5)
    app = create_app(settings)
    try:
        async with in_process(app, port), httpx.AsyncClient(
                base_url=f"http://127.0.0.1:{port}/client/v4/accounts/{creds['account_id']}"
                         f"/realtime/kit/{creds['app_id']}",
                headers={"Authorization": f"Bearer {creds['api_token']}"},
                timeout=20) as http:
            yield Salon(app, settings, http, f"http://127.0.0.1:{port}", creds["account_id"],
                        creds["app_id"], creds["api_token"], other["app_id"],
                        scoped["api_token"], hooks, llm, request.param)
    finally:
        hooks.down()
        llm.down()
        if database:
            database.drop()


async def meeting(salon: Salon, **fields: Any) -> dict[str, Any]:
    created = await salon.http.post("/meetings", json={"title": "Weekly sync", **fields})
    assert created.status_code == 201, created.text
    return created.json()["data"]


async def ended_session(salon: Salon, meeting_id: str, started_at: datetime, *,
                        live: bool = False) -> str:
    """An ended (or `live`) session of the meeting, as the live rooms leave it in the
    database."""
    session_id = new_uuid()
    async with salon.app.state.database.session() as db:
        db.add(Session(id=session_id, app_id=salon.app_id, meeting_id=meeting_id,
                       meeting_display_name="Weekly sync", type="meeting",
                       status="LIVE" if live else "ENDED",
                       live_participants=1 if live else 0, max_concurrent_participants=3,
                       minutes_consumed=1.0, started_at=started_at,
                       ended_at=None if live else started_at + timedelta(seconds=30),
                       last_seen_at=started_at, created_at=started_at,
                       updated_at=started_at))
        await db.commit()
    return session_id


async def wait_status(salon: Salon, session_id: str, field: str, *statuses: str,
                      timeout: float = 60) -> dict[str, Any]:
    """The session (GET /sessions/{id}) once its `field` (`transcript_status` or
    `summary_status`) is one of `statuses`."""
    deadline = time.monotonic() + timeout
    while True:
        data = (await salon.http.get(f"/sessions/{session_id}")).json()["data"]
        if data[field] in statuses:
            return data
        assert time.monotonic() < deadline, f"{field} is {data[field]}, not {statuses}"
        await asyncio.sleep(0.1)


async def download(url: str) -> httpx.Response:
    async with httpx.AsyncClient(timeout=10) as client:
        return await client.get(url)


@dataclass
class Transcribed:
    session_id: str
    meeting_id: str
    started_at: datetime
    capture_dir: Path


@pytest.fixture(scope="module")
async def transcribed(salon: Salon, tmp_path_factory: pytest.TempPathFactory) -> Transcribed:
    """The three-person meeting, transcribed with the transcriber's contract and
    summarized on end (team_meeting, markdown, at most 150 words)."""
    for name, events in (("/hooks", ["meeting.transcript", "meeting.summary"]),
                         ("/other", ["meeting.started", "recording.statusUpdate"])):
        hook = await salon.http.post("/webhooks", json={
            "name": name, "url": salon.hooks.url(name), "events": events})
        assert hook.status_code == 201, hook.text
    created = await meeting(salon, transcribe_on_end=True, summarize_on_end=True, ai_config={
        "summarization": {"summary_type": "team_meeting", "text_format": "markdown",
                          "word_limit": 150}})
    started_at = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=5)
    session_id = await ended_session(salon, created["id"], started_at)
    capture_dir = write_capture(
        salon.settings.data_dir / "transcription" / "work" / session_id,
        started_at.timestamp(), [said for said, _ in MEETING], missing=("lost.webm",))
    began = time.monotonic()
    await salon.jobs.transcribe(salon.app_id, created["id"], session_id, capture_dir)
    assert time.monotonic() - began < 1, "transcribe() queues the job and returns at once"
    await wait_status(salon, session_id, "transcript_status", "READY")
    await wait_status(salon, session_id, "summary_status", "READY")
    return Transcribed(session_id, created["id"], started_at, capture_dir)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


async def transcript_file(salon: Salon, session_id: str, fmt: str) -> httpx.Response:
    answer = await salon.http.get(f"/sessions/{session_id}/transcript", params={"format": fmt})
    assert answer.status_code == 200, answer.text
    data = answer.json()["data"]
    assert set(data) == {"sessionId", "transcript_download_url",
                         "transcript_download_url_expiry"}
    assert data["sessionId"] == session_id
    url = data["transcript_download_url"]
    assert url.split("?")[0].endswith(f"/transcription/files/{session_id}/transcript."
                                      f"{fmt.lower()}")
    expiry = datetime.fromisoformat(data["transcript_download_url_expiry"])
    assert abs(expiry - (datetime.now(UTC) + timedelta(days=7))) < timedelta(seconds=5)
    got = await download(url)
    assert got.status_code == 200, got.text
    assert got.headers["content-type"].split(";")[0] == FORMATS[fmt]
    assert got.headers["content-disposition"] == (
        f"attachment; filename*=UTF-8''{session_id}-transcript.{fmt.lower()}")
    return got


# --- the transcript ------------------------------------------------------------------------


async def test_each_sentence_is_attributed_in_order(salon: Salon,
                                                    transcribed: Transcribed) -> None:
    lines = json.loads((await transcript_file(salon, transcribed.session_id, "JSON")).text)
    assert [line["peerData"]["displayName"] for line in lines] == \
        ["Alice", "Bob", "Carol", "Alice"]
    for line, (said, words) in zip(lines, MEETING, strict=True):
        text = line["sentence"].lower()
        assert all(word in text for word in words), (line["sentence"], words)
        assert abs(line["startTime"] - said.at * 1000) < 800, line
        assert line["endTime"] > line["startTime"]
        peer = line["peerData"]
        assert (peer["id"], peer["userId"], peer["cpi"]) == (
            said.peer_id, said.participant_id, said.custom_participant_id)
        assert peer["joinedAt"] == _iso(transcribed.started_at
                                        + timedelta(seconds=said.joined_at))
        left = "" if said.left_at is None else _iso(
            transcribed.started_at + timedelta(seconds=said.left_at))
        assert peer["leftAt"] == left


async def test_the_four_formats_parse(salon: Salon, transcribed: Transcribed) -> None:
    rows = list(csv.reader(io.StringIO(
        (await transcript_file(salon, transcribed.session_id, "CSV")).text)))
    assert [row[1:5] for row in rows] == [
        [s.peer_id, s.participant_id, s.custom_participant_id, s.name] for s, _ in MEETING]
    starts = [int(row[0]) for row in rows]
    assert starts == sorted(starts)
    for fmt, separator in (("SRT", ","), ("VTT", ".")):
        text = (await transcript_file(salon, transcribed.session_id, fmt)).text
        if fmt == "VTT":
            assert text.startswith("WEBVTT\n\n")
            text = text.removeprefix("WEBVTT\n\n")
        cues = [cue.split("\n") for cue in text.strip().split("\n\n")]
        assert [cue[0] for cue in cues] == ["1", "2", "3", "4"]
        for cue, (said, _), start in zip(cues, MEETING, starts, strict=True):
            timing = TIMING.match(cue[1])
            assert timing and timing.group(4) == separator, cue
            h, m, sec, _, ms = timing.groups()[:5]
            assert (int(h) * 3600 + int(m) * 60 + int(sec)) * 1000 + int(ms) == start
            assert cue[2].startswith(f"{said.name}: ")


async def test_webhook_carries_the_csv_link(salon: Salon, transcribed: Transcribed) -> None:
    posts = [orjson.loads(hit.body) for hit in salon.hooks.wait_for("/hooks", 1)]
    payload = next(post for post in posts if post["event"] == "meeting.transcript")
    assert set(payload) == {"event", "meeting", "transcriptDownloadUrl",
                            "transcriptDownloadUrlExpiry"}
    shown = payload["meeting"]
    assert {"id", "title", "endedAt", "createdAt", "sessionId", "startedAt", "status",
            "organizedBy"} <= set(shown)
    assert (shown["id"], shown["sessionId"], shown["title"], shown["status"]) == (
        transcribed.meeting_id, transcribed.session_id, "Weekly sync", "ENDED")
    assert shown["startedAt"] == _iso(transcribed.started_at)
    assert shown["organizedBy"]["id"] == salon.app_id
    url = payload["transcriptDownloadUrl"]
    assert url.split("?")[0].endswith("/transcript.csv")
    got = await download(url)
    assert got.status_code == 200 and got.headers["content-type"].startswith("text/csv")
    assert datetime.fromisoformat(payload["transcriptDownloadUrlExpiry"]) > datetime.now(UTC)
    assert all(hit.headers.get("rtk-signature") for hit in salon.hooks.at("/hooks"))
    assert salon.hooks.at("/other") == [], "only subscribed webhooks get the events"


async def test_the_capture_is_gone_once_ready(salon: Salon, transcribed: Transcribed) -> None:
    assert not transcribed.capture_dir.exists()
    assert not (salon.settings.data_dir / "transcription" / "out"
                / transcribed.session_id).exists(), "no work files are left behind"


# --- the summary -------------------------------------------------------------------------


async def summary_text(salon: Salon, session_id: str, extension: str) -> str:
    answer = await salon.http.get(f"/sessions/{session_id}/summary")
    assert answer.status_code == 200, answer.text
    data = answer.json()["data"]
    assert set(data) == {"sessionId", "summaryDownloadUrl", "summaryDownloadUrlExpiry"}
    url = data["summaryDownloadUrl"]
    assert url.split("?")[0].endswith(f"/{session_id}/summary.{extension}")
    got = await download(url)
    assert got.status_code == 200
    kind = {"md": "text/markdown", "txt": "text/plain"}[extension]
    assert got.headers["content-type"].split(";")[0] == kind
    assert got.headers["content-disposition"].startswith("attachment;")
    return got.text


async def test_summary_on_end_follows_the_meetings_options(
        salon: Salon, transcribed: Transcribed) -> None:
    text = await summary_text(salon, transcribed.session_id, "md")
    assert text.startswith("## Meeting Summary\n")
    assert "### Key Discussion Points" in text and "### Action Items" in text
    assert "### Decisions Made" in text and "product launch" in text.lower()
    assert count_words(text) <= 150
    # The operator's LLM endpoint answered 500: the extractive summary stands in.
    assert salon.llm.at("/v1/chat/completions"), "the LLM endpoint was tried"
    posts = [orjson.loads(hit.body) for hit in salon.hooks.wait_for("/hooks", 2)]
    payload = next(post for post in posts if post["event"] == "meeting.summary")
    assert set(payload) == {"event", "meeting", "summaryDownloadUrl",
                            "summaryDownloadUrlExpiry"}
    assert payload["meeting"]["sessionId"] == transcribed.session_id
    assert payload["summaryDownloadUrl"].split("?")[0].endswith("/summary.md")
    assert (await download(payload["summaryDownloadUrl"])).text == text


async def test_post_summary_again_in_plain_text(salon: Salon, transcribed: Transcribed) -> None:
    old = (await salon.http.get(f"/sessions/{transcribed.session_id}/summary")).json()["data"]
    changed = await salon.http.patch(f"/meetings/{transcribed.meeting_id}", json={
        "ai_config": {"summarization": {"text_format": "plain_text", "word_limit": 150}}})
    assert changed.status_code == 200, changed.text
    answer = await salon.http.post(f"/sessions/{transcribed.session_id}/summary")
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"success": True, "data": {
        "session_id": transcribed.session_id, "status": "PROCESSING"}}
    await wait_status(salon, transcribed.session_id, "summary_status", "READY")
    text = await summary_text(salon, transcribed.session_id, "txt")
    assert text.startswith("Meeting Summary\n") and "Action Items:" in text
    assert not re.search(r"^\s*(#|- |\*)", text, re.M), text
    assert count_words(text) <= 150
    gone = await download(old["summaryDownloadUrl"])  # the markdown file was replaced
    assert gone.status_code == 404 and gone.json()["success"] is False


# --- links -------------------------------------------------------------------------------


async def test_links_expire_and_refuse_tampering(salon: Salon,
                                                 transcribed: Transcribed) -> None:
    data = (await salon.http.get(f"/sessions/{transcribed.session_id}/transcript")).json()
    url = data["data"]["transcript_download_url"]
    base, query = url.split("?")
    params = dict(part.split("=", 1) for part in query.split("&"))
    invalid = {"success": False, "error": {
        "code": 403, "message": "This transcript or summary download link is not valid."}}
    for bad in (f"{base}?expires={params['expires']}&signature={params['signature'][:-2]}xx",
                f"{base}?expires={int(params['expires']) + 60}&signature={params['signature']}",
                url.replace("transcript.csv", "transcript.json"),
                url.replace(transcribed.session_id, new_uuid())):
        refused = await download(bad)
        assert (refused.status_code, refused.json()) == (403, invalid), bad
    storage = salon.app.state.transcript_storage
    row = await _transcript_row(salon, transcribed.session_id)
    old, _ = await storage.download_url(from_json(row.files["csv"]), timedelta(seconds=-1))
    expired = await download(old)
    assert expired.status_code == 403 and "expired" in expired.json()["error"]["message"]
    recording_key = salon.app.state.recording_storage  # a recording link's key cannot open it
    forged, _ = await recording_key.download_url(from_json(row.files["csv"]), timedelta(hours=1))
    wrong = await download(forged.replace("/recordings/files/", "/transcription/files/"))
    assert wrong.status_code == 403


async def _transcript_row(salon: Salon, session_id: str) -> SessionTranscript:
    async with salon.app.state.database.session() as db:
        row = await transcripts.transcript_of(db, session_id)
        assert row is not None
        return row


# --- denials -----------------------------------------------------------------------------


async def test_unknown_sessions_and_other_apps_get_404(salon: Salon,
                                                       transcribed: Transcribed) -> None:
    other_app = f"{salon.url}/client/v4/accounts/{salon.account_id}/realtime/kit/" \
                f"{salon.other_app_id}"
    async with httpx.AsyncClient(base_url=other_app, timeout=10, headers={
            "Authorization": f"Bearer {salon.other_token}"}) as neighbour:
        for client, session_id in ((salon.http, new_uuid()),
                                   (neighbour, transcribed.session_id)):
            for method, path in (("GET", "transcript"), ("GET", "summary"),
                                 ("POST", "summary")):
                answer = await client.request(method, f"/sessions/{session_id}/{path}")
                assert answer.status_code == 404, (method, path, answer.text)
                assert answer.json()["error"]["message"] == f"Session {session_id} not found."
    bad = await salon.http.get(f"/sessions/{transcribed.session_id}/transcript",
                               params={"format": "PDF"})
    assert bad.status_code == 400 and bad.json()["error"]["message"] == (
        "query.format: Input should be 'CSV', 'JSON', 'SRT' or 'VTT'")


async def test_without_a_transcript(salon: Salon) -> None:
    created = await meeting(salon)
    session_id = await ended_session(salon, created["id"], datetime.now(UTC))
    transcript = await salon.http.get(f"/sessions/{session_id}/transcript")
    assert transcript.status_code == 404
    assert "none was made" in transcript.json()["error"]["message"]
    summary = await salon.http.get(f"/sessions/{session_id}/summary")
    assert summary.status_code == 404
    assert "none was asked for" in summary.json()["error"]["message"]
    post = await salon.http.post(f"/sessions/{session_id}/summary")
    assert post.status_code == 409, post.text
    assert "A summary needs a READY transcript." in post.json()["error"]["message"]
    session = (await salon.http.get(f"/sessions/{session_id}")).json()["data"]
    assert (session["transcript_status"], session["summary_status"]) == (None, None)

    live = await ended_session(salon, created["id"], datetime.now(UTC), live=True)
    for method, path, status in (("GET", "transcript", 404), ("GET", "summary", 404),
                                 ("POST", "summary", 409)):
        answer = await salon.http.request(method, f"/sessions/{live}/{path}")
        assert answer.status_code == status, answer.text
        assert answer.json()["error"]["message"].startswith(f"Session {live} is still live")


async def test_sessions_say_what_exists(salon: Salon, transcribed: Transcribed) -> None:
    listed = (await salon.http.get("/sessions", params={
        "associated_id": transcribed.meeting_id})).json()["data"]["sessions"]
    assert [(s["id"], s["transcript_status"], s["summary_status"]) for s in listed] == [
        (transcribed.session_id, "READY", "READY")]


# --- failures and recovery ---------------------------------------------------------------


async def test_an_unsupported_language_fails_with_the_reason(
        salon: Salon, tmp_path: Path) -> None:
    # Saving "de" is refused while the model is English-only (test_api_errors); a meeting
    # saved under a multilingual model keeps it when the operator goes back to tiny.en.
    created = await meeting(salon, summarize_on_end=True)
    async with salon.app.state.database.session() as db:
        row = await db.get(Meeting, created["id"])
        row.ai_config = {**row.ai_config, "transcription": {
            **row.ai_config["transcription"], "language": "de"}}
        await db.commit()
    session_id = await ended_session(salon, created["id"], datetime.now(UTC))
    capture = write_capture(tmp_path / "de", time.time(), [MEETING[0][0]])
    await salon.jobs.transcribe(salon.app_id, created["id"], session_id, capture)
    session = await wait_status(salon, session_id, "transcript_status", "FAILED")
    assert session["summary_status"] is None
    answer = await salon.http.get(f"/sessions/{session_id}/transcript")
    assert answer.status_code == 404
    message = answer.json()["error"]["message"]
    assert message.startswith(f"Transcribing session {session_id} failed: ")
    assert "multilingual" in message
    assert (await salon.http.post(f"/sessions/{session_id}/summary")).status_code == 409
    assert capture.exists(), "a failed job keeps the audio"


async def test_empty_and_missing_captures(salon: Salon, tmp_path: Path) -> None:
    created = await meeting(salon)
    silent = await ended_session(salon, created["id"], datetime.now(UTC))
    (tmp_path / "empty").mkdir()
    await salon.jobs.transcribe(salon.app_id, created["id"], silent, tmp_path / "empty")
    session = await wait_status(salon, silent, "transcript_status", "READY")
    assert session["summary_status"] is None, "no summarize_on_end, no summary"
    assert (await transcript_file(salon, silent, "CSV")).text == ""
    assert (await transcript_file(salon, silent, "JSON")).json() == []
    assert (await transcript_file(salon, silent, "VTT")).text == "WEBVTT\n\n"

    lost = await ended_session(salon, created["id"], datetime.now(UTC))
    await salon.jobs.transcribe(salon.app_id, created["id"], lost, tmp_path / "nowhere")
    await wait_status(salon, lost, "transcript_status", "FAILED")
    message = (await salon.http.get(f"/sessions/{lost}/transcript")).json()["error"]["message"]
    assert "capture directory" in message and "missing" in message


async def test_a_job_left_processing_runs_again_at_start(salon: Salon, tmp_path: Path) -> None:
    """A crash mid-job leaves the row PROCESSING and the capture on disk: the next
    server's jobs (`start()`) run it again."""
    created = await meeting(salon)
    started_at = datetime.now(UTC).replace(microsecond=0)
    session_id = await ended_session(salon, created["id"], started_at)
    capture = write_capture(tmp_path / "crashed", started_at.timestamp(), [MEETING[1][0]])
    (capture / "notes.txt").write_text("not the transcriber's")
    async with salon.app.state.database.session() as db:
        now = datetime.now(UTC)
        db.add(SessionTranscript(id=new_uuid(), app_id=salon.app_id, meeting_id=created["id"],
                                 session_id=session_id, status="PROCESSING",
                                 capture_dir=str(capture), options={}, created_at=now,
                                 updated_at=now))
        await db.commit()
    waiting = await salon.http.get(f"/sessions/{session_id}/transcript")
    assert waiting.status_code == 404
    assert "still being processed" in waiting.json()["error"]["message"]
    restarted = PostMeetingJobs(salon.app.state.database, salon.jobs.settings,
                                salon.app.state.transcript_storage)
    await restarted.start()
    try:
        await wait_status(salon, session_id, "transcript_status", "READY")
    finally:
        await restarted.stop()
    rows = list(csv.reader(io.StringIO((await transcript_file(salon, session_id, "CSV")).text)))
    assert [row[4] for row in rows] == ["Bob"] and "slides" in rows[0][5].lower()
    # Only the capture's own files are deleted: a stranger's file keeps its folder.
    assert [path.name for path in capture.iterdir()] == ["notes.txt"]


async def test_a_capture_nobody_reported_is_transcribed_once_its_session_is_over(
        salon: Salon) -> None:
    """A server that died during a session (or in the half minute after it, while its
    transcriber finished) left the capture on disk and no transcript row: the jobs
    transcribe it once the session has been over `unreported_after_secs`, and leave a
    session that ended just now, or is still live, to its transcriber, and one that
    ended over `unreported_within_days` ago alone."""
    created = await meeting(salon)
    now = datetime.now(UTC).replace(microsecond=0)
    long_ago = now - timedelta(minutes=10)
    crashed = await ended_session(salon, created["id"], long_ago)  # over 9.5 min ago
    # (an ended session lasted 30 s) over 25 s ago; over 8 days ago
    just_ended = await ended_session(salon, created["id"], now - timedelta(seconds=55))
    forgotten = await ended_session(salon, created["id"], now - timedelta(days=8))
    live = await ended_session(salon, created["id"], long_ago, live=True)
    root = capture_root(salon.settings.data_dir)
    for session_id in (crashed, just_ended, forgotten, live):
        write_capture(root / session_id, long_ago.timestamp(), [MEETING[1][0]])
    (root / "not-a-session").mkdir()
    jobs = PostMeetingJobs(salon.app.state.database,
                           dataclasses.replace(salon.jobs.settings, unreported_after_secs=60,
                                               unreported_sweep_secs=0.2),
                           salon.app.state.transcript_storage)
    await jobs.start()
    try:
        await wait_status(salon, crashed, "transcript_status", "READY")
        await asyncio.sleep(1.0)  # five more looks
        for session_id in (just_ended, forgotten, live):
            data = (await salon.http.get(f"/sessions/{session_id}")).json()["data"]
            assert data["transcript_status"] is None, session_id
    finally:
        await jobs.stop()
        for session_id in (just_ended, forgotten, live):
            shutil.rmtree(root / session_id)
        (root / "not-a-session").rmdir()
    rows = list(csv.reader(io.StringIO((await transcript_file(salon, crashed, "CSV")).text)))
    assert [row[4] for row in rows] == ["Bob"] and "slides" in rows[0][5].lower()
    assert not (root / crashed).exists()  # gone once READY, as a reported one


# --- the official SDK --------------------------------------------------------------------


async def test_the_sdk_reads_and_asks_for_them(salon: Salon, transcribed: Transcribed) -> None:
    ids = {"account_id": salon.account_id, "app_id": salon.app_id}
    async with salon.sdk() as cf:
        sessions = cf.realtime_kit.sessions
        got = await sessions.get_session_transcripts(transcribed.session_id, **ids,
                                                     format="VTT")
        assert got.success and got.data.session_id == transcribed.session_id
        assert got.data.transcript_download_url.split("?")[0].endswith("/transcript.vtt")
        assert (await download(got.data.transcript_download_url)).text.startswith("WEBVTT")
        csv_default = await sessions.get_session_transcripts(transcribed.session_id, **ids)
        assert csv_default.data.transcript_download_url.split("?")[0].endswith(".csv")
        summary = await sessions.get_session_summary(transcribed.session_id, **ids)
        assert summary.data.session_id == transcribed.session_id
        assert summary.data.summary_download_url and summary.data.summary_download_url_expiry
        asked = await sessions.generate_summary_of_transcripts(transcribed.session_id, **ids)
        assert (asked.data.session_id, asked.data.status) == (
            transcribed.session_id, "PROCESSING")
        await wait_status(salon, transcribed.session_id, "summary_status", "READY")
        with pytest.raises(cloudflare.NotFoundError):
            await sessions.get_session_summary(new_uuid(), **ids)
    async with salon.sdk(salon.other_token) as neighbour:
        with pytest.raises(cloudflare.NotFoundError):
            await neighbour.realtime_kit.sessions.get_session_transcripts(
                transcribed.session_id, account_id=salon.account_id,
                app_id=salon.other_app_id)
