"""The baseline for bench/media.py: a stock aiortc relay server, as aiortc's examples build one.

One room. A publisher POSTs its offer to /offer with `"role": "publish"`; its tracks are
received by aiortc's ordinary (decoding) receivers and shared with `MediaRelay`. Each
subscriber POSTs a recvonly offer with `"role": "subscribe"` and gets every published
track through its own relay proxy, so its `RTCRtpSender` re-encodes them: one decode per
track plus one VP8 and one Opus encode per subscriber. No keyframe forwarding is needed:
each subscriber's encoder starts on a keyframe.

    .venv/bin/python bench/media_baseline.py --port 8790 [--host 127.0.0.1]
        [--ice-host 127.0.0.1] [--lifetime 900] [--parent PID]

Run it only inside a private network namespace (bench/media.py does). It exits by itself
after `--lifetime` seconds or when the process `--parent` is gone.
"""

import argparse
import asyncio
import json
import os
import sys
from pathlib import Path

from aiohttp import web
from aiortc import RTCSessionDescription
from aiortc.contrib.media import MediaBlackhole, MediaRelay

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from salon.media.embedded.hooks import new_peer_connection, use_host_addresses  # noqa: E402


class Relay:
    def __init__(self) -> None:
        self.relay = MediaRelay()
        self.tracks: dict[str, object] = {}  # kind -> the publisher's (decoding) track
        self.connections: set = set()
        self.sinks: list[MediaBlackhole] = []  # keep the decoders' queues drained

    async def offer(self, request: web.Request) -> web.Response:
        params = await request.json()
        role = params.get("role")
        if role not in ("publish", "subscribe"):
            return web.json_response({"error": "role must be publish or subscribe"}, status=400)
        if role == "subscribe" and not self.tracks:
            return web.json_response({"error": "nothing is published yet"}, status=409)
        pc = new_peer_connection()
        self.connections.add(pc)

        @pc.on("connectionstatechange")
        async def on_state() -> None:
            if pc.connectionState in ("failed", "closed"):
                self.connections.discard(pc)
                await pc.close()

        if role == "publish":
            @pc.on("track")
            def on_track(track) -> None:
                self.tracks[track.kind] = track
                sink = MediaBlackhole()
                sink.addTrack(self.relay.subscribe(track))
                self.sinks.append(sink)
                asyncio.ensure_future(sink.start())

        await pc.setRemoteDescription(RTCSessionDescription(params["sdp"], params["type"]))
        if role == "subscribe":
            for kind, track in self.tracks.items():  # reuses the offer's recvonly m-line
                if any(t.kind == kind for t in pc.getTransceivers()):
                    pc.addTrack(self.relay.subscribe(track))
        await pc.setLocalDescription(await pc.createAnswer())
        answer = pc.localDescription
        return web.json_response({"sdp": answer.sdp, "type": answer.type})

    async def stats(self, request: web.Request) -> web.Response:
        return web.json_response({"published": sorted(self.tracks),
                                  "connections": len(self.connections)})

    async def close(self) -> None:
        for sink in self.sinks:
            await sink.stop()
        await asyncio.gather(*(pc.close() for pc in list(self.connections)))
        self.connections.clear()


async def serve(args: argparse.Namespace) -> None:
    use_host_addresses(args.ice_host)
    relay = Relay()
    app = web.Application()
    app.router.add_post("/offer", relay.offer)
    app.router.add_get("/stats", relay.stats)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, args.host, args.port)
    await site.start()
    print(json.dumps({"listening": args.port}), flush=True)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + args.lifetime
    try:
        while loop.time() < deadline and (args.parent is None or _alive(args.parent)):
            await asyncio.sleep(0.5)
    finally:
        await relay.close()
        await runner.cleanup()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--ice-host", action="append", default=[],
                        help="host candidate address (repeatable; default 127.0.0.1)")
    parser.add_argument("--lifetime", type=float, default=900.0)
    parser.add_argument("--parent", type=int, help="exit when this process is gone")
    args = parser.parse_args()
    args.ice_host = args.ice_host or ["127.0.0.1"]
    asyncio.run(serve(args))


if __name__ == "__main__":
    main()
