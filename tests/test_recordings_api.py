"""Recordings over REST on both databases, recorded by the test recorder (real files):
the lifecycle, the queue, errors and denials, a recorder crash, the webhooks, and the
official SDK calling all six methods."""

import asyncio
import time
from collections.abc import Iterator

import av
import httpx
import orjson
import pytest
from cloudflare import Cloudflare

from tests.recording_helpers import (
    media_seconds,
    other_app,
    recording_server,
    stored_file,
    wait_status,
)
from tests.servers import SalonServer
from tests.webhook_receiver import Receiver


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def rec_server(request: pytest.FixtureRequest) -> Iterator[SalonServer]:
    with recording_server(request.param) as salon:
        yield salon


@pytest.fixture
def http(rec_server: SalonServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=rec_server.app_url, headers=rec_server.headers,
                      timeout=10) as client:
        yield client


@pytest.fixture
def meeting(http: httpx.Client) -> dict:
    return http.post("/meetings", json={"title": "Weekly sync"}).json()["data"]


def test_a_recording_from_start_to_download(rec_server: SalonServer, http: httpx.Client,
                                            meeting: dict) -> None:
    started = http.post("/recordings", json={"meeting_id": meeting["id"],
                                             "file_name_prefix": "weekly"})
    assert started.status_code == 201, started.text
    data = started.json()["data"]
    assert data["status"] == "INVOKED" and data["output_file_name"].startswith("weekly_")
    assert data["start_reason"] == {"reason": "API_CALL", "caller": {"type": "ORGANIZATION"}}
    rid = data["id"]

    second = http.post("/recordings", json={"meeting_id": meeting["id"]})
    assert second.status_code == 409 and "allow_multiple_recordings" in second.text

    assert wait_status(http, rid, "RECORDING")["started_time"] is not None
    active = http.get(f"/recordings/active-recording/{meeting['id']}").json()["data"]
    assert active["id"] == rid and "start_reason" not in active

    assert http.put(f"/recordings/{rid}", json={"action": "pause"}).json()["data"][
        "status"] == "PAUSED"
    again = http.put(f"/recordings/{rid}", json={"action": "pause"})
    assert again.status_code == 409 and "PAUSED" in again.json()["error"]["message"]
    time.sleep(1.0)
    assert http.put(f"/recordings/{rid}", json={"action": "resume"}).json()["data"][
        "status"] == "RECORDING"
    time.sleep(1.5)
    stopped = http.put(f"/recordings/{rid}", json={"action": "stop"}).json()["data"]
    assert stopped["status"] == "UPLOADING"
    assert stopped["stop_reason"] == {"reason": "API_CALL"}

    done = wait_status(http, rid, "UPLOADED", "ERRORED")
    assert done["status"] == "UPLOADED", done
    path = stored_file(rec_server, rid, done["download_url"])
    assert path.name == done["output_file_name"]
    assert done["file_size"] == float(path.stat().st_size) > 0
    recorded = media_seconds(path)
    # ~1.5 s recorded before the pause plus after it; the paused second is left out.
    assert abs(recorded - done["recording_duration"]) <= 1
    assert done["download_url_expiry"] is not None
    audio = stored_file(rec_server, rid, done["audio_download_url"])
    assert audio.suffix == ".m4a" and media_seconds(audio) > 0
    assert http.get(f"/recordings/active-recording/{meeting['id']}").status_code == 404


def test_a_vp9_recording_is_a_webm(rec_server: SalonServer, http: httpx.Client,
                                   meeting: dict) -> None:
    """VP9 (in the official SDK's enum) records into WebM, as VP8 does."""
    started = http.post("/recordings", json={
        "meeting_id": meeting["id"],
        "video_config": {"codec": "VP9", "width": 320, "height": 180}})
    assert started.status_code == 201, started.text
    data = started.json()["data"]
    assert data["output_file_name"].endswith(".webm")
    wait_status(http, data["id"], "RECORDING")
    time.sleep(1.0)
    http.put(f"/recordings/{data['id']}", json={"action": "stop"})
    done = wait_status(http, data["id"], "UPLOADED", "ERRORED")
    assert done["status"] == "UPLOADED", done
    path = stored_file(rec_server, data["id"], done["download_url"])
    with av.open(str(path)) as container:
        assert container.format.name.startswith("matroska")
        assert container.streams.video[0].codec_context.name == "vp9"
        assert (container.streams.video[0].width, container.streams.video[0].height) == (
            320, 180)


