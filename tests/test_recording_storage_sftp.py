"""Recording storage on an SFTP server (RealtimeKit's `sftp` type), against a real one on
loopback (asyncssh's): password and key logins, the file's place as its link, refusals
that name the field or the server and never a secret."""

import base64
import struct
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import asyncssh
import pytest

from salon.recording.storage import (
    StorageFailed,
    UnsupportedStorage,
    check_storage_config,
    storage_for,
)
from salon.recording.storage.sftp import SftpStorage
from tests.sftp import PASSPHRASE, PASSWORD, USER, SftpServer, sftp_server
from tests.storage_checks import LOCAL, a_file, put_weekly_sync


@pytest.fixture()
def server(tmp_path: Path) -> Any:
    root = tmp_path / "sftp-root"
    root.mkdir()
    with sftp_server(root) as running:
        yield running


@pytest.mark.parametrize("login", ["password", "key", "key with a passphrase"])
async def test_upload_lands_in_the_folder_and_is_deleted(server: SftpServer, tmp_path: Path,
                                                         login: str) -> None:
    config = {"password": {},
              "key": {"auth_method": "KEY", "private_key": server.key, "password": None},
              "key with a passphrase": {"private_key": server.locked_key,
                                        "password": PASSPHRASE}}[login]
    storage = storage_for(server.config(path="meetings/weekly", **config), local=LOCAL)
    assert isinstance(storage, SftpStorage)
    stored, data = await put_weekly_sync(storage, tmp_path)
    landed = server.root / "meetings" / "weekly" / "rec-1" / "weekly-sync.mp4"
    assert landed.read_bytes() == data and stored.backend == "sftp"
    url, expiry = await storage.download_url(stored, timedelta(days=1))
    assert url == (f"sftp://{USER}@127.0.0.1:{server.port}/~/meetings/weekly/rec-1/"
                   "weekly-sync.mp4")
    assert expiry is None and stored.location == url
    await storage.delete(stored)
    assert not landed.exists()
    await storage.delete(stored)  # already gone: not an error


async def test_an_absolute_path_is_taken_as_given(server: SftpServer, tmp_path: Path) -> None:
    storage = storage_for(server.config(path="/in/"), local=LOCAL)
    stored = await storage.put(a_file(tmp_path, 1024), "rec-2/a.m4a", "audio/mp4")
    assert (server.root / "in" / "rec-2" / "a.m4a").stat().st_size == 1024
    url, _ = await storage.download_url(stored, timedelta(seconds=1))
    assert url.endswith(f":{server.port}/in/rec-2/a.m4a")


@pytest.mark.parametrize("wrong", ["password", "key", "port"])
async def test_failures_name_the_server_not_the_secret(server: SftpServer, tmp_path: Path,
                                                       wrong: str) -> None:
    other_key = asyncssh.generate_private_key("ssh-ed25519").export_private_key().decode()
    config = {"password": server.config(password="not-" + PASSWORD),
              "key": server.config(private_key=other_key, password=None),
              "port": server.config(port=1)}[wrong]
    with pytest.raises(StorageFailed) as failed:
        await storage_for(config, local=LOCAL).put(a_file(tmp_path, 512), "rec-3/x.mp4",
                                                   "video/mp4")
    message = failed.value.message
    assert "sftp server 127.0.0.1" in message and "rec-3/x.mp4" in message
    if wrong != "port":
        assert "the login was refused" in message
    assert PASSWORD not in message and other_key[40:80] not in message
    assert PASSWORD not in repr(storage_for(config, local=LOCAL))


@pytest.mark.parametrize(("config", "says"), [
    ({"type": "sftp", "username": USER, "password": PASSWORD}, "needs host."),
    ({"type": "sftp", "host": "h", "password": PASSWORD}, "needs username."),
    ({"type": "sftp", "host": "h", "username": USER},
     "with auth_method PASSWORD needs password."),
    ({"type": "sftp", "host": "h", "username": USER, "auth_method": "KEY",
      "password": PASSWORD}, "with auth_method KEY needs private_key."),
    *[({"type": "sftp", "host": host, "username": USER, "password": PASSWORD},
       "host of type 'sftp' must be a host name")
      for host in ("sftp://h", "[11111", "xn--", "not a host", "a..b")],
    ({"type": "sftp", "host": "h", "username": USER, "private_key": "not a key"},
     "private_key must be a private key in OpenSSH or PEM text"),
])
def test_incomplete_configs_say_which_field(config: dict[str, Any], says: str) -> None:
    with pytest.raises(UnsupportedStorage) as refused:
        check_storage_config(config)
    assert says in refused.value.message
    assert PASSWORD not in refused.value.message and "not a key" not in refused.value.message


def test_a_locked_key_without_its_passphrase_is_refused_at_start(server: SftpServer) -> None:
    with pytest.raises(UnsupportedStorage, match="passphrase"):
        check_storage_config(server.config(private_key=server.locked_key, password=None))


