"""A real SFTP server on loopback (asyncssh's) for the storage and recording tests: one
user, `PASSWORD` and a public key let in, files under a folder of the test's own."""

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncssh

USER = "recorder"
PASSWORD = "sftp-pa55word-salon"
#: The passphrase of `SftpServer.locked_key`.
PASSPHRASE = "key-passphrase-salon"


@dataclass
class SftpServer:
    port: int
    root: Path
    #: OpenSSH private keys the server lets in: one plain, one with `PASSPHRASE`.
    key: str
    locked_key: str

    def config(self, **more: Any) -> dict[str, Any]:
        """A password `storage_config` for this server."""
        return {"type": "sftp", "host": "127.0.0.1", "port": self.port, "username": USER,
                "password": PASSWORD, **more}


class _Server(asyncssh.SSHServer):
    def __init__(self, keys: list[asyncssh.SSHKey]) -> None:
        self.keys = keys

    def begin_auth(self, username: str) -> bool:
        return True

    def password_auth_supported(self) -> bool:
        return True

    def validate_password(self, username: str, password: str) -> bool:
        return username == USER and password == PASSWORD

    def public_key_auth_supported(self) -> bool:
        return True

    def validate_public_key(self, username: str, key: asyncssh.SSHKey) -> bool:
        return username == USER and any(
            key.public_data == known.public_data for known in self.keys)


@contextmanager
def sftp_server(root: Path) -> Iterator[SftpServer]:
    """Serves SFTP on a free loopback port, chrooted to `root`, in a thread of its own."""
    key = asyncssh.generate_private_key("ssh-ed25519")
    locked = asyncssh.generate_private_key("ssh-ed25519")
    host_key = asyncssh.generate_private_key("ssh-ed25519")
    loop = asyncio.new_event_loop()
    started: list[Any] = []

    def chrooted(channel: Any) -> asyncssh.SFTPServer:
        return asyncssh.SFTPServer(channel, chroot=str(root).encode())

    async def start() -> None:
        server = await asyncssh.listen(
            "127.0.0.1", 0, server_host_keys=[host_key],
            server_factory=lambda: _Server([key.convert_to_public(),
                                            locked.convert_to_public()]),
            sftp_factory=chrooted)
        started.append(server)

    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    asyncio.run_coroutine_threadsafe(start(), loop).result(10)
    server = started[0]
    port = server.sockets[0].getsockname()[1]
    try:
        yield SftpServer(port, root, key.export_private_key().decode(),
                         # ssh-keygen's 16 bcrypt rounds (asyncssh's own default is 128)
                         locked.export_private_key(passphrase=PASSPHRASE, rounds=16).decode())
    finally:
        async def stop() -> None:
            server.close()
            await server.wait_closed()
        asyncio.run_coroutine_threadsafe(stop(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
