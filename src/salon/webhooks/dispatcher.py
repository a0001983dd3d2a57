"""The webhook dispatcher: sends committed outbox rows, signed, with retries.

It polls the outbox (rows written by other processes or before a restart are found within
a poll interval) and can be woken by in-process enqueuers. A due row is claimed by
pushing its `next_attempt_at` forward by a lease, in a short transaction, before the
request is sent; no database session is held while waiting on a receiver, which matters
for SQLite's single connection. If the process dies mid-request the lease runs out and
the row is sent again: delivery is at least once, and receivers de-duplicate on
`rtk-uuid`.
"""

import asyncio
import heapq
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx
from sqlalchemy import select, update

from salon.core.clock import utcnow
from salon.deadline import within
from salon.settings import Settings
from salon.store.database import Database
from salon.store.models import Webhook, WebhookDelivery
from salon.webhooks.signing import WebhookSigner

log = logging.getLogger("salon.webhooks")

# How often an idle dispatcher looks for due deliveries: `Settings.webhook_poll_secs`.
# Deliveries this process queues wake it when committed (`outbox`), and the retries it
# schedules are waited for to the moment they are due.
#: Deliveries in flight at once, per process.
MAX_IN_FLIGHT = 16
#: Deliveries in flight at once to one webhook, per process: a receiver that hangs
#: holds this many slots at most, and the others keep going to everyone else.
MAX_IN_FLIGHT_PER_WEBHOOK = 4
#: How long a claimed row stays invisible beyond the request timeout: room to record the
#: outcome before another dispatcher may take it again.
LEASE_MARGIN_SECS = 30
#: How long stop() waits for the claim loop and outcome writes before cancelling them.
STOP_GRACE_SECS = 5


@dataclass(frozen=True)
class RetryPolicy:
    base_secs: float
    max_secs: float
    max_attempts: int

    def delay(self, attempts: int) -> float:
        """Seconds to wait after the `attempts`-th failed attempt."""
        return float(min(self.max_secs, self.base_secs * 2 ** (attempts - 1)))

    def status_after(self, status_code: int | None, attempts: int) -> str:
        """The row's status after an attempt answered `status_code` (None: no answer).

        RealtimeKit's rule: 2xx is delivered; 5xx and network errors are retried; any
        other answer is recorded as failed and not retried.
        """
        if status_code is not None and 200 <= status_code < 300:
            return "delivered"
        retryable = status_code is None or status_code >= 500
        return "pending" if retryable and attempts < self.max_attempts else "failed"


@dataclass(frozen=True)
class Job:
    """A claimed delivery, detached from any database session."""

    id: str
    webhook_id: str
    url: str
    body: bytes
    attempts: int


