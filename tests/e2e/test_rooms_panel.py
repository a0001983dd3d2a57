"""Breakout rooms from the meeting page (issue 6): a host creates rooms, assigns people,
broadcasts and closes them from the Rooms panel; a participant switches rooms itself;
a moved browser's video shows up in the room it was sent to."""

from salon.client import AdminClient
from tests.e2e.browser import Browsers, host_and_guest, rising
from tests.servers import SalonServer

TITLE = "() => document.getElementById('meeting-title').textContent"


async def test_a_host_runs_breakout_rooms_from_the_page(
        web_server: SalonServer, web_admin: AdminClient, browsers: Browsers) -> None:
    two = await host_and_guest(web_admin, browsers, "Workshop", names=("Hana Host", "Gus Guest"))
    host, guest = two.host, two.guest
    await host.open(web_server.url, two.host_token, autojoin=1)
    await guest.open(web_server.url, two.guest_token, autojoin=1)
    await host.wait_state("joined")
    await guest.wait_state("joined")
    guest_id = await guest.peer_id()
    await rising(host, guest_id, "video")  # they meet in the main room first

    await host.page.click("[data-testid=tab-rooms]")
    await host.page.fill("[data-testid=rooms-count]", "2")
    await host.page.click("[data-testid=rooms-create]")
    await host.wait("() => document.querySelectorAll('[data-testid=room]').length === 3")
    rooms = await host.page.evaluate(
        "async () => (await window.salon.client.connected.list()).meetings")
    assert [r["title"] for r in rooms] == ["Room 1", "Room 2"]

    await host.page.click("[data-testid=rooms-assign]")  # the guest is dealt into Room 1
    await guest.wait(f"() => ({TITLE})() === 'Room 1'")
    await host.wait("""(id) => [...document.querySelectorAll('[data-testid=room]')]
                         .some((r) => r.dataset.meetingId === id && r.textContent.includes('Gus Guest'))""",
                    rooms[0]["id"])

    # the guest may switch rooms itself: its own Rooms panel
    await guest.page.click("[data-testid=tab-rooms]")
    await guest.page.click(f"[data-meeting-id='{rooms[1]['id']}'] [data-testid=room-join]")
    await guest.wait(f"() => ({TITLE})() === 'Room 2'")

    # the host joins Room 2 and sees the moved guest's video there
    await host.page.click(f"[data-meeting-id='{rooms[1]['id']}'] [data-testid=room-join]")
    await host.wait(f"() => ({TITLE})() === 'Room 2'")
    await rising(host, await guest.peer_id(), "video")

    await host.page.fill("[data-testid=rooms-broadcast-text]", "Five minutes left")
    await host.page.click("[data-testid=rooms-broadcast]")
    await guest.wait("() => document.getElementById('toasts').textContent.includes('Five minutes left')")

    await host.page.click("[data-testid=rooms-close-all]")  # everyone back to the main room
    await guest.wait(f"() => ({TITLE})() === 'Workshop'")
    await host.wait(f"() => ({TITLE})() === 'Workshop'")
    await rising(guest, await host.peer_id(), "video")


async def test_people_without_room_rights_see_no_rooms_tab(
        web_server: SalonServer, web_admin: AdminClient, browsers: Browsers) -> None:
    await web_admin.create_preset("audience", permissions={"connected_meetings": {
        "can_switch_connected_meetings": False, "can_switch_to_parent_meeting": False}})
    meeting = await web_admin.create_meeting(title="Lecture")
    token = (await web_admin.add_participant(meeting["id"], "aud", "audience",
                                             name="Ann"))["token"]
    person = await browsers.person("audience")
    await person.open(web_server.url, token, autojoin=1)
    await person.wait_state("joined")
    assert await person.page.is_hidden("[data-testid=tab-rooms]")
