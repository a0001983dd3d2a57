"""Devices and media quality on the meeting page: the settings sheet (camera, microphone,
speaker, level meter, noise suppression), the pre-join speaker and meter, and network
quality bars per tile.

Chromium's fake devices are one camera and one microphone (which beeps). A second camera,
microphone and speaker cannot exist here, so FAKE_DEVICES (an init script) adds them
behind the browser's own API: `enumerateDevices` lists them, `getUserMedia` with their
`deviceId` gives a canvas-captured track ("Second camera") or a WebAudio oscillator
("Second microphone"), and `setSinkId` to "Second speaker" is recorded as the element's
`sinkId` (no such output exists). Everything else goes to the real fake devices.
"""

import asyncio
from pathlib import Path

from playwright.async_api import Page, expect

from salon.client import AdminClient
from tests.e2e.browser import (
    DESKTOP,
    LANDSCAPE,
    PHONE,
    Browsers,
    Person,
    no_overflow,
    rising,
    tab_to,
)
from tests.e2e.test_media import joined
from tests.servers import SalonServer

SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "devices"

FAKE_DEVICES = """(() => {
  const md = navigator.mediaDevices;
  const realEnumerate = md.enumerateDevices.bind(md);
  const realGetUserMedia = md.getUserMedia.bind(md);
  const extra = {
    video: {deviceId: "test-camera-2", groupId: "test", kind: "videoinput", label: "Second camera"},
    audio: {deviceId: "test-mic-2", groupId: "test", kind: "audioinput", label: "Second microphone"},
    speaker: {deviceId: "test-speaker-2", groupId: "test", kind: "audiooutput", label: "Second speaker"},
  };
  const fake = window.__fake = {plugged: new Set(["video", "audio", "speaker"]), made: {audio: [], video: []}, tones: []};
  md.enumerateDevices = async () => [...await realEnumerate(), ...[...fake.plugged].map((k) => extra[k])];
  const wanted = (c) => c && typeof c === "object" && c.deviceId && (c.deviceId.exact || c.deviceId);
  const make = {
    video() {
      const canvas = Object.assign(document.createElement("canvas"), {width: 320, height: 240});
      const g = canvas.getContext("2d");
      let n = 0;
      setInterval(() => { g.fillStyle = `hsl(${(n += 7) % 360} 70% 50%)`; g.fillRect(0, 0, 320, 240); }, 40);
      return canvas.captureStream(25).getVideoTracks()[0];
    },
    audio() {
      const ctx = new AudioContext();
      const tone = ctx.createOscillator();
      const out = ctx.createMediaStreamDestination();
      tone.connect(out);
      tone.start();
      return out.stream.getAudioTracks()[0];
    },
  };
  md.getUserMedia = async (constraints) => {
    const tracks = [];
    for (const kind of ["audio", "video"]) {
      if (!constraints[kind]) continue;
      const id = wanted(constraints[kind]);
      if (id === extra[kind].deviceId) {
        if (!fake.plugged.has(kind)) throw new DOMException("unplugged", "NotFoundError");
        const track = make[kind]();
        fake.made[kind].push(track.id);
        tracks.push(track);
      } else {
        tracks.push(...(await realGetUserMedia({[kind]: constraints[kind]})).getTracks());
      }
    }
    return new MediaStream(tracks);
  };
  const sinkId = Object.getOwnPropertyDescriptor(HTMLMediaElement.prototype, "sinkId");
  const setSinkId = HTMLMediaElement.prototype.setSinkId;
  Object.defineProperty(HTMLMediaElement.prototype, "sinkId", {configurable: true,
    get() { return this.__fakeSink ?? sinkId.get.call(this); }});
  HTMLMediaElement.prototype.setSinkId = async function (id) {
    if (id === extra.speaker.deviceId) {
      if (!fake.plugged.has("speaker")) throw new DOMException("unplugged", "NotFoundError");
      this.__fakeSink = id;
      if (!this.isConnected) fake.tones.push(id);  // the test tone's own element
      return;
    }
    delete this.__fakeSink;
    return setSinkId.call(this, id);
  };
})();"""

