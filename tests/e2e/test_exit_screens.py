"""Exit screens of the meeting page: left, ended by the host, removed, rejected from the
waiting room, disconnected and a refused join each say what happened in words (never a
raw close or error code such as 1006 or MEETING_INACTIVE). Left, rejected, disconnected
and a refused join offer Rejoin, a real button reached by keyboard, which joins the same
meeting again with the same token as a new peer; ended (for everyone) and removed by a
host do not: the focus is on the heading and there is no button. An inactive meeting is
reported on the pre-join screen, with Join disabled.
Screenshots at 1280 × 800 and 390 × 844, with nothing overflowing, are kept in
test-artifacts/exit_screens/."""

import asyncio
import contextlib
import re
from urllib.parse import urlsplit

from playwright.async_api import Page, expect

from salon.client import AdminClient, RealtimeClient, ws_url
from tests.e2e.browser import Browsers, Person, shoot, tab_to
from tests.e2e.conftest import ARTIFACTS
from tests.servers import SalonServer

SHOTS = ARTIFACTS / "exit_screens"
RAW = re.compile(r"\b\d{4}\b|\b[A-Z]{3,}_[A-Z_]+\b")  # a close code, an error code


class Cable:
    """A TCP proxy in front of the server, for a lost connection: `cut()` drops every
    connection through it without a WebSocket close frame (1006 in the page) and refuses
    new ones until `mend()`."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        self.target = (parts.hostname, parts.port)
        self.refusing = False
        self.writers: set[asyncio.StreamWriter] = set()
        self.server: asyncio.Server | None = None
        self.url = ""

    async def start(self) -> "Cable":
        self.server = await asyncio.start_server(self._carry, "127.0.0.1", 0)
        self.url = f"http://127.0.0.1:{self.server.sockets[0].getsockname()[1]}"
        return self

    async def _carry(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.refusing:
            writer.transport.abort()
            return
        up_reader, up_writer = await asyncio.open_connection(*self.target)
        self.writers |= {writer, up_writer}

        async def pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
            with contextlib.suppress(Exception):
                while data := await source.read(65536):
                    sink.write(data)
                    await sink.drain()
            sink.close()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))
        self.writers -= {writer, up_writer}

    def cut(self) -> None:
        self.refusing = True
        for writer in list(self.writers):
            writer.transport.abort()

    def mend(self) -> None:
        self.refusing = False

    async def close(self) -> None:
        self.cut()
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()




async def expect_exit(page: Page, state: str, title: str, text: str, rejoin: bool = True) -> None:
    """The exit screen: its words, no raw code anywhere on it, and Rejoin (or, with
    `rejoin=False`, no button at all and the focus on the heading)."""
    await page.wait_for_function("(s) => document.body.dataset.state === s", arg=state,
                                 timeout=30000)
    await expect(page.get_by_test_id("notice-title")).to_have_text(title)
    await expect(page.get_by_test_id("notice-text")).to_contain_text(text)
    shown = await page.locator("#notice").inner_text()
    assert not RAW.search(shown), shown
    if not rejoin:
        await expect(page.get_by_test_id("notice-rejoin")).to_be_hidden()
        await expect(page.locator("#notice").get_by_role("button")).to_have_count(0)
        await expect(page.get_by_test_id("notice-title")).to_be_focused()
        return
    rejoin = page.get_by_test_id("notice-rejoin")
    await expect(rejoin).to_be_visible()
    await expect(rejoin).to_have_text("Rejoin")
    assert await rejoin.evaluate("(b) => b.tagName") == "BUTTON"


async def rejoin_by_keyboard(person: Person, state: str = "joined") -> None:
    await tab_to(person.page, "notice-rejoin")
    await person.page.keyboard.press("Enter")
    await person.wait_state(state, 30)


async def joined(person: Person, base_url: str, token: str) -> str:
    await person.open(base_url, token, autojoin=1, audio=0, video=0)
    await person.wait_state("joined")
    return await person.peer_id()


async def test_left_offers_rejoin_ended_and_removed_do_not(
        web_server: SalonServer, web_admin: AdminClient, browsers: Browsers) -> None:
    meeting = await web_admin.create_meeting(title="Exit screens")
    guest = await web_admin.add_participant(meeting["id"], "guest", "group_call_participant",
                                            name="Gus Guest")
    person = await browsers.person("guest")
    page = person.page
    first = await joined(person, web_server.url, guest["token"])

    # Left: words, Rejoin by keyboard, back in the meeting as a new peer.
    await page.get_by_test_id("btn-leave").click()
    await expect_exit(page, "left", "You left the meeting", "You can rejoin")
    await shoot(page, SHOTS, "1-left")
    await rejoin_by_keyboard(person)
    second = await person.peer_id()
    assert second != first
    assert await page.evaluate("() => window.salon.client.self.audio") is False  # as chosen

    # Ended for everyone (REST kick-all): the reason in words, and no Rejoin (it would
    # only start a new session alone).
    await web_admin.kick_all(meeting["id"])
    await expect_exit(page, "ended", "The meeting has ended", "The meeting was ended by the host.",
                      rejoin=False)
    await shoot(page, SHOTS, "2-ended")

    # Opened again from the link, then removed by a host (REST kick): no Rejoin either.
    await page.goto("about:blank")
    third = await joined(person, web_server.url, guest["token"])
    assert third not in (first, second)
    await web_admin.kick(meeting["id"], participant_ids=[guest["id"]])
    await expect_exit(page, "kicked", "You were removed from the meeting",
                      "A host removed you from the meeting.", rejoin=False)
    await shoot(page, SHOTS, "3-removed")


async def test_rejected_from_the_waiting_room_can_ask_again(
        web_server: SalonServer, web_admin: AdminClient, browsers: Browsers) -> None:
    meeting = await web_admin.create_meeting(title="Exit screens, lobby")
    lobby = f"lobby_{meeting['id'][:8]}"
    await web_admin.create_preset(lobby, permissions={"waiting_room_type": "SKIP_ON_ACCEPT"})
    host_row = await web_admin.add_participant(meeting["id"], "host", "group_call_host",
                                               name="Hal Host")
    guest = await web_admin.add_participant(meeting["id"], "guest", lobby, name="Gus Guest")
    host = await RealtimeClient.join(ws_url(web_server.url), host_row["token"])
    try:
        person = await browsers.person("guest")
        await person.open(web_server.url, guest["token"], autojoin=1, audio=0, video=0)
        await person.wait_state("waiting")
        waiting = await host.wait_for("waitlist.added", timeout=10)
        await host.reject([waiting["peer"]["peer_id"]])
        await expect_exit(person.page, "rejected", "You were not let in",
                          "The host declined your request to join.")
        await shoot(person.page, SHOTS, "4-rejected")
        # Rejoin asks again: the host is asked again, and admits this time.
        await rejoin_by_keyboard(person, "waiting")
        waiting = await host.wait_for("waitlist.added", timeout=10)
        await host.admit([waiting["peer"]["peer_id"]])
        await person.wait_state("joined")
    finally:
        await host.leave()


async def test_a_lost_connection_is_said_in_words(
        web_server: SalonServer, web_admin: AdminClient, browsers: Browsers) -> None:
    meeting = await web_admin.create_meeting(title="Exit screens, offline")
    guest = await web_admin.add_participant(meeting["id"], "guest", "group_call_participant",
                                            name="Gus Guest")
    person = await browsers.person("guest")
    page = person.page
    cable = await Cable(web_server.url).start()
    try:
        first = await joined(person, cable.url, guest["token"])
        # The network goes: the socket breaks without a close frame (1006 in the page);
        # the SDK tries to resume for about 8 s, then gives up.
        cable.cut()
        await expect(page.get_by_test_id("connection")).to_have_text("Reconnecting…",
                                                                     timeout=10000)
        await expect_exit(page, "disconnected", "You are disconnected",
                          "The connection was lost.")
        assert await page.evaluate("() => window.salon.client.closeCode") == 1006
        await shoot(page, SHOTS, "5-disconnected")
        cable.mend()
        await rejoin_by_keyboard(person)
        assert await person.peer_id() != first
    finally:
        await cable.close()


async def test_an_inactive_meeting_is_said_before_join(
        web_server: SalonServer, web_admin: AdminClient, browsers: Browsers) -> None:
    meeting = await web_admin.create_meeting(title="Closed for the day")
    guest = await web_admin.add_participant(meeting["id"], "guest", "group_call_participant",
                                            name="Gus Guest")
    person = await browsers.person("guest")
    page = person.page

    # Open on the pre-join screen, then the meeting is made inactive: Join is refused
    # in words, with Rejoin.
    await person.open(web_server.url, guest["token"], audio=0, video=0)
    await expect(page.get_by_test_id("prejoin-join")).to_be_enabled()
    await expect(page.get_by_test_id("prejoin-inactive")).to_be_hidden()
    await web_admin.update_meeting(meeting["id"], status="INACTIVE")
    await page.get_by_test_id("prejoin-join").click()
    await expect_exit(page, "error", "This meeting is closed", "This meeting is not active.")
    await shoot(page, SHOTS, "6-refused-inactive")

    # Rejoin (or any later visit) learns it before Join: said, and Join disabled.
    await rejoin_by_keyboard(person, "prejoin")
    inactive = page.get_by_test_id("prejoin-inactive")
    await expect(inactive).to_be_visible()
    await expect(inactive).to_have_text(re.compile(r"This meeting is not active"))
    await expect(page.get_by_test_id("prejoin-join")).to_be_disabled()
    assert (await page.evaluate("() => window.salon.info.meeting.status")) == "INACTIVE"
    await shoot(page, SHOTS, "7-prejoin-inactive")

    # Active again: the same link (Rejoin's, with autojoin) joins at once.
    await web_admin.update_meeting(meeting["id"], status="ACTIVE")
    await page.reload()
    await person.wait_state("joined")