def test_an_interactive_recording_is_a_tar(http: httpx.Client, meeting: dict) -> None:
    """`interactive_config: {type: "ID3"}` records HLS in a tar (what is in it: the real
    recorder's end-to-end test); an empty `interactive_config` is a plain recording."""
    started = http.post("/recordings", json={
        "meeting_id": meeting["id"], "allow_multiple_recordings": True,
        "interactive_config": {"type": "ID3"}})
    assert started.status_code == 201, started.text
    data = started.json()["data"]
    assert data["output_file_name"].endswith(".tar")
    plain = http.post("/recordings", json={"meeting_id": meeting["id"],
                                           "allow_multiple_recordings": True,
                                           "interactive_config": {}})
    assert plain.status_code == 201, plain.text
    assert plain.json()["data"]["output_file_name"].endswith(".mp4")
    for recording in (data, plain.json()["data"]):
        http.put(f"/recordings/{recording['id']}", json={"action": "stop"})
        wait_status(http, recording["id"], "UPLOADED", "ERRORED")


def test_the_daywise_analytics_count_what_was_recorded(http: httpx.Client,
                                                       meeting: dict) -> None:
    def stats() -> dict:
        answer = http.get("/analytics/daywise")
        assert answer.status_code == 200, answer.text
        return answer.json()["data"]["recording_stats"]

    before = stats()
    started = http.post("/recordings", json={"meeting_id": meeting["id"]}).json()["data"]
    wait_status(http, started["id"], "RECORDING")
    time.sleep(2.2)
    http.put(f"/recordings/{started['id']}", json={"action": "stop"})
    done = wait_status(http, started["id"], "UPLOADED", "ERRORED")
    assert done["status"] == "UPLOADED" and done["recording_duration"] >= 2
    after = stats()
    assert after["recording_count"] == before["recording_count"] + 1
    assert after["recording_minutes_consumed"] == pytest.approx(
        before["recording_minutes_consumed"] + done["recording_duration"] / 60, abs=1e-3)
    day = done["started_time"][:10]
    [today] = [d for d in after["day_stats"] if d["day"] == day]
    assert today["total_recordings"] >= 1 and isinstance(today["total_recording_minutes"], int)
    assert today["total_recording_minutes"] >= 1


def test_an_inactive_meeting_is_not_recorded(http: httpx.Client, meeting: dict) -> None:
    """The recorder could not join it: a 409 now, not a 201 that ends ERRORED."""
    assert http.patch(f"/meetings/{meeting['id']}", json={"status": "INACTIVE"}
                      ).status_code == 200
    for path in ("/recordings", "/recordings/track"):
        refused = http.post(path, json={"meeting_id": meeting["id"]})
        assert refused.status_code == 409, refused.text
        assert refused.json()["error"]["message"] == (
            f"Meeting {meeting['id']} is INACTIVE: nobody can join it, so there is "
            "nothing to record.")
    assert http.get("/recordings", params={"meeting_id": meeting["id"]}).json()[
        "data"] == []


def test_a_track_recording_takes_one_layer(http: httpx.Client, meeting: dict) -> None:
    refused = http.post("/recordings/track", json={"meeting_id": meeting["id"],
                                                   "layers": {"a": {}, "b": {}}})
    assert refused.status_code == 400
    assert refused.json()["error"]["message"] == (
        "layers: a track recording takes one layer for now (its files are named by that "
        "layer's file_name_prefix).")
    many = http.post("/recordings/track", json={"meeting_id": meeting["id"], "layers": {
        f"l{i}": {} for i in range(11)}})  # the same sentence however many
    assert many.json()["error"]["message"] == refused.json()["error"]["message"]
    document = httpx.get(f"{http.base_url.scheme}://{http.base_url.netloc.decode()}"
                         "/openapi.json").json()
    layers = document["components"]["schemas"]["StartTrackRecording"]["properties"]["layers"]
    assert layers["anyOf"][0]["maxProperties"] == 1
    short = http.post("/recordings/track", json={"meeting_id": meeting["id"],
                                                 "max_seconds": 59})
    assert short.status_code == 400 and "body.max_seconds" in short.json()["error"]["message"]
    taken = http.post("/recordings/track", json={"meeting_id": meeting["id"],
                                                 "max_seconds": 60})
    assert taken.status_code == 201, taken.text
    http.put(f"/recordings/{taken.json()['data']['recording']['id']}", json={"action": "stop"})