SENDER = """(kind) => {
  const m = window.salon.media, tx = m.pubTx[kind], t = tx && tx.sender.track;
  return {id: t ? t.id : null, state: t ? t.readyState : null, label: t ? t.label : null,
          local: m.local[kind] ? m.local[kind].id : null, enabled: m.enabled[kind],
          fake: window.__fake.made[kind]};
}"""

LEVEL = "(id) => Number(document.querySelector(`[data-testid=${id}]`).value)"


async def with_fake_devices(browsers: Browsers, name: str) -> Person:
    person = await browsers.person(name)
    await person.context.add_init_script(FAKE_DEVICES)
    return person


async def meeting_of_two(web_server: SalonServer, web_admin: AdminClient, browsers: Browsers,
                         title: str) -> tuple[Person, Person, str, str]:
    """Ann (with the test's extra devices) and Ben, each receiving the other; their ids."""
    meeting = await web_admin.create_meeting(title=title)
    ann_p = await web_admin.add_participant(meeting["id"], "ann", "group_call_participant", name="Ann")
    ben_p = await web_admin.add_participant(meeting["id"], "ben", "group_call_participant", name="Ben")
    ann, ben = await with_fake_devices(browsers, "ann"), await browsers.person("ben")
    ann_id = await joined(ann, web_server.url, ann_p["token"])
    ben_id = await joined(ben, web_server.url, ben_p["token"])
    await asyncio.gather(rising(ben, ann_id, "video"), rising(ann, ben_id, "audio", by=50))
    return ann, ben, ann_id, ben_id


async def open_settings(page: Page) -> None:
    await tab_to(page, "btn-settings", presses=60)
    await page.keyboard.press("Enter")
    await expect(page.get_by_test_id("settings")).to_be_visible()


