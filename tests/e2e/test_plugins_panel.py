"""Plugins from the meeting page: opened and closed in one browser, shown as a sandboxed
frame in every browser, live; Open and Close only for those the server would allow; a
move to a breakout room shows that room's plugins."""

import uuid

from playwright.async_api import Page, expect

from salon.client import AdminClient
from tests.e2e.browser import Browsers, host_and_guest
from tests.servers import SalonServer

SANDBOX = "allow-scripts allow-same-origin allow-forms"


async def register_plugin(admin: AdminClient, server: SalonServer, name: str) -> dict:
    """A registry plugin whose page is this test's own server (there is no outside network),
    named `localhost` rather than 127.0.0.1: another origin than the page's, as real
    plugins are, so the page's Content-Security-Policy must let it into a frame."""
    other_origin = server.url.replace("127.0.0.1", "localhost")
    return await admin.call("POST", "/plugins", json={
        "name": f"{name} {uuid.uuid4().hex[:6]}", "url": f"{other_origin}/healthz",
        "description": "Served on loopback."})


def entry(page: Page, plugin: dict):  # noqa: ANN201 (a Playwright Locator)
    return page.locator(f'[data-testid="plugin"][data-plugin-id="{plugin["id"]}"]')


def frame(page: Page, plugin: dict):  # noqa: ANN201 (a Playwright Locator)
    return page.locator(f'[data-testid="plugin-frame"][data-plugin-id="{plugin["id"]}"]')


async def expect_shown(page: Page, plugin: dict) -> None:
    shown = frame(page, plugin)
    await expect(shown).to_have_count(1)
    await expect(shown).to_be_visible()
    await expect(shown).to_have_attribute("src", plugin["url"])
    await expect(shown).to_have_attribute("sandbox", SANDBOX)
    await expect(shown).to_have_attribute("title", plugin["name"])
    # The plugin's page really loaded in the frame (the server's health answer).
    body = shown.content_frame.locator("body")
    await expect(body).to_contain_text('"success"')
    await expect(entry(page, plugin)).to_have_attribute("data-active", "true")
    await expect(page.get_by_test_id("plugins-count")).to_have_text("1")


async def test_the_host_opens_a_plugin_for_everyone_and_closes_it(
        web_server: SalonServer, web_admin: AdminClient, browsers: Browsers) -> None:
    plugin = await register_plugin(web_admin, web_server, "Whiteboard")
    two = await host_and_guest(web_admin, browsers, "Workshop", names=("Hana Host", "Gus Guest"))
    host = await two.host.join_with_panel(web_server.url, two.host_token, "plugins")
    guest = await two.guest.join_with_panel(web_server.url, two.guest_token, "plugins")

    listed = entry(host, plugin)
    await expect(listed.get_by_test_id("plugin-name")).to_have_text(plugin["name"])
    await expect(listed).to_have_attribute("data-active", "false")
    assert await host.get_by_test_id("plugin-frame").count() == 0
    assert await guest.get_by_test_id("plugin-frame").count() == 0

    await listed.get_by_test_id("plugin-open").click()
    await expect_shown(host, plugin)
    await expect_shown(guest, plugin)  # live, on the guest's page
    await expect(listed.get_by_test_id("plugin-open")).to_have_count(0)
    await expect(entry(guest, plugin).get_by_test_id("plugin-active")).to_have_text("Active")

    # What the page shows is what the server holds.
    held = await guest.evaluate("async () => (await window.salon.client.plugins.list()).active")
    assert held == [plugin["id"]]

    await listed.get_by_test_id("plugin-close").click()
    await expect(frame(host, plugin)).to_have_count(0)
    await expect(frame(guest, plugin)).to_have_count(0)
    await expect(entry(guest, plugin)).to_have_attribute("data-active", "false")
    await expect(guest.get_by_test_id("plugins-count")).to_have_text("")
    await expect(listed.get_by_test_id("plugin-open")).to_have_count(1)
    held = await host.evaluate("async () => (await window.salon.client.plugins.list()).active")
    assert held == []


