"""SFTP storage (RealtimeKit's `sftp` type) with asyncssh: the files go to a folder on
the customer's own SSH server, logged in with a password or a private key.

asyncssh is asynchronous, so the transfers run on the event loop like any other network
I/O; the local file is read in a thread (`_copy`), and so is a private key opened
(sftp_keys.py says why). SFTP has no signed
links: a file's `download_url` is where it is, `sftp://<username>@<host>:<port>/<path>`
(`/~/<path>` from the login folder), which needs the server's credentials to fetch, and
it has no expiry (`download_url_expiry` null).

The server's host key is not checked: RealtimeKit's `storage_config` has no field for it
(docs/recording.md says so, and what it means).
"""

import asyncio
import posixpath
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Literal
from urllib.parse import quote

from salon.deadline import within
from salon.recording.storage.base import StorageFailed, StoredFile, UnsupportedStorage
from salon.recording.storage.sftp_keys import open_key

#: How long a login may take before the upload counts as refused.
CONNECT_TIMEOUT_SECS = 15.0
#: A server that stops answering mid-transfer is given up after 4 unanswered keepalives
#: 15 s apart; and a whole transfer after 2 minutes plus 10 s per MB (100 kB/s).
KEEPALIVE_SECS, KEEPALIVE_MISSES = 15.0, 4
TRANSFER_BASE_SECS, TRANSFER_BYTES_PER_SEC = 120.0, 100_000
#: The local file is read in pieces this big, each in a worker thread: a recording is
#: hundreds of megabytes, and asyncssh's own `put` reads it on the event loop, which
#: would stall every room on the node for each read. asyncssh writes each piece with
#: parallel requests.
READ_CHUNK = 1024 * 1024


@dataclass(frozen=True)
class SftpTarget:
    """Where an `sftp` `storage_config` sends files. The password and the key are left
    out of `repr()` and `str()` (and so of logs and error messages)."""

    host: str
    port: int
    username: str
    auth_method: Literal["KEY", "PASSWORD"]
    #: The `path` of the config: a folder on the server ("" for the login folder; one
    #: starting with "/" is from the root).
    folder: str
    password: str | None = field(default=None, repr=False)
    private_key: str | None = field(default=None, repr=False)

    def remote_path(self, key: str) -> str:
        return posixpath.join(self.folder, key) if self.folder else key


class SftpStorage:
    """Recording files in one folder of an SFTP server."""

    backend = "sftp"

    def __init__(self, target: SftpTarget) -> None:
        import asyncssh  # noqa: F401 - imported here, where storage_for runs in a thread
        self.target = target
        self._key: Any = None

    def __repr__(self) -> str:
        return f"SftpStorage({self.target!r})"

    async def _login(self) -> dict[str, Any]:
        """asyncssh's connect options: only the method the config names (no agent, no
        ~/.ssh config or keys of the user salon runs as). The key is opened once, in a
        thread (an encrypted one takes its bcrypt rounds)."""
        target = self.target
        options: dict[str, Any] = {
            "host": target.host, "port": target.port, "username": target.username,
            "known_hosts": None, "connect_timeout": CONNECT_TIMEOUT_SECS,
            "keepalive_interval": KEEPALIVE_SECS, "keepalive_count_max": KEEPALIVE_MISSES,
            "config": None, "agent_path": None, "client_keys": None, "password": None,
            "preferred_auth": "publickey" if target.auth_method == "KEY" else
            "password,keyboard-interactive"}
        if target.auth_method == "KEY":
            if self._key is None:
                try:
                    self._key = await asyncio.to_thread(open_key, target.private_key or "",
                                                        target.password)
                except UnsupportedStorage:
                    raise StorageFailed(f"{self._where()}: the private key does not open "
                                        "with the passphrase in storage_config.password."
                                        ) from None
            options["client_keys"] = [self._key]
        else:
            options["password"] = target.password
        return options

    async def put(self, local_path: Path, key: str, content_type: str) -> StoredFile:
        import asyncssh
        remote = self.target.remote_path(key)
        size = local_path.stat().st_size

        async def upload() -> None:
            async with asyncssh.connect(**await self._login()) as ssh:
                async with ssh.start_sftp_client() as sftp:
                    folder = posixpath.dirname(remote)
                    if folder and folder != "/":
                        await sftp.makedirs(folder, exist_ok=True)
                    await _copy(sftp, local_path, remote)
        try:
            await within(upload(), TRANSFER_BASE_SECS
                         + size / TRANSFER_BYTES_PER_SEC)
        except (asyncssh.Error, OSError, ValueError) as exc:
            # ValueError: a host name that cannot be looked up (IDNA)
            raise StorageFailed(f"{self._where()}: could not upload {key}: "
                                f"{_reason(exc)}.") from None
        return StoredFile(key=key, size=size, content_type=content_type, backend="sftp",
                          location=self._url(remote))

    async def download_url(self, stored: StoredFile,
                           expires_in: timedelta) -> tuple[str, datetime | None]:
        return self._url(self.target.remote_path(stored.key)), None

    async def delete(self, stored: StoredFile) -> None:
        import asyncssh
        remote = self.target.remote_path(stored.key)

        async def remove() -> None:
            async with asyncssh.connect(**await self._login()) as ssh:
                async with ssh.start_sftp_client() as sftp:
                    await sftp.remove(remote)
        try:
            await within(remove(), TRANSFER_BASE_SECS)
        except asyncssh.SFTPNoSuchFile:
            return
        except (asyncssh.Error, OSError, ValueError) as exc:
            raise StorageFailed(f"{self._where()}: could not delete {stored.key}: "
                                f"{_reason(exc)}.") from None

    def _url(self, remote: str) -> str:
        """The sftp URI of a file (draft-ietf-secsh-scp-sftp-ssh-uri): a path from the
        root as it is, one from the login folder under `/~/`."""
        path = remote if remote.startswith("/") else f"/~/{remote}"
        host = f"[{self.target.host}]" if ":" in self.target.host else self.target.host
        return (f"sftp://{quote(self.target.username, safe='')}@{host}:{self.target.port}"
                f"{quote(path)}")

    def _where(self) -> str:
        return f"sftp server {self.target.host}:{self.target.port} (user " \
               f"'{self.target.username}')"


async def _copy(sftp: Any, local_path: Path, remote: str) -> None:
    """`sftp.put(local_path, remote)`, with the local file read off the event loop."""
    source = await asyncio.to_thread(local_path.open, "rb")
    try:
        async with sftp.open(remote, "wb") as out:
            offset = 0
            while chunk := await asyncio.to_thread(_read, source, READ_CHUNK):
                await out.write(chunk, offset)
                offset += len(chunk)
    finally:
        await asyncio.to_thread(source.close)


def _read(source: Any, size: int) -> bytes:
    return source.read(size)


def _reason(exc: Exception) -> str:
    """What went wrong, in a few words: asyncssh's reason (which never holds the
    password), or the kind of network error."""
    import asyncssh
    if isinstance(exc, asyncssh.PermissionDenied):
        return "the login was refused"
    if isinstance(exc, asyncssh.Error):
        return exc.reason or type(exc).__name__
    if isinstance(exc, TimeoutError):
        return "no answer in time"
    return getattr(exc, "strerror", None) or type(exc).__name__