async def test_switching_camera_and_microphone_keeps_publishing(
        web_server: SalonServer, web_admin: AdminClient, browsers: Browsers) -> None:
    ann, ben, ann_id, ben_id = await meeting_of_two(web_server, web_admin, browsers, "Devices")
    page = ann.page
    await open_settings(page)
    # The beeping fake microphone moves the meter.
    await ann.wait(f"(id) => ({LEVEL})(id) > 0.02", "settings-mic-level", timeout=10)

    await page.evaluate("() => { window.__oldCamera = window.salon.media.local.video; }")
    before = await page.evaluate(SENDER, "video")
    await page.get_by_test_id("settings-camera").select_option("test-camera-2")
    after = await ann.wait(f"""() => {{ const s = ({SENDER})("video");
                                      return s.fake.includes(s.id) && s.local === s.id ? s : null; }}""")
    assert after["id"] != before["id"] and after["state"] == "live", (before, after)
    assert await page.evaluate("() => window.__oldCamera.readyState") == "ended"  # the old camera is let go
    await rising(ben, ann_id, "video")  # Ben decodes the new camera's frames, no renegotiation
    assert (await ann.page.evaluate("() => window.salon.media.pubPc.signalingState")) == "stable"

    await page.get_by_test_id("settings-mic").select_option("test-mic-2")
    mic = await ann.wait(f"""() => {{ const s = ({SENDER})("audio");
                                    return s.fake.includes(s.id) ? s : null; }}""")
    assert mic["enabled"] and mic["state"] == "live", mic
    await rising(ben, ann_id, "audio", by=50)
    await ann.wait(f"(id) => ({LEVEL})(id) > 0.02", "settings-mic-level", timeout=10)
    stored = await page.evaluate("() => JSON.parse(localStorage.getItem('salon.devices'))")
    assert stored["video"] == "test-camera-2" and stored["audio"] == "test-mic-2", stored

    # Muted, then back to the real microphone: it stays muted (nothing on the sender).
    await page.keyboard.press("Escape")
    await expect(page.get_by_test_id("settings")).to_be_hidden()
    assert await page.evaluate("() => document.activeElement.dataset.testid") == "btn-settings"
    await page.get_by_test_id("btn-mic").click()
    await expect(page.get_by_test_id("btn-mic")).to_have_attribute("aria-pressed", "false")
    await open_settings(page)
    for _ in range(6):
        assert await page.evaluate(LEVEL, "settings-mic-level") == 0
        await asyncio.sleep(0.2)
    real_mic = await page.evaluate("""async () => (await navigator.mediaDevices.enumerateDevices())
                                       .find((d) => d.kind === "audioinput" && !d.deviceId.startsWith("test-")).deviceId""")
    await page.get_by_test_id("settings-mic").select_option(real_mic)
    muted = await ann.wait(f"""() => {{ const s = ({SENDER})("audio");
                                      return s.local && !s.fake.includes(s.local) ? s : null; }}""")
    assert muted["id"] is None and muted["enabled"] is False, muted
    await asyncio.sleep(1)
    assert (await page.evaluate(SENDER, "audio"))["id"] is None
    assert await page.evaluate(LEVEL, "settings-mic-level") == 0
    ben_view = await ben.page.evaluate("(id) => window.salon.client.peers.get(id).audio", ann_id)
    assert ben_view is False

    # Noise suppression: the microphone is opened again with it off, then on.
    noise = page.get_by_test_id("settings-noise")
    assert await noise.is_checked()
    await noise.uncheck()
    await ann.wait("() => window.salon.media.local.audio.getSettings().noiseSuppression === false")
    await noise.check()
    await ann.wait("() => window.salon.media.local.audio.getSettings().noiseSuppression === true")
    assert (await page.evaluate(SENDER, "audio"))["id"] is None  # still muted

    # The second camera is unplugged: back to the default one, with a notice.
    await page.evaluate("() => { window.__fake.plugged.delete('video'); "
                        "navigator.mediaDevices.dispatchEvent(new Event('devicechange')); }")
    await expect(page.get_by_test_id("toast").filter(has_text="camera is no longer available")).to_be_visible()
    back = await ann.wait(f"""() => {{ const s = ({SENDER})("video");
                                     return s.id && !s.fake.includes(s.id) ? s : null; }}""")
    assert back["state"] == "live", back
    assert await page.evaluate("() => window.salon.media.deviceIds.video") is None
    await rising(ben, ann_id, "video")
    assert await page.evaluate("() => window.salon.errors") == []


