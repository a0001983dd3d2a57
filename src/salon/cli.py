"""The `salon` command: run the server, try it (`salon demo`), manage apps and API tokens.

Every command reads the same settings as `serve` (`SALON_DATA_DIR`, `SALON_DATABASE_URL`)
and works while the server runs: they share the database, not memory.
"""

import asyncio
import contextlib
import json
import logging
import signal
import socket
import ssl
import sys
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, TypeVar

import click
import httpx
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from salon.cli_database import check_database, open_database
from salon.core.clock import isoformat
from salon.core.errors import SalonError
from salon.core.meetings import MeetingSettings
from salon.core.names import token_name
from salon.core.participants import NewParticipant
from salon.recording.process import spawn_children_lightly
from salon.services import api_tokens, apps, meetings, participant_tokens, participants
from salon.settings import Settings
from salon.store import migrate
from salon.store.database import Database
from salon.store.models import Account

T = TypeVar("T")


def _settings(ctx: click.Context) -> Settings:
    return ctx.find_root().obj


def _run(ctx: click.Context, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """Open the database (migrating it if needed), run one unit of work, close."""

    async def in_session(database: Database) -> T:
        async with database.session() as db:
            return await work(db)

    return _run_on(ctx, in_session)


def _run_on(ctx: click.Context, work: Callable[[Database], Awaitable[T]]) -> T:
    """`_run` for work that needs the database itself: the services whose hot paths use
    Core connections (`meetings.create`, `participants.add`) take a `Database`."""

    async def main() -> T:
        database = await open_database(_settings(ctx))
        try:
            await migrate.upgrade(database)
            return await work(database)
        finally:
            await database.dispose()

    try:
        return asyncio.run(main())
    except SalonError as error:
        raise click.ClickException(error.message) from error


def _emit(as_json: bool, record: dict[str, Any], text: str) -> None:
    click.echo(json.dumps(record) if as_json else text)


@click.group()
@click.option("--data-dir", type=click.Path(path_type=Path), help="Overrides SALON_DATA_DIR.")
@click.option("--database-url", help="Overrides SALON_DATABASE_URL: a postgresql:// or "
              "sqlite:/// URL (default: SQLite in the data directory).")
@click.pass_context
def main(ctx: click.Context, data_dir: Path | None, database_url: str | None) -> None:
    """salon: self-hosted realtime meetings."""
    spawn_children_lightly()
    overrides = {"data_dir": data_dir, "database_url": database_url}
    try:
        ctx.obj = Settings(**{k: v for k, v in overrides.items() if v is not None})
    except ValidationError as error:  # a bad SALON_* value: say which, in words
        raise click.ClickException("; ".join(
            f"SALON_{'_'.join(map(str, problem['loc'])).upper()}: "
            f"{problem['msg'].removeprefix('Value error, ')}"
            for problem in error.errors())) from None


@main.command()
@click.option("--host", help="Address to listen on (default 127.0.0.1).")
@click.option("--port", type=click.IntRange(1, 65535),
              help="Port to listen on, 1-65535 (default 8787).")
@click.option("--ice-host", "ice_hosts", multiple=True,
              help="Address for media (ICE host candidates); repeat for several. "
                   "Overrides SALON_ICE_HOSTS.")
@click.option("--media-backend", type=click.Choice(["embedded", "none"]),
              help="Overrides SALON_MEDIA_BACKEND (default embedded).")
@click.option("--certfile", type=click.Path(path_type=Path),
              help="Serve HTTPS with this PEM certificate (chain). Overrides SALON_TLS_CERTFILE.")
@click.option("--keyfile", type=click.Path(path_type=Path),
              help="The certificate's PEM private key. Overrides SALON_TLS_KEYFILE.")
@click.option("--workers", type=click.IntRange(min=1), default=1, envvar="SALON_WORKERS",
              show_default=True, help="Run this many nodes behind the one port, one process "
              "each (cluster mode: needs SALON_REDIS_URL and PostgreSQL; docs/cluster.md).")
@click.option("--worker-ports", envvar="SALON_WORKER_PORTS", default="",
              help="Each worker's private port, comma-separated (default: port+1, port+2, "
                   "...): its node address, where the cluster sends peers to it.")
@click.option("--listen-fd", "listen_fds", type=int, multiple=True, hidden=True,
              help="A worker's inherited listening sockets (salon.cluster.workers).")
@click.pass_context
def serve(ctx: click.Context, host: str | None, port: int | None, ice_hosts: tuple[str, ...],
          media_backend: str | None, certfile: Path | None, keyfile: Path | None,
          workers: int, worker_ports: str, listen_fds: tuple[int, ...]) -> None:
    """Run the server until SIGTERM or Ctrl-C."""
    import uvicorn

    from salon.api.app import create_app
    from salon.observability.logs import configure as configure_logging
    from salon.realtime.protocol import MAX_FRAME_BYTES
    from salon.realtime.transport import ActivityWebSocketProtocol

    settings = _settings(ctx)
    # The flags are settings too: absolute links (`public_base`) name the real port.
    settings.host, settings.port = host or settings.host, port or settings.port
    if ice_hosts:
        settings.ice_hosts = ice_hosts
    if media_backend:
        settings.media_backend = media_backend
    settings.tls_certfile = certfile or settings.tls_certfile
    settings.tls_keyfile = keyfile or settings.tls_keyfile
    _tls_files_checked(settings)
    if workers > 1 and not listen_fds:
        # Its own checks first (Redis, PostgreSQL); each worker checks the database.
        configure_logging(settings.log_format, settings.log_level)
        sys.exit(_supervise(settings, workers, worker_ports))
    # The database's problems in one line here: once the server runs, they are logged
    # tracebacks of its start-up.
    asyncio.run(check_database(settings))
    # One handler for salon's and uvicorn's lines alike: text or JSON, secrets masked.
    configure_logging(settings.log_format, settings.log_level)
    internal = _tls_checked(settings)
    config = uvicorn.Config(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        ssl_certfile=settings.tls_certfile,
        ssl_keyfile=settings.tls_keyfile,
        loop="uvloop",
        http="httptools",
        log_level=settings.log_level,
        log_config=None,  # salon.observability.logs configured logging
        access_log=False,  # salon's own access log is SALON_ACCESS_LOG
        timeout_graceful_shutdown=10,
        # Realtime messages are small JSON: compressing them costs more CPU than it saves
        # bandwidth (half the server's time per delivery in bench/realtime.py).
        ws_per_message_deflate=settings.websocket_compression,
        # Realtime messages are at most 64 KiB (docs/protocol.md): a WebSocket message
        # past MAX_FRAME_BYTES closes the connection (1009) instead of being read whole.
        ws_max_size=MAX_FRAME_BYTES,
        # uvicorn's websockets protocol, noting WebSocket ping and pong frames for the
        # gateway's idle timeout; uvicorn's own pings are off: that timeout is the one
        # rule (salon.realtime.transport, docs/protocol.md "Heartbeats").
        ws=ActivityWebSocketProtocol,
        ws_ping_interval=None,
        ws_ping_timeout=None,
    )
    # uvicorn shuts down gracefully on SIGTERM and SIGINT (Ctrl-C), then re-raises the
    # signal; these handlers turn that last step into exit status 0, which is what a clean
    # shutdown is (SIGINT's default would be KeyboardInterrupt: click's "Aborted!", 1).
    for number in (signal.SIGTERM, signal.SIGINT):
        signal.signal(number, lambda *_: sys.exit(0))
    try:
        config.load()  # reads the certificate and key: refuse bad ones in words
    except (OSError, ssl.SSLError) as error:
        raise click.ClickException(f"Cannot use the TLS certificate or key: {error}") from error
    # A worker of `--workers` serves the sockets its supervisor bound (its share of the
    # public port and its private port); `salon serve` alone binds host:port itself.
    sockets = [socket.socket(fileno=fd) for fd in listen_fds] or None
    _server(config, internal).run(sockets=sockets)


def _supervise(settings: Settings, workers: int, worker_ports: str) -> int:
    from salon.cluster.workers import WorkersRefused
    from salon.cluster.workers import serve as serve_workers
    try:
        ports = tuple(int(p) for p in worker_ports.replace(" ", "").split(",") if p)
    except ValueError:
        raise click.UsageError(f"--worker-ports takes port numbers: {worker_ports!r}") from None
    try:
        return serve_workers(settings, workers, ports)
    except WorkersRefused as error:
        raise click.UsageError(str(error)) from None


def _tls_files_checked(settings: Settings) -> None:
    if settings.tls_keyfile and not settings.tls_certfile:
        raise click.ClickException("A TLS key needs its certificate: --certfile.")
    for path in (settings.tls_certfile, settings.tls_keyfile):
        if path is not None and not path.is_file():
            raise click.ClickException(f"TLS file not found: {path}")


def _tls_checked(settings: Settings) -> socket.socket | None:
    """With TLS (unless `internal_url` says where): bind the loopback listener salon's
    own bots join on, naming it in `internal_url`.

    Bots (recorders, live transcribers) are processes of this server that join its
    realtime gateway. Through the public HTTPS port they would have to trust the
    certificate (self-signed, say) and find its name valid for where they connect; on
    loopback nothing leaves the machine, so plain WebSocket is as private and needs
    neither. The port is chosen by the system and serves the same app."""
    if not settings.tls_certfile or settings.internal_url:
        return None
    internal = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    internal.bind(("127.0.0.1", 0))
    settings.internal_url = f"http://127.0.0.1:{internal.getsockname()[1]}"
    return internal


def _server(config: Any, internal: socket.socket | None) -> Any:
    """uvicorn's server, plus, when given, a plain listener on a loopback socket serving
    the same app with the same protocols (`_tls_checked` says why). Its connections are
    the server's own: graceful shutdown closes and drains them with the others."""
    import uvicorn

    class Server(uvicorn.Server):
        def handle_exit(self, sig: int, frame: Any) -> None:
            # a cluster node stops taking meetings before uvicorn closes its sockets
            from salon.cluster.joining import begin_draining

            with contextlib.suppress(RuntimeError):
                begin_draining(asyncio.get_event_loop())
            super().handle_exit(sig, frame)

        async def startup(self, sockets: list[socket.socket] | None = None) -> None:
            await super().startup(sockets)
            if internal is None or not self.started:
                return
            config = self.config

            def protocol(_loop: asyncio.AbstractEventLoop | None = None) -> asyncio.Protocol:
                return config.http_protocol_class(  # type: ignore[call-arg]
                    config=config, server_state=self.server_state,
                    app_state=self.lifespan.state, _loop=_loop)

            self.servers.append(await asyncio.get_running_loop().create_server(
                protocol, sock=internal, backlog=config.backlog))
            host, port = internal.getsockname()[:2]
            logging.getLogger("uvicorn.error").info(
                "salon's own bots join on http://%s:%d (loopback only)", host, port)

    return Server(config)


DEMO_TITLE = "Demo meeting"
#: (role, display name, preset) of each person `salon demo` makes a link for.
DEMO_PEOPLE = (("host", "Host", "group_call_host"), ("guest", "Guest", "group_call_participant"))


@dataclass(frozen=True)
class DemoSeat:
    """One person of the demo meeting and the link they join with."""

    name: str
    preset_name: str
    participant_id: str
    token: str
    url: str


async def _demo(database: Database, settings: Settings) -> dict[str, Any]:
    """The demo meeting, its two people and their links, in the first app (an app is
    created when there is none; its credentials are returned, as they are shown once)."""
    async with database.session() as db:
        existing = await apps.list_all(db)
        created: apps.Credentials | None = None
        if existing:
            account_id, app_id = existing[0].account_id, existing[0].id
        else:
            created = await apps.bootstrap(db) or await apps.create_with_token(db, "default", None)
            account_id, app_id = created.account_id, created.app_id
        signer = await participant_tokens.load_signer(db, settings.participant_token_ttl_secs)
    meeting = await meetings.create(database, app_id,
                                    MeetingSettings.model_validate({"title": DEMO_TITLE}))
    seats: dict[str, DemoSeat] = {}
    for role, name, preset in DEMO_PEOPLE:
        added = await participants.add(database, app_id, meeting.id, NewParticipant(
            custom_participant_id=f"demo-{role}", preset_name=preset, name=name))
        token = signer.mint(added)
        seats[role] = DemoSeat(name, preset, added.id, token,
                               f"{settings.public_base}/meet#token={token}")
    return {"title": DEMO_TITLE, "meeting_id": meeting.id, "account_id": account_id,
            "app_id": app_id, "base_url": settings.public_base,
            "created_app": asdict(created) if created else None,
            **{role: asdict(seat) for role, seat in seats.items()}}


def _answers(base_url: str) -> bool:
    """Whether a salon server answers at `base_url` now. Certificates are not checked:
    this only asks whether to suggest `salon serve`, and sends no secret."""
    try:
        return httpx.get(f"{base_url}/healthz", timeout=1, verify=False).status_code == 200
    except httpx.HTTPError:
        return False


def _demo_text(record: dict[str, Any]) -> str:
    lines = []
    if created := record["created_app"]:
        lines += ["No app yet: created one. Keep these; the token is shown once.",
                  *(f"  {key}: {value}" for key, value in created.items()), ""]
    lines += [f"Created \"{record['title']}\" (meeting {record['meeting_id']}, "
              f"app {record['app_id']}).", ""]
    for role in ("host", "guest"):
        seat = record[role]
        lines += [f"{seat['name']} ({seat['preset_name']}):", f"  {seat['url']}"]
    lines += ["", "Open each link in its own browser window, or send the guest's to someone."]
    base = record["base_url"]
    if record["server_running"]:
        lines.append(f"salon is running at {base}.")
    else:
        lines.append(f"Nothing answers at {base} yet: start the server with `salon serve` "
                     "(same settings), then open the links.")
    host = httpx.URL(base).host
    if host in ("0.0.0.0", "::"):
        lines.append("The server listens on every address: set SALON_PUBLIC_URL to the one "
                     "people reach it at, so these links name it.")
    elif base.startswith("http://") and host not in ("127.0.0.1", "localhost", "::1"):
        lines.append("From another machine, browsers allow camera and microphone only over "
                     "HTTPS: see `salon serve --certfile/--keyfile` (docs/operations.md).")
    return "\n".join(lines)


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.pass_context
def demo(ctx: click.Context, as_json: bool) -> None:
    """Create a meeting with a host and a guest and print their two join links.

    Works on the database directly, like `apps create`, so the server need not run; the
    links use the server's public address (SALON_PUBLIC_URL, else host, port and scheme).
    """
    settings = _settings(ctx)
    record = _run_on(ctx, lambda database: _demo(database, settings))
    record["server_running"] = _answers(settings.public_base)
    _emit(as_json, record, _demo_text(record))


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print one JSON line per node.")
@click.pass_context
def nodes(ctx: click.Context, as_json: bool) -> None:
    """List the cluster's live nodes and their load (needs SALON_REDIS_URL)."""
    from redis.exceptions import RedisError

    from salon.cluster import listing
    settings = _settings(ctx)
    if not settings.redis_url.get_secret_value():
        raise click.ClickException("Cluster mode is off: set SALON_REDIS_URL to the "
                                   "cluster's Redis (docs/cluster.md).")
    try:
        found = listing.nodes(settings)
    except (RedisError, OSError) as error:  # one line, not a traceback: the operator's fix
        raise click.ClickException(f"Cannot read the cluster from Redis (SALON_REDIS_URL): "
                                   f"{type(error).__name__}: {error}") from None
    if as_json:
        for record in listing.as_records(found):
            click.echo(json.dumps(record))
    else:
        click.echo(listing.as_table(found))


@main.group(name="apps")
def apps_group() -> None:
    """Create and list apps."""


@apps_group.command("create")
@click.argument("name")
@click.option("--account", "account_id", help="Account to create the app in (default: the only one).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON line.")
@click.pass_context
def apps_create(ctx: click.Context, name: str, account_id: str | None, as_json: bool) -> None:
    """Create an app with the default presets and an account-wide API token (it reaches
    every app of the account; `salon tokens create --app APP_ID` makes one for this app
    alone)."""
    creds = _run(ctx, lambda db: apps.create_with_token(db, name, account_id))
    record = {"account_id": creds.account_id, "app_id": creds.app_id,
              "api_token": creds.api_token}
    _emit(as_json, record, "\n".join(f"{k}: {v}" for k, v in record.items()))


@apps_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON line per app.")
@click.pass_context
def apps_list(ctx: click.Context, as_json: bool) -> None:
    """List every app of every account."""
    for app in _run(ctx, apps.list_all):
        record = {"account_id": app.account_id, "app_id": app.id, "name": app.name,
                  "created_at": isoformat(app.created_at)}
        _emit(as_json, record, f"{app.id}  {app.name}  (account {app.account_id})")


@main.group(name="tokens")
def tokens_group() -> None:
    """Create, list and revoke API tokens."""


async def _account(db: AsyncSession, account_id: str | None) -> str:
    """The account named by --account, which must exist, else the only one."""
    if account_id is not None:
        if await db.get(Account, account_id) is None:
            raise click.ClickException(f"Account {account_id} does not exist.")
        return account_id
    if (sole := await apps.sole_account(db)) is not None:
        return sole.id
    raise click.ClickException("Say which account with --account.")


@tokens_group.command("create")
@click.option("--account", "account_id", help="Account of the token (default: the only one).")
@click.option("--app", "app_id", help="Scope the token to this one app.")
@click.option("--name", default="cli", show_default=True,
              help="A label to recognise it by (1-255 characters).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON line.")
@click.pass_context
def tokens_create(
    ctx: click.Context, account_id: str | None, app_id: str | None, name: str, as_json: bool
) -> None:
    """Create an API token (shown once; only its hash is stored)."""
    try:
        label = token_name(name)  # as over REST, checked before the database is opened
    except SalonError as error:
        raise click.ClickException(error.message) from None

    async def work(db: AsyncSession) -> api_tokens.IssuedToken:
        account = await _account(db, account_id)
        return await api_tokens.create(db, account, app_id=app_id, name=label)

    issued = _run(ctx, work)
    record = {"id": issued.id, "account_id": issued.account_id, "app_id": issued.app_id,
              "api_token": issued.secret}
    _emit(as_json, record, "\n".join(f"{k}: {v}" for k, v in record.items()))


@tokens_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON line per token.")
@click.pass_context
def tokens_list(ctx: click.Context, as_json: bool) -> None:
    """List API tokens (ids and labels, never the secrets)."""
    for token in _run(ctx, api_tokens.list_all):
        record = {"id": token.id, "account_id": token.account_id, "app_id": token.app_id,
                  "name": token.name, "revoked": token.revoked_at is not None}
        state = "revoked" if token.revoked_at else "active"
        scope = f"app {token.app_id}" if token.app_id else "account-wide"
        _emit(as_json, record, f"{token.id}  {token.name}  {scope}  {state}")


@tokens_group.command("revoke")
@click.argument("token")
@click.pass_context
def tokens_revoke(ctx: click.Context, token: str) -> None:
    """Revoke a token, given its id or the token itself."""
    row = _run(ctx, lambda db: api_tokens.revoke(db, token))
    click.echo(f"revoked {row.id}")