def test_listing_filters(http: httpx.Client, meeting: dict) -> None:
    first = http.post("/recordings", json={"meeting_id": meeting["id"]}).json()["data"]
    http.put(f"/recordings/{first['id']}", json={"action": "stop"})
    second = http.post("/recordings", json={"meeting_id": meeting["id"]}).json()["data"]
    wait_status(http, first["id"], "UPLOADED", "ERRORED")

    listed = http.get("/recordings", params={"meeting_id": meeting["id"],
                                             "sort_order": "ASC"}).json()
    assert [r["id"] for r in listed["data"]] == [first["id"], second["id"]]
    assert listed["paging"]["total_count"] == 2
    item = listed["data"][0]
    assert item["meeting"]["id"] == meeting["id"] and "ai_config" not in item["meeting"]
    assert item["storage_config"] is None and "start_reason" not in item
    newest = http.get("/recordings", params={"meeting_id": meeting["id"], "per_page": 1,
                                             "sort_by": "invokedTime"}).json()
    assert [r["id"] for r in newest["data"]] == [second["id"]]
    by_status = http.get("/recordings", params=[("meeting_id", meeting["id"]),
                                                ("status", "UPLOADED"), ("status", "ERRORED")])
    assert [r["id"] for r in by_status.json()["data"]] == [first["id"]]
    assert http.get("/recordings", params={"search": "Weekly sy", "meeting_id": meeting["id"]}
                    ).json()["paging"]["total_count"] == 2
    assert http.get("/recordings", params={"meeting_id": meeting["id"], "expired": True}
                    ).json()["data"] == []
    later = http.get("/recordings", params={"meeting_id": meeting["id"],
                                            "start_time": second["invoked_time"]}).json()
    assert [r["id"] for r in later["data"]] == [second["id"]]
    # The first one's time as shown (to the millisecond) takes it in.
    earlier = http.get("/recordings", params={"meeting_id": meeting["id"],
                                              "end_time": first["invoked_time"]}).json()
    assert [r["id"] for r in earlier["data"]] == [first["id"]]
    http.put(f"/recordings/{second['id']}", json={"action": "stop"})
    wait_status(http, second["id"], "UPLOADED", "ERRORED")


def test_a_url_recording_is_accepted(http: httpx.Client, meeting: dict) -> None:
    """`url` (a page to record instead of salon's layout) is taken with any other field;
    the test recorder records it as any composite (the page itself is recorded by the
    media engine: tests/media/test_recording_url.py)."""
    started = http.post("/recordings", json={
        "meeting_id": meeting["id"], "url": "https://recorder.example/app?x=1",
        "video_config": {"width": 640, "height": 360, "codec": "VP8"},
        "interactive_config": None})
    assert started.status_code == 201, started.text
    data = started.json()["data"]
    assert data["status"] == "INVOKED" and data["output_file_name"].endswith(".webm")
    wait_status(http, data["id"], "RECORDING")
    http.put(f"/recordings/{data['id']}", json={"action": "stop"})
    assert wait_status(http, data["id"], "UPLOADED", "ERRORED")["status"] == "UPLOADED"
    track = http.post("/recordings/track", json={"meeting_id": meeting["id"],
                                                 "url": "https://recorder.example/app"})
    assert track.status_code == 400 and "body.url" in track.json()["error"]["message"]