async def test_speaker_choice_and_network_bars(
        web_server: SalonServer, web_admin: AdminClient, browsers: Browsers) -> None:
    ann, ben, ann_id, ben_id = await meeting_of_two(web_server, web_admin, browsers, "Speaker")
    page = ann.page
    # Network: good on loopback, on Ann's tile at Ben's (what Ben receives) and Ben's own (uplink).
    for target in (ann_id, ben_id):
        await expect(ben.page.locator(f"[data-testid=tile][data-peer-id='{target}'] [data-testid=tile-network]")
                     ).to_have_attribute("data-quality", "good", timeout=15000)
    badge = ben.page.locator(f"[data-testid=tile][data-peer-id='{ann_id}'] [data-testid=tile-network]")
    await expect(badge).to_have_attribute("aria-label", "Network: good")
    # Loss injected into what Ben's monitor reads: Ann's tile turns poor.
    await ben.page.evaluate("""async () => {
        const monitor = (await import("/meet/network.js")).networkMonitor();
        let n = 0;
        monitor.source = async () => {
          n += 1;
          const s = await window.salon.media.stats();
          for (const row of s.inbound) row.packetsLost = row.packetsReceived * 0.25 * n;
          return s;
        };
      }""")
    await expect(badge).to_have_attribute("data-quality", "poor", timeout=10000)

    await open_settings(page)
    speaker = page.get_by_test_id("settings-speaker")
    await expect(speaker).to_be_visible()
    await speaker.select_option("test-speaker-2")
    await ann.wait("() => [...document.querySelectorAll('#audio-sinks audio')].length > 0 && "
                   "[...document.querySelectorAll('#audio-sinks audio')].every((a) => a.sinkId === 'test-speaker-2')")
    old = await page.evaluate("() => [...document.querySelectorAll('#audio-sinks audio')].map((a) => a.dataset.trackId)")
    # New <audio> elements (a new subscribe connection brings Ben's tracks again) follow it too.
    await page.keyboard.press("Escape")
    await page.evaluate("() => (window.__oldSinks = [...document.querySelectorAll('#audio-sinks audio')], "
                        "window.salon.media.reset('subscribe'))")
    await ann.wait("() => { const now = [...document.querySelectorAll('#audio-sinks audio')];"
                   " return now.length && now.every((a) => !window.__oldSinks.includes(a) && a.sinkId === 'test-speaker-2'); }")
    await rising(ann, ben_id, "audio", by=50)
    assert old
    await open_settings(page)
    await page.get_by_test_id("settings-speaker-test").click()
    await ann.wait("() => window.__fake.tones.includes('test-speaker-2')")
    await page.keyboard.press("Escape")

    # Screenshots of the sheet at three sizes, nothing outside the window.
    await open_settings(page)
    SHOTS.mkdir(parents=True, exist_ok=True)
    for name, size in (("desktop", DESKTOP), ("phone", PHONE), ("landscape", LANDSCAPE)):
        await page.set_viewport_size(size)
        await page.wait_for_timeout(200)
        await no_overflow(page)
        box = await page.get_by_test_id("settings").bounding_box()
        assert box and box["x"] >= -0.5 and box["x"] + box["width"] <= size["width"] + 0.5, box
        if name == "phone":
            assert box["width"] >= size["width"] - 1, box  # a bottom sheet the width of the screen
        await page.screenshot(path=str(SHOTS / f"settings-{name}.png"))
    await page.set_viewport_size(DESKTOP)

    # Leaving stops the polling.
    await ben.page.get_by_test_id("btn-leave").click()
    await ben.wait("async () => (await import('/meet/network.js')).networkMonitor().stopped")
    assert await page.evaluate("() => window.salon.errors") == []


