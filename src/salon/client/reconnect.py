"""Auto-resume: a dropped connection resumed on the same RealtimeClient (docs/protocol.md
"Clusters: redirects and failover").

A mixin of RealtimeClient, which starts `_resume` when a connection with auto-resume on
drops with a resumable code. Each attempt opens a connection to a candidate node and
sends the join with `resume` there, following REDIRECTs, exactly as the first join did.
"""

import asyncio
import contextlib
from collections.abc import Callable
from ssl import SSLContext
from typing import TYPE_CHECKING, Any

import websockets

from salon.client import cluster


class Resuming:
    url: str
    entry_url: str
    nodes: list[str]
    token: str
    join_data: dict[str, Any]
    reconnecting: bool
    resumes: int
    resumed: asyncio.Event
    ssl: SSLContext | None
    connection: websockets.ClientConnection
    _stopping: bool

    if TYPE_CHECKING:  # RealtimeClient's, which this mixin is part of
        async def _switch(self, connection: websockets.ClientConnection, url: str) -> None: ...
        async def _handshake(self, data: dict[str, Any]) -> dict[str, Any]: ...
        def _adopt(self, reply: dict[str, Any]) -> None: ...
        nodes: list[str]
        watchers: dict[str, list[Callable[[dict[str, Any]], None]]]
        async def _finish(self) -> None: ...

        @staticmethod
        async def _dial(url: str, ssl: SSLContext | None,
                        open_timeout: float = 10.0) -> websockets.ClientConnection: ...

        @property
        def resume_info(self) -> dict[str, str]: ...

    async def _resume(self) -> None:
        """Resume the dropped peer: round after round, try each of `cluster.candidates`
        (following REDIRECTs), with a doubling pause between rounds, until one takes the
        resume, one refuses it for good (RESUME_FAILED), or RESUME_WITHIN_SECS pass."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + cluster.RESUME_WITHIN_SECS
        home = self.url
        home_node = self.nodes[0] if self.nodes else None
        delay = cluster.FIRST_BACKOFF_SECS
        try:
            while not self._stopping and loop.time() < deadline:
                await asyncio.sleep(delay)
                delay = min(delay * 2, cluster.MAX_BACKOFF_SECS)
                for url in cluster.candidates(home, self.entry_url, self.nodes):
                    left = deadline - loop.time()
                    if self._stopping or left <= 0:
                        break
                    try:
                        await self._switch(await self._dial(url, self.ssl, min(5.0, left)), url)
                        self._adopt(await self._handshake(self._resume_data()))
                    except Exception as error:  # noqa: BLE001 - any failure: the next one
                        # a RealtimeError's code; refused, unreachable, timed out: none
                        if getattr(error, "code", None) in cluster.FINAL_REFUSALS:
                            return
                        continue
                    self.reconnecting = False
                    self.resumes += 1
                    self.resumed.set()
                    self._node_changed(home_node)
                    return
        finally:
            if self.reconnecting:  # gave up, or close() stopped it
                self.reconnecting = False
                with contextlib.suppress(Exception):
                    await self.connection.close()
                await self._finish()

    def _node_changed(self, before: str | None) -> None:
        """Resumed on another node than the one it was on (a cluster failover): that
        node's media server knows nothing of this peer, so the `resumed.elsewhere`
        watchers (the media session) start media over there."""
        now = self.nodes[0] if self.nodes else None
        if before is not None and now is not None and now != before:
            for watcher in self.watchers.get("resumed.elsewhere", ()):
                watcher(self.joined)

    def _resume_data(self) -> dict[str, Any]:
        """The join that resumes this peer: the first join's, with the current token (a
        move to another meeting changes it) and resume token."""
        data = {**self.join_data, "token": self.token, "resume": self.resume_info}
        if self.token != self.join_data.get("token"):
            data.pop("session_id", None)  # that was the first meeting's session
        return data