def with_rounds(key_text: str, rounds: int) -> str:
    """An encrypted OpenSSH key whose header asks for `rounds` bcrypt rounds."""
    body = "".join(key_text.strip().splitlines()[1:-1])
    data = bytearray(base64.b64decode(body))
    at = len(b"openssh-key-v1\0")
    for _ in range(2):  # cipher name, kdf name
        at += 4 + struct.unpack(">I", data[at:at + 4])[0]
    salt = struct.unpack(">I", data[at + 4:at + 8])[0]
    data[at + 8 + salt:at + 12 + salt] = struct.pack(">I", rounds)
    return ("-----BEGIN OPENSSH PRIVATE KEY-----\n" + base64.b64encode(bytes(data)).decode()
            + "\n-----END OPENSSH PRIVATE KEY-----\n")


@pytest.mark.parametrize("rounds", [257, 0xFFFFFFFF])
def test_a_key_too_dear_to_open_is_refused_without_opening_it(server: SftpServer,
                                                              rounds: int) -> None:
    """The bcrypt rounds are the key's own: one asking for billions would hold whoever
    opens it for days. Refused from its header, at start, in no time."""
    dear = with_rounds(server.locked_key, rounds)
    started = time.monotonic()
    with pytest.raises(UnsupportedStorage, match="more than 256 bcrypt rounds"):
        check_storage_config(server.config(private_key=dear, password=PASSPHRASE))
    assert time.monotonic() - started < 0.5
    check_storage_config(server.config(private_key=with_rounds(server.locked_key, 256),
                                       password=PASSPHRASE))  # not opened: as fast


def test_an_encrypted_pkcs8_key_is_refused_with_how_to_convert_it() -> None:
    key = asyncssh.generate_private_key("ssh-ed25519")
    pkcs8 = key.export_private_key("pkcs8-pem", passphrase=PASSPHRASE).decode()
    with pytest.raises(UnsupportedStorage, match=r"ssh-keygen -p -f"):
        check_storage_config({"type": "sftp", "host": "h", "username": USER,
                              "private_key": pkcs8, "password": PASSPHRASE})


@pytest.mark.parametrize(("host", "says"), [
    ("sftp.example.com:2222", "put the port in storage_config.port"),
    ("a..b", "must be a host name"), ("x" * 70 + ".example", "must be a host name"),
])
def test_hosts_that_cannot_be_reached_as_written_are_refused(host: str, says: str) -> None:
    with pytest.raises(UnsupportedStorage, match=says):
        check_storage_config({"type": "sftp", "host": host, "username": USER,
                              "password": PASSWORD})


async def test_a_wrong_passphrase_fails_the_upload_not_the_start(server: SftpServer,
                                                                 tmp_path: Path) -> None:
    """An encrypted key is opened only at upload, in a thread: a passphrase that does not
    open it is a refused upload (the files then stay in salon's storage)."""
    config = server.config(private_key=server.locked_key, password="not-" + PASSPHRASE)
    check_storage_config(config)  # not opened here
    with pytest.raises(StorageFailed, match="does not open with the passphrase"):
        await storage_for(config, local=LOCAL).put(a_file(tmp_path, 512), "rec-4/x.mp4",
                                                   "video/mp4")


async def test_the_login_folder_and_the_root_are_told_apart(server: SftpServer,
                                                            tmp_path: Path) -> None:
    home = storage_for(server.config(), local=LOCAL)
    stored = await home.put(a_file(tmp_path, 256), "rec-5/a.mp4", "video/mp4")
    assert stored.location == f"sftp://{USER}@127.0.0.1:{server.port}/~/rec-5/a.mp4"
    root = storage_for(server.config(path="/"), local=LOCAL)
    stored = await root.put(a_file(tmp_path, 256), "rec-6/a.mp4", "video/mp4")
    assert stored.location == f"sftp://{USER}@127.0.0.1:{server.port}/rec-6/a.mp4"
    assert (server.root / "rec-5" / "a.mp4").exists() and (server.root / "rec-6").exists()


async def test_a_large_file_lands_whole_and_is_read_off_the_event_loop(
        server: SftpServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A recording is hundreds of megabytes: each piece of it is read in a worker thread
    (asyncssh's own `put` would read it on the event loop), and they land in order."""
    import threading

    from salon.recording.storage import sftp as sftp_module

    readers: list[threading.Thread] = []
    read = sftp_module._read

    def watched(source: Any, size: int) -> bytes:
        readers.append(threading.current_thread())
        return read(source, size)

    monkeypatch.setattr(sftp_module, "_read", watched)
    monkeypatch.setattr(sftp_module, "READ_CHUNK", 256 * 1024)
    data = bytes(range(256)) * (4 * 1024 * 3 + 17)  # 3 MB and a bit: 13 pieces
    local = tmp_path / "big.mp4"
    local.write_bytes(data)
    storage = storage_for(server.config(path="big"), local=LOCAL)
    await storage.put(local, "rec-9/big.mp4", "video/mp4")
    assert (server.root / "big" / "rec-9" / "big.mp4").read_bytes() == data
    assert len(readers) == 14  # 13 pieces and the empty read that ends it
    assert threading.main_thread() not in readers