async def test_prejoin_speaker_meter_and_remembered_choices(
        web_server: SalonServer, web_admin: AdminClient, browsers: Browsers) -> None:
    meeting = await web_admin.create_meeting(title="Pre-join devices")
    cat_p = await web_admin.add_participant(meeting["id"], "cat", "group_call_participant", name="Cat")
    cat = await with_fake_devices(browsers, "cat")
    page = cat.page
    await cat.open(web_server.url, cat_p["token"])
    await expect(page.get_by_test_id("prejoin-join")).to_be_enabled()
    # A remembered camera that is gone: the default one, a notice, and it is forgotten.
    await page.evaluate("() => localStorage.setItem('salon.devices', JSON.stringify({video: 'gone-camera'}))")
    await page.reload()
    await expect(page.get_by_test_id("device-notice")).to_have_text(
        "Your camera is no longer available. Using the default camera.")
    await cat.wait("() => { const v = document.getElementById('preview').srcObject; "
                   "return v && v.getVideoTracks()[0].readyState === 'live'; }")
    assert await page.evaluate("() => JSON.parse(localStorage.getItem('salon.devices')).video") is None
    await cat.wait(f"(id) => ({LEVEL})(id) > 0.02", "prejoin-mic-level", timeout=10)
    await page.get_by_test_id("prejoin-mic").click()  # microphone off: the meter rests
    await cat.wait(f"(id) => ({LEVEL})(id) === 0", "prejoin-mic-level")
    await page.get_by_test_id("prejoin-mic").click()
    speaker = page.get_by_test_id("prejoin-speaker-device")
    await expect(speaker.locator("option[value='test-speaker-2']")).to_have_count(1)
    await speaker.select_option("test-speaker-2")
    await page.get_by_test_id("prejoin-speaker-test").click()
    await cat.wait("() => window.__fake.tones.includes('test-speaker-2')")
    await page.get_by_test_id("prejoin-cam-device").select_option("test-camera-2")
    await cat.wait("() => document.getElementById('preview').srcObject && window.__fake.made.video.includes("
                   "document.getElementById('preview').srcObject.getVideoTracks()[0].id)")
    SHOTS.mkdir(parents=True, exist_ok=True)
    for name, size in (("phone", PHONE), ("landscape", LANDSCAPE), ("desktop", DESKTOP)):
        await page.set_viewport_size(size)
        await page.wait_for_timeout(150)
        await no_overflow(page)
        await page.screenshot(path=str(SHOTS / f"prejoin-{name}.png"), full_page=True)
    await page.set_viewport_size(DESKTOP)

    # The next visit starts with the choices; Join takes the second camera to the meeting.
    await page.reload()
    await expect(page.get_by_test_id("prejoin-join")).to_be_enabled()
    await expect(page.get_by_test_id("prejoin-cam-device")).to_have_value("test-camera-2")
    await expect(page.get_by_test_id("prejoin-speaker-device")).to_have_value("test-speaker-2")
    await page.get_by_test_id("prejoin-join").click()
    await cat.wait_state("joined")
    await cat.wait(f"""() => {{ const s = ({SENDER})("video"); return s.fake.includes(s.id); }}""")
    await open_settings(page)
    await expect(page.get_by_test_id("settings-camera")).to_have_value("test-camera-2")
    await expect(page.get_by_test_id("settings-speaker")).to_have_value("test-speaker-2")
    assert await page.evaluate("() => window.salon.errors") == []


async def test_network_grades_from_crafted_stats(web_server: SalonServer, browsers: Browsers) -> None:
    """The grading itself, on stats rows made up here (network.js in the page)."""
    person = await browsers.person("grader")
    await person.page.goto(f"{web_server.url}/meet")
    grades = await person.page.evaluate("""async () => {
        const {gradePeers} = await import("/meet/network.js");
        const row = (peerId, kind, over) => ({trackId: `${peerId}:${kind}`, peerId, kind, packetsReceived: 0,
                                              packetsLost: 0, jitter: 0.005, framesReceived: 0, framesDropped: 0, ...over});
        const before = {inbound: [row("a", "audio", {}), row("b", "audio", {}), row("c", "video", {}),
                                  row("d", "audio", {packetsReceived: 100}), row("e", "audio", {}), row("f", "audio", {})]};
        const now = {inbound: [
          row("a", "audio", {packetsReceived: 100}),                             // clean
          row("b", "audio", {packetsReceived: 95, packetsLost: 5}),              // 5 % lost
          row("c", "video", {packetsReceived: 300, framesReceived: 100, framesDropped: 20}),  // 20 % dropped
          row("d", "audio", {packetsReceived: 100}),                             // nothing new
          row("e", "audio", {packetsReceived: 100, jitter: 0.05}),               // 50 ms jitter
          row("f", "audio", {packetsReceived: 80, packetsLost: 20}),             // 20 % lost
        ], outbound: [{kind: "video", framesEncoded: 10}],
           uplink: {roundTripTime: 0.6, availableOutgoingBitrate: 2e6, fractionLost: 0}};
        const slow = {inbound: [], outbound: [{kind: "video", framesEncoded: 10}],
                      uplink: {roundTripTime: 0.01, availableOutgoingBitrate: 200e3, fractionLost: 0}};
        return {...Object.fromEntries(gradePeers(before, now, "me")),
                slowUplink: gradePeers(null, slow, "me").get("me"),
                nothingPublished: gradePeers(null, {inbound: [], outbound: [], uplink: null}, "me").get("me")};
      }""")
    assert grades == {"a": "good", "b": "fair", "c": "poor", "d": "unknown", "e": "fair", "f": "poor",
                      "me": "poor", "slowUplink": "fair", "nothingPublished": "unknown"}, grades


