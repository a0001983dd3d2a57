"""Room updates between nodes: a node that changes something a live room must hear of
(a recording's or a livestream's status, a deleted plugin) while another node runs the
room publishes the update on the cluster's channel, `{cluster}:rooms`, and the node
running the room applies it (`Rooms.apply`). Redis pub/sub: at most once, which is what
these updates need — each one also lands in the database, where the room's peers read
it again when they join or resume.
"""

import asyncio
import contextlib
import logging
from typing import Any

import orjson
from redis.asyncio import Redis

from salon.deadline import within
from salon.live.rooms import Rooms

log = logging.getLogger(__name__)


class RoomSignals:
    def __init__(self, redis: Redis, cluster: str, node_id: str, rooms: Rooms) -> None:
        self.redis = redis
        self.channel = f"{cluster}:rooms"
        self.node_id = node_id
        self.rooms = rooms
        self._listener: asyncio.Task[None] | None = None
        self._sending: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        """Listening before the node serves, if Redis answers; if not, the node starts
        all the same and subscribes once Redis is back."""
        pubsub = self.redis.pubsub(ignore_subscribe_messages=True)
        try:
            await pubsub.subscribe(self.channel)
        except Exception as error:
            log.warning("cluster: cannot hear room updates yet: %s", error)
        self._listener = asyncio.create_task(self._listen(pubsub), name="salon-room-signals")
        self.rooms.relay = self.publish

    async def stop(self) -> None:
        self.rooms.relay = None
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listener
        await asyncio.gather(*self._sending, return_exceptions=True)

    def publish(self, meeting_id: str | None, kind: str, data: dict[str, Any]) -> None:
        """Send an update to the node running `meeting_id` (None: every node's rooms)."""
        message = orjson.dumps({"from": self.node_id, "meeting_id": meeting_id,
                                "kind": kind, "data": data})
        task = asyncio.create_task(self._send(message))
        self._sending.add(task)
        task.add_done_callback(self._sending.discard)

    async def _send(self, message: bytes) -> None:
        try:
            await self.redis.publish(self.channel, message)
        except Exception as error:
            log.warning("cluster: a room update could not be sent: %s", error)

    async def _listen(self, pubsub: Any) -> None:
        while True:
            try:
                if not pubsub.subscribed:
                    await pubsub.subscribe(self.channel)
                async for message in pubsub.listen():
                    self._received(message.get("data"))
            except asyncio.CancelledError:
                # bounded: closing a subscription whose read was just cancelled has been
                # seen to wait forever, and a node must never hang in its shutdown
                with contextlib.suppress(BaseException):
                    await within(pubsub.aclose(), 1.0)
                raise
            except Exception as error:  # Redis away: subscribe again once it is back
                log.warning("cluster: room updates interrupted: %s", error)
                await asyncio.sleep(1.0)

    def _received(self, raw: Any) -> None:
        try:
            message = orjson.loads(raw)
            if message["from"] == self.node_id:
                return
            self.rooms.apply(message["meeting_id"], message["kind"], message["data"])
        except Exception:
            log.exception("cluster: a room update could not be applied")
