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
microphone is then sent and the server says `audio: true`.
"""

import asyncio
import json
import time
from typing import Any

from playwright.async_api import Page, expect

from salon.client import AdminClient, RealtimeClient, ws_url
from tests.e2e.browser import Browsers, meet_url
from tests.servers import SalonServer

DELAYS = [0, 100, 250, 500, 1000, 1500, 2000]
# The microphone's offer goes out about 170-200 ms after the WebSocket opens here: a few
# more clicks around it (before it, while it is in flight, just after the answer).
NEAR_OFFER = [150, 175, 200]

# Logs the page's realtime messages and clicks the visible mic button `mutedelay` ms
# (a fragment flag the page ignores) after the first WebSocket opens.
HOOK = """(() => {
  const delay = Number(new URLSearchParams(location.hash.slice(1)).get("mutedelay"));
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
        const button = [...document.querySelectorAll('[data-testid="btn-mic"], [data-testid="prejoin-mic"]')].find(shown);
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


def audio_on(peer: dict[str, Any]) -> bool:
    return bool(peer.get("audio"))


async def one_run(page: Page, observer: RealtimeClient, admin: AdminClient, meeting_id: str,
                  base_url: str, delay: int, autojoin: bool, unmute: bool = False) -> str:
    person = await admin.add_participant(meeting_id, f"racer-{delay}-{int(autojoin)}",
                                         "group_call_participant", name=f"Racer {delay}")
    seen: list[tuple[str, dict[str, Any]]] = []
    for event in ("peer.joined", "peer.updated", "media.published"):
        observer.watchers[event] = [lambda data, event=event: seen.append((event, data))]
    flags: dict[str, Any] = {"mutedelay": delay}
    if autojoin:
        flags["autojoin"] = 1
    await page.goto(meet_url(base_url, person["token"], **flags))
    if not autojoin:
        join = page.get_by_test_id("prejoin-join")
        await expect(join).to_be_enabled()
        await expect(page.get_by_test_id("prejoin-mic")).to_have_text("Microphone on")
        await join.click()
    await page.wait_for_function("() => window.__race.click !== null", timeout=15000)
    await page.wait_for_function("() => document.body.dataset.state === 'joined'", timeout=15000)
    mic = page.get_by_test_id("btn-mic")
    await expect(mic).to_have_text("Mic off")
    await expect(mic).to_have_attribute("aria-pressed", "false")
    # Settled: the camera (left on) is published and nothing is being negotiated.
    await page.wait_for_function("""async () => {
        const m = window.salon.media;
        if (!m || !m.published.video || !m.enabled.video) return false;
        await m.pubSerial.tail;
        return m.pubPc && m.pubPc.signalingState === "stable";
      }""", timeout=15000)
    peer_id = await page.evaluate("() => window.salon.client.peerId")
    await asyncio.sleep(1.0)  # anything that would undo the choice has had time to
    await expect(mic).to_have_text("Mic off")
    race = await page.evaluate("() => window.__race")
    click = race["click"]
    assert click["button"] and not click["disabled"], click
    sdk = await page.evaluate("""() => {
        const m = window.salon.media, tx = m.pubTx.audio;
        return {enabled: m.enabled.audio, published: Boolean(m.published.audio),
                senderTrack: Boolean(tx && tx.sender.track), wanted: window.salon.client.self.audio};
      }""")
    assert not sdk["enabled"] and not sdk["senderTrack"], sdk
    state = await observer.state()
    [view] = [p for p in state["room"]["peers"] if p["peer_id"] == peer_id]
    assert view["audio"] is False and view["video"] is True, view

    offers = [m for m in race["sent"] if m["type"] == "media.publish"]
    audio_offers = [m for m in offers if "audio" in m["data"]["tracks"].values()]
    before = not audio_offers or click["t"] < audio_offers[0]["t"]
    ours = [(e, d) for e, d in seen
            if (d.get("peer") or d.get("track") or {}).get("peer_id") == peer_id]
    if before:
        # Turned off before the microphone's offer went out: never heard of by the server.
        assert not audio_offers, json.dumps(offers)[:2000]
        assert not [d for e, d in ours if e != "media.published" and audio_on(d["peer"])], ours
        assert not [d for e, d in ours if e == "media.published" and d["track"]["kind"] == "audio"], ours
        assert not sdk["published"], sdk
    if unmute:  # and on again, by the same button: published (or resumed) and heard
        await mic.click()
        await expect(mic).to_have_text("Mic on")
        await page.wait_for_function("""() => {
            const m = window.salon.media, tx = m.pubTx.audio;
            return m.published.audio && m.enabled.audio && tx && tx.sender.track;
          }""", timeout=15000)
        await observer.wait_for(
            "peer.updated", lambda d: d["peer"]["peer_id"] == peer_id and d["peer"]["audio"], 10)
    await page.evaluate("() => window.salon.client && window.salon.client.leave()")
    await page.goto("about:blank")
    for event in ("peer.joined", "peer.updated", "media.published"):
        observer.watchers.pop(event, None)
    click_at = click["t"] - race["opened"]
    offer_at = audio_offers[0]["t"] - race["opened"] if audio_offers else None
    return (f"{'autojoin' if autojoin else 'join'} +{delay} ms: clicked {click['button']} in "
            f"{click['state']} at {click_at:.0f} ms, mic offer "
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
        runs = ([(delay, False) for delay in sorted(DELAYS + NEAR_OFFER)]
                + [(delay, True) for delay in (0, 100, *NEAR_OFFER, 250, 500)])
        for delay, autojoin in runs:
            lines.append(await one_run(person.page, observer, web_admin, meeting["id"],
                                       web_server.url, delay, autojoin,
                                       unmute=not autojoin and delay in (0, 2000)))
    finally:
        print("\n".join(lines))
        await observer.leave()
    assert any("never published" in line for line in lines), lines
    assert time.monotonic() - started < 90