#: A camera whose platform blurs the background itself (Chrome with the system's camera
#: effects) cannot exist here: the track's own `getCapabilities`, `applyConstraints` and
#: `getSettings` are given `backgroundBlur` the way such a browser reports it, and what
#: the page applies is recorded. Without this script the page must not offer blur at all.
PLATFORM_BLUR = """(() => {
  const proto = MediaStreamTrack.prototype;
  const caps = proto.getCapabilities, settings = proto.getSettings, apply = proto.applyConstraints;
  window.__blur = {applied: []};
  const blurred = new WeakMap();
  proto.getCapabilities = function () {
    const out = caps.call(this);
    return this.kind === "video" ? {...out, backgroundBlur: [false, true]} : out;
  };
  proto.getSettings = function () {
    const out = settings.call(this);
    return this.kind === "video" ? {...out, backgroundBlur: blurred.get(this) === true} : out;
  };
  proto.applyConstraints = async function (constraints = {}) {
    if (this.kind === "video" && "backgroundBlur" in constraints) {
      window.__blur.applied.push(constraints.backgroundBlur);
      blurred.set(this, constraints.backgroundBlur === true);
      const {backgroundBlur, ...rest} = constraints;
      return apply.call(this, rest);
    }
    return apply.call(this, constraints);
  };
})()"""


async def test_background_blur_only_where_the_browser_can(
        web_server: SalonServer, web_admin: AdminClient, browsers: Browsers) -> None:
    meeting = await web_admin.create_meeting(title="Blur")
    plain_p = await web_admin.add_participant(meeting["id"], "plain", "group_call_participant", name="Pia")
    blur_p = await web_admin.add_participant(meeting["id"], "blur", "group_call_participant", name="Bo")
    # This Chromium has no platform blur: no blur option.
    plain = await browsers.person("plain")
    await joined(plain, web_server.url, plain_p["token"])
    await open_settings(plain.page)
    await expect(plain.page.get_by_test_id("settings-noise")).to_be_visible()
    await expect(plain.page.get_by_test_id("settings-blur")).to_be_hidden()
    # One that has it: the option, applied to the open camera without a new track.
    person = await browsers.person("blur")
    await person.context.add_init_script(PLATFORM_BLUR)
    bo_id = await joined(person, web_server.url, blur_p["token"])
    await rising(plain, bo_id, "video")
    page = person.page
    await open_settings(page)
    blur = page.get_by_test_id("settings-blur")
    await expect(blur).to_be_visible()
    await expect(blur).not_to_be_checked()
    sender_track = """() => window.salon.media.pubPc.getSenders().find((s) => s.track && s.track.kind === "video").track.id"""
    before = await page.evaluate(sender_track)
    await blur.check()
    await expect(blur).to_be_checked()
    assert await page.evaluate("() => window.__blur.applied") == [True]
    assert await page.evaluate("() => window.salon.media.local.video.getSettings().backgroundBlur") is True
    assert await page.evaluate(sender_track) == before  # the same track: nothing renegotiated
    assert await page.evaluate("() => JSON.parse(localStorage.getItem('salon.devices')).backgroundBlur") is True
    await rising(plain, bo_id, "video")  # the others keep seeing the camera
    await blur.uncheck()
    await expect(blur).not_to_be_checked()
    assert await page.evaluate("() => window.__blur.applied") == [True, False]
    # The choice is part of every later opening of the camera.
    assert await page.evaluate("() => window.salon.media._constraints('video').backgroundBlur") is False
    SHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SHOTS / "settings-blur-desktop.png"))
