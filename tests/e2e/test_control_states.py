"""The control bar's states and words, as a person sees and uses them.

- A button that is on (Mic on, Camera on, Raise hand while the hand is up) or red (Leave)
  keeps its colours while the mouse is over it and while it has the keyboard focus; a
  button that is off still shows the hover.
- The layout picker says "Layout" in words beside its choice (Auto), in the bar and in
  More on a phone.
- The name typed on the pre-join screen is in the text colour, not the muted one of
  its label.
- Joining the stage (a webinar viewer) keeps the microphone and camera as the person
  had them: off for a viewer who never had them on; after they turned the microphone on
  on stage and left the stage, joining again brings the microphone back, not the camera.
Screenshots are kept in test-artifacts/control_states/."""

from playwright.async_api import Page, expect

from salon.client import AdminClient, RealtimeClient, ws_url
from tests.e2e.browser import (
    DESKTOP,
    PHONE,
    Browsers,
    Person,
    opened_in_a_meeting,
    reveal,
    shoot,
    tab_to,
)
from tests.e2e.conftest import ARTIFACTS
from tests.servers import SalonServer

SHOTS = ARTIFACTS / "control_states"

LOOK = """(el) => { const s = getComputedStyle(el);
    return {background: s.backgroundColor, border: s.borderColor, color: s.color, ring: s.boxShadow}; }"""


async def look(page: Page, testid: str) -> dict[str, str]:
    return await page.get_by_test_id(testid).evaluate(LOOK)


async def away(page: Page) -> None:
    """The mouse off every control, and the focus on nothing."""
    await page.mouse.move(5, 300)
    await page.evaluate("() => document.activeElement && document.activeElement.blur()")


async def test_on_and_red_buttons_keep_their_look_on_hover_and_focus(
        web_server: SalonServer, web_admin: AdminClient, browsers: Browsers) -> None:
    person, _ = await opened_in_a_meeting(web_admin, browsers, web_server.url, "States",
                                          autojoin=1, audio=1, video=1)
    page = person.page
    for testid in ("btn-mic", "btn-cam"):
        await expect(page.get_by_test_id(testid)).to_have_attribute("aria-pressed", "true")
    await page.get_by_test_id("btn-hand").click()
    await expect(page.get_by_test_id("btn-hand")).to_have_attribute("aria-pressed", "true")

    for testid in ("btn-mic", "btn-cam", "btn-hand", "btn-leave"):
        await away(page)
        resting = await look(page, testid)
        await page.get_by_test_id(testid).hover()
        hovered = await look(page, testid)
        assert {k: hovered[k] for k in ("background", "border", "color")} == \
            {k: resting[k] for k in ("background", "border", "color")}, (testid, resting, hovered)
        assert hovered["ring"] != "none", (testid, hovered)  # still a hover to see
        await away(page)
        await tab_to(page, testid)
        focused = await look(page, testid)
        assert {k: focused[k] for k in ("background", "border", "color")} == \
            {k: resting[k] for k in ("background", "border", "color")}, (testid, resting, focused)
    await page.get_by_test_id("btn-hand").hover()
    SHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SHOTS / "1-hand-up-hovered.png"))

    # A button that is off shows the hover as before.
    await page.get_by_test_id("btn-hand").click()
    await expect(page.get_by_test_id("btn-hand")).to_have_attribute("aria-pressed", "false")
    await away(page)
    resting = await look(page, "btn-hand")
    await page.get_by_test_id("btn-hand").hover()
    assert (await look(page, "btn-hand"))["background"] != resting["background"]


async def test_the_layout_picker_says_layout_in_words(
        web_server: SalonServer, web_admin: AdminClient, browsers: Browsers) -> None:
    person, _ = await opened_in_a_meeting(web_admin, browsers, web_server.url, "Layout words",
                                          autojoin=1, audio=0, video=0)
    page = person.page
    # In the bar (a desktop has room for it), "Layout" in words beside its choice.
    picker = page.locator(".controls > .layout-switch [data-testid=layout-switch]")
    await expect(picker).to_be_visible()
    words = page.locator(".controls > .layout-switch .layout-switch-label")
    await expect(words).to_be_visible()
    await expect(words).to_have_text("Layout")
    await expect(picker).to_have_accessible_name("Layout")
    await expect(picker).to_have_value("auto")
    await shoot(page, SHOTS, "2-layout-picker")
    # On a phone it is in More, with its words too.
    await page.set_viewport_size(PHONE)
    # (moved there once the bar has measured itself at the new size: wait for it)
    await expect(page.locator("[data-testid=more-controls] [data-testid=layout-switch]")
                 ).to_have_count(1)
    await reveal(page, "layout-switch")
    await expect(page.locator("[data-testid=more-controls] .layout-switch-label")).to_be_visible()
    await page.set_viewport_size(DESKTOP)