@pytest.mark.parametrize(("body", "status", "words"), [
    ({"url": "ftp://x"}, 400, "body.url: Value error, must be a valid http or https URL"),
    ({"url": "javascript:alert(1)"}, 400, "body.url"),
    ({"url": "https://"}, 400, "body.url"),
    ({"interactive_config": {"type": "ID3"}, "video_config": {"codec": "VP8"}}, 400,
     "H.264"),
    ({"interactive_config": {"type": "ID4"}}, 400, "interactive_config.type"),
    ({"rtmp_out_config": {"rtmp_url": "http://example.com/x"}}, 400, "rtmp://"),
    ({"storage_config": {"type": "azure", "access_key": "A", "secret": "S", "bucket": "b",
                         "region": "r"}}, 400, "must be the storage account's connection"),
    ({"storage_config": {"type": "aws", "access_key": "A", "secret": "S", "bucket": "b"}},
     400, "needs region"),
    ({"max_seconds": 59}, 400, "max_seconds"),
    ({"max_seconds": 86401}, 400, "max_seconds"),
    ({"video_config": {"width": 4000}}, 400, "width"),
    ({"audio_config": {"codec": "OGG"}}, 400, "codec"),
    ({"surprise": 1}, 400, "surprise"),
])
def test_refused_bodies(http: httpx.Client, meeting: dict, body: dict, status: int,
                        words: str) -> None:
    answer = http.post("/recordings", json={"meeting_id": meeting["id"], **body})
    assert answer.status_code == status, answer.text
    assert answer.json()["success"] is False and words in answer.json()["error"]["message"]


def test_denials_and_unknowns(rec_server: SalonServer, http: httpx.Client,
                              meeting: dict) -> None:
    neighbour = other_app(rec_server)
    theirs = httpx.post(
        f"{rec_server.account_url}/{neighbour['app_id']}/meetings", json={"title": "theirs"},
        headers={"Authorization": f"Bearer {neighbour['api_token']}"}).json()["data"]
    # A meeting of another app is no meeting here.
    assert http.post("/recordings", json={"meeting_id": theirs["id"]}).status_code == 404
    assert http.post("/recordings/track", json={"meeting_id": theirs["id"]}).status_code == 404
    assert http.get(f"/recordings/active-recording/{theirs['id']}").status_code == 404
    # Another app's token cannot reach this app's recordings.
    mine = http.post("/recordings", json={"meeting_id": meeting["id"]}).json()["data"]
    stranger = {"Authorization": f"Bearer {neighbour['api_token']}"}
    assert httpx.get(f"{rec_server.app_url}/recordings/{mine['id']}",
                     headers=stranger).status_code == 404
    assert httpx.get(f"{rec_server.app_url}/recordings/{mine['id']}").status_code == 401
    # …nor through its own app's path.
    assert httpx.get(f"{rec_server.account_url}/{neighbour['app_id']}/recordings/{mine['id']}",
                     headers=stranger).status_code == 404
    assert httpx.put(f"{rec_server.account_url}/{neighbour['app_id']}/recordings/{mine['id']}",
                     json={"action": "stop"}, headers=rec_server.headers).status_code == 404
    assert http.get("/recordings/nope").status_code == 404
    assert http.put("/recordings/nope", json={"action": "stop"}).status_code == 404
    assert http.put(f"/recordings/{mine['id']}", json={"action": "rewind"}).status_code == 400
    http.put(f"/recordings/{mine['id']}", json={"action": "stop"})
    wait_status(http, mine["id"], "UPLOADED", "ERRORED")
    late = http.put(f"/recordings/{mine['id']}", json={"action": "resume"})
    assert late.status_code == 409


def test_the_queue_waits_rather_than_fails(http: httpx.Client, meeting: dict) -> None:
    """Two recorders at most: a third recording stays INVOKED until one is free."""
    body = {"meeting_id": meeting["id"], "allow_multiple_recordings": True}
    ids = [http.post("/recordings", json=body).json()["data"]["id"] for _ in range(3)]
    wait_status(http, ids[0], "RECORDING")
    wait_status(http, ids[1], "RECORDING")
    time.sleep(1.0)
    assert http.get(f"/recordings/{ids[2]}").json()["data"]["status"] == "INVOKED"
    http.put(f"/recordings/{ids[0]}", json={"action": "stop"})
    wait_status(http, ids[2], "RECORDING")
    for rid in ids[1:]:
        http.put(f"/recordings/{rid}", json={"action": "stop"})
    for rid in ids:
        assert wait_status(http, rid, "UPLOADED", "ERRORED")["status"] == "UPLOADED"


