"""PR1–PR5 and PUT: presets."""

from typing import Annotated, Any

from fastapi import APIRouter, Body

from salon.api import wire
from salon.api.deps import CurrentApp, Db, NoBody, Paged
from salon.api.envelope import Envelope, ok
from salon.api.schemas.bodies import patch_body
from salon.api.schemas.envelope import PagedSuccess, Success, errors
from salon.api.schemas.resources import Preset, PresetSummary
from salon.core.presets import PresetBody
from salon.services import presets

router = APIRouter(prefix="/{app_id}/presets", tags=["presets"])


@router.get("", summary="List presets", response_model=PagedSuccess[list[PresetSummary]])
async def list_presets(app: CurrentApp, db: Db, page: Paged, search: str | None = None) -> Envelope:
    rows, total = await presets.list_page(db, app.id, page, search=search)
    return ok([wire.preset_summary(row) for row in rows], paging=page.paging(total, len(rows)))


@router.post("", summary="Create a preset (omitted parts take defaults)", status_code=201,
             response_model=Success[Preset], responses=errors(409))
async def create_preset(body: PresetBody, app: CurrentApp, db: Db) -> Envelope:
    return ok(wire.preset(await presets.create(db, app.id, body)), status_code=201)


@router.get("/{preset_id}", summary="Get a preset", response_model=Success[Preset])
async def get_preset(preset_id: str, app: CurrentApp, db: Db) -> Envelope:
    return ok(wire.preset(await presets.get(db, app.id, preset_id)))


@router.patch(
    "/{preset_id}",
    summary="Update a preset (deep partial)",
    openapi_extra=patch_body(PresetBody),
    response_model=Success[Preset], responses=errors(409),
)
async def update_preset(
    preset_id: str, app: CurrentApp, db: Db, body: Annotated[dict[str, Any], Body()]
) -> Envelope:
    return ok(wire.preset(await presets.update(db, app.id, preset_id, body)))


@router.put("/{preset_id}", summary="Replace a preset", response_model=Success[Preset],
            responses=errors(409))
async def replace_preset(preset_id: str, body: PresetBody, app: CurrentApp, db: Db) -> Envelope:
    return ok(wire.preset(await presets.replace(db, app.id, preset_id, body)))


@router.delete("/{preset_id}", summary="Delete a preset no participant uses",
               response_model=Success[Preset], responses=errors(409))
async def delete_preset(preset_id: str, app: CurrentApp, db: Db, _: NoBody) -> Envelope:
    return ok(wire.preset(await presets.delete(db, app.id, preset_id)))
