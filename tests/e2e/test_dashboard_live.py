"""The live page's meeting-wide host actions in Chromium, each doing what the REST API
does: mute everyone (peers get `media.disabled`), start and stop a recording (the
`recording` badge follows `recording.updated`; the recording is the session's on its
page), end the meeting for everyone (peers get `room.ended`). The peers are real
WebSocket clients; the server records with tests/fake_recorder.py (a real file)."""

from collections.abc import Iterator

import httpx
import pytest
from playwright.async_api import expect

from salon.client import AdminClient, RealtimeClient, ws_url
from tests.e2e.browser import Browsers
from tests.e2e.test_dashboard import confirm, open_view, sign_in
from tests.live import FAST, admin_for
from tests.recording_helpers import RECORDING_ENV
from tests.servers import SalonServer, running


@pytest.fixture(scope="module")
def recording_web_server() -> Iterator[SalonServer]:
    with running("", env={**FAST, **RECORDING_ENV}) as salon:
        yield salon


async def test_mute_all_record_and_end_from_the_live_page(recording_web_server: SalonServer,
                                                          browsers: Browsers) -> None:
    server = recording_web_server
    async with admin_for(server) as admin:
        admin: AdminClient
        meeting = await admin.create_meeting(title="Live controls")
        peers = []
        for custom, name in (("a", "Ann"), ("b", "Ben")):
            added = await admin.add_participant(meeting["id"], custom, "group_call_host",
                                                name=name)
            peers.append(await RealtimeClient.join(ws_url(server.url), added["token"],
                                                   media={"audio": True, "video": False}))
    try:
        page = (await browsers.person("operator")).page
        await sign_in(page, server.url, server.api_token)
        await open_view(page, "#/live", "Live now")
        card = page.locator(f"section[data-meeting-id='{meeting['id']}']")
        await expect(card.get_by_test_id("peer-list").locator("li")).to_have_count(2)
        await expect(card.locator("li", has_text="Ann")).to_contain_text("mic on")

        await card.get_by_role("button", name="Mute everyone in Live controls").click()
        for peer in peers:
            assert (await peer.wait_for("media.disabled"))["kinds"] == ["audio"]
        await expect(card.locator("li", has_text="Ann")).to_contain_text("mic off", timeout=5000)

        await card.get_by_role("button", name="Start recording").click()
        await expect(card.locator(".pill", has_text="recording")).to_be_visible(timeout=10000)
        await peers[0].wait_for("recording.updated", timeout=10)
        await card.get_by_role("button", name="Stop recording").click()
        await expect(card.get_by_role("button", name="Start recording")).to_be_visible(
            timeout=10000)
        with httpx.Client(base_url=server.app_url, headers=server.headers) as rest:
            listed = rest.get("/recordings", params={"meeting_id": meeting["id"]}).json()["data"]
            assert len(listed) == 1
            recording = rest.get(f"/recordings/{listed[0]['id']}").json()["data"]
        assert recording["stop_reason"]["reason"] == "API_CALL"
        session_id = recording["session_id"]

        await card.get_by_role("button", name="End Live controls for everyone").click()
        await confirm(page)
        for peer in peers:
            assert (await peer.wait_for("room.ended"))["reason"] == "HOST_ENDED_MEETING"
        await expect(card).to_have_count(0, timeout=5000)

        await open_view(page, f"#/sessions/{session_id}", "Live controls")
        files = page.get_by_test_id("session-files")
        await expect(files).to_contain_text("Recording")
    finally:
        for peer in peers:
            await peer.close()
