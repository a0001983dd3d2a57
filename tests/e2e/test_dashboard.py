"""The operator dashboard in Debian Chromium against a real server: sign in, create a
meeting, add a participant and join them from a second browser on the meeting page, see
them live and kick them, find the ended session and its charts, edit a meeting and a
preset, redeliver a webhook to a real receiver on loopback; an app-scoped token sees
nothing of another app."""

import asyncio
import json
import time
import uuid
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Page, expect

from salon.client import AdminClient, RealtimeClient, ws_url
from tests.e2e.browser import Browsers, Person
from tests.servers import SalonServer
from tests.webhook_receiver import Receiver

#: It measures frame rates, bitrates or timings: it runs alone (scripts/test-netns).
pytestmark = pytest.mark.solo

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "dashboard"


async def sign_in(page: Page, base_url: str, token: str) -> None:
    await page.goto(f"{base_url}/dashboard")
    await page.get_by_label("API token").fill(token)
    await page.get_by_test_id("signin-submit").click()
    await expect(page.get_by_test_id("app-picker")).to_be_visible()
    await expect(page.locator("#main")).to_be_focused()  # signed in: the view is drawn


async def open_view(page: Page, hash_: str, heading: str) -> None:
    await page.evaluate("(h) => { location.hash = h; }", hash_)
    await expect(page.locator("#main h1")).to_have_text(heading)


async def confirm(page: Page) -> None:
    await expect(page.get_by_test_id("confirm")).to_be_visible()
    await page.get_by_test_id("confirm-ok").click()


def _rest(server: SalonServer) -> httpx.Client:
    return httpx.Client(base_url=server.app_url, headers=server.headers, timeout=10)


