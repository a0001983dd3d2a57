"""Questions and answers from the meeting page: asked, upvoted, answered and dismissed in
one browser, seen live in the other; controls only for those the server would allow."""

from playwright.async_api import Page, expect

from salon.client import AdminClient
from tests.e2e.browser import Browsers, host_and_guest
from tests.servers import SalonServer


def question(page: Page, text: str):  # noqa: ANN201 (a Playwright Locator)
    return page.get_by_test_id("qna-question").filter(
        has=page.get_by_test_id("qna-text").get_by_text(text, exact=True))


async def test_a_guest_asks_and_the_host_upvotes_and_answers(
        web_server: SalonServer, web_admin: AdminClient, browsers: Browsers) -> None:
    two = await host_and_guest(web_admin, browsers, "Town hall", names=("Hana Host", "Gus Guest"))
    host = await two.host.join_with_panel(web_server.url, two.host_token, "qna")
    guest = await two.guest.join_with_panel(web_server.url, two.guest_token, "qna")

    await guest.get_by_test_id("qna-input").fill("Will the slides be shared?")
    await guest.get_by_test_id("qna-ask").click()
    await expect(guest.get_by_test_id("qna-input")).to_have_value("")

    asked = question(host, "Will the slides be shared?")  # live, on the host's page
    await expect(asked).to_have_count(1)
    await expect(asked.get_by_test_id("qna-asker")).to_have_text("Gus Guest")
    await expect(asked.get_by_test_id("qna-upvotes")).to_have_text("0")
    await expect(host.get_by_test_id("qna-count")).to_have_text("1")

    # The guest may neither upvote its own question nor moderate.
    mine = question(guest, "Will the slides be shared?")
    await expect(mine).to_have_attribute("data-status", "OPEN")
    assert await mine.get_by_test_id("qna-upvote").count() == 0
    assert await guest.get_by_test_id("qna-moderate").count() == 0
    assert await guest.get_by_test_id("qna-answer-input").count() == 0
    assert await guest.get_by_test_id("qna-dismiss").count() == 0

    await asked.get_by_test_id("qna-upvote").click()
    await expect(mine.get_by_test_id("qna-upvotes")).to_have_text("1")
    await expect(asked.get_by_test_id("qna-upvote")).to_have_count(0)  # once only

    await asked.get_by_test_id("qna-answer-input").fill("Yes, after the talk.")
    await asked.get_by_test_id("qna-answer-send").click()
    await expect(mine).to_have_attribute("data-status", "ANSWERED")
    await expect(mine.get_by_test_id("qna-status")).to_have_text("Answered")
    await expect(mine.get_by_test_id("qna-answer")).to_have_text("Yes, after the talk.")
    await expect(asked.get_by_test_id("qna-moderate")).to_have_count(0)  # answering is final
    await expect(host.get_by_test_id("qna-count")).to_have_text("")

    # What the page shows is what the server holds.
    stored = await guest.evaluate("async () => window.salon.client.qna.list()")
    assert [(q["text"], q["status"], q["answer"], q["upvotes"]) for q in stored] == [
        ("Will the slides be shared?", "ANSWERED", "Yes, after the talk.", 1)]


async def test_a_listener_without_public_chat_upvotes_but_cannot_ask(
        web_server: SalonServer, web_admin: AdminClient, browsers: Browsers) -> None:
    await web_admin.create_preset("qna_listener", permissions={"chat": {"public": {"can_send": False}}})
    two = await host_and_guest(web_admin, browsers, "Lecture", names=("Hana Host", "Lou Listener"),
                               guest_preset="qna_listener")
    host = await two.host.join_with_panel(web_server.url, two.host_token, "qna")
    listener = await two.guest.join_with_panel(web_server.url, two.guest_token, "qna")
    assert await listener.get_by_test_id("qna-form").count() == 0
    await expect(listener.get_by_test_id("qna-empty")).to_have_text("No questions yet.")

    await host.get_by_test_id("qna-input").fill("Any questions before we start?")
    await host.get_by_test_id("qna-ask").click()
    seen = question(listener, "Any questions before we start?")
    await expect(seen.get_by_test_id("qna-asker")).to_have_text("Hana Host")

    await seen.get_by_test_id("qna-upvote").click()
    own = question(host, "Any questions before we start?")
    await expect(own.get_by_test_id("qna-upvotes")).to_have_text("1")

    await own.get_by_test_id("qna-dismiss").click()
    await expect(seen).to_have_attribute("data-status", "DISMISSED")
    await expect(seen.get_by_test_id("qna-status")).to_have_text("Dismissed")
    assert await seen.get_by_test_id("qna-answer").count() == 0
    assert await listener.get_by_test_id("qna-upvote").count() == 0  # closed questions take none
