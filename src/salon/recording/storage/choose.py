"""Which storage a recording goes to, from RealtimeKit's `storage_config`.

`storage_config` null (or absent) means salon's own storage (`LocalStorage`), as
RealtimeKit's own bucket. `aws`, `digitalocean` and `cloudflare` (R2; in RealtimeKit's
guide though not in its API enum) are S3-compatible and go through `S3Storage`; `azure`
goes to Azure Blob Storage through `AzureStorage`, `gcs` to Google Cloud Storage through
`GcsStorage`, `sftp` to an SSH server through `SftpStorage`. A config one of them cannot
use is `UnsupportedStorage`, with a message that names the field to fix.

Call `check_storage_config` where a `storage_config` arrives — when a recording is
started (a 400 then, rather than a recording that fails once it is over), and, if
wanted, when a meeting's `recording_config` is saved — and `storage_for` when the files
are ready (`salon.recording.delivery`). Both import the library of the type they meet
the first time they meet it (a fraction of a second to a second for azure, gcs and
sftp): salon calls them in a worker thread, off the event loop.
"""

import ipaddress
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from salon.core.schema import is_host, url_host
from salon.recording.storage.azure import AzureStorage, AzureTarget, read_connection_string
from salon.recording.storage.base import RecordingStorage, UnsupportedStorage
from salon.recording.storage.gcs import GcsStorage, GcsTarget, read_service_account
from salon.recording.storage.local import LocalStorage
from salon.recording.storage.s3 import S3Storage, S3Target
from salon.recording.storage.sftp import SftpStorage, SftpTarget
from salon.recording.storage.sftp_keys import check_key

S3_TYPES = ("aws", "digitalocean", "cloudflare")
#: The bucket names boto3 sends at all (botocore's `VALID_BUCKET`); the service may be
#: stricter (AWS: 3-63 lowercase characters), and says so when it is.
BUCKET = re.compile(r"^[a-zA-Z0-9.\-_]{1,255}$")


def check_storage_config(storage_config: Mapping[str, Any] | None) -> None:
    """Raise `UnsupportedStorage` (an `InvalidRequest`: 400 in the REST layer) if
    recordings could not be uploaded with this `storage_config`; None is always fine."""
    if storage_config is not None:
        _target(storage_config)


def storage_for(storage_config: Mapping[str, Any] | None, *,
                local: LocalStorage) -> RecordingStorage:
    """The storage for `storage_config`: `local` (the server's own, made once at start
    with its signing key) when there is none, else the service it names."""
    if storage_config is None:
        return local
    target = _target(storage_config)
    if isinstance(target, SftpTarget):
        return SftpStorage(target)
    if isinstance(target, GcsTarget):
        return GcsStorage(target)
    if isinstance(target, AzureTarget):
        return AzureStorage(target)
    return S3Storage(target)


def _target(config: Mapping[str, Any]) -> S3Target | SftpTarget | GcsTarget | AzureTarget:
    kind = config.get("type")
    if kind == "sftp":
        return sftp_target(config)
    if kind == "gcs":
        return gcs_target(config)
    if kind == "azure":
        return azure_target(config)
    return s3_target(config)


def azure_target(config: Mapping[str, Any]) -> AzureTarget:
    """An `azure` `storage_config` as a target: `bucket` (the container) and `access_key`
    (the account's connection string; `secret` and `region` are not read)."""
    missing = [name for name in ("bucket", "access_key") if not config.get(name)]
    if missing:
        raise UnsupportedStorage("storage_config of type 'azure' needs " + ", ".join(missing)
                                 + " (bucket: the container; access_key: the storage "
                                 "account's connection string).")
    _check_bucket(config)
    connection_string = str(config["access_key"])
    return AzureTarget(container=str(config["bucket"]),
                       prefix=str(config.get("path") or "").strip("/"),
                       account=read_connection_string(connection_string),
                       connection_string=connection_string)


def gcs_target(config: Mapping[str, Any]) -> GcsTarget:
    """A `gcs` `storage_config` as a target: `bucket`, and the service account's JSON key
    in `secret` (RealtimeKit's way; `access_key` and `region` are not read)."""
    missing = [name for name in ("bucket", "secret") if not config.get(name)]
    if missing:
        raise UnsupportedStorage("storage_config of type 'gcs' needs " + ", ".join(missing)
                                 + " (secret: the service account's JSON key).")
    _check_bucket(config)
    endpoint = _endpoint("gcs", "", config)
    return GcsTarget(bucket=str(config["bucket"]),
                     prefix=str(config.get("path") or "").strip("/"),
                     endpoint_url=endpoint,
                     service_account=read_service_account(str(config["secret"]),
                                                          own_endpoint=endpoint is not None))