class WebhookDispatcher:
    def __init__(
        self,
        database: Database,
        signer: WebhookSigner,
        settings: Settings,
        *,
        poll_secs: float | None = None,
    ) -> None:
        self._database = database
        self._signer = signer
        self._policy = RetryPolicy(
            settings.webhook_retry_base_secs,
            settings.webhook_retry_max_secs,
            settings.webhook_max_attempts,
        )
        self._timeout = settings.webhook_timeout_secs
        self._lease = timedelta(seconds=settings.webhook_timeout_secs + LEASE_MARGIN_SECS)
        self._poll_secs = settings.webhook_poll_secs if poll_secs is None else poll_secs
        #: When the retries this process scheduled are due (a heap; the past ones go at
        #: each look).
        self._due: list[datetime] = []
        self._wakeup = asyncio.Event()
        self._stopping = False
        self._in_flight: dict[str, asyncio.Task[None]] = {}
        #: Deliveries in flight per webhook id (only webhooks with some).
        self._per_webhook: dict[str, int] = {}
        #: Deliveries writing their outcome: stop() lets these finish, and interrupts the rest.
        self._recording: set[str] = set()
        self._client: httpx.AsyncClient | None = None
        self._loop: asyncio.Task[None] | None = None
        #: Attempts made by this process, by what became of the delivery: "delivered",
        #: "retry" (to be sent again) or "failed" (given up); read by /metrics.
        self.attempts: dict[str, int] = {"delivered": 0, "retry": 0, "failed": 0}

    @property
    def in_flight(self) -> int:
        """Deliveries being sent by this process now."""
        return len(self._in_flight)

    async def start(self) -> None:
        self._client = httpx.AsyncClient(
            timeout=self._timeout,
            limits=httpx.Limits(max_connections=MAX_IN_FLIGHT),
        )
        self._loop = asyncio.create_task(self._run(), name="webhook-dispatcher")
        self._database.on_webhooks_committed = self.wake

    def wake(self) -> None:
        """Look for due deliveries now rather than at the next poll (call after commit)."""
        self._wakeup.set()

    async def stop(self) -> None:
        """Stop quickly: requests in flight are abandoned and their rows released, so the
        next start (of this or another process) sends them again right away."""
        self._stopping = True
        if self._database.on_webhooks_committed == self.wake:
            self._database.on_webhooks_committed = None
        self.wake()
        if self._loop is not None:
            await _finish([self._loop])
        interrupted = set(self._in_flight) - self._recording
        for delivery_id in interrupted:
            self._in_flight[delivery_id].cancel()
        await _finish(self._in_flight.values())
        try:
            await self._release(interrupted)
        except Exception:
            log.exception("could not release %d interrupted webhook deliveries", len(interrupted))
        if self._client is not None:
            await self._client.aclose()

    async def _run(self) -> None:
        while not self._stopping:
            more = False
            try:
                more = await self._dispatch_due()
            except Exception:
                log.exception("could not load due webhook deliveries")
            if not more:
                try:
                    await within(self._wakeup.wait(), self._idle_wait())
                except TimeoutError:
                    pass
                self._wakeup.clear()

    def _idle_wait(self) -> float:
        """Seconds to wait for a wake-up: until the next retry this process scheduled,
        at most `poll_secs`."""
        if not self._due:
            return self._poll_secs
        return max(0.0, min(self._poll_secs, (self._due[0] - utcnow()).total_seconds()))

    async def _dispatch_due(self) -> bool:
        """Claim what fits in the free slots and send it; True if more may be due."""
        now = utcnow()
        while self._due and self._due[0] <= now:  # this look is for them
            heapq.heappop(self._due)
        free = MAX_IN_FLIGHT - len(self._in_flight)
        if free <= 0 or self._stopping:
            return False
        jobs, more = await self._claim(free)
        for job in jobs:
            task = asyncio.create_task(self._deliver(job), name=f"webhook-{job.id}")
            self._in_flight[job.id] = task
            self._per_webhook[job.webhook_id] = self._per_webhook.get(job.webhook_id, 0) + 1
            task.add_done_callback(lambda _, job=job: self._done(job))
        return more

    def _done(self, job: Job) -> None:
        self._in_flight.pop(job.id, None)
        left = self._per_webhook.get(job.webhook_id, 0) - 1
        if left > 0:
            self._per_webhook[job.webhook_id] = left
        else:
            self._per_webhook.pop(job.webhook_id, None)
        self.wake()  # a slot is free

    async def _claim(self, limit: int) -> tuple[list[Job], bool]:
        """Lease up to `limit` due deliveries, at most `MAX_IN_FLIGHT_PER_WEBHOOK` in
        flight per webhook; also whether more may be due now."""
        now = utcnow()
        full = [hook for hook, count in self._per_webhook.items()
                if count >= MAX_IN_FLIGHT_PER_WEBHOOK]
        async with self._database.session() as db:
            query = (
                select(
                    WebhookDelivery.id,
                    WebhookDelivery.webhook_id,
                    Webhook.url,
                    WebhookDelivery.body,
                    WebhookDelivery.attempts,
                )
                .join(Webhook, Webhook.id == WebhookDelivery.webhook_id)
                .where(WebhookDelivery.status == "pending", WebhookDelivery.next_attempt_at <= now)
                # Webhooks with every slot taken wait their turn; the rest go on.
                .where(WebhookDelivery.webhook_id.not_in(full))
                .order_by(WebhookDelivery.created_at, WebhookDelivery.id)
                .limit(limit)
                # PostgreSQL: concurrent dispatchers skip each other's rows. SQLite
                # ignores it; its BEGIN IMMEDIATE already serializes claims.
                .with_for_update(of=WebhookDelivery, skip_locked=True)
            )
            rows = list(await db.execute(query))
            taken = dict(self._per_webhook)
            jobs = []
            for row in rows:  # oldest first, within each webhook's free slots
                if taken.get(row.webhook_id, 0) < MAX_IN_FLIGHT_PER_WEBHOOK:
                    taken[row.webhook_id] = taken.get(row.webhook_id, 0) + 1
                    jobs.append(Job(id=row.id, webhook_id=row.webhook_id, url=row.url,
                                    body=row.body.encode(), attempts=row.attempts))
            if jobs:
                await db.execute(
                    update(WebhookDelivery)
                    .where(WebhookDelivery.id.in_([job.id for job in jobs]))
                    .values(next_attempt_at=now + self._lease)
                )
            await db.commit()
        # More may be due: the query was cut at `limit`, or rows were left for webhooks
        # that just filled up (the next claim skips those and finds others' rows).
        return jobs, len(rows) == limit or len(jobs) < len(rows)

    async def _deliver(self, job: Job) -> None:
        status_code, error = await self._post(job)
        self._recording.add(job.id)
        try:
            await self._record(job, status_code, error)
        except Exception:
            log.exception("could not record the outcome of webhook delivery %s", job.id)
        finally:
            self._recording.discard(job.id)

    async def _post(self, job: Job) -> tuple[int | None, str | None]:
        """Send the stored bytes verbatim; the HTTP status, or None and why there is none."""
        assert self._client is not None
        signature = self._signer.sign(job.body)
        headers = {"content-type": "application/json"}
        for prefix in ("rtk", "dyte"):  # dyte-*: the legacy names RealtimeKit still sends
            headers[f"{prefix}-signature"] = signature
            headers[f"{prefix}-uuid"] = job.id
            headers[f"{prefix}-webhook-id"] = job.webhook_id
        try:
            async with asyncio.timeout(self._timeout):
                # Streamed so the receiver's answer body is never read: only its status counts.
                async with self._client.stream(
                    "POST", job.url, content=job.body, headers=headers
                ) as response:
                    code = response.status_code
                    return code, None if 200 <= code < 300 else f"HTTP {code}"
        except TimeoutError:
            return None, f"no answer within {self._timeout:g} s"
        except Exception as error:  # network errors, bad URLs: retried like RealtimeKit does
            return None, f"{type(error).__name__}: {error}"

    async def _record(self, job: Job, status_code: int | None, error: str | None) -> None:
        attempts = job.attempts + 1
        status = self._policy.status_after(status_code, attempts)
        outcome = "retry" if status == "pending" else status
        self.attempts[outcome] = self.attempts.get(outcome, 0) + 1
        now = utcnow()
        values: dict[str, object] = {
            "status": status,
            "attempts": attempts,
            "last_status_code": status_code,
            "last_error": error,
        }
        if status == "delivered":
            values["delivered_at"] = now
        elif status == "pending":
            delay = self._policy.delay(attempts)
            values["next_attempt_at"] = now + timedelta(seconds=delay)
            heapq.heappush(self._due, now + timedelta(seconds=delay))
            log.info("webhook delivery %s to %s: %s; retry %d in %g s",
                     job.id, job.url, error, attempts + 1, delay)
        else:
            log.warning("webhook delivery %s to %s failed after %d attempts: %s",
                        job.id, job.url, attempts, error)
        async with self._database.session() as db:
            await db.execute(
                update(WebhookDelivery).where(WebhookDelivery.id == job.id).values(**values)
            )
            await db.commit()

    async def _release(self, delivery_ids: set[str]) -> None:
        if not delivery_ids:
            return
        async with self._database.session() as db:
            await db.execute(
                update(WebhookDelivery)
                .where(WebhookDelivery.id.in_(delivery_ids), WebhookDelivery.status == "pending")
                .values(next_attempt_at=utcnow())
            )
            await db.commit()


async def _finish(tasks: Iterable[asyncio.Task[None]]) -> None:
    """Wait for the tasks a short while, then cancel what is left."""
    pending = [task for task in tasks if not task.done()]
    if not pending:
        return
    _, late = await asyncio.wait(pending, timeout=STOP_GRACE_SECS)
    for task in late:
        task.cancel()
    await asyncio.gather(*late, return_exceptions=True)
