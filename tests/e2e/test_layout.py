"""The stage's layout engine and the tile menu (issue 15 §1 and §4).

One Chromium looks at the meeting; the crowd is Python peers (`salon.client`, no media)
so the box's two cores are not spent on browsers. Checked at 1280 × 800, 390 × 844 and
844 × 390: no sideways overflow, every tile on screen inside the stage, people's tiles
16:9 (within 1%), no two tiles overlapping, the grid using the space, pages when more
people than a page holds. A Python peer shares a (synthetic) screen: it is fitted whole
with the people in a strip. Speaker view follows `media.speaker` (a Python peer sends a
tone). Pin for me and Pin for everyone enlarge a tile; webinar viewers off the stage
are a count, not tiles; the tile menu is worked by keyboard and offers only what the
viewer may do. Screenshots are kept in test-artifacts/layout/.
"""

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import pytest
from playwright.async_api import Page, expect

from salon.client import AdminClient, RealtimeClient, ws_url
from salon.client.media import MediaSession
from salon.client.media.sources import SyntheticVideo, ToneSource
from tests.e2e.browser import (
    DESKTOP,
    LANDSCAPE,
    PHONE,
    Browsers,
    Person,
    no_overflow,
    reveal,
    tab_to,
)
from tests.e2e.conftest import ARTIFACTS
from tests.servers import SalonServer

pytestmark = pytest.mark.netns

SHOTS = ARTIFACTS / "layout"
SIZES = {"desktop": DESKTOP, "phone": PHONE, "landscape": LANDSCAPE}

GEOMETRY = """() => {
    const box = (el) => { const r = el.getBoundingClientRect(); return {x: r.left, y: r.top, w: r.width, h: r.height}; };
    const grid = document.getElementById("grid");
    const shown = (el) => !el.hidden && el.getClientRects().length;
    return {
        stage: box(grid), view: grid.dataset.view,
        tiles: [...grid.querySelectorAll("[data-testid=tile], [data-testid=screen-tile]")].filter(shown).map((t) => ({
            ...box(t), key: t.dataset.key, kind: t.dataset.kind, role: t.dataset.role, name: t.dataset.name || "",
            self: t.dataset.self === "true"})),
        overflow: [...grid.querySelectorAll("[data-testid=tile-overflow]")].filter(shown).map(box),
        pager: [...grid.querySelectorAll("[data-testid=pager], [data-testid=viewers-count]")].filter(shown).map(box),
    };
}"""


def overlap(a: dict[str, float], b: dict[str, float]) -> bool:
    return (a["x"] < b["x"] + b["w"] - 0.5 and b["x"] < a["x"] + a["w"] - 0.5
            and a["y"] < b["y"] + b["h"] - 0.5 and b["y"] < a["y"] + a["h"] - 0.5)


async def geometry(page: Page) -> dict[str, Any]:
    """The stage's tiles on screen, checked: inside the stage, 16:9, none overlapping."""
    found = await page.evaluate(GEOMETRY)
    stage = found["stage"]
    boxes = found["tiles"] + found["overflow"] + found["pager"]
    for tile in boxes:
        assert tile["x"] >= stage["x"] - 0.5 and tile["y"] >= stage["y"] - 0.5, (tile, stage)
        assert tile["x"] + tile["w"] <= stage["x"] + stage["w"] + 0.5, (tile, stage)
        assert tile["y"] + tile["h"] <= stage["y"] + stage["h"] + 0.5, (tile, stage)
    for tile in found["tiles"]:
        if tile["kind"] == "video":
            assert abs(tile["w"] / tile["h"] / (16 / 9) - 1) < 0.01, tile
    for i, a in enumerate(boxes):
        for b in boxes[i + 1:]:
            assert not overlap(a, b), (a, b)
    return found