async def test_operator_runs_a_meeting_from_the_dashboard(web_server: SalonServer,
                                                          browsers: Browsers) -> None:
    receiver = Receiver().up()
    receiver.scripts["/hook"] = [400]  # the first event fails for good: a 4xx
    try:
        operator = await browsers.person("operator")
        page = operator.page
        await sign_in(page, web_server.url, web_server.api_token)
        assert "token" not in page.url and web_server.api_token not in page.url

        # A webhook to a real receiver, made in the dashboard.
        await open_view(page, "#/webhooks", "Webhooks")
        await page.get_by_label("Name", exact=True).fill("ops receiver")
        await page.get_by_label("URL (http or https)").fill(receiver.url("/hook"))
        await page.get_by_test_id("create-webhook").click()
        hook_row = page.locator("[data-testid=webhook-list] li", has_text="ops receiver")
        await expect(hook_row).to_be_visible()

        # A meeting and a participant with a join link.
        await open_view(page, "#/meetings", "Meetings")
        title = f"Dashboard run {int(time.time() * 1000)}"
        await page.get_by_label("New meeting title").fill(title)
        await page.get_by_test_id("create-meeting").click()
        await expect(page.locator("#main h1")).to_have_text(title)
        meeting_id = page.url.rsplit("/", 1)[1]
        await page.get_by_label("Name", exact=True).fill("Gus Guest")
        await page.get_by_label("Custom participant id").fill("gus")
        await page.get_by_label("Preset").select_option("group_call_participant")
        await page.get_by_test_id("add-participant").click()
        link = await page.get_by_test_id("join-link-url").text_content()
        assert link and link.startswith(f"{web_server.url}/meet#token=")

        # The second browser joins on the meeting page.
        guest: Person = await browsers.person("guest")
        await guest.page.goto(f"{link}&autojoin=1&audio=0&video=0")
        await guest.wait_state("joined")

        # Live now shows them, updated by polling; kick them from there.
        await open_view(page, "#/live", "Live now")
        session_card = page.locator(f"section[data-meeting-id='{meeting_id}']")
        person = session_card.locator("[data-testid=peer-list] li", has_text="Gus Guest")
        await expect(person).to_be_visible(timeout=10000)
        await person.get_by_role("button", name="Kick Gus Guest").click()
        await confirm(page)
        await guest.wait_state("kicked")
        await expect(person).to_have_count(0, timeout=10000)

        # The ended session, its timeline and minutes.
        await open_view(page, "#/sessions", "Sessions")
        await page.get_by_label("Search: meeting title, meeting id or session id").fill(meeting_id)
        await page.get_by_label("Status").select_option("ENDED")
        ended = page.locator("[data-testid=session-list] li[data-session-id]")
        for _ in range(30):  # the session ends once the keep-alive (1.5 s here) is over
            await page.get_by_role("button", name="Search").click()
            await page.wait_for_timeout(500)
            if await ended.count():
                break
        await ended.first.locator("a").click()
        await expect(page.locator("#main h1")).to_have_text(title)
        timeline = page.get_by_test_id("timeline-chart")
        await expect(timeline.get_by_test_id("timeline-line")).to_have_count(1)
        assert await timeline.locator("path.join").count() == 1
        assert await timeline.locator("path.leave").count() == 1
        minutes = page.get_by_test_id("minutes-chart")
        await expect(minutes.locator("text.label").first).to_have_text("Gus Guest")
        await page.get_by_test_id("chat-export").click()
        session_id = page.url.rsplit("/", 1)[1]
        download = page.get_by_test_id("chat-download")
        await expect(download).to_be_visible()
        href = await download.get_attribute("href") or ""
        assert href.startswith(f"{web_server.url}/chat-exports/{session_id}.csv?"), href
        assert httpx.get(href).status_code == 200

        # The webhook's log: the failed first event, redelivered to the receiver.
        await open_view(page, "#/webhooks", "Webhooks")
        await hook_row.get_by_role("link").click()
        await expect(page.locator("#main h1")).to_have_text("Webhook ops receiver")
        failed = page.locator("[data-testid=delivery-list] li[data-status=failed]")
        for _ in range(40):
            if await failed.count():
                break
            await page.get_by_role("button", name="Refresh").click()
            await page.wait_for_timeout(250)
        await expect(failed).to_have_count(1)
        await expect(failed).to_contain_text("HTTP 400")
        event = (await failed.locator(".title").text_content() or "").strip()
        first_hits = len(receiver.at("/hook"))
        await failed.get_by_role("button").click()
        hits = receiver.wait_for("/hook", first_hits + 1)
        assert json.loads(hits[-1].body)["event"] == event
        assert hits[-1].body == hits[0].body
        delivered = page.locator("[data-testid=delivery-list] li[data-status=delivered]",
                                 has_text=event)
        for _ in range(40):
            await page.get_by_role("button", name="Refresh").click()
            if await delivered.count():
                break
            await page.wait_for_timeout(250)
        await expect(delivered.first).to_contain_text("HTTP 200")

        # The webhook's settings, replaced from its page (W4).
        await page.get_by_test_id("edit-webhook-name").fill("ops receiver (renamed)")
        await page.get_by_role("checkbox", name="meeting.participantLeft").uncheck()
        await page.get_by_test_id("save-webhook").click()
        await expect(page.locator("#main h1")).to_have_text("Webhook ops receiver (renamed)")
        with _rest(web_server) as rest:
            hooks = {h["name"]: h for h in rest.get("/webhooks").json()["data"]}
        renamed = hooks["ops receiver (renamed)"]
        assert "meeting.participantLeft" not in renamed["events"]
        assert "meeting.started" in renamed["events"] and renamed["enabled"] is True

        # Every field is editable: a nested one of ai_config and the title; the rest stays.
        with _rest(web_server) as rest:
            before = rest.get(f"/meetings/{meeting_id}").json()["data"]
        await open_view(page, f"#/meetings/{meeting_id}", title)
        await page.locator("[data-path='ai_config.summarization.word_limit']").fill("321")
        await page.locator("[data-path='title']").fill(f"{title} (edited)")
        await page.get_by_test_id("save-meeting").click()
        await expect(page.locator("#main h1")).to_have_text(f"{title} (edited)")
        with _rest(web_server) as rest:
            stored = rest.get(f"/meetings/{meeting_id}").json()["data"]
        assert stored["ai_config"]["summarization"]["word_limit"] == 321
        assert stored["title"] == f"{title} (edited)"
        before["ai_config"]["summarization"]["word_limit"] = 321
        before["title"] = stored["title"]
        assert {k: v for k, v in stored.items() if k != "updated_at"} == {
            k: v for k, v in before.items() if k != "updated_at"}

        # A preset's permission, with its default shown.
        await open_view(page, "#/presets", "Presets")
        preset_name = f"ops_{int(time.time())}"
        await page.get_by_label("New preset name").fill(preset_name)
        await page.get_by_role("button", name="Create preset").click()
        await expect(page.locator("#main h1")).to_have_text(f"Preset {preset_name}")
        kick = page.locator("[data-path='permissions.kick_participant']")
        await expect(kick).not_to_be_checked()
        await expect(page.locator("label.check", has=kick)).to_contain_text("default: false")
        preset_id = page.url.rsplit("/", 1)[1]
        with _rest(web_server) as rest:
            fresh = rest.get(f"/presets/{preset_id}").json()["data"]
        await kick.check()
        await page.get_by_test_id("save-preset").click()
        await expect(page.get_by_test_id("toast")).to_have_text("Preset saved.")
        with _rest(web_server) as rest:
            full = rest.get(f"/presets/{preset_id}").json()["data"]
        assert full["permissions"]["kick_participant"] is True
        fresh["permissions"]["kick_participant"] = True  # and nothing else changed
        assert {k: v for k, v in full.items() if k != "updated_at"} == {
            k: v for k, v in fresh.items() if k != "updated_at"}

        # Usage: the day's session is drawn.
        await open_view(page, "#/usage", "Usage")
        bars = page.get_by_test_id("usage-sessions").locator("rect.bar")
        await expect(bars.last).to_be_visible()
        heights = [float(await bar.get_attribute("height") or 0) for bar in await bars.all()]
        assert heights[-1] > 0
        with _rest(web_server) as rest:  # the same numbers as the analytics route
            stats = rest.get("/analytics/daywise").json()["data"]["session_stats"]
        totals = await page.get_by_test_id("usage-totals").text_content() or ""
        count = stats["sessions_count"]
        assert totals.startswith(f"{count} {'session' if count == 1 else 'sessions'}, ")
        assert "pageerror" not in "\n".join(operator.console), operator.console
    finally:
        receiver.down()


