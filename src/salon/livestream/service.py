"""Livestreaming as the server runs it: the runner of meeting livestreams, the RTMP
ingest of independent ones, HLS playback and viewer counting, started and stopped
together with the server (`salon.api.app`)."""

from pathlib import Path
from urllib.parse import urlsplit

from salon.cluster.claims import JobClaims
from salon.live.livestreams import LiveLivestreams
from salon.live.rooms import Rooms
from salon.livestream.ingest import RtmpIngest
from salon.livestream.playback import ViewerCounter
from salon.livestream.relay import EncoderRelay
from salon.livestream.runner import LivestreamRunner, RunnerSettings
from salon.services.livestreams import Urls
from salon.services.participant_tokens import TokenSigner
from salon.settings import Settings
from salon.store.database import Database


def urls_of(settings: Settings) -> Urls:
    """Where viewers play and encoders publish. No RTMP ingest (`SALON_RTMP_PORT=0`
    and no `SALON_RTMP_PUBLIC_URL`): `ingest_server` is None, not an address nothing
    listens at."""
    ingest: str | None = settings.rtmp_public_url or None
    if not ingest and settings.rtmp_port:
        host = urlsplit(settings.public_base).hostname or settings.host
        ingest = f"rtmp://{host}:{settings.rtmp_port}/live/"
    playback = settings.livestream_playback_url.rstrip("/") or settings.public_base
    return Urls(playback_base=playback, ingest_server=ingest)


async def start(settings: Settings, database: Database, signer: TokenSigner, rooms: Rooms,
                on_commit: object, claims: JobClaims | None = None,
                cluster: object = None) -> LiveLivestreams:
    hls_root = Path(settings.data_dir) / "livestreams"
    runner = LivestreamRunner(database, RunnerSettings(
        max_concurrent=settings.max_concurrent_livestreams, encoder=settings.livestreamer,
        data_dir=Path(settings.data_dir), gateway_url=settings.gateway_url,
        urls=urls_of(settings)), signer, on_commit=on_commit,  # type: ignore[arg-type]
        claims=claims)
    viewers = ViewerCounter(database)
    live = LiveLivestreams(rooms, runner, hls_root, viewers)
    if cluster is not None:  # HLS files of an encoder on another node, fetched from it
        live.relay = EncoderRelay(database, cluster, signer.secret, viewers.segment)

    def ingesting() -> set[str]:
        """The ingest's sessions are this node's too: not stale while it publishes them."""
        if live.ingest is None:
            return set()
        return live.ingest.sessions()

    runner.ingesting = ingesting
    await runner.start()
    viewers.start()
    if settings.rtmp_port:
        live.ingest = RtmpIngest(database, hls_root, runner.settings.urls, settings.rtmp_port,
                                 settings.rtmp_reconnect_grace_secs,
                                 on_commit, host=settings.host,  # type: ignore[arg-type]
                                 node_id=runner.claims.node_id)
        await live.ingest.start()
    return live


async def stop(live: LiveLivestreams) -> None:
    if live.ingest is not None:
        await live.ingest.stop()
    await live.stop()
    await live.runner.stop()
    await live.viewers.stop()