def test_simultaneous_starts_make_one_recording(rec_server: SalonServer, http: httpx.Client,
                                               meeting: dict) -> None:
    """Six starts at once of a recording that does not allow others (a composite one
    without `allow_multiple_recordings`, and a track one): one 201, the others the
    documented 409. The meeting's row is locked first: on PostgreSQL each start found
    none running, and all six started."""
    for path, body in (("/recordings", {"meeting_id": meeting["id"]}),
                       ("/recordings/track", {"meeting_id": meeting["id"]})):
        async def at_once(path: str = path, body: dict = body) -> list[httpx.Response]:
            async with httpx.AsyncClient(base_url=rec_server.app_url,
                                         headers=rec_server.headers, timeout=20) as client:
                return list(await asyncio.gather(*(client.post(path, json=body)
                                                   for _ in range(6))))

        answers = asyncio.run(at_once())
        assert sorted(a.status_code for a in answers) == [201] + [409] * 5, \
            [a.text for a in answers]
        won = next(a for a in answers if a.status_code == 201).json()["data"]
        won_id = won.get("id") or won["recording"]["id"]
        for lost in (a for a in answers if a.status_code == 409):
            assert lost.json()["error"]["message"].startswith(
                f"Meeting {meeting['id']} is already being recorded (recording {won_id}); ")
        http.put(f"/recordings/{won_id}", json={"action": "stop"})
        wait_status(http, won_id, "UPLOADED", "ERRORED")


def test_a_recorder_crash_errors_the_recording_only(http: httpx.Client, meeting: dict) -> None:
    started = http.post("/recordings", json={"meeting_id": meeting["id"],
                                             "file_name_prefix": "crash"}).json()["data"]
    done = wait_status(http, started["id"], "ERRORED", "UPLOADED")
    assert done["status"] == "ERRORED"
    assert done["stop_reason"] == {"reason": "INTERNAL_ERROR"}
    assert http.get(f"/meetings/{meeting['id']}").status_code == 200
    # The meeting can be recorded again at once.
    again = http.post("/recordings", json={"meeting_id": meeting["id"]}).json()["data"]
    http.put(f"/recordings/{again['id']}", json={"action": "stop"})
    wait_status(http, again["id"], "UPLOADED", "ERRORED")


def test_track_recording(rec_server: SalonServer, http: httpx.Client, meeting: dict) -> None:
    receiver = Receiver().up()
    try:
        _track_recording(rec_server, http, meeting, receiver)
    finally:
        receiver.released.set()
        receiver.down()


def _track_recording(rec_server: SalonServer, http: httpx.Client, meeting: dict,
                     receiver: Receiver) -> None:
    hook = http.post("/webhooks", json={"name": "tracks", "url": receiver.url("/tracks"),
                                        "events": ["recording.statusUpdate"]}).json()["data"]
    started = http.post("/recordings/track", json={
        "meeting_id": meeting["id"], "layers": {"default": {"file_name_prefix": "tracks",
                                                            "media_kind": "audio"}}})
    assert started.status_code == 201, started.text
    recording = started.json()["data"]["recording"]
    assert recording["status"] == "INVOKED" and "start_reason" not in recording
    second = http.post("/recordings/track", json={"meeting_id": meeting["id"]})
    assert second.status_code == 409  # one per meeting, and no field to allow more
    assert second.json()["error"]["message"].endswith("); stop it first.")
    wait_status(http, recording["id"], "RECORDING")
    http.put(f"/recordings/{recording['id']}", json={"action": "stop"})
    done = wait_status(http, recording["id"], "UPLOADED", "ERRORED")
    [layer] = done["download_url"]
    assert layer["layer_name"] == "default"
    [(name, link)] = layer["download_urls"].items()
    assert name.startswith("tracks_") and name.endswith(".webm")
    assert media_seconds(stored_file(rec_server, recording["id"], link["download_url"])) > 0
    # The webhook lists every file too (`downloadUrl` is one string, as RealtimeKit's).
    bodies = [orjson.loads(hit.body) for hit in receiver.wait_for("/tracks", 3)]
    uploaded = next(b["recording"] for b in bodies if b["recording"]["status"] == "UPLOADED")
    assert uploaded["downloadUrl"] == link["download_url"]
    assert uploaded["downloadUrls"] == [{"layerName": "default", "fileName": name,
                                         "downloadUrl": link["download_url"]}]
    assert all(b["recording"]["downloadUrls"] is None for b in bodies
               if b["recording"]["status"] != "UPLOADED")
    http.delete(f"/webhooks/{hook['id']}")


