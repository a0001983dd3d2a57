"""api/lean.py serves add-participant in front of its FastAPI declaration: it must answer
every request as the declaration would, but for the difference it documents."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI

from salon.api import lean
from salon.api.app import create_app
from salon.services import apps
from salon.settings import Settings
from tests.servers import free_port, in_process

GOOD = b'{"custom_participant_id": "%s", "preset_name": "group_call_host", "name": "A"}'
JSON = "application/json"

# (name, body, content type or None, token: "own" / "bad" / None, meeting: "own" / "missing")
CASES: list[tuple[str, bytes, str | None, str | None, str]] = [
    ("added", GOOD % b"a", JSON, "own", "own"),
    ("same custom id again", GOOD % b"a", JSON, "own", "own"),
    ("empty body", b"", JSON, "own", "own"),
    ("empty body, no type", b"", None, "own", "own"),
    ("broken JSON", b"{", JSON, "own", "own"),
    ("array", b"[1, 2]", JSON, "own", "own"),
    ("string", b'"text"', JSON, "own", "own"),
    ("null", b"null", JSON, "own", "own"),
    ("wrong type", b'{"custom_participant_id": 5, "preset_name": "group_call_host"}', JSON,
     "own", "own"),
    ("missing field", b'{"custom_participant_id": "b"}', JSON, "own", "own"),
    ("unknown field", b'{"custom_participant_id": "c", "preset_name": "group_call_host", '
                      b'"bogus": 1}', JSON, "own", "own"),
    ("NUL in a field", b'{"custom_participant_id": "d\\u0000", '
                       b'"preset_name": "group_call_host"}', JSON, "own", "own"),
    ("name too long", b'{"custom_participant_id": "e", "preset_name": "group_call_host", '
                      b'"name": "' + b"x" * 300 + b'"}', JSON, "own", "own"),
    ("unknown preset", b'{"custom_participant_id": "f", "preset_name": "nope"}', JSON, "own",
     "own"),
    ("XML declared", GOOD % b"g", "application/xml", "own", "own"),
    ("form declared (curl -d)", GOOD % b"h", "application/x-www-form-urlencoded", "own", "own"),
    ("JSON with charset", GOOD % b"i", "application/json; charset=utf-8", "own", "own"),
    ("vendor +json", GOOD % b"j", "application/vnd.salon+json", "own", "own"),
    ("unknown meeting", GOOD % b"k", JSON, "own", "missing"),
    ("no token", GOOD % b"l", JSON, None, "own"),
    ("revoked token", GOOD % b"m", JSON, "bad", "own"),
    ("bad token, wrong types", b'{"custom_participant_id": 5}', JSON, "bad", "own"),
    # Both check the token first (`body_limit.BodyLimit`), then the body.
    ("bad token, broken JSON", b"{", JSON, "bad", "own"),
]


@asynccontextmanager
async def _serving(tmp_path: Path, served_by_lean: bool) -> AsyncIterator[
        tuple[httpx.AsyncClient, str, str]]:
    """The app under a real uvicorn server on loopback, with an app, a token, a meeting."""
    app: FastAPI = create_app(Settings(data_dir=tmp_path, media_backend="none"))
    if not served_by_lean:
        app.router.routes[:] = [route for route in app.router.routes
                                if getattr(route, "endpoint", None) is not lean.add_participant]
    port = free_port()
    async with in_process(app, port):
        async with app.state.database.session() as db:
            credentials = await apps.create_with_token(db, "lean", None)
        base = (f"/client/v4/accounts/{credentials.account_id}/realtime/kit/"
                f"{credentials.app_id}")
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", headers={
                "authorization": f"Bearer {credentials.api_token}"}) as client:
            made = await client.post(f"{base}/meetings", json={"title": "lean"})
            yield client, base, made.json()["data"]["id"]


async def _answers(tmp_path: Path, served_by_lean: bool,
                   cases: list[tuple[str, bytes, str | None, str | None, str]]) -> list[Any]:
    answers = []
    async with _serving(tmp_path, served_by_lean) as (client, base, meeting):
        for name, body, content_type, token, where in cases:
            headers = {} if content_type is None else {"content-type": content_type}
            if token is None:
                headers["authorization"] = ""
            elif token == "bad":
                headers["authorization"] = "Bearer salon_revoked"
            target = meeting if where == "own" else "00000000-0000-0000-0000-000000000000"
            response = await client.post(f"{base}/meetings/{target}/participants",
                                         content=body, headers=headers)
            payload = response.json()
            if payload["success"]:
                shown = sorted(payload["data"])
            else:
                shown = payload["error"]["message"].replace(meeting, "<meeting>")
            answers.append((name, response.status_code, shown))
    return answers


async def test_answers_as_the_fastapi_declaration_does(tmp_path: Path) -> None:
    declared = await _answers(tmp_path / "fastapi", False, CASES)
    served = await _answers(tmp_path / "lean", True, CASES)
    assert served == declared
    assert [status for _, status, _ in served][:3] == [201, 409, 400]


async def test_a_body_that_is_not_utf8_is_not_valid_json_on_both(tmp_path: Path) -> None:
    """FastAPI's own "There was an error parsing the body" is answered as the envelope's
    `Request body is not valid JSON` (envelope.FASTAPI_UNPARSABLE), as the lean route does."""
    case = ("not UTF-8", b'{"custom_participant_id": "\xff"}', JSON, "own", "own")
    expected = (400, "Request body is not valid JSON")
    assert (await _answers(tmp_path / "fastapi", False, [case]))[0][1:] == expected
    assert (await _answers(tmp_path / "lean", True, [case]))[0][1:] == expected


async def test_the_openapi_document_still_describes_the_route(tmp_path: Path) -> None:
    async with _serving(tmp_path, True) as (client, _, _):
        paths = (await client.get("/openapi.json")).json()["paths"]
        operation = paths["/client/v4/accounts/{account_id}/realtime/kit/{app_id}/meetings/"
                          "{meeting_id}/participants"]["post"]
        schema = operation["requestBody"]["content"]["application/json"]["schema"]
        assert schema["$ref"].endswith("/NewParticipant")
