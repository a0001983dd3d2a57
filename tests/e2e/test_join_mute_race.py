"""The microphone turned off in the first moments after Join stays off (issue 15's
privacy bug: the choice was silently undone and the microphone published).

One Chromium (fake devices), one Python observer peer in the same meeting. For each
delay after Join (clicking Join on the pre-join screen, or `autojoin=1`), the page's
visible microphone button is clicked once, at that instant (`delay` ms after the page
opened its realtime WebSocket, timed inside the page). The page's WebSocket messages are
logged with their time, so the test knows whether the click came before the offer that
would carry the microphone went out:

- clicked before it: the server never hears of an audio track from this peer (no
  `media.publish` with audio is sent, the observer never sees the peer with `audio`
  on nor an audio `media.published`);
- whenever it came: the choice wins and holds: the server's view of the peer (the
  observer's `state`) says `audio: false`, the SDK does not send the microphone (the
  audio sender has no track, `enabled.audio` false), and the button says *Mic off*, still
  after the negotiation has settled; the camera, left alone, is published.

Twice (never published, and published then off) the button is clicked again: the
microphone is then sent and the server says `audio: true`. The same for the camera (a
few delays; the camera itself is closed while it is off).
"""

import asyncio
import json
import time
from typing import Any

import pytest
from playwright.async_api import Page, expect

from salon.client import AdminClient, RealtimeClient, ws_url
from tests.e2e.browser import Browsers, meet_url
from tests.servers import SalonServer

#: It measures frame rates, bitrates or timings: it runs alone (scripts/test-netns).
pytestmark = pytest.mark.solo

DELAYS = [0, 100, 250, 500, 1000, 1500, 2000]
# The microphone's offer goes out about 170-200 ms after the WebSocket opens here: a few
# more clicks around it (before it, while it is in flight, just after the answer).
NEAR_OFFER = [150, 175, 200]

# Logs the page's realtime messages and clicks the visible mic (or, with `mutekind=video`,
# camera) button `mutedelay` ms after the first WebSocket opens (fragment flags the page
# ignores).
HOOK = """(() => {
  const flags = new URLSearchParams(location.hash.slice(1));
  const delay = Number(flags.get("mutedelay"));
  const ids = flags.get("mutekind") === "video" ? ["btn-cam", "prejoin-cam"] : ["btn-mic", "prejoin-mic"];
  window.__race = {sent: [], click: null};
  const send = WebSocket.prototype.send;
  WebSocket.prototype.send = function (data) {
    try {
      const m = JSON.parse(data);
      window.__race.sent.push({t: performance.now(), type: m.type, data: m.type === "join" ? null : m.data});
    } catch (_) {}
    return send.call(this, data);
  };
  const Native = window.WebSocket;
  let armed = !Number.isNaN(delay);
  window.WebSocket = function (...args) {
    const ws = new Native(...args);
    if (armed) {
      armed = false;
      window.__race.opened = performance.now();
      setTimeout(() => {
        const shown = (el) => el && !el.closest("[hidden]") && el.getClientRects().length > 0;
        const button = ids.map((id) => document.querySelector(`[data-testid="${id}"]`)).find(shown);
        window.__race.click = {t: performance.now(), button: button ? button.dataset.testid : null,
                               disabled: button ? button.disabled : null, state: document.body.dataset.state};
        if (button) button.click();
      }, delay);
    }
    return ws;
  };
  window.WebSocket.prototype = Native.prototype;
  Object.assign(window.WebSocket, {CONNECTING: 0, OPEN: 1, CLOSING: 2, CLOSED: 3});
})();"""


BUTTONS = {"audio": ("btn-mic", "Mic", "prejoin-mic", "Microphone"),
           "video": ("btn-cam", "Camera", "prejoin-cam", "Camera")}


