"""Joining, the waiting room and the People list, by keyboard and screen reader.

- The pre-join screen is a form: Enter in the name field joins. An empty name is said
  on the field itself (aria-invalid, aria-describedby naming the error) and the focus is
  put back on the field; typing a name clears the error.
- Reaching the waiting room puts the focus on its heading (a screen reader says where
  the person is), as the exit screens do.
- The host's waiting lists (the requests badge's list and People) show the person's
  name, not the preset's internal name; every People button is named for the person
  it acts on ("Mute Gus Guest"), in the waiting list and in the meeting.
Screenshots at desktop and phone sizes are kept in test-artifacts/join_and_people/."""

from playwright.async_api import Page, expect

from salon.client import AdminClient
from tests.e2e.browser import Browsers, host_and_guest, opened_in_a_meeting, shoot
from tests.e2e.conftest import ARTIFACTS
from tests.servers import SalonServer

SHOTS = ARTIFACTS / "join_and_people"


async def focused(page: Page) -> str | None:
    return await page.evaluate("() => document.activeElement && document.activeElement.dataset.testid")


async def test_enter_joins_and_an_empty_name_is_said_on_the_field(
        web_server: SalonServer, web_admin: AdminClient, browsers: Browsers) -> None:
    person, _ = await opened_in_a_meeting(web_admin, browsers, web_server.url, "Enter to join",
                                          state="prejoin", size=None, audio=0, video=0)
    page = person.page
    field = page.get_by_test_id("prejoin-name")
    error = page.get_by_test_id("prejoin-name-error")
    await expect(error).to_be_hidden()
    await expect(field).not_to_have_attribute("aria-invalid", "true")

    # No name, Join clicked: the error is on the field, and the focus goes back to it.
    await field.fill("   ")
    await page.get_by_test_id("prejoin-join").click()
    await expect(error).to_be_visible()
    await expect(error).to_have_text("Please enter your name.")
    await expect(field).to_have_attribute("aria-invalid", "true")
    await expect(field).to_have_attribute("aria-describedby", "prejoin-name-error")
    await expect(field).to_have_accessible_description("Please enter your name.")
    assert await focused(page) == "prejoin-name"
    assert await person.state() == "prejoin"
    await shoot(page, SHOTS, "1-empty-name")

    # Enter with no name: the same, still not joined.
    await page.keyboard.press("Enter")
    await page.wait_for_timeout(300)
    assert await person.state() == "prejoin"
    assert await focused(page) == "prejoin-name"

    # A name typed: the error goes; Enter joins, with that name.
    await page.keyboard.type("Ana Enter")
    await expect(error).to_be_hidden()
    await expect(field).not_to_have_attribute("aria-invalid", "true")
    assert await field.get_attribute("aria-describedby") is None
    await page.keyboard.press("Enter")
    await person.wait_state("joined")
    assert await page.evaluate("() => window.salon.client.self.name") == "Ana Enter"


async def test_waiting_room_focus_and_people_buttons_named_for_each_person(
        web_server: SalonServer, web_admin: AdminClient, browsers: Browsers) -> None:
    two = await host_and_guest(web_admin, browsers, "People names", names=("Hal Host", "Gus Guest"),
                               waiting_room=True)
    host, guest = two.host, two.guest
    await host.open(web_server.url, two.host_token, autojoin=1, audio=0, video=0)
    await host.wait_state("joined")

    # The guest reaches the waiting room: its heading has the focus.
    await guest.open(web_server.url, two.guest_token, autojoin=1, audio=1, video=1)
    await guest.wait_state("waiting")
    assert await focused(guest.page) == "waiting-title"
    await expect(guest.page.get_by_test_id("waiting-title")).to_have_text("Waiting to be let in")
    await shoot(guest.page, SHOTS, "2-waiting")

    # The host's requests list: the name, no preset name.
    hp = host.page
    await hp.get_by_test_id("host-badge").click()
    request = hp.get_by_test_id("request-waiting")
    await expect(request).to_have_count(1)
    await expect(request).to_contain_text("Gus Guest")
    assert two.guest_preset not in await request.inner_text()
    await hp.get_by_test_id("requests-close").click()

    # People: the waiting person, their name only, and buttons named for them.
    await hp.get_by_test_id("tab-participants").click()
    waiting = hp.get_by_test_id("waiting-person")
    await expect(waiting).to_contain_text("Gus Guest")
    await expect(waiting.get_by_test_id("action-admit")).to_have_accessible_name("Admit Gus Guest")
    await expect(waiting.get_by_test_id("action-reject")).to_have_accessible_name("Reject Gus Guest")
    assert two.guest_preset not in await waiting.inner_text()
    await shoot(hp, SHOTS, "3-host-people-waiting")
    await waiting.get_by_test_id("action-admit").click()
    await guest.wait_state("joined", 30)

    # In the meeting: each of the guest's buttons says whom it acts on, and the host's
    # own row says its own name.
    guest_id = await guest.peer_id()
    await host.wait("(id) => { const p = window.salon.client.peers.get(id); return p && p.audio && p.video; }",
                    guest_id, timeout=30)
    row = hp.locator(f"[data-testid=participant][data-peer-id='{guest_id}']")
    for testid, name in (("action-pin", "Pin Gus Guest"), ("action-mute", "Mute Gus Guest"),
                         ("action-video-off", "Stop video of Gus Guest"), ("action-kick", "Remove Gus Guest")):
        await expect(row.get_by_test_id(testid)).to_have_accessible_name(name)
    names = await row.get_by_role("button").evaluate_all("(bs) => bs.map((b) => b.getAttribute('aria-label') || '')")
    assert names and all("Gus Guest" in n for n in names), names
    own = hp.locator("[data-testid=participant]").filter(has_text="(you)")
    await expect(own.get_by_test_id("action-pin")).to_have_accessible_name("Pin Hal Host")
    await hp.get_by_role("button", name="Mute Gus Guest").click()
    await guest.wait("() => !window.salon.client.self.audio")
    await shoot(hp, SHOTS, "4-host-people")
