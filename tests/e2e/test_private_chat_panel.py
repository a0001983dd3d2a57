"""Private chat from the meeting page: a recipient chosen in the chat box or from the People
panel, the message seen only by its recipient (and marked private on both sides), the
box back to Everyone when the recipient leaves, and no private option for a preset
without `chat.private.can_send`."""

from playwright.async_api import Page, expect

from salon.client import AdminClient
from tests.e2e.browser import Browsers, Person
from tests.servers import SalonServer


def message(page: Page, text: str):  # noqa: ANN201 (a Playwright Locator)
    return page.get_by_test_id("chat-message").filter(has_text=text)


def person_row(page: Page, name: str):  # noqa: ANN201
    return page.locator(f"[data-testid=participant][data-name='{name}']")


async def join(person: Person, base_url: str, token: str) -> Page:
    await person.open(base_url, token, autojoin=1, audio=0, video=0)
    await person.wait_state("joined")
    return person.page


async def participant_id(page: Page) -> str:
    return await page.evaluate("() => window.salon.client.self.participant_id")


async def meeting_of(admin: AdminClient, browsers: Browsers, title: str,
                     people: dict[str, str]) -> dict[str, tuple[Person, str]]:
    """{name: preset} → {name: (a browser, its token)} for one new meeting."""
    meeting = await admin.create_meeting(title=title)
    out = {}
    for n, (name, preset) in enumerate(people.items()):
        added = await admin.add_participant(meeting["id"], f"p{n}", preset, name=name)
        out[name] = (await browsers.person(name.split()[0].lower()), added["token"])
    return out


async def test_a_private_message_reaches_only_its_recipient(
        web_server: SalonServer, web_admin: AdminClient, browsers: Browsers) -> None:
    people = await meeting_of(web_admin, browsers, "Three of us", {
        "Ada Lee": "group_call_participant", "Ben Ode": "group_call_participant",
        "Cy Park": "group_call_participant"})
    ada, ben, cy = [await join(person, web_server.url, token) for person, token in people.values()]
    ben_id = await participant_id(ben)

    # "Message privately" on Ben's row opens the chat with Ben chosen.
    await ada.get_by_test_id("tab-participants").click()
    await person_row(ada, "Cy Park").wait_for()
    await person_row(ada, "Ben Ode").get_by_test_id("action-message").click()
    await expect(ada.get_by_test_id("panel-chat")).to_be_visible()
    recipient = ada.get_by_test_id("chat-to")
    await expect(recipient).to_be_visible()
    await expect(recipient).to_have_value(ben_id)
    await expect(recipient.locator("option")).to_have_text(["Everyone", "Ben Ode", "Cy Park"])
    await expect(ada.get_by_test_id("chat-input")).to_have_attribute("placeholder", "Message Ben Ode privately")
    await ada.get_by_test_id("chat-input").fill("for Ben only")
    await ada.get_by_test_id("chat-send").click()

    sent = message(ada, "for Ben only")
    await expect(sent).to_have_attribute("data-private", "true")
    await expect(sent.get_by_test_id("chat-from")).to_have_text("You · private to Ben Ode")
    await ben.get_by_test_id("tab-chat").click()
    got = message(ben, "for Ben only")
    await expect(got).to_have_attribute("data-private", "true")
    await expect(got.get_by_test_id("chat-from")).to_have_text("Ada Lee (private)")

    # Back to everyone: Cy gets the public message, and never the private one before it.
    await recipient.select_option(label="Everyone")
    await ada.get_by_test_id("chat-input").fill("hello everyone")
    await ada.get_by_test_id("chat-send").click()
    await cy.get_by_test_id("tab-chat").click()
    public = message(cy, "hello everyone")
    await expect(public).to_have_attribute("data-private", "false")
    await expect(public.get_by_test_id("chat-from")).to_have_text("Ada Lee")
    await expect(message(ben, "hello everyone")).to_have_count(1)
    await cy.wait_for_timeout(1000)
    assert await message(cy, "for Ben only").count() == 0
    assert await cy.locator("[data-testid=chat-message][data-private=true]").count() == 0
    assert await cy.get_by_test_id("chat-message").count() == 1
    history = await cy.evaluate("async () => (await window.salon.client.chat.history({limit: 50})).messages")
    assert [m["payload"]["text"] for m in history] == ["hello everyone"]

    # The chosen recipient leaves: the box goes back to Everyone.
    await recipient.select_option(label="Ben Ode")
    await ben.get_by_test_id("btn-leave").click()
    await expect(recipient).to_have_value("")
    await expect(recipient.locator("option")).to_have_text(["Everyone", "Cy Park"])
    await expect(ada.get_by_test_id("chat-input")).to_have_attribute("placeholder", "Message everyone")


async def test_no_private_option_without_chat_private_can_send(
        web_server: SalonServer, web_admin: AdminClient, browsers: Browsers) -> None:
    await web_admin.create_preset("public_chat_only", permissions={
        "chat": {"private": {"can_send": False, "can_receive": False}}})
    people = await meeting_of(web_admin, browsers, "Open floor", {
        "Ada Lee": "group_call_participant", "Pat Public": "public_chat_only"})
    ada, pat = [await join(person, web_server.url, token) for person, token in people.values()]

    await pat.get_by_test_id("tab-participants").click()
    await expect(person_row(pat, "Ada Lee")).to_have_count(1)
    await expect(person_row(pat, "Ada Lee").get_by_test_id("action-message")).to_have_count(0)
    await pat.get_by_test_id("tab-chat").click()
    await expect(pat.get_by_test_id("chat-to")).to_be_hidden()
    await expect(pat.get_by_test_id("chat-input")).to_be_enabled()
    await expect(pat.get_by_test_id("chat-input")).to_have_attribute("placeholder", "Message everyone")

    # Whether Pat may receive is the server's to say: it refuses, the page shows why.
    await ada.get_by_test_id("tab-participants").click()
    await person_row(ada, "Pat Public").get_by_test_id("action-message").click()
    await ada.get_by_test_id("chat-input").fill("can you hear me?")
    await ada.get_by_test_id("chat-send").click()
    await expect(ada.get_by_test_id("toast").filter(has_text="may not receive private messages")).to_have_count(1)
    await expect(ada.get_by_test_id("chat-input")).to_have_value("can you hear me?")
    assert await message(ada, "can you hear me?").count() == 0
    assert await message(pat, "can you hear me?").count() == 0
