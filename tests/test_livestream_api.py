"""Livestreams over REST on both databases, encoded by the test encoder
(`tests/fake_livestreamer.py`: the recorder's real `CompositeWriter` with its live
outputs, fed a moving picture and a tone): the official SDK's ten methods, HLS served
by salon and decoded with PyAV, the lifecycle and its webhooks, viewer and ingest
seconds, analytics, and the errors."""

import io
import threading
import time
from collections.abc import Iterator
from typing import Any

import av
import httpx
import orjson
import pytest
from cloudflare import Cloudflare

from tests.recording_helpers import other_app
from tests.servers import SalonServer, app_client, free_port, running_on
from tests.webhook_receiver import Receiver

LIVESTREAM_ENV = {"SALON_LIVESTREAMER": "tests.fake_livestreamer:run_recording"}
SMALL = {"width": 320, "height": 180}


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def ls_server(request: pytest.FixtureRequest) -> Iterator[SalonServer]:
    env = {**LIVESTREAM_ENV, "SALON_RTMP_PORT": str(free_port())}
    with running_on(request.param, env) as salon:
        yield salon


@pytest.fixture
def http(ls_server: SalonServer) -> Iterator[httpx.Client]:
    with app_client(ls_server) as client:
        yield client


@pytest.fixture
def cf(ls_server: SalonServer) -> Iterator[Cloudflare]:
    with Cloudflare(api_token=ls_server.api_token, base_url=f"{ls_server.url}/client/v4",
                    max_retries=0) as client:
        yield client


@pytest.fixture
def ids(ls_server: SalonServer) -> dict[str, str]:
    return {"account_id": ls_server.account_id, "app_id": ls_server.app_id}


@pytest.fixture
def meeting(http: httpx.Client) -> dict:
    return http.post("/meetings", json={"title": "Town hall"}).json()["data"]


def wait_for(check: Any, timeout: float = 20, what: str = "") -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)


def segments_of(playlist: str) -> list[str]:
    return [line for line in playlist.splitlines() if line and not line.startswith("#")]


def decode(data: bytes) -> tuple[int, int, float]:
    """(video frames, audio frames, seconds of video) of one MPEG-TS segment."""
    with av.open(io.BytesIO(data), format="mpegts") as container:
        video = audio = 0
        first = last = None
        for frame in container.decode():
            if isinstance(frame, av.VideoFrame):
                video += 1
                seconds = float(frame.pts * frame.time_base)
                first = seconds if first is None else first
                last = seconds
            else:
                audio += 1
    return video, audio, (last - first) if first is not None and last is not None else 0.0