async def test_app_scoped_token_sees_nothing_of_another_app(web_server: SalonServer,
                                                            browsers: Browsers) -> None:
    with _rest(web_server) as rest:
        secret_meeting = rest.post("/meetings", json={"title": "Not for others"}).json()["data"]
        other = rest.post(web_server.account_url + "/apps",
                          json={"name": "scoped-app"}).json()["data"]["app"]
        scoped = rest.post(web_server.account_url + "/api_tokens",
                           json={"name": "scoped", "app_id": other["id"]}).json()["data"]
    page = (await browsers.person("scoped")).page
    await sign_in(page, web_server.url, scoped["token"])
    options = page.get_by_test_id("app-picker").locator("option")
    await expect(options).to_have_count(1)
    assert await options.first.get_attribute("value") == other["id"]

    await open_view(page, "#/meetings", "Meetings")
    await expect(page.get_by_test_id("meeting-list")).to_contain_text("No meetings match.")
    await page.get_by_label("Search by title or id").fill(secret_meeting["id"])
    await page.get_by_role("button", name="Search").click()
    await expect(page.get_by_test_id("meeting-list")).to_contain_text("No meetings match.")

    await open_view(page, f"#/meetings/{secret_meeting['id']}", "Something went wrong")
    await expect(page.locator("#main [role=alert]")).to_have_text(
        f"Meeting {secret_meeting['id']} not found.")

    await open_view(page, "#/apps", "Apps and API tokens")
    await expect(page.get_by_test_id("app-list").locator("li")).to_have_count(1)
    tokens = page.get_by_test_id("token-list").locator("li")
    await expect(tokens).to_have_count(1)
    scope = page.get_by_test_id("new-token-scope").locator("option")
    await expect(scope).to_have_count(1)
    assert "Account-wide" not in (await scope.first.text_content() or "")

    await open_view(page, "#/sessions", "Sessions")
    await expect(page.get_by_test_id("session-list")).to_contain_text("No sessions match.")
    await open_view(page, "#/live", "Live now")
    await expect(page.get_by_test_id("live-summary")).to_have_text(
        "0 live sessions, 0 in, 0 waiting.")