async def test_the_typed_name_reads_as_text(
        web_server: SalonServer, web_admin: AdminClient, browsers: Browsers) -> None:
    person, _ = await opened_in_a_meeting(web_admin, browsers, web_server.url, "Name colour",
                                          state="prejoin", size=None, audio=0, video=0)
    page = person.page
    field = page.get_by_test_id("prejoin-name")
    await field.fill("Ana Typed")
    colours = await page.evaluate("""() => ({
        typed: getComputedStyle(document.getElementById("prejoin-name")).color,
        label: getComputedStyle(document.querySelector("#prejoin-name-label > span")).color,
        text: getComputedStyle(document.body).color})""")
    assert colours["typed"] == colours["text"], colours
    assert colours["typed"] != colours["label"], colours
    await shoot(page, SHOTS, "3-prejoin-typed-name")


async def stage_status(person: Person, status: str) -> None:
    await expect(person.page.get_by_test_id("btn-stage")).to_have_attribute(
        "data-stage-status", status, timeout=15000)


async def onto_the_stage(viewer: Person, presenter: RealtimeClient, viewer_id: str) -> None:
    """Ask (the button), be let on (the presenter), join (the button)."""
    await viewer.page.get_by_test_id("btn-stage").click()
    await stage_status(viewer, "REQUESTED_TO_JOIN_STAGE")
    await presenter.stage("grant", [viewer_id])
    await stage_status(viewer, "ACCEPTED_TO_JOIN_STAGE")
    await viewer.page.get_by_test_id("btn-stage").click()
    await stage_status(viewer, "ON_STAGE")


async def test_joining_the_stage_keeps_the_microphone_and_camera_as_chosen(
        web_server: SalonServer, web_admin: AdminClient, browsers: Browsers) -> None:
    meeting = await web_admin.create_meeting(title="Stage choice")
    presenter_row = await web_admin.add_participant(meeting["id"], "pia", "webinar_presenter", name="Pia")
    viewer_row = await web_admin.add_participant(meeting["id"], "vic", "webinar_viewer", name="Vic")
    presenter = await RealtimeClient.join(ws_url(web_server.url), presenter_row["token"])
    try:
        viewer = await browsers.person("viewer")
        page = viewer.page
        await viewer.open(web_server.url, viewer_row["token"], autojoin=1)
        await viewer.wait_state("joined")
        viewer_id = await viewer.peer_id()
        mic, cam = page.get_by_test_id("btn-mic"), page.get_by_test_id("btn-cam")

        # On stage: nothing turned on for the viewer; both buttons may now be used.
        await onto_the_stage(viewer, presenter, viewer_id)
        await expect(mic).to_be_enabled()
        await expect(cam).to_be_enabled()
        await page.wait_for_timeout(1500)  # time for a publish that must not happen
        assert await page.evaluate("() => window.salon.media.published") == {}
        await expect(mic).to_have_attribute("aria-pressed", "false")
        await expect(cam).to_have_attribute("aria-pressed", "false")
        await shoot(page, SHOTS, "4-on-stage-as-chosen")

        # The viewer turns the microphone on, leaves the stage, and comes back: the
        # microphone as they had it, the camera still off.
        await mic.click()
        await viewer.wait("() => window.salon.media.published.audio")
        await page.get_by_test_id("btn-stage").click()  # Leave stage
        await stage_status(viewer, "OFF_STAGE")
        await viewer.wait("() => !window.salon.media.published.audio")
        await onto_the_stage(viewer, presenter, viewer_id)
        await viewer.wait("() => window.salon.media.published.audio")
        await expect(mic).to_have_attribute("aria-pressed", "true")
        await page.wait_for_timeout(1000)
        assert not await page.evaluate("() => Boolean(window.salon.media.published.video)")
        await expect(cam).to_have_attribute("aria-pressed", "false")
    finally:
        await presenter.close()