def test_a_meeting_livestreamed_over_hls(ls_server: SalonServer, http: httpx.Client,
                                         cf: Cloudflare, ids: dict, meeting: dict) -> None:
    receiver = Receiver().up()
    try:
        hook = http.post("/webhooks", json={"name": "ls", "url": receiver.url("/ls"),
                                            "events": ["livestreaming.statusUpdate"]})
        assert hook.status_code == 201, hook.text
        started = cf.realtime_kit.livestreams.start_livestreaming_a_meeting(
            meeting["id"], **ids, name="Town hall live", video_config=SMALL)
        data = started.data
        assert data.status == "INVOKED" and data.stream_key
        assert data.playback_url == f"{ls_server.url}/live/{data.id}/index.m3u8"
        assert data.ingest_server.startswith("rtmp://127.0.0.1:")
        again = http.post(f"/meetings/{meeting['id']}/livestreams", json={})
        assert again.status_code == 409 and "already being livestreamed" in again.text

        def live() -> Any:
            active = cf.realtime_kit.livestreams.get_meeting_active_livestreams(
                meeting["id"], **ids).data
            return active if active.status == "LIVE" else None

        active = wait_for(live, what="LIVE")
        assert active.id == data.id and active.disabled == "false"
        assert active.name == "Town hall live" and active.meeting_id == meeting["id"]

        # The playlist and segments, fetched like a player, with no credentials.
        def enough() -> Any:
            response = httpx.get(data.playback_url)
            return response if response.status_code == 200 and \
                len(segments_of(response.text)) >= 3 else None

        playlist = wait_for(enough, what="three segments")
        assert playlist.headers["content-type"] == "application/vnd.apple.mpegurl"
        assert playlist.headers["cache-control"] == "no-cache"
        assert playlist.headers["access-control-allow-origin"] == "*"
        assert "#EXT-X-TARGETDURATION:1" in playlist.text
        base = data.playback_url.rsplit("/", 1)[0]
        total_video = 0
        for name in segments_of(playlist.text)[:3]:
            segment = httpx.get(f"{base}/{name}")
            assert segment.status_code == 200
            assert segment.headers["content-type"] == "video/mp2t"
            assert "immutable" in segment.headers["cache-control"]
            video, audio, seconds = decode(segment.content)
            assert video >= 20 and audio >= 30, (name, video, audio)
            assert 0.7 <= seconds <= 1.2, seconds
            total_video += video
        assert total_video >= 60

        # a LIVE session's ingest time grows with the clock from its start (an encoder
        # catching up under load can write three segments in less than two seconds)
        def ingested() -> Any:
            session = cf.realtime_kit.livestreams.get_active_livestreams_for_livestream_id(
                data.id, **ids).data.session
            return session if int(session.ingest_seconds) >= 2 else None

        session = wait_for(ingested, what="two seconds ingested")
        assert session.livestream_id == data.id and session.started_time is not None

        stopped = cf.realtime_kit.livestreams.stop_livestreaming_a_meeting(meeting["id"], **ids)
        assert data.id in stopped.data.message

        def idle() -> Any:
            got = cf.realtime_kit.livestreams.get_livestream_session_for_livestream_id(
                data.id, **ids).data
            return got if got.livestream.status == "IDLE" else None

        done = wait_for(idle, what="IDLE")
        assert done.session.stopped_time is not None and done.session.ingest_seconds >= 2
        assert done.paging.total_count == 1
        ended = httpx.get(data.playback_url).text
        assert ended.rstrip().endswith("#EXT-X-ENDLIST")
        assert http.get(f"/meetings/{meeting['id']}/active-livestream").status_code == 404

        # Viewer seconds: the three segments fetched above (counted every few seconds).
        def viewed() -> Any:
            one = cf.realtime_kit.livestreams.get_livestream_session_details_for_session_id(
                done.session.id, **ids).data
            return one if one.viewer_seconds >= 3 else None

        one = wait_for(viewed, timeout=15, what="viewer seconds")
        assert one.livestream_id == data.id and one.ingest_seconds >= 2

        hits = receiver.wait_for("/ls", 2)
        bodies = [orjson.loads(hit.body) for hit in hits]
        assert [b["status"] for b in bodies] == ["LIVE", "IDLE"]
        assert bodies[0]["event"] == "livestreaming.statusUpdate"
        assert bodies[0]["streamId"] == data.id and bodies[0]["manualIngest"] is False
        assert bodies[0]["playbackUrl"] == data.playback_url
        assert bodies[0]["streamKey"] == data.stream_key
        assert bodies[0]["meeting"]["id"] == meeting["id"]
        assert bodies[0]["meeting"]["organizedBy"]["id"] == ls_server.app_id
        http.delete(f"/webhooks/{hook.json()['data']['id']}")

        # A second start is a second session of the same livestream.
        again = http.post(f"/meetings/{meeting['id']}/livestreams", json={"video_config": SMALL})
        assert again.status_code == 201 and again.json()["data"]["id"] == data.id
        http.post(f"/meetings/{meeting['id']}/active-livestream/stop")
        wait_for(lambda: http.get(f"/livestreams/{data.id}").json()["data"]["livestream"]
                 ["status"] == "IDLE", what="second session IDLE")
        assert http.get(f"/livestreams/{data.id}").json()["data"]["paging"]["total_count"] == 2
    finally:
        receiver.down()


def test_lists_and_analytics(http: httpx.Client, cf: Cloudflare, ids: dict) -> None:
    independent = http.post("/livestreams", json={"name": "Studio"})
    assert independent.status_code == 201, independent.text
    made = independent.json()["data"]
    assert made["status"] == "IDLE" and made["meeting_id"] is None and made["name"] == "Studio"
    assert made["playback_url"].endswith(f"/live/{made['id']}/index.m3u8")
    listed = cf.realtime_kit.livestreams.get_all_livestreams(
        **ids, sort_order="DSC", per_page=50).data
    assert listed.paging.total_count >= 1 and listed.id == made["id"]  # newest first
    only = http.get("/livestreams", params={"exclude_meetings": "true"}).json()["data"]
    assert all(item["meeting_id"] is None for item in only["livestreams"])
    assert http.get("/livestreams", params={"status": "LIVE", "sort_order": "ASC"}).json()[
        "data"]["paging"]["total_count"] == 0
    # Its time as shown (to the millisecond) as end_time takes it in; start_time too.
    shown = next(item["created_at"] for item in only["livestreams"] if item["id"] == made["id"])
    around = http.get("/livestreams", params={"start_time": shown, "end_time": shown}
                      ).json()["data"]
    assert made["id"] in [item["id"] for item in around["livestreams"]], around
    overall = cf.realtime_kit.livestreams.get_livestream_analytics_complete(
        **ids, start_time=0, end_time=int(time.time()) + 60).data
    assert overall.count is not None and overall.total_viewer_seconds is not None
    days = cf.realtime_kit.livestreams.get_livestream_analytics_daywise(**ids).data
    assert isinstance(days, list)
    for day in days:
        assert len(day.date) == 10 and day.count >= 1
    one = cf.realtime_kit.livestreams.get_livestream_session_for_livestream_id(
        made["id"], **ids).data
    assert one.livestream.id == made["id"] and one.session is None