async def test_live_page_polls_every_two_seconds_and_not_in_the_background(
        web_server: SalonServer, browsers: Browsers) -> None:
    page = (await browsers.person("poller")).page
    await sign_in(page, web_server.url, web_server.api_token)
    polls: list[float] = []
    page.on("request", lambda request: polls.append(time.monotonic())
            if request.url.endswith("/live_sessions") else None)
    await open_view(page, "#/live", "Live now")
    await page.wait_for_timeout(5200)
    assert 2 <= len(polls) <= 4, polls  # at once, then every 2 s
    gaps = [b - a for a, b in zip(polls, polls[1:], strict=False)]
    assert all(1.7 < gap < 3.2 for gap in gaps), gaps  # 2 s after the last answer

    # The tab goes to the background: no polls; shown again: one at once.
    await page.evaluate("""() => {
        Object.defineProperty(document, 'hidden', {value: true, configurable: true});
        document.dispatchEvent(new Event('visibilitychange'));
    }""")
    quiet_from = len(polls)
    await page.wait_for_timeout(4500)
    assert len(polls) == quiet_from
    shown_at = time.monotonic()
    await page.evaluate("""() => {
        Object.defineProperty(document, 'hidden', {value: false, configurable: true});
        document.dispatchEvent(new Event('visibilitychange'));
    }""")
    await page.wait_for_timeout(3500)
    assert len(polls) >= quiet_from + 2, polls[quiet_from:]  # at once, then 2 s later
    assert polls[quiet_from] - shown_at < 0.7
    assert 1.7 < polls[quiet_from + 1] - polls[quiet_from] < 3.2

    # Leaving the page stops its polling.
    await open_view(page, "#/usage", "Usage")
    left_at = len(polls)
    await page.wait_for_timeout(4500)
    assert len(polls) == left_at


async def _set_hidden(page: Page, hidden: bool) -> None:
    await page.evaluate("""(hidden) => {
        Object.defineProperty(document, 'hidden', {value: hidden, configurable: true});
        document.dispatchEvent(new Event('visibilitychange'));
    }""", hidden)


async def test_live_page_hidden_and_shown_during_a_poll_keeps_one_loop(
        web_server: SalonServer, browsers: Browsers) -> None:
    """Hiding and showing the tab while a poll is in flight must not start a second
    polling loop next to the first (which would then poll forever)."""
    page = (await browsers.person("flicker")).page
    await sign_in(page, web_server.url, web_server.api_token)
    polls: list[float] = []

    async def slow(route) -> None:  # every poll takes 1.5 s to answer
        polls.append(time.monotonic())
        await asyncio.sleep(1.5)
        await route.continue_()

    await page.route("**/live_sessions", slow)
    await open_view(page, "#/live", "Live now")
    await expect(page.get_by_test_id("live-summary")).to_contain_text("live session",
                                                                      timeout=5000)
    # The next poll starts 2 s after the first answer; flicker the tab while it is in flight.
    start = len(polls)
    for _ in range(40):
        if len(polls) > start:
            break
        await page.wait_for_timeout(100)
    assert len(polls) > start, "no poll after the first"
    counted_from = len(polls)  # the in-flight poll is counted already
    window_from = time.monotonic()
    await _set_hidden(page, True)
    await _set_hidden(page, False)  # one poll at once (the in-flight one's loop must end)
    await page.wait_for_timeout(8000)
    in_window = [t for t in polls[counted_from:] if t - window_from < 8.0]
    # One loop: a poll every 3.5 s (1.5 s answer + 2 s), plus the one at once: 3 at most.
    # Two loops would make 5 or more.
    assert 2 <= len(in_window) <= 3, [round(t - window_from, 2) for t in polls[counted_from:]]
    await open_view(page, "#/usage", "Usage")
    await page.unroute("**/live_sessions")