async def one_run(page: Page, observer: RealtimeClient, admin: AdminClient, meeting_id: str,
                  base_url: str, delay: int, autojoin: bool, unmute: bool = False,
                  kind: str = "audio") -> str:
    other = "video" if kind == "audio" else "audio"
    button_id, label, prejoin_id, prejoin_label = BUTTONS[kind]
    person = await admin.add_participant(meeting_id, f"racer-{kind}-{delay}-{int(autojoin)}",
                                         "group_call_participant", name=f"Racer {delay}")
    seen: list[tuple[str, dict[str, Any]]] = []
    for event in ("peer.joined", "peer.updated", "media.published"):
        observer.watchers[event] = [lambda data, event=event: seen.append((event, data))]
    flags: dict[str, Any] = {"mutedelay": delay, "mutekind": kind}
    if autojoin:
        flags["autojoin"] = 1
    await page.goto(meet_url(base_url, person["token"], **flags))
    if not autojoin:
        join = page.get_by_test_id("prejoin-join")
        await expect(join).to_be_enabled()
        await expect(page.get_by_test_id(prejoin_id)).to_have_text(f"{prejoin_label} on")
        await join.click()
    await page.wait_for_function("() => window.__race.click !== null", timeout=15000)
    await page.wait_for_function("() => document.body.dataset.state === 'joined'", timeout=15000)
    mic = page.get_by_test_id(button_id)
    await expect(mic).to_have_text(f"{label} off")
    await expect(mic).to_have_attribute("aria-pressed", "false")
    # Settled: the other kind (left on) is published and nothing is being negotiated.
    await page.wait_for_function("""async (other) => {
        const m = window.salon.media;
        if (!m || !m.published[other] || !m.enabled[other]) return false;
        await m.pubSerial.tail;
        return m.pubPc && m.pubPc.signalingState === "stable";
      }""", arg=other, timeout=15000)
    peer_id = await page.evaluate("() => window.salon.client.peerId")
    await asyncio.sleep(1.0)  # anything that would undo the choice has had time to
    await expect(mic).to_have_text(f"{label} off")
    race = await page.evaluate("() => window.__race")
    click = race["click"]
    assert click["button"] and not click["disabled"], click
    sdk = await page.evaluate("""(kind) => {
        const m = window.salon.media, tx = m.pubTx[kind], local = m.local[kind];
        return {enabled: m.enabled[kind], published: Boolean(m.published[kind]),
                senderTrack: Boolean(tx && tx.sender.track),
                device: Boolean(local && local.readyState === "live")};
      }""", kind)
    assert not sdk["enabled"] and not sdk["senderTrack"], sdk
    if kind == "video":
        assert not sdk["device"], sdk  # the camera light is off
    state = await observer.state()
    [view] = [p for p in state["room"]["peers"] if p["peer_id"] == peer_id]
    assert view[kind] is False and view[other] is True, view

    offers = [m for m in race["sent"] if m["type"] == "media.publish"]
    kind_offers = [m for m in offers if kind in m["data"]["tracks"].values()]
    before = not kind_offers or click["t"] < kind_offers[0]["t"]
    ours = [(e, d) for e, d in seen
            if (d.get("peer") or d.get("track") or {}).get("peer_id") == peer_id]
    if before:
        # Turned off before the microphone's offer went out: never heard of by the server.
        assert not kind_offers, json.dumps(offers)[:2000]
        assert not [d for e, d in ours if e != "media.published" and d["peer"][kind]], ours
        assert not [d for e, d in ours if e == "media.published" and d["track"]["kind"] == kind], ours
        assert not sdk["published"], sdk
    if unmute:  # and on again, by the same button: published (or resumed) and heard
        observer.drain()
        await mic.click()
        await expect(mic).to_have_text(f"{label} on")
        await page.wait_for_function("""(kind) => {
            const m = window.salon.media, tx = m.pubTx[kind];
            return m.published[kind] && m.enabled[kind] && tx && tx.sender.track;
          }""", arg=kind, timeout=15000)
        await observer.wait_for(
            "peer.updated", lambda d: d["peer"]["peer_id"] == peer_id and d["peer"][kind], 10)
    await page.evaluate("() => window.salon.client && window.salon.client.leave()")
    await page.goto("about:blank")
    for event in ("peer.joined", "peer.updated", "media.published"):
        observer.watchers.pop(event, None)
    click_at = click["t"] - race["opened"]
    offer_at = kind_offers[0]["t"] - race["opened"] if kind_offers else None
    return (f"{'autojoin' if autojoin else 'join'} +{delay} ms: clicked {click['button']} in "
            f"{click['state']} at {click_at:.0f} ms, {kind} offer "
            f"{'never sent' if offer_at is None else f'at {offer_at:.0f} ms'}"
            f" -> {'never published' if before else 'published, then off'}")


async def test_mute_at_any_instant_after_join_wins(
        web_server: SalonServer, web_admin: AdminClient, browsers: Browsers) -> None:
    started = time.monotonic()
    meeting = await web_admin.create_meeting(title="Mute race")
    watcher = await web_admin.add_participant(meeting["id"], "observer", "group_call_participant",
                                              name="Observer")
    observer = await RealtimeClient.join(ws_url(web_server.url), watcher["token"])
    person = await browsers.person("racer")
    await person.context.add_init_script(HOOK)
    lines = []
    try:
        runs = ([(delay, False, "audio") for delay in sorted(DELAYS + NEAR_OFFER)]
                + [(delay, True, "audio") for delay in (0, 100, *NEAR_OFFER, 250, 500)]
                + [(delay, False, "video") for delay in (0, 175, 200, 1000)])
        for delay, autojoin, kind in runs:
            lines.append(await one_run(person.page, observer, web_admin, meeting["id"],
                                       web_server.url, delay, autojoin, kind=kind,
                                       unmute=not autojoin and delay in (0, 2000)))
    finally:
        print("\n".join(lines))
        await observer.leave()
    assert any("never published" in line for line in lines), lines
    assert time.monotonic() - started < 90