@pytest.mark.parametrize(("path", "body", "status", "words"), [
    ("/meetings/{m}/livestreams", {"video_config": {"width": 321}}, 400, "width"),
    ("/meetings/{m}/livestreams", {"video_config": {"height": "720"}}, 400, "height"),
    ("/meetings/{m}/livestreams", {"name": "x\u0000"}, 400, "name"),
    ("/meetings/{m}/livestreams", {"bogus": 1}, 400, "bogus"),
    ("/meetings/nope/livestreams", {}, 404, "Meeting nope not found"),
    ("/meetings/{m}/active-livestream/stop", None, 404, "no active livestream"),
    ("/livestreams", {"name": 5}, 400, "name"),
])
def test_bad_requests(http: httpx.Client, meeting: dict, path: str, body: Any, status: int,
                      words: str) -> None:
    response = http.post(path.replace("{m}", meeting["id"]), json=body)
    assert response.status_code == status, response.text
    payload = response.json()
    assert payload["success"] is False and words in response.text


@pytest.mark.parametrize(("path", "status"), [
    ("/meetings/{m}/active-livestream", 404),
    ("/livestreams/nope", 404),
    ("/livestreams/nope/active-livestream-session", 404),
    ("/livestreams/sessions/nope", 404),
    ("/livestreams?sort_order=UP", 400),
    ("/livestreams?status=DONE", 400),
    ("/analytics/livestreams/overall?start_time=20&end_time=10", 400),
    ("/analytics/livestreams/overall?start_time=yesterday", 400),
    ("/analytics/livestreams/daywise?end_time=-1", 400),
])
def test_bad_reads(http: httpx.Client, meeting: dict, path: str, status: int) -> None:
    response = http.get(path.replace("{m}", meeting["id"]))
    assert response.status_code == status, response.text
    assert response.json()["success"] is False


def test_playback_needs_no_token_but_a_real_file(ls_server: SalonServer) -> None:
    for path in ("/live/not-an-id/index.m3u8",
                 "/live/00000000-0000-0000-0000-000000000000/index.m3u8",
                 "/live/00000000-0000-0000-0000-000000000000/../../etc/passwd",
                 "/live/00000000-0000-0000-0000-000000000000/seg_00001.mp4"):
        response = httpx.get(f"{ls_server.url}{path}", headers={"X-Request-Id": "mine-1"})
        assert response.status_code == 404, (path, response.text)
        assert response.headers["x-request-id"] == "mine-1"  # as every answer carries it


def test_playback_urls_with_a_nul_are_400_as_on_every_route(ls_server: SalonServer) -> None:
    for path in ("/live/%00/index.m3u8",
                 "/live/00000000-0000-0000-0000-000000000000/index.m3u8?a=%00"):
        response = httpx.get(f"{ls_server.url}{path}")
        assert response.status_code == 400, (path, response.text)
        assert response.json()["error"]["message"] == \
            "The URL must not contain NUL characters (%00)."
        assert response.headers["x-request-id"]


def test_another_app_sees_nothing(ls_server: SalonServer, http: httpx.Client,
                                  meeting: dict) -> None:
    made = http.post("/livestreams", json={"name": "mine"}).json()["data"]
    creds = other_app(ls_server)
    url = f"{ls_server.url}/client/v4/accounts/{creds['account_id']}/realtime/kit/{creds['app_id']}"
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {creds['api_token']}"},
                      timeout=10) as theirs:
        assert theirs.get(f"/livestreams/{made['id']}").status_code == 404
        assert theirs.post(f"/meetings/{meeting['id']}/livestreams", json={}).status_code == 404
        assert theirs.get("/livestreams").json()["data"]["paging"]["total_count"] == 0


