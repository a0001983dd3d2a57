"""SFTP storage (RealtimeKit's `sftp` type) with asyncssh: the files go to a folder on
the customer's own SSH server, logged in with a password or a private key.

asyncssh is asynchronous, so the transfers run on the event loop like any other network
I/O. SFTP has no signed links: a file's `download_url` is where it is,
`sftp://<username>@<host>:<port>/<path>`, which needs the server's credentials to fetch,
and it has no expiry (`download_url_expiry` null).

The server's host key is not checked: RealtimeKit's `storage_config` has no field for it
(docs/recording.md says so, and what it means).
"""

import posixpath
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Literal
from urllib.parse import quote

from salon.recording.storage.base import StorageFailed, StoredFile, UnsupportedStorage

if TYPE_CHECKING:
    import asyncssh

#: How long a login may take before the upload counts as refused.
CONNECT_TIMEOUT_SECS = 15.0


@dataclass(frozen=True)
class SftpTarget:
    """Where an `sftp` `storage_config` sends files. The password and the key are left
    out of `repr()` and `str()` (and so of logs and error messages)."""

    host: str
    port: int
    username: str
    auth_method: Literal["KEY", "PASSWORD"]
    #: The `path` of the config: a folder on the server ("" for the login folder).
    folder: str
    password: str | None = field(default=None, repr=False)
    private_key: str | None = field(default=None, repr=False)

    def remote_path(self, key: str) -> str:
        return posixpath.join(self.folder, key) if self.folder else key

    def login(self) -> dict[str, object]:
        """asyncssh's connect options for this target."""
        options: dict[str, object] = {
            "host": self.host, "port": self.port, "username": self.username,
            "known_hosts": None, "connect_timeout": CONNECT_TIMEOUT_SECS,
            # only the method the config names: no agent, no ~/.ssh (config or keys) of
            # the user salon runs as
            "config": None, "agent_path": None, "client_keys": None, "password": None,
            "preferred_auth": "publickey" if self.auth_method == "KEY" else
            "password,keyboard-interactive"}
        if self.auth_method == "KEY":
            options["client_keys"] = [read_key(self.private_key or "", self.password)]
        else:
            options["password"] = self.password
        return options


def read_key(private_key: str, passphrase: str | None) -> "asyncssh.SSHKey":
    """The config's private key (OpenSSH or PEM text; `password` is its passphrase), or
    `UnsupportedStorage` saying so (never quoting the key)."""
    import asyncssh  # here: a server without sftp storage never pays its import
    try:
        return asyncssh.import_private_key(private_key, passphrase or None)
    except (asyncssh.KeyImportError, ValueError, TypeError):
        raise UnsupportedStorage(
            "storage_config.private_key must be a private key in OpenSSH or PEM text "
            "(with storage_config.password as its passphrase if it has one).") from None


class SftpStorage:
    """Recording files in one folder of an SFTP server."""

    backend = "sftp"

    def __init__(self, target: SftpTarget) -> None:
        self.target = target

    def __repr__(self) -> str:
        return f"SftpStorage({self.target!r})"

    async def put(self, local_path: Path, key: str, content_type: str) -> StoredFile:
        import asyncssh
        remote = self.target.remote_path(key)
        size = local_path.stat().st_size
        try:
            async with asyncssh.connect(**self.target.login()) as ssh:  # type: ignore[arg-type]
                async with ssh.start_sftp_client() as sftp:
                    folder = posixpath.dirname(remote)
                    if folder:
                        await sftp.makedirs(folder, exist_ok=True)
                    await sftp.put(str(local_path), remote)
        except (asyncssh.Error, OSError) as exc:
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
        try:
            async with asyncssh.connect(**self.target.login()) as ssh:  # type: ignore[arg-type]
                async with ssh.start_sftp_client() as sftp:
                    await sftp.remove(remote)
        except asyncssh.SFTPNoSuchFile:
            return
        except (asyncssh.Error, OSError) as exc:
            raise StorageFailed(f"{self._where()}: could not delete {stored.key}: "
                                f"{_reason(exc)}.") from None

    def _url(self, remote: str) -> str:
        path = remote if remote.startswith("/") else f"/{remote}"
        host = f"[{self.target.host}]" if ":" in self.target.host else self.target.host
        return (f"sftp://{quote(self.target.username, safe='')}@{host}:{self.target.port}"
                f"{quote(path)}")

    def _where(self) -> str:
        return f"sftp server {self.target.host}:{self.target.port} (user " \
               f"'{self.target.username}')"


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
    return exc.strerror or type(exc).__name__
