"""REST routes, one module per resource, all under RealtimeKit's account/app path."""

from fastapi import FastAPI

from salon.api.routes import (
    active_session,
    apps,
    chat_export,
    connected_meetings,
    livestreams,
    meetings,
    participants,
    plugins,
    presets,
    recordings,
    sessions,
    transcripts,
    web,
    webhooks,
)

PREFIX = "/client/v4/accounts/{account_id}/realtime/kit"

# Matched in this order, so the busiest resources come first.
MODULES = (participants, meetings, active_session, sessions, presets, webhooks, plugins,
           chat_export, apps, connected_meetings, recordings, transcripts, livestreams)


def install(app: FastAPI) -> None:
    """Mount every resource's router straight on the app: each level of nested routers
    is matched again on every request."""
    for module in MODULES:
        app.include_router(module.router, prefix=PREFIX)
    web.install(app)
