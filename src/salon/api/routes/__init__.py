"""REST routes, one module per resource, all under RealtimeKit's account/app path."""

from fastapi import FastAPI

from salon.api.routes import (
    active_session,
    apps,
    chat_export,
    connected_meetings,
    live_sessions,
    livestreams,
    meetings,
    participants,
    plugins,
    presets,
    recordings,
    sessions,
    tokens,
    transcripts,
    web,
    webhook_deliveries,
    webhooks,
)

PREFIX = "/client/v4/accounts/{account_id}/realtime/kit"

# Matched in this order, so the busiest resources come first.
MODULES = (participants, meetings, active_session, sessions, presets, webhooks, plugins,
           chat_export, apps, connected_meetings, recordings, transcripts, livestreams,
           # salon extensions the dashboard uses (docs/dashboard.md)
           live_sessions, webhook_deliveries, tokens)


def install(app: FastAPI) -> None:
    """Mount every resource's router straight on the app: each level of nested routers
    is matched again on every request."""
    for module in MODULES:
        app.include_router(module.router, prefix=PREFIX)
    app.include_router(tokens.user_router)
    web.install(app)