def _check_bucket(config: Mapping[str, Any]) -> None:
    if not BUCKET.match(str(config["bucket"])):
        raise UnsupportedStorage("storage_config.bucket must be a bucket name: letters, "
                                 "digits, '.', '-' and '_' (a folder goes in "
                                 "storage_config.path).")


def sftp_target(config: Mapping[str, Any]) -> SftpTarget:
    """An `sftp` `storage_config` as a target: `host` and `username`, and the `password`
    (`auth_method` PASSWORD, the default without a `private_key`) or the `private_key`
    (KEY, the default with one; `password` is then its passphrase)."""
    method = config.get("auth_method") or ("KEY" if config.get("private_key") else "PASSWORD")
    needed = ["host", "username", "private_key" if method == "KEY" else "password"]
    missing = [name for name in needed if not config.get(name)]
    if missing:
        raise UnsupportedStorage(f"storage_config of type 'sftp' with auth_method {method} "
                                 "needs " + ", ".join(missing) + ".")
    host = _ssh_host(str(config["host"]))
    if method == "KEY":
        check_key(str(config["private_key"]), config.get("password"))
    path = str(config.get("path") or "")
    return SftpTarget(host=host, port=int(config.get("port") or 22),
                      username=str(config["username"]), auth_method=method,
                      folder="/" if path.strip("/") == "" and path.startswith("/")
                      else path.rstrip("/"),
                      password=config.get("password"), private_key=config.get("private_key"))


def _ssh_host(given: str) -> str:
    """A host name (one that can be looked up: IDNA, labels of 1-63) or an IP address
    (IPv6 with or without brackets), else `UnsupportedStorage`; the port goes in `port`."""
    host = given[1:-1] if given.startswith("[") and given.endswith("]") else given
    try:
        ipaddress.ip_address(host)
        return host
    except ValueError:
        pass
    problem = "://" in host or "/" in host or "@" in host or not host
    if not problem and ":" in host:
        raise UnsupportedStorage("storage_config.host of type 'sftp' is a host name or an "
                                 "IP address without a port: put the port in "
                                 "storage_config.port.")
    try:
        problem = problem or len(host.encode("idna")) > 253 or not is_host(host)
    except UnicodeError:
        problem = True
    if problem:
        raise UnsupportedStorage("storage_config.host of type 'sftp' must be a host name "
                                 "or an IP address, such as sftp.example.com.")
    return host


def s3_target(config: Mapping[str, Any]) -> S3Target:
    """An S3-compatible `storage_config` as a target, or `UnsupportedStorage` saying
    which field to fix. Messages name fields, never their values."""
    kind = config.get("type")
    if kind not in S3_TYPES:
        raise UnsupportedStorage(
            f"storage_config.type must be one of aws, azure, cloudflare, digitalocean, gcs or "
            f"sftp, "
            f"not {str(kind)[:40]!r}; or omit storage_config for salon's own storage.")
    needed = ["bucket", "access_key", "secret"] + {
        "aws": ["region"], "digitalocean": ["region"], "cloudflare": ["host"]}[kind]
    missing = [name for name in needed if not config.get(name)]
    if missing:
        raise UnsupportedStorage(f"storage_config of type '{kind}' needs "
                                 + ", ".join(missing) + ".")
    _check_bucket(config)
    region = str(config.get("region") or "auto").lower()
    return S3Target(type=kind, bucket=str(config["bucket"]), region=region,
                    endpoint_url=_endpoint(kind, region, config),
                    prefix=str(config.get("path") or "").strip("/"),
                    access_key=str(config["access_key"]), secret=str(config["secret"]))


def _endpoint(kind: str, region: str, config: Mapping[str, Any]) -> str | None:
    """`host` when given (`https://` unless it names a scheme; `port` added unless it
    has one), else the service's own: DigitalOcean Spaces' per region, AWS's by boto3."""
    host = str(config.get("host") or "")
    if not host:
        return f"https://{region}.digitaloceanspaces.com" if kind == "digitalocean" else None
    try:  # urlsplit itself refuses some (an unclosed "[" of an IPv6 address)
        parts = urlsplit(host if "://" in host else f"https://{host}")
        has_port = parts.port is not None
    except ValueError:
        parts, has_port = urlsplit(""), False  # refused below
    if (parts.scheme not in ("http", "https") or not parts.hostname
            or not is_host(url_host(parts.hostname))):
        raise UnsupportedStorage("storage_config.host must be a host name or an http(s) "
                                 "URL, such as https://<account id>.r2.cloudflarestorage.com.")
    if config.get("port") and not has_port:
        parts = parts._replace(netloc=f"{parts.netloc}:{int(config['port'])}")
    return urlunsplit(parts).rstrip("/")
