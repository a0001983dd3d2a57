"""The private key of an `sftp` `storage_config`, checked without being trusted.

An encrypted key's cost to open is written in the key itself: the bcrypt rounds of an
OpenSSH key, the PBKDF2 iterations of an encrypted PKCS#8 one. A caller could send a key
that takes hours to open, so a key is opened only off the event loop, once per storage
(`open_key`, in a thread), and a check at start (`check_key`, cheap, on the loop) refuses
what it could tell is no key, what needs a passphrase that is missing, and OpenSSH keys
dearer than `MAX_BCRYPT_ROUNDS`. Encrypted PKCS#8 keys are refused outright: their cost
hides in ASN.1, and `ssh-keygen -p` turns one into the OpenSSH format.
"""

import base64
import re
import struct
from typing import TYPE_CHECKING

from salon.recording.storage.base import UnsupportedStorage

if TYPE_CHECKING:
    import asyncssh

#: ssh-keygen's default is 16 (about 0.1 s on one core), asyncssh's 128 (about 1 s);
#: 256 takes a thread about 2 s, once per storage.
MAX_BCRYPT_ROUNDS = 256

NOT_A_KEY = ("storage_config.private_key must be a private key in OpenSSH or PEM text "
             "(with storage_config.password as its passphrase if it has one).")
_OPENSSH = re.compile(r"-----BEGIN OPENSSH PRIVATE KEY-----(.*?)-----END OPENSSH PRIVATE "
                      r"KEY-----", re.S)


def check_key(private_key: str, passphrase: str | None) -> None:
    """Refuse (`UnsupportedStorage`, never quoting the key) what is surely no usable key,
    without opening an encrypted one. A plain key is read whole: that costs nothing."""
    if "BEGIN ENCRYPTED PRIVATE KEY" in private_key:
        raise UnsupportedStorage(
            "storage_config.private_key: an encrypted PKCS#8 key is not read; convert it "
            "to the OpenSSH format (ssh-keygen -p -f <key file>) and send that.")
    found = _OPENSSH.search(private_key)
    if found is None:
        if "Proc-Type: 4,ENCRYPTED" in private_key and not passphrase:
            raise UnsupportedStorage(_needs_passphrase())
        open_key(private_key, passphrase)  # PEM: cheap to open, encrypted or not
        return
    cipher, rounds = _openssh_header(found.group(1))
    if cipher == "none":
        open_key(private_key, None)
    elif not passphrase:
        raise UnsupportedStorage(_needs_passphrase())
    elif rounds is None or rounds > MAX_BCRYPT_ROUNDS:
        raise UnsupportedStorage(
            f"storage_config.private_key is encrypted with more than {MAX_BCRYPT_ROUNDS} "
            "bcrypt rounds; encrypt it again with fewer (ssh-keygen -p -a 16 -f "
            "<key file>).")


def open_key(private_key: str, passphrase: str | None) -> "asyncssh.SSHKey":
    """The key, opened: slow for an encrypted one, so called in a thread (or by
    `check_key` for the cheap kinds). `UnsupportedStorage` if it cannot be opened."""
    import asyncssh  # here: a server without sftp storage never pays its import
    try:
        return asyncssh.import_private_key(private_key, passphrase or None)
    except (asyncssh.KeyImportError, ValueError, TypeError):
        raise UnsupportedStorage(NOT_A_KEY) from None


def _openssh_header(body: str) -> tuple[str, int | None]:
    """(cipher name, bcrypt rounds or None) of an OpenSSH private key's base64 body
    (PROTOCOL.key: magic, cipher, kdf name, kdf options)."""
    try:
        data = base64.b64decode("".join(body.split()), validate=True)
    except ValueError:
        raise UnsupportedStorage(NOT_A_KEY) from None
    magic = b"openssh-key-v1\0"
    if not data.startswith(magic):
        raise UnsupportedStorage(NOT_A_KEY)
    at = len(magic)
    fields: list[bytes] = []
    for _ in range(3):  # cipher name, kdf name, kdf options
        if at + 4 > len(data):
            raise UnsupportedStorage(NOT_A_KEY)
        (size,) = struct.unpack(">I", data[at:at + 4])
        fields.append(data[at + 4:at + 4 + size])
        at += 4 + size
    cipher, kdf, options = (fields[0].decode("ascii", "replace"),
                            fields[1].decode("ascii", "replace"), fields[2])
    if kdf != "bcrypt" or len(options) < 8:
        return cipher, None
    (salt_size,) = struct.unpack(">I", options[:4])
    if len(options) < 4 + salt_size + 4:
        return cipher, None
    (rounds,) = struct.unpack(">I", options[4 + salt_size:8 + salt_size])
    return cipher, rounds


def _needs_passphrase() -> str:
    return ("storage_config.private_key is encrypted: send its passphrase in "
            "storage_config.password.")