async def test_a_pending_delivery_has_no_redeliver_button(web_server: SalonServer,
                                                          browsers: Browsers) -> None:
    """A delivery still waiting for a retry would reach the receiver twice if copied."""
    with _rest(web_server) as rest:
        hook = rest.post("/webhooks", json={"name": "nowhere", "url": "http://127.0.0.1:9/x",
                                            "events": ["meeting.started"]}).json()["data"]
        meeting = rest.post("/meetings", json={"title": "pending hook"}).json()["data"]
        joiner = rest.post(f"/meetings/{meeting['id']}/participants", json={
            "custom_participant_id": "p", "preset_name": "group_call_host"}).json()["data"]
    peer = await RealtimeClient.join(ws_url(web_server.url), joiner["token"])
    try:
        page = (await browsers.person("pending")).page
        await sign_in(page, web_server.url, web_server.api_token)
        await open_view(page, f"#/webhooks/{hook['id']}", "Webhook nowhere")
        pending = page.locator("[data-testid=delivery-list] li[data-status=pending]")
        for _ in range(120):  # the session's start, its webhook and a first attempt: a
            if await pending.count():  # few seconds on a loaded machine
                break
            await page.get_by_role("button", name="Refresh").click()
            await page.wait_for_timeout(250)
        await expect(pending).to_have_count(1)  # refused connections: retried with backoff
        await expect(pending.get_by_role("button")).to_have_count(0)
    finally:
        await peer.close()
        with _rest(web_server) as rest:
            rest.delete(f"/webhooks/{hook['id']}")


async def test_live_page_drops_an_older_answer_that_lands_last(
        web_server: SalonServer, web_admin: AdminClient, browsers: Browsers) -> None:
    """A poll in flight when the operator admits someone answers with the waiting room as
    it was; landing after the action's own refresh, it must not bring the peer back."""
    lobby = f"lobby_{uuid.uuid4().hex[:8]}"
    await web_admin.create_preset(lobby, permissions={"waiting_room_type": "SKIP_ON_ACCEPT"})
    meeting = await web_admin.create_meeting(title="Stale answers")
    added = await web_admin.add_participant(meeting["id"], "early", lobby, name="Early")
    early = await RealtimeClient.join(ws_url(web_server.url), added["token"])
    try:
        assert early.status == "waiting"
        page = (await browsers.person("stale")).page
        await sign_in(page, web_server.url, web_server.api_token)
        hold = {"next": False}
        stale_landed = asyncio.Event()

        async def answer(route) -> None:
            if not hold["next"]:
                await route.continue_()
                return
            hold["next"] = False
            before = await route.fetch()  # the room as it is now: Early waiting
            await asyncio.sleep(2.5)  # …delivered after the admission's refresh
            await route.fulfill(response=before)
            stale_landed.set()

        await page.route("**/live_sessions", answer)
        await open_view(page, "#/live", "Live now")
        card = page.locator(f"section[data-meeting-id='{meeting['id']}']")
        await expect(card.get_by_test_id("waiting-list").locator("li")).to_have_count(1)
        hold["next"] = True  # the next poll is the slow one
        for _ in range(40):
            if not hold["next"]:
                break
            await page.wait_for_timeout(100)
        assert not hold["next"], "no poll came"
        await card.get_by_role("button", name="Admit Early").click()
        await early.wait_for("self.admitted")
        await expect(card.get_by_test_id("waiting-list")).to_have_count(0)
        await expect(card.get_by_test_id("peer-list")).to_contain_text("Early")
        await asyncio.wait_for(stale_landed.wait(), 5)
        await page.wait_for_timeout(300)  # drawn by now, if it were drawn
        await expect(card.get_by_test_id("waiting-list")).to_have_count(0, timeout=100)
        await expect(card.get_by_test_id("peer-list")).to_contain_text("Early", timeout=100)
        await open_view(page, "#/usage", "Usage")
        await page.unroute("**/live_sessions")
    finally:
        await early.close()
