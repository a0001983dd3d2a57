"""The meeting page in a large room (docs/large-rooms.md, docs/meeting-page.md): past the
threshold a webinar's audience is not pushed to the audience, so the People panel shows
the counts, kept current by the batched `audience.delta`, and a searchable list paged on
request (`peers.list`). A server of its own with a threshold of 4, so a handful of Python
listeners and one Chromium make a large room."""

import asyncio

import pytest
from playwright.async_api import expect

from tests.e2e.browser import Browsers, shoot
from tests.e2e.conftest import ARTIFACTS
from tests.live import FAST, Meeting, admin_for
from tests.servers import running

pytestmark = pytest.mark.netns

LISTENER = {"stage_enabled": True, "stage_access": "CAN_REQUEST", "show_participant_list": True}


async def test_people_in_a_large_room_are_counts_and_a_searchable_list(browsers: Browsers) -> None:
    env = {**FAST, "SALON_ICE_HOSTS": "127.0.0.1", "SALON_LARGE_ROOM_THRESHOLD": "4",
           "SALON_AUDIENCE_UPDATE_SECS": "0.3"}
    with running("", env=env) as salon:
        async with admin_for(salon) as admin:
            room = Meeting(salon, admin, await admin.create_meeting(title="Big webinar"))
            try:
                await admin.create_preset("listener", permissions=LISTENER)
                await room.join("group_call_host", "Hana Host")
                listeners = [await room.participant("listener", f"Listener {i}") for i in range(6)]
                await asyncio.gather(*(room.connect(p["token"]) for p in listeners))
                viewer = await room.participant("listener", "Vera Viewer")
                person = await browsers.person("vera")
                await person.open(salon.url, viewer["token"], autojoin=1, audio=0, video=0)
                await person.wait_state("joined")
                page = person.page
                # 8 here: the host (on stage: a group-call preset has no stage to be off), six listeners and Vera.
                await expect(page.get_by_test_id("people-count")).to_have_text("8")
                await page.get_by_test_id("tab-participants").click()
                counts = page.get_by_test_id("audience-counts")
                await expect(counts).to_have_text("8 here · 1 on stage · 7 watching")
                listed = page.get_by_test_id("audience-list").get_by_test_id("participant")
                await expect(listed).to_have_count(8)  # everyone here (a page holds 50)
                # Search asks the server (peers.list with a name).
                await page.get_by_test_id("audience-search").fill("listener 3")
                await expect(listed).to_have_count(1)
                await expect(listed).to_have_attribute("data-name", "Listener 3")
                await expect(page.get_by_test_id("audience-search")).to_be_focused()
                # A newcomer reaches Vera as a batched count, not a tile or a row.
                late = await room.participant("listener", "Late Listener")
                await room.connect(late["token"])
                await expect(counts).to_have_text("9 here · 1 on stage · 8 watching")
                await expect(page.get_by_test_id("people-count")).to_have_text("9")
                # Tiles are the stage (the host) only; the audience is counted, not drawn.
                await expect(page.locator("[data-testid=tile]")).to_have_count(1)
                await expect(page.get_by_test_id("viewers-count")).to_have_text("8 watching")
                await shoot(page, ARTIFACTS / "large_room", "people")
            finally:
                await room.close()