async def test_a_viewer_who_may_not_open_plugins_sees_them_but_gets_no_buttons(
        web_server: SalonServer, web_admin: AdminClient, browsers: Browsers) -> None:
    plugin = await register_plugin(web_admin, web_server, "Quiz")
    preset = f"plugin_viewer_{uuid.uuid4().hex[:6]}"
    await web_admin.create_preset(preset, permissions={"plugins": {"can_start": False, "can_close": False}})
    two = await host_and_guest(web_admin, browsers, "Lecture", names=("Hana Host", "Val Viewer"),
                               guest_preset=preset)
    host = await two.host.join_with_panel(web_server.url, two.host_token, "plugins")
    viewer = await two.guest.join_with_panel(web_server.url, two.guest_token, "plugins")

    await expect(entry(viewer, plugin).get_by_test_id("plugin-name")).to_have_text(plugin["name"])
    assert await viewer.get_by_test_id("plugin-open").count() == 0

    await entry(host, plugin).get_by_test_id("plugin-open").click()
    await expect_shown(viewer, plugin)
    assert await viewer.get_by_test_id("plugin-close").count() == 0
    assert await viewer.get_by_test_id("plugin-open").count() == 0

    # A page that enters later finds the active plugin (from plugin.list).
    await viewer.reload()
    await viewer.wait_for_function("() => document.body.dataset.state === 'joined'")
    await viewer.get_by_test_id("tab-plugins").click()
    await expect_shown(viewer, plugin)

    await entry(host, plugin).get_by_test_id("plugin-close").click()
    await expect(frame(viewer, plugin)).to_have_count(0)


async def test_the_servers_refusal_to_open_is_shown(
        web_server: SalonServer, web_admin: AdminClient, browsers: Browsers) -> None:
    plugin = await register_plugin(web_admin, web_server, "Poll board")
    two = await host_and_guest(web_admin, browsers, "Retro", names=("Hana Host", "Gus Guest"))
    host = await two.host.join_with_panel(web_server.url, two.host_token, "plugins")
    listed = entry(host, plugin)
    await expect(listed.get_by_test_id("plugin-open")).to_have_count(1)

    await web_admin.call("DELETE", f"/plugins/{plugin['id']}")  # gone from the registry meanwhile
    await listed.get_by_test_id("plugin-open").click()
    await expect(host.get_by_test_id("toast").filter(has_text=plugin["id"])).to_have_count(1)
    assert await host.get_by_test_id("plugin-frame").count() == 0


async def test_a_move_to_a_breakout_room_shows_that_rooms_plugins(
        web_server: SalonServer, web_admin: AdminClient, browsers: Browsers) -> None:
    plugin = await register_plugin(web_admin, web_server, "Notes")
    two = await host_and_guest(web_admin, browsers, "Offsite", names=("Hana Host", "Gus Guest"))
    host = await two.host.join_with_panel(web_server.url, two.host_token, "plugins")
    guest = await two.guest.join_with_panel(web_server.url, two.guest_token, "plugins")
    await entry(host, plugin).get_by_test_id("plugin-open").click()
    await expect_shown(guest, plugin)

    # The host sends the guest to a new breakout room, where nothing is active yet.
    await host.evaluate("""async (peerId) => {
        const [room] = await window.salon.client.connected.create(["Side room"]);
        await window.salon.client.connected.move(room.id, {peerIds: [peerId]});
    }""", await two.guest.peer_id())
    await expect(guest.locator("#meeting-title")).to_have_text("Side room")
    await expect(frame(guest, plugin)).to_have_count(0)
    await expect(entry(guest, plugin)).to_have_attribute("data-active", "false")
    await expect_shown(host, plugin)  # still open in the main room

    # The host follows: in the breakout room it opens the plugin there for the guest.
    await host.evaluate("""async () => {
        const {meetings} = await window.salon.client.connected.list();
        await window.salon.client.connected.switch(meetings.find((m) => m.title === "Side room").id);
    }""")
    await expect(host.locator("#meeting-title")).to_have_text("Side room")
    await expect(frame(host, plugin)).to_have_count(0)
    await entry(host, plugin).get_by_test_id("plugin-open").click()
    await expect_shown(guest, plugin)
    await expect_shown(host, plugin)
