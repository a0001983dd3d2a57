"""`GET /realtime/v1/asyncapi.json`: the realtime protocol's schema, as the server has it.

Generated from the server's own models on first request (`salon.realtime.messages.asyncapi`),
so it always describes the running version. Public, like the protocol docs: it holds no
data, only shapes.
"""

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from salon.realtime.messages.asyncapi import document

router = APIRouter()


@router.get("/realtime/v1/asyncapi.json", tags=["realtime"],
            summary="The realtime protocol as an AsyncAPI 3.0 document",
            responses={200: {"description": "An AsyncAPI 3.0.0 document (not in the "
                                            "envelope): asyncapi.com/docs/reference",
                             "content": {"application/json": {"schema": {
                                 "type": "object", "required": ["asyncapi", "channels"],
                                 "properties": {"asyncapi": {"const": "3.0.0"}}}}}}})
async def asyncapi() -> JSONResponse:
    return JSONResponse(document())