class RtmpReceiver:
    """A real RTMP server on loopback (FFmpeg's, in listen mode, through PyAV) that
    decodes what is pushed to it, as YouTube's or Twitch's ingest would receive it."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"rtmp://127.0.0.1:{self.port}/live/youtube-key"
        self.video = 0
        self.audio = 0
        self.size: tuple[int, int] | None = None
        #: A recent picture (RGB), every tenth frame.
        self.last: Any = None
        self.error: str | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        try:
            with av.open(self.url, "r", format="flv",
                         options={"listen": "1", "timeout": "30"}) as container:
                for frame in container.decode():
                    if isinstance(frame, av.VideoFrame):
                        self.video += 1
                        self.size = (frame.width, frame.height)
                        if self.video % 10 == 0:
                            self.last = frame.to_ndarray(format="rgb24")
                    else:
                        self.audio += 1
        except (OSError, av.error.FFmpegError) as exc:
            self.error = repr(exc)  # the pusher went away: EIO is its end of stream


def test_rtmp_out_to_the_hosts_url(http: httpx.Client) -> None:
    receiver = RtmpReceiver()
    time.sleep(0.3)  # listening
    meeting = http.post("/meetings", json={
        "title": "Simulcast",
        "recording_config": {"live_streaming_config": {"rtmp_url": receiver.url}}})
    assert meeting.status_code == 201, meeting.text
    meeting_id = meeting.json()["data"]["id"]
    started = http.post(f"/meetings/{meeting_id}/livestreams", json={"video_config": SMALL})
    assert started.status_code == 201, started.text
    livestream_id = started.json()["data"]["id"]
    wait_for(lambda: receiver.video >= 50, what="frames pushed over RTMP")
    http.post(f"/meetings/{meeting_id}/active-livestream/stop")
    receiver.thread.join(15)
    assert receiver.size == (320, 180) and receiver.audio >= 50, vars(receiver)
    # HLS ran beside it from the same encode.
    assert wait_for(lambda: http.get(f"/livestreams/{livestream_id}").json()["data"]
                    ["livestream"]["status"] == "IDLE", what="IDLE")


@pytest.mark.parametrize("url", ["http://example.com/x", "rtmp://%20/x"])
def test_rtmp_out_must_be_rtmp(http: httpx.Client, url: str) -> None:
    meeting = http.post("/meetings", json={
        "title": "Wrong scheme",
        "recording_config": {"live_streaming_config": {"rtmp_url": url}}})
    meeting_id = meeting.json()["data"]["id"]
    refused = http.post(f"/meetings/{meeting_id}/livestreams", json={})
    assert refused.status_code == 400 and "rtmp://" in refused.text


def test_an_unreachable_rtmp_server_costs_only_that_output(http: httpx.Client) -> None:
    meeting = http.post("/meetings", json={
        "title": "Nobody listens",
        "recording_config": {"live_streaming_config": {
            "rtmp_url": f"rtmp://127.0.0.1:{free_port()}/live/k"}}}).json()["data"]
    started = http.post(f"/meetings/{meeting['id']}/livestreams",
                        json={"video_config": SMALL}).json()["data"]
    wait_for(lambda: len(segments_of(httpx.get(started["playback_url"]).text)) >= 2
             if httpx.get(started["playback_url"]).status_code == 200 else False,
             what="HLS without the RTMP output")
    http.post(f"/meetings/{meeting['id']}/active-livestream/stop")
    wait_for(lambda: http.get(f"/livestreams/{started['id']}").json()["data"]
             ["livestream"]["status"] == "IDLE", what="IDLE")


def test_viewer_qualities_from_the_meetings_presets(http: httpx.Client) -> None:
    presets = http.get("/presets", params={"per_page": 100}).json()["data"]
    viewer = next(p for p in presets if p["name"] == "webinar_viewer")
    tree = http.get(f"/presets/{viewer['id']}").json()["data"]
    body = {key: tree[key] for key in ("config", "permissions", "ui")}
    body["config"]["livestream_viewer_qualities"] = [240, 720]  # 720 is above the source
    name = f"hls_viewer_{int(time.time() * 1000)}"
    assert http.post("/presets", json={"name": name, **body}).status_code == 201
    meeting = http.post("/meetings", json={"title": "Qualities"}).json()["data"]
    added = http.post(f"/meetings/{meeting['id']}/participants",
                      json={"preset_name": name, "custom_participant_id": "v1"})
    assert added.status_code == 201, added.text
    started = http.post(f"/meetings/{meeting['id']}/livestreams",
                        json={"video_config": {"width": 640, "height": 360}}).json()["data"]
    base = started["playback_url"].rsplit("/", 1)[0]

    def listed() -> Any:
        master = httpx.get(started["playback_url"])
        if master.status_code != 200:
            return None
        low = httpx.get(f"{base}/q240/index.m3u8")
        return (master, low) if low.status_code == 200 and segments_of(low.text) else None

    master, low = wait_for(listed, what="the 240p playlist")
    assert segments_of(master.text) == ["q360/index.m3u8", "q240/index.m3u8"]
    assert "RESOLUTION=426x240" in master.text and "RESOLUTION=640x360" in master.text
    segment = httpx.get(f"{base}/q240/{segments_of(low.text)[0]}")
    assert segment.status_code == 200 and segment.headers["content-type"] == "video/mp2t"
    with av.open(io.BytesIO(segment.content), format="mpegts") as container:
        frame = next(container.decode(video=0))
    assert (frame.width, frame.height) == (426, 240)
    assert httpx.get(f"{base}/q999x/index.m3u8").status_code == 404
    http.post(f"/meetings/{meeting['id']}/active-livestream/stop")
    wait_for(lambda: http.get(f"/livestreams/{started['id']}").json()["data"]["livestream"]
             ["status"] == "IDLE", what="IDLE")


def test_the_api_needs_an_api_token(ls_server: SalonServer, http: httpx.Client,
                                    meeting: dict) -> None:
    participant = http.post(f"/meetings/{meeting['id']}/participants", json={
        "preset_name": "group_call_host", "custom_participant_id": "h1"}).json()["data"]
    for headers in ({}, {"Authorization": "Bearer nonsense"},
                    {"Authorization": f"Bearer {participant['token']}"}):
        with httpx.Client(base_url=ls_server.app_url, headers=headers, timeout=10) as anyone:
            for method, path in (("POST", f"/meetings/{meeting['id']}/livestreams"),
                                 ("POST", f"/meetings/{meeting['id']}/active-livestream/stop"),
                                 ("GET", "/livestreams"), ("POST", "/livestreams"),
                                 ("GET", "/analytics/livestreams/overall")):
                answer = anyone.request(method, path, json={} if method == "POST" else None)
                assert answer.status_code == 401, (headers, path, answer.text)
                assert answer.json()["success"] is False


def test_an_independent_livestream_needs_no_body(http: httpx.Client) -> None:
    """L10's only field (`name`) is optional: no body, `null` or `{}` are all fine."""
    for made in (http.post("/livestreams"), http.post("/livestreams", json=None),
                 http.post("/livestreams", json={})):
        assert made.status_code == 201, made.text
        assert made.json()["data"]["name"] is None