async def shoot_sizes(person: Person, step: str, check: Any = None) -> None:
    """At each window size: no overflow, the tiles' geometry, then a screenshot kept in
    test-artifacts/layout/; `check(size_name, geometry)` may add assertions."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    page = person.page
    for size_name, size in SIZES.items():
        await page.set_viewport_size(size)
        await page.wait_for_timeout(250)
        await no_overflow(page)
        found = await geometry(page)
        if check:
            await check(size_name, found)
        await page.screenshot(path=str(SHOTS / f"{step}-{size_name}.png"))
    await page.set_viewport_size(DESKTOP)
    await page.wait_for_timeout(150)


@contextlib.asynccontextmanager
async def crowd(server: SalonServer, admin: AdminClient, meeting_id: str, count: int,
                preset: str = "group_call_participant", start: int = 0) -> AsyncIterator[list[RealtimeClient]]:
    """`count` Python peers in the meeting (no media), named P1, P2, …; they leave after."""
    url = ws_url(server.url)
    peers: list[RealtimeClient] = []
    try:
        for i in range(start, start + count):
            row = await admin.add_participant(meeting_id, f"p{i + 1}", preset, name=f"P{i + 1}")
            peers.append(await RealtimeClient.join(url, row["token"]))
        yield peers
    finally:
        await asyncio.gather(*(peer.leave() for peer in peers), return_exceptions=True)


async def tiles_shown(person: Person, count: int) -> None:
    await person.wait("(n) => document.querySelectorAll('#grid [data-testid=tile]').length === n", count)


async def test_layout_engine_over_many_sizes(
        web_server: SalonServer, web_admin: AdminClient, browsers: Browsers) -> None:
    """layout.js alone, in the page: for every size and count, tiles inside the stage,
    16:9, not overlapping, and as large as any columns × rows allows."""
    meeting = await web_admin.create_meeting(title="Pure layout")
    row = await web_admin.add_participant(meeting["id"], "ada", "group_call_host", name="Ada")
    person = await browsers.person("pure")
    await person.open(web_server.url, row["token"])
    await person.wait_state("prejoin")
    problems = await person.page.evaluate("""async () => {
        const L = await import('/meet/layout.js');
        const out = [];
        const sizes = [[1280, 640], [1920, 980], [390, 700], [844, 250], [320, 480], [600, 600], [2560, 1300], [700, 300]];
        for (const [width, height] of sizes) for (let n = 1; n <= 30; n++) for (const mode of ["auto", "speaker"]) for (const withSelf of [true, false]) {
            const tiles = Array.from({length: n}, (_, i) => ({key: `p${i}`, kind: "person", self: withSelf && i === 0, speaking: i === 2}));
            const r = L.layout({width, height, tiles, mode, compact: Math.min(width, height) < 500,
                                config: {max_video_streams: {desktop: 9, mobile: 6}}});
            const rects = [...r.placed, ...(r.overflow ? [r.overflow] : []), ...(r.pager ? [r.pager] : [])];
            const tag = `${width}x${height} n=${n} ${mode}${withSelf ? "" : " (no self)"}`;
            for (const p of rects) {
                if (p.x < -0.01 || p.y < -0.01 || p.x + p.w > width + 0.01 || p.y + p.h > height + 0.01) out.push(`${tag}: outside ${JSON.stringify(p)}`);
            }
            for (const p of r.placed) if (Math.abs(p.w / p.h / (16 / 9) - 1) > 0.01) out.push(`${tag}: not 16:9`);
            for (let i = 0; i < rects.length; i++) for (let j = i + 1; j < rects.length; j++) {
                if (L.overlaps(rects[i], rects[j])) out.push(`${tag}: overlap ${i} ${j}`);
            }
            const shown = r.placed.length + (r.overflow ? r.overflow.count : 0);
            const onPages = r.view === "grid" ? r.pages * r.perPage : 0;
            if (r.placed.length === 0) out.push(`${tag}: nothing shown`);
            if (r.view === "grid" && r.pages === 1 && r.placed.length !== n) out.push(`${tag}: ${r.placed.length} of ${n} on one page`);
            if (r.view !== "grid" && shown !== n) out.push(`${tag}: ${shown} of ${n} in the focus view`);
            // Area-maximising: no columns × rows gives larger tiles than the grid's (with a
            // self-view corner the grid may give up a band to it: checked without one).
            if (r.view === "grid" && !r.placed.some((p) => p.role === "corner")) {
                const grid = r.placed.filter((p) => p.role === "grid");
                const area = {w: width - 2 * L.GAP, h: height - 2 * L.GAP - (r.pager ? L.PAGER_HEIGHT : 0)};
                for (let cols = 1; cols <= grid.length; cols++) {
                    const rows = Math.ceil(grid.length / cols);
                    const w = Math.min((area.w - (cols - 1) * L.GAP) / cols, (area.h - (rows - 1) * L.GAP) / rows * 16 / 9);
                    if (w > grid[0].w + 0.5) out.push(`${tag}: ${cols} columns give ${w} > ${grid[0].w}`);
                }
            }
        }
        // A screen is fitted whole (its own shape) in presentation view.
        const r = L.layout({width: 1280, height: 640, tiles: [{key: "s", kind: "screen", aspect: 4 / 3},
            {key: "a", kind: "person", self: true}, {key: "b", kind: "person"}]});
        const main = r.placed.find((p) => p.role === "main");
        if (r.view !== "presentation" || main.key !== "s" || Math.abs(main.w / main.h - 4 / 3) > 0.01 || main.h > 640) out.push(`screen: ${JSON.stringify(r)}`);
        // An audio room: avatars in the grid only (no focus view, no corner), pinned first
        // (for you, then for everyone),
        // up to 25 a page.
        const people = Array.from({length: 30}, (_, i) => ({key: `a${i}`, kind: "person", self: i === 0,
                                                             pinnedForAll: i === 7, pinnedLocally: i === 3}));
        const audio = L.layout({width: 1920, height: 1000, tiles: people, mode: "speaker", config: {view_type: "AUDIO_ROOM"}});
        if (audio.view !== "grid" || audio.placed.some((p) => p.role !== "grid") || audio.placed[0].key !== "a3" || audio.placed[1].key !== "a7" ||
            audio.placed.length !== 25 || audio.pages !== 2) out.push(`audio room: ${JSON.stringify(audio).slice(0, 300)}`);
        // The preset's cap: max_video_streams.desktop, or .mobile on a small screen.
        const cap = (compact) => L.layout({width: 1920, height: 1000, tiles: people.map((p) => ({...p, pinnedForAll: false, pinnedLocally: false})),
                                           compact, config: {max_video_streams: {desktop: 4, mobile: 2}}}).placed.filter((p) => p.role === "grid").length;
        if (cap(false) !== 4 || cap(true) !== 2) out.push(`max_video_streams: ${cap(false)} ${cap(true)}`);
        return out;
    }""")
    assert problems == [], problems[:20]


async def test_grid_with_1_2_4_9_16_people(
        web_server: SalonServer, web_admin: AdminClient, browsers: Browsers) -> None:
    meeting = await web_admin.create_meeting(title="Layouts")
    mid = meeting["id"]
    row = await web_admin.add_participant(mid, "ada", "group_call_host", name="Ada")
    ada = await browsers.person("ada")
    await ada.open(web_server.url, row["token"], autojoin=1, audio=0, video=0)
    await ada.wait_state("joined")
    page = ada.page
    await page.set_viewport_size(DESKTOP)

    async def alone(size: str, found: dict[str, Any]) -> None:
        assert [t["self"] for t in found["tiles"]] == [True]
        assert found["tiles"][0]["w"] >= 0.5 * found["stage"]["w"] or found["tiles"][0]["h"] >= 0.8 * found["stage"]["h"]

    await shoot_sizes(ada, "people-01", alone)

    async with crowd(web_server, web_admin, mid, 1) as first:
        await tiles_shown(ada, 2)

        async def two(size: str, found: dict[str, Any]) -> None:
            assert len(found["tiles"]) == 2 and all(t["role"] == "grid" for t in found["tiles"])

        await shoot_sizes(ada, "people-02", two)
        async with crowd(web_server, web_admin, mid, 2, start=1) as more:
            await tiles_shown(ada, 4)

            async def four(size: str, found: dict[str, Any]) -> None:
                # Three others in the grid, yourself in the corner.
                roles = sorted(t["role"] for t in found["tiles"])
                assert roles == ["corner", "grid", "grid", "grid"], roles
                corner = next(t for t in found["tiles"] if t["role"] == "corner")
                assert corner["self"]
                # Tab follows what is seen: the corner (made first, when Ada was alone) comes last.
                assert found["tiles"][-1] is corner
                if size == "desktop":
                    grid = [t for t in found["tiles"] if t["role"] == "grid"]
                    assert len({round(t["y"]) for t in grid}) == 2  # two rows, 2 × 2
                    for tile in grid:
                        assert tile["w"] >= 0.25 * found["stage"]["w"], tile

            await shoot_sizes(ada, "people-04", four)
            async with crowd(web_server, web_admin, mid, 5, start=3) as many:
                await tiles_shown(ada, 9)

                async def nine(size: str, found: dict[str, Any]) -> None:
                    # 8 others: more than a page of 6 (the preset's max_video_streams).
                    grid = [t for t in found["tiles"] if t["role"] == "grid"]
                    assert len(grid) == 6, grid
                    assert found["pager"], "a pager"
                    await expect(page.get_by_test_id("page-label")).to_have_text("Page 1 of 2")

                await shoot_sizes(ada, "people-09", nine)
                # A side panel narrows the stage: the tiles follow (ResizeObserver).
                wide = next(t["w"] for t in (await geometry(page))["tiles"] if t["role"] == "grid")
                await page.get_by_test_id("tab-chat").click()
                await expect(page.get_by_test_id("panel-chat")).to_be_visible()
                await ada.wait("(w) => { const t = document.querySelector('#grid [data-role=grid]');"
                               " return t && t.getBoundingClientRect().width < w - 1; }", wide)
                await geometry(page)
                await no_overflow(page)
                await page.screenshot(path=str(SHOTS / "people-09-chat-desktop.png"))
                await page.get_by_test_id("tab-chat").click()
                await expect(page.get_by_test_id("panel-chat")).to_be_hidden()
                async with crowd(web_server, web_admin, mid, 7, start=8) as crowd16:
                    await tiles_shown(ada, 16)

                    async def sixteen(size: str, found: dict[str, Any]) -> None:
                        await expect(page.get_by_test_id("page-label")).to_have_text("Page 1 of 3")

                    await shoot_sizes(ada, "people-16", sixteen)
                    # Paging on a phone: Next shows the next people, Previous goes back.
                    await page.set_viewport_size(PHONE)
                    await page.wait_for_timeout(200)
                    before = {t["key"] for t in (await geometry(page))["tiles"] if t["role"] == "grid"}
                    await expect(page.get_by_test_id("page-prev")).to_be_disabled()
                    await page.get_by_test_id("page-next").click()
                    await expect(page.get_by_test_id("page-label")).to_have_text("Page 2 of 3")
                    after = {t["key"] for t in (await geometry(page))["tiles"] if t["role"] == "grid"}
                    assert before.isdisjoint(after) and len(after) == 6
                    await page.get_by_test_id("page-next").click()
                    await expect(page.get_by_test_id("page-label")).to_have_text("Page 3 of 3")
                    await expect(page.get_by_test_id("page-next")).to_be_disabled()
                    last = {t["key"] for t in (await geometry(page))["tiles"] if t["role"] == "grid"}
                    assert len(last) == 15 - 12
                    await page.screenshot(path=str(SHOTS / "people-16-page3-phone.png"))
                    await page.get_by_test_id("page-prev").click()
                    await expect(page.get_by_test_id("page-label")).to_have_text("Page 2 of 3")
                    await page.set_viewport_size(DESKTOP)
                    assert not await page.evaluate("() => window.salon.errors")
                    del crowd16, many, more, first


async def test_shared_screen_is_fitted_whole_and_speaker_view_follows_the_speaker(
        web_server: SalonServer, web_admin: AdminClient, browsers: Browsers) -> None:
    meeting = await web_admin.create_meeting(title="Presentation")
    mid = meeting["id"]
    row = await web_admin.add_participant(mid, "ada", "group_call_host", name="Ada")
    url = ws_url(web_server.url)
    sessions: list[MediaSession] = []
    async with crowd(web_server, web_admin, mid, 2) as peers:
        ada = await browsers.person("ada")
        page = ada.page
        await ada.open(web_server.url, row["token"], autojoin=1, audio=0, video=0)
        await ada.wait_state("joined")
        await tiles_shown(ada, 3)
        # Sam shares a 4:3 screen from Python.
        sam_row = await web_admin.add_participant(mid, "sam", "group_call_host", name="Sam")
        sam = await RealtimeClient.join(url, sam_row["token"])
        try:
            sam_media = await MediaSession.attach(sam, ice_hosts=["127.0.0.1"])
            sessions.append(sam_media)
            await sam_media.publish("screenshare", SyntheticVideo(320, 240, fps=10))
            screen = page.locator(f"[data-testid=screen-tile][data-peer-id='{sam.peer_id}']")
            await screen.wait_for()
            await ada.wait("() => { const v = document.querySelector('[data-testid=screen-tile] video');"
                           " return v && v.videoWidth > 0; }")
            await expect(page.get_by_test_id("grid")).to_have_attribute("data-view", "presentation")

            async def presenting(size: str, found: dict[str, Any]) -> None:
                main = [t for t in found["tiles"] if t["role"] == "main"]
                assert len(main) == 1 and main[0]["kind"] == "screenshare", found["tiles"]
                strip = [t for t in found["tiles"] if t["role"] == "strip"]
                assert strip and all(t["kind"] == "video" for t in strip)
                # The picture itself (object-fit: contain) is whole inside the stage: 4:3.
                assert abs(main[0]["w"] / main[0]["h"] - 4 / 3) < 0.02, main
                fit = await page.evaluate("""() => {
                    const v = document.querySelector('[data-testid=screen-tile] video');
                    return getComputedStyle(v).objectFit; }""")
                assert fit == "contain"
                if size == "desktop":
                    assert main[0]["w"] >= 0.5 * found["stage"]["w"]

            await shoot_sizes(ada, "presentation", presenting)
            # Grid on request: the screen becomes a tile among the others.
            await (await reveal(page, "layout-switch")).select_option("grid")
            await expect(page.get_by_test_id("grid")).to_have_attribute("data-view", "grid")
            await geometry(page)
            await sam_media.unpublish("screenshare")
            await expect(screen).to_have_count(0)

            # Speaker view: Sam sends a tone, so the server names him the speaker.
            await page.get_by_test_id("layout-switch").select_option("speaker")
            await expect(page.get_by_test_id("grid")).to_have_attribute("data-view", "speaker")
            await sam_media.publish("audio", ToneSource())
            sam_tile = page.locator(f"[data-testid=tile][data-peer-id='{sam.peer_id}']")
            await expect(sam_tile).to_have_attribute("data-speaking", "true", timeout=15000)
            await expect(sam_tile).to_have_attribute("data-role", "main")

            async def speaking(size: str, found: dict[str, Any]) -> None:
                main = [t for t in found["tiles"] if t["role"] == "main"]
                assert [t["key"] for t in main] == [sam.peer_id]
                assert all(main[0]["w"] > t["w"] for t in found["tiles"] if t["role"] == "strip")

            await shoot_sizes(ada, "speaker", speaking)
            # The choice is the page's own: Auto again gives the grid back.
            await page.get_by_test_id("layout-switch").select_option("auto")
            await expect(page.get_by_test_id("grid")).to_have_attribute("data-view", "grid")
            assert not await page.evaluate("() => window.salon.errors")
        finally:
            for session in sessions:
                await session.close()
            await sam.leave()
        del peers


async def test_pins_and_the_tile_menu(
        web_server: SalonServer, web_admin: AdminClient, browsers: Browsers) -> None:
    meeting = await web_admin.create_meeting(title="Pins")
    mid = meeting["id"]
    host_row = await web_admin.add_participant(mid, "hal", "group_call_host", name="Hal")
    guest_row = await web_admin.add_participant(mid, "gus", "group_call_participant", name="Gus")
    async with crowd(web_server, web_admin, mid, 2) as peers:
        p1 = peers[0].peer_id
        hal, gus = await browsers.person("hal"), await browsers.person("gus")
        await hal.open(web_server.url, host_row["token"], autojoin=1, audio=0, video=0)
        await gus.open(web_server.url, guest_row["token"], autojoin=1, audio=0, video=0)
        await hal.wait_state("joined")
        await gus.wait_state("joined")
        await tiles_shown(hal, 4)
        await tiles_shown(gus, 4)
        guest, host = gus.page, hal.page

        # The guest's menu, by keyboard: Tab to P1's menu button, Enter opens it on its
        # only item, Pin for me; Escape closes it and the focus is back on the button.
        button = guest.locator(f"[data-testid=tile][data-peer-id='{p1}'] [data-testid=tile-menu-button]")
        await expect(button).to_have_attribute("aria-label", "More options for P1")
        await expect(guest.locator("[data-self=true] [data-testid=tile-menu-button]")).to_have_count(0)
        await tab_to(guest, "tile-menu-button")
        for _ in range(6):  # the tiles' buttons come one after another
            on = await guest.evaluate("() => { const t = document.activeElement.closest('[data-testid=tile]');"
                                      " return t && t.dataset.peerId; }")
            if on == p1:
                break
            await guest.keyboard.press("Tab")
        assert on == p1, on
        await guest.keyboard.press("Enter")
        menu = guest.get_by_test_id("tile-menu")
        await expect(menu).to_have_attribute("role", "menu")
        items = await menu.locator("[role=menuitem]").evaluate_all("(els) => els.map((e) => e.dataset.testid)")
        assert items == ["tile-pin-local"]
        assert await guest.evaluate("() => document.activeElement.dataset.testid") == "tile-pin-local"
        await guest.keyboard.press("ArrowDown")  # one item: it stays on it
        assert await guest.evaluate("() => document.activeElement.dataset.testid") == "tile-pin-local"
        await no_overflow(guest)
        await guest.keyboard.press("Escape")
        await expect(menu).to_have_count(0)
        assert await guest.evaluate("() => document.activeElement.dataset.testid") == "tile-menu-button"
        await expect(button).to_have_attribute("aria-expanded", "false")

        # Pin for me: P1 large on the guest's page only.
        await guest.keyboard.press("Enter")
        await guest.keyboard.press("Enter")
        p1_guest = guest.locator(f"[data-testid=tile][data-peer-id='{p1}']")
        await expect(p1_guest).to_have_attribute("data-role", "main")
        await expect(p1_guest).to_have_attribute("data-pinned-local", "true")
        await expect(guest.get_by_test_id("grid")).to_have_attribute("data-view", "speaker")

        async def pinned(size: str, found: dict[str, Any]) -> None:
            main = [t for t in found["tiles"] if t["role"] == "main"]
            assert [t["key"] for t in main] == [p1]
            assert all(main[0]["w"] > 1.5 * t["w"] for t in found["tiles"] if t["role"] == "strip")

        await shoot_sizes(gus, "pinned-for-me", pinned)
        await expect(host.get_by_test_id("grid")).to_have_attribute("data-view", "grid")
        await button.click()
        await guest.get_by_test_id("tile-pin-local").click()  # now "Unpin for me"
        await expect(guest.get_by_test_id("grid")).to_have_attribute("data-view", "grid")

        # The host's menu has more; Pin for everyone enlarges P2 on the guest's page too.
        p2 = peers[1].peer_id
        host_button = host.locator(f"[data-testid=tile][data-peer-id='{p2}'] [data-testid=tile-menu-button]")
        await host_button.click()
        items = await host.get_by_test_id("tile-menu").locator("[role=menuitem]").evaluate_all(
            "(els) => els.map((e) => e.dataset.testid)")
        assert items == ["tile-pin-local", "tile-pin-all", "tile-remove"], items  # P2's mic and camera are off
        await host.keyboard.press("ArrowDown")
        assert await host.evaluate("() => document.activeElement.dataset.testid") == "tile-pin-all"
        await host.keyboard.press("Enter")
        p2_guest = guest.locator(f"[data-testid=tile][data-peer-id='{p2}']")
        await expect(p2_guest).to_have_attribute("data-pinned", "true")
        await expect(p2_guest).to_have_attribute("data-role", "main")
        await expect(p2_guest.get_by_test_id("tile-pinned")).to_have_count(1)
        await expect(host.locator(f"[data-testid=tile][data-peer-id='{p2}']")).to_have_attribute("data-role", "main")
        await shoot_sizes(gus, "pinned-for-everyone")

        # Remove asks first (the host tools' confirmation); Cancel keeps P2.
        await host_button.click()
        await host.get_by_test_id("tile-remove").click()
        dialog = host.locator("dialog[open]")
        await expect(dialog).to_contain_text("Remove P2?")
        await dialog.get_by_role("button", name="Cancel").click()
        await expect(dialog).to_have_count(0)
        await expect(host.locator(f"[data-testid=tile][data-peer-id='{p2}']")).to_have_count(1)
        # Unpin for everyone: the grid again on both pages.
        await host_button.click()
        await expect(host.get_by_test_id("tile-pin-all")).to_have_text("Unpin for everyone")
        await host.get_by_test_id("tile-pin-all").click()
        await expect(guest.get_by_test_id("grid")).to_have_attribute("data-view", "grid")
        assert not await guest.evaluate("() => window.salon.errors")
        assert not await host.evaluate("() => window.salon.errors")


async def test_webinar_viewers_are_a_count_not_tiles(
        web_server: SalonServer, web_admin: AdminClient, browsers: Browsers) -> None:
    meeting = await web_admin.create_meeting(title="Webinar")
    mid = meeting["id"]
    row = await web_admin.add_participant(mid, "pia", "webinar_presenter", name="Pia")
    async with crowd(web_server, web_admin, mid, 3, preset="webinar_viewer"):
        pia = await browsers.person("pia")
        page = pia.page
        await pia.open(web_server.url, row["token"], autojoin=1, audio=0, video=0)
        await pia.wait_state("joined")
        await pia.wait("() => window.salon.client.self.stage_status === 'ON_STAGE'")
        count = page.get_by_test_id("viewers-count")
        await expect(count).to_have_text("3 watching")
        await tiles_shown(pia, 1)
        assert await page.locator("[data-testid=tile][data-self=true]").count() == 1
        await shoot_sizes(pia, "webinar")
        await count.click()
        await expect(page.get_by_test_id("panel-participants")).to_be_visible()

    # A viewer's own page: nobody on stage yet but Pia; the viewer is counted, not a tile.
    viewer_row = await web_admin.add_participant(mid, "vic", "webinar_viewer", name="Vic")
    vic = await browsers.person("vic")
    await vic.open(web_server.url, viewer_row["token"], autojoin=1, audio=0, video=0)
    await vic.wait_state("joined")
    await tiles_shown(vic, 1)
    await expect(vic.page.locator("[data-testid=tile]")).to_have_attribute("data-name", "Pia")
    await expect(vic.page.get_by_test_id("viewers-count")).to_have_text("1 watching")
    await expect(count).to_have_text("1 watching")