def test_webhooks_on_each_status(rec_server: SalonServer, http: httpx.Client,
                                 meeting: dict) -> None:
    receiver = Receiver().up()
    try:
        hook = http.post("/webhooks", json={"name": "rec", "url": receiver.url("/rec"),
                                            "events": ["recording.statusUpdate"]})
        assert hook.status_code == 201
        rid = http.post("/recordings", json={"meeting_id": meeting["id"]}).json()["data"]["id"]
        wait_status(http, rid, "RECORDING")
        time.sleep(1.0)
        http.put(f"/recordings/{rid}", json={"action": "stop"})
        done = wait_status(http, rid, "UPLOADED")
        hits = receiver.wait_for("/rec", 3)
        bodies = [orjson.loads(hit.body) for hit in hits]
        assert [b["recording"]["status"] for b in bodies] == ["RECORDING", "UPLOADING",
                                                              "UPLOADED"]
        last = bodies[-1]
        assert last["event"] == "recording.statusUpdate"
        shown = last["recording"]
        assert shown["id"] == shown["recordingId"] == rid
        assert shown["fileSize"] == str(int(done["file_size"]))
        assert shown["recordingDuration"] == done["recording_duration"]
        assert shown["downloadUrl"] == done["download_url"]
        assert shown["organizationId"] == rec_server.app_id
        assert shown["meetingId"] == meeting["id"] and shown["outputFileName"]
        assert last["meeting"]["id"] == meeting["id"]
        assert last["meeting"]["organizedBy"]["id"] == rec_server.app_id
        assert all(hit.headers.get("rtk-signature") for hit in hits)
        http.delete(f"/webhooks/{hook.json()['data']['id']}")
    finally:
        receiver.released.set()
        receiver.down()


def test_the_official_sdk_calls_all_six(rec_server: SalonServer, meeting: dict) -> None:
    ids = {"app_id": rec_server.app_id, "account_id": rec_server.account_id}
    with Cloudflare(api_token=rec_server.api_token, base_url=f"{rec_server.url}/client/v4",
                    max_retries=0) as cf:
        recordings = cf.realtime_kit.recordings
        started = recordings.start_recordings(
            **ids, meeting_id=meeting["id"], max_seconds=600, file_name_prefix="sdk",
            video_config={"codec": "H264", "width": 640, "height": 360},
            audio_config={"codec": "AAC", "channel": "mono", "export_file": False})
        assert started.success and started.data.status == "INVOKED"
        rid = started.data.id
        assert started.data.start_reason.caller.type == "ORGANIZATION"
        one = recordings.get_one_recording(rid, **ids)
        assert one.data.id == rid and one.data.output_file_name.startswith("sdk_")
        active = recordings.get_active_recordings(meeting["id"], **ids)
        assert active.data.id == rid
        listed = recordings.get_recordings(**ids, meeting_id=meeting["id"],
                                           sort_order="DESC", status=["INVOKED", "RECORDING"])
        assert [r.id for r in listed.data] == [rid] and listed.paging.total_count == 1
        assert listed.data[0].meeting.id == meeting["id"]
        deadline = time.monotonic() + 20
        while recordings.get_one_recording(rid, **ids).data.status != "RECORDING":
            assert time.monotonic() < deadline
            time.sleep(0.1)
        stopped = recordings.pause_resume_stop_recording(rid, **ids, action="stop")
        assert stopped.data.status == "UPLOADING" and stopped.data.stop_reason.reason == "API_CALL"
        track = recordings.start_track_recording(**ids, meeting_id=meeting["id"])
        assert track.success and track.data.recording.status == "INVOKED"
        recordings.pause_resume_stop_recording(track.data.recording.id, **ids, action="stop")
        while recordings.get_one_recording(rid, **ids).data.status != "UPLOADED":
            assert time.monotonic() < deadline + 10
            time.sleep(0.1)
        done = recordings.get_one_recording(rid, **ids).data
        assert done.file_size and done.recording_duration is not None
        assert done.audio_download_url is None  # export_file false