def test_a_meeting_livestream_needs_no_body(http: httpx.Client, meeting: dict) -> None:
    """L1's fields are all optional: no body starts it with the defaults (and an unknown
    meeting is a 404, whatever the body)."""
    started = http.post(f"/meetings/{meeting['id']}/livestreams")
    assert started.status_code == 201, started.text
    assert http.post(f"/meetings/{meeting['id']}/active-livestream/stop").status_code == 200
    missing = http.post("/meetings/00000000-0000-4000-8000-000000000000/livestreams")
    assert missing.status_code == 404, missing.text


def test_without_an_rtmp_ingest_no_ingest_server_is_named() -> None:
    """`SALON_RTMP_PORT=0` and no public RTMP URL: nothing takes RTMP, so `ingest_server`
    is null rather than `rtmp://…:0/live/`; a public URL names where encoders go."""
    with running_on("sqlite", {**LIVESTREAM_ENV, "SALON_RTMP_PORT": "0"}) as salon, \
            app_client(salon) as http:
        meeting_id = http.post("/meetings", json={}).json()["data"]["id"]
        started = http.post(f"/meetings/{meeting_id}/livestreams", json={})
        assert started.status_code == 201, started.text
        assert started.json()["data"]["ingest_server"] is None
        made = http.post("/livestreams", json={})
        assert made.status_code == 201 and made.json()["data"]["ingest_server"] is None
    public = {**LIVESTREAM_ENV, "SALON_RTMP_PORT": "0",
              "SALON_RTMP_PUBLIC_URL": "rtmp://live.example/live/"}
    with running_on("sqlite", public) as salon, app_client(salon) as http:
        made = http.post("/livestreams", json={})
        assert made.json()["data"]["ingest_server"] == "rtmp://live.example/live/"
