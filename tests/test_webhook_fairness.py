"""Webhook delivery is fair: a receiver that hangs cannot take every delivery slot."""

import time

from sqlalchemy.ext.asyncio import AsyncSession

from salon.webhooks import outbox, payloads
from tests.test_webhook_delivery import (
    FAST,
    enqueue,
    hooks_server,
    joined,
    meeting,
    new_app,
    path,
    with_db,
)
from tests.webhook_receiver import HANG, Receiver


def test_a_hanging_receiver_does_not_starve_other_webhooks() -> None:
    # Attempts time out after 10 s: without a per-webhook cap the hanging receiver would
    # hold all 16 slots that long, and the healthy one would wait for them.
    env = {**FAST, "SALON_WEBHOOK_TIMEOUT_SECS": "10", "SALON_WEBHOOK_MAX_ATTEMPTS": "100"}
    hanging, healthy = Receiver().up(), Receiver().up()
    try:
        with hooks_server("sqlite", env) as server, new_app(server) as app:
            dead, alive = path(), path()
            hanging.scripts[dead] = [HANG] * 100
            app.webhook(hanging.url(dead), ["meeting.started"])
            app.webhook(healthy.url(alive), ["meeting.participantJoined"])

            async def twenty(db: AsyncSession) -> None:  # older than anything else due
                for _ in range(20):
                    await outbox.enqueue(db, app.id, payloads.meeting_started(meeting(app.id)))
                await db.commit()

            with_db(server, twenty)
            hanging.wait_for(dead, 4)
            began = time.monotonic()
            assert enqueue(server, app.id, joined(app.id)) == 1
            healthy.wait_for(alive, 1, timeout=3)
            assert time.monotonic() - began < 3
            time.sleep(0.3)
            assert len(hanging.at(dead)) == 4  # it never had more than its 4 slots
    finally:
        hanging.released.set()
        hanging.down()
        healthy.down()
