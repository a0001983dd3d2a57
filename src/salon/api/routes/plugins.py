"""The plugin registry of an app (a salon addition; docs/plugins-and-stores.md)."""

from typing import Annotated, Any

from fastapi import APIRouter, Body, Request

from salon.api.deps import CurrentApp, Db, NoBody, Paged
from salon.api.envelope import Envelope, ok
from salon.api.schemas.bodies import patch_body
from salon.api.schemas.envelope import PagedSuccess, Success, errors
from salon.api.schemas.resources import Plugin
from salon.core.plugins import PluginBody
from salon.live import operator
from salon.services import plugins

router = APIRouter(prefix="/{app_id}/plugins", tags=["plugins"])


@router.get("", summary="List the app's plugins (newest first)",
            response_model=PagedSuccess[list[Plugin]])
async def list_plugins(app: CurrentApp, db: Db, page: Paged,
                       search: str | None = None) -> Envelope:
    rows, total = await plugins.list_page(db, app.id, page, search=search)
    return ok([plugins.view(row) for row in rows], paging=page.paging(total, len(rows)))


@router.post("", summary="Register a plugin", status_code=201, response_model=Success[Plugin],
             responses=errors(409))
async def create_plugin(body: PluginBody, app: CurrentApp, db: Db) -> Envelope:
    return ok(plugins.view(await plugins.create(db, app.id, body)), status_code=201)


@router.get("/{plugin_id}", summary="Get a plugin", response_model=Success[Plugin])
async def get_plugin(plugin_id: str, app: CurrentApp, db: Db) -> Envelope:
    return ok(plugins.view(await plugins.get(db, app.id, plugin_id)))


@router.patch(
    "/{plugin_id}",
    summary="Edit a plugin (any subset of fields)",
    openapi_extra=patch_body(PluginBody),
    response_model=Success[Plugin], responses=errors(409),
)
async def edit_plugin(
    plugin_id: str, app: CurrentApp, db: Db, body: Annotated[dict[str, Any], Body()]
) -> Envelope:
    return ok(plugins.view(await plugins.update(db, app.id, plugin_id, body)))


@router.put("/{plugin_id}", summary="Replace a plugin", response_model=Success[Plugin],
            responses=errors(409))
async def replace_plugin(plugin_id: str, body: PluginBody, app: CurrentApp, db: Db) -> Envelope:
    return ok(plugins.view(await plugins.replace(db, app.id, plugin_id, body)))


@router.delete("/{plugin_id}", summary="Delete a plugin; live sessions close it",
               response_model=Success[Plugin])
async def delete_plugin(plugin_id: str, request: Request, app: CurrentApp, db: Db,
                        _: NoBody) -> Envelope:
    deleted = plugins.view(await plugins.delete(db, app.id, plugin_id))
    operator.close_plugin_everywhere(request.app.state.rooms, app.id, plugin_id)
    return ok(deleted)
