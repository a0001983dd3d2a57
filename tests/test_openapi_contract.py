"""The OpenAPI document: complete (an answer schema for every route and status), strict
(closed objects, the rules that refuse a request stated in it), and true (every answer
the suite gets is checked against it by `tests/contract.py`; this file tests that check
and the rules the fuzzer found stated wrongly)."""

import re
from typing import Any

import httpx
import pytest

from salon.api.routes import PREFIX
from tests.contract import Contract, ContractViolation
from tests.servers import SalonServer


@pytest.fixture(scope="module")
def document(server: SalonServer) -> dict[str, Any]:
    return httpx.get(f"{server.url}/openapi.json").json()


def operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(method, path, operation) for path, methods in document["paths"].items()
            for method, operation in methods.items()]


def resolve(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def test_every_operation_documents_its_answers(document: dict[str, Any]) -> None:
    assert len(operations(document)) >= 60
    for method, path, operation in operations(document):
        responses = operation["responses"]
        where = f"{method.upper()} {path}"
        assert "422" not in responses, where
        success = [status for status in responses if status.startswith("2")]
        assert success, where
        for status in success:
            content = responses[status]["content"]
            schema = next(iter(content.values()))["schema"]
            assert schema not in ({}, None), f"{where} {status} has no schema"
        for status in ("400", *(("401", "404") if path.startswith(PREFIX) else ())):
            assert status in responses, f"{where} lacks {status}"
            assert responses[status]["content"]["application/json"]["schema"] == {
                "$ref": "#/components/schemas/Failure"}
        if path.startswith(PREFIX):
            assert ("413" in responses) == (method != "get"), where
            assert operation["security"] == [{"bearer": []}]


def test_the_token_check_outside_the_prefix_asks_for_the_bearer(
        document: dict[str, Any]) -> None:
    """GET /client/v4/user/tokens/verify authenticates with the API token: a generated
    client sends it only if the operation says so."""
    verify = document["paths"]["/client/v4/user/tokens/verify"]["get"]
    assert verify["security"] == [{"bearer": []}]
    assert "401" in verify["responses"]
    unauthenticated = [f"{method.upper()} {path}" for method, path, op in operations(document)
                       if not path.startswith(PREFIX) and "security" in op]
    assert unauthenticated == ["GET /client/v4/user/tokens/verify"]


def test_success_objects_are_closed(document: dict[str, Any]) -> None:
    """A field the server adds without the document saying so fails the contract."""
    for method, path, operation in operations(document):
        for status, response in operation["responses"].items():
            json_content = response.get("content", {}).get("application/json")
            if not status.startswith("2") or json_content is None:
                continue
            envelope = resolve(document, json_content["schema"])
            if path in ("/.well-known/webhooks.json", "/realtime/v1/asyncapi.json"):
                continue  # RealtimeKit's own envelope, with `message`; an AsyncAPI document
            assert envelope["additionalProperties"] is False, f"{method} {path}"
            data = envelope["properties"]["data"]
            data = resolve(document, data.get("items", data))
            if data.get("type") == "object" and "properties" in data:
                assert data.get("additionalProperties") is False, f"{method} {path}"


def test_bounds_are_json_schema_keywords(document: dict[str, Any]) -> None:
    """pydantic writes `ge`/`le` for a bound on a number type with a validator of its
    own; no JSON Schema tool reads those, so the document must not carry them."""
    found: list[str] = []

    def walk(node: Any, where: str) -> None:
        if isinstance(node, dict):
            found.extend(f"{where}.{key}" for key in ("ge", "le", "gt", "lt", "multiple_of")
                         if key in node and node.get("type") in ("integer", "number"))
            for key, value in node.items():
                walk(value, f"{where}.{key}")
        elif isinstance(node, list):
            for index, value in enumerate(node):
                walk(value, f"{where}[{index}]")

    walk(document, "")
    assert found == []
    keep_alive = document["components"]["schemas"]["MeetingSettings"]["properties"][
        "session_keep_alive_time_in_secs"]
    assert (keep_alive["minimum"], keep_alive["maximum"]) == (60, 600)


def test_the_poll_body_documents_the_rooms_limits(document: dict[str, Any]) -> None:
    poll = document["components"]["schemas"]["CreatePoll"]["properties"]
    assert (poll["question"]["minLength"], poll["question"]["maxLength"]) == (1, 500)
    assert (poll["options"]["minItems"], poll["options"]["maxItems"]) == (2, 10)
    assert (poll["options"]["items"]["minLength"], poll["options"]["items"]["maxLength"]) \
        == (1, 200)


def test_a_patch_body_has_no_defaults(document: dict[str, Any]) -> None:
    """A field left out of a PATCH keeps its stored value: a default would say otherwise
    (`status` "ACTIVE" would re-activate an INACTIVE meeting)."""
    def defaults(node: Any) -> int:
        if isinstance(node, list):
            return sum(defaults(item) for item in node)
        if not isinstance(node, dict):
            return 0
        return ("default" in node) + sum(defaults(v) for k, v in node.items()
                                         if k != "default")
    prefix = "/client/v4/accounts/{account_id}/realtime/kit/{app_id}"
    for path in (f"{prefix}/meetings/{{meeting_id}}", f"{prefix}/presets/{{preset_id}}"):
        body = document["paths"][path]["patch"]["requestBody"]["content"]["application/json"]
        assert body["schema"]["properties"] and defaults(body["schema"]) == 0, path


def _answer(method: str, url: str, status: int, body: Any) -> httpx.Response:
    return httpx.Response(status, json=body, request=httpx.Request(method, url))


def test_the_contract_check_can_fail(document: dict[str, Any], server: SalonServer,
                                     http: httpx.Client) -> None:
    contract = Contract(document)
    real = http.post("/meetings", json={"title": "contract"})
    contract.check(real)  # as served: fine
    url = f"{server.app_url}/meetings"
    with pytest.raises(ContractViolation, match="unexpected"):
        contract.check(_answer("POST", url, 201, {**real.json(), "extra": 1}))
    meeting = real.json()["data"]
    with pytest.raises(ContractViolation, match="status_code|not documented"):
        contract.check(_answer("POST", url, 418, {"success": False,
                                                  "error": {"code": 418, "message": "x"}}))
    with pytest.raises(ContractViolation, match="title"):
        contract.check(_answer("POST", url, 201, {"success": True,
                                                  "data": {**meeting, "title": 5}}))
    with pytest.raises(ContractViolation, match="envelope"):
        contract.check(_answer("POST", f"{server.url}/nowhere", 404, {"detail": "x"}))


@pytest.mark.parametrize(("path", "field"), [
    ("/meetings?start_time=0.5", "start_time"),
    ("/sessions?end_time=1700000000", "end_time"),
    ("/analytics/daywise?end_date=0", "end_date"),
    ("/analytics/daywise?start_date=20260101", "start_date"),
])
def test_times_and_days_are_iso_text(http: httpx.Client, path: str, field: str) -> None:
    response = http.get(path)
    assert response.status_code == 400, response.text
    assert f"query.{field}" in response.json()["error"]["message"]
    assert "ISO 8601" in response.json()["error"]["message"]


@pytest.mark.parametrize("body", [
    {"session_keep_alive_time_in_secs": "120"},
    {"session_keep_alive_time_in_secs": True},
    {"ai_config": {"summarization": {"word_limit": "300"}}},
])
def test_numbers_are_json_numbers(http: httpx.Client, body: dict[str, Any]) -> None:
    response = http.post("/meetings", json=body)
    assert response.status_code == 400, response.text
    assert "must be a number" in response.json()["error"]["message"]


@pytest.mark.parametrize(("path", "name"), [
    ("/meetings?page_no=-8&page_no=1", "page_no"),  # the last one valid: was a 200
    ("/meetings?search=a&search=b", "search"),
    ("/recordings?status=RECORDING&page_no=1&page_no=2", "page_no"),
])
def test_a_query_parameter_given_twice_is_refused(http: httpx.Client, path: str,
                                                  name: str) -> None:
    """Read as its last value, the first silently dropped: found by the fuzzer."""
    response = http.get(path)
    assert response.status_code == 400, response.text
    assert response.json()["error"]["message"] == \
        f"query.{name}: Given more than once; send it once."


@pytest.mark.parametrize(("path", "name"), [
    ("/meetings?foo=1&per_page=1", "foo"),
    ("/presets?sort_order=ASC", "sort_order"),  # a filter of another list
    ("/sessions?page_no=1&serach=x", "serach"),  # a typo
    ("/plugins?foo=1", "foo"),
])
def test_a_query_parameter_the_route_does_not_take_is_refused(
        http: httpx.Client, path: str, name: str) -> None:
    """As an unknown body field: a misspelt filter was dropped, the list answered whole."""
    response = http.get(path)
    assert response.status_code == 400, response.text
    assert response.json()["error"]["message"] == \
        f"query.{name}: is not a known parameter of this route."


def test_the_token_is_checked_before_the_query(server: SalonServer) -> None:
    """A request without a token is a 401 whatever its query (repeated, unknown)."""
    for query in ("page_no=1&page_no=2", "foo=1"):
        response = httpx.get(f"{server.app_url}/meetings?{query}")
        assert response.status_code == 401, (query, response.text)
    elsewhere = server.app_url.rsplit("/", 1)[0] + "/" + "0" * 32  # an app it cannot reach
    response = httpx.get(f"{elsewhere}/meetings?page_no=1&page_no=2", headers=server.headers)
    assert response.status_code == 404, response.text


def test_a_list_parameter_may_repeat(http: httpx.Client) -> None:
    response = http.get("/recordings?status=RECORDING&status=UPLOADED")
    assert response.status_code == 200, response.text


def test_a_whole_float_is_an_integer(http: httpx.Client) -> None:
    """As in JSON Schema: 120.0 is the integer 120."""
    response = http.post("/meetings", json={"session_keep_alive_time_in_secs": 120.0})
    assert response.status_code == 201
    assert response.json()["data"]["session_keep_alive_time_in_secs"] == 120


def test_a_wrong_method_names_every_method_of_the_path(http: httpx.Client) -> None:
    """Starlette named only the first route's methods (salon has a route per method)."""
    response = http.request("OPTIONS", "/meetings")
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, HEAD, POST"
    response = http.delete("/meetings/x/participants")
    assert response.headers["allow"] == "GET, HEAD, POST"
    # Room ids are UUIDs: `/move` is only POST, not also a room's PATCH and DELETE.
    assert http.patch("/meetings/x/connected_meetings/move", json={}).headers[
        "allow"] == "POST"


def test_head_answers_as_get_without_a_body(http: httpx.Client) -> None:
    """RFC 9110 §9.1: HEAD wherever GET is, with the GET's status and headers."""
    http.post("/meetings", json={"title": "Head"})
    got, head = http.get("/meetings"), http.head("/meetings")
    assert head.status_code == got.status_code == 200
    assert head.content == b""
    assert head.headers["content-type"] == got.headers["content-type"]
    assert int(head.headers["content-length"]) == len(got.content)
    assert head.headers["x-request-id"] != got.headers["x-request-id"]
    missing = http.head("/meetings/00000000-0000-4000-8000-000000000000")
    assert missing.status_code == 404 and missing.content == b""
    # A path without GET has no HEAD either.
    refused = http.head("/meetings/x/connected_meetings/move")
    assert refused.status_code == 405 and refused.headers["allow"] == "POST"


@pytest.mark.parametrize(("url", "accepted"), [
    ("https://hooks.example.com/salon?x=1", True),
    ("http://[::1]:8080/h", True),
    ("http://127.0.0.1:1/x", True),
    ("https://xn--mnchen-3ya.de/ü", True),
    ("https://ü.example/", False),  # international names in their xn-- form
    ("http://1.2.3.999/", False),
    ("https://a.example:0/", False),
])
def test_url_shapes(http: httpx.Client, url: str, accepted: bool) -> None:
    response = http.post("/webhooks", json={"name": "shape", "url": url,
                                            "events": ["meeting.started"]})
    assert (response.status_code == 201) is accepted, response.text
    if accepted:
        http.delete(f"/webhooks/{response.json()['data']['id']}")


def test_a_meetings_storage_is_answered_as_documented_without_its_secrets(
        document: dict[str, Any], http: httpx.Client) -> None:
    """The meeting's `recording_config.storage_config` is the recordings' closed view:
    a client generated from the document never sees (or expects) the credentials."""
    storage = {"type": "aws", "access_key": "AKIA-KEY", "secret": "s3cr3t", "bucket": "b",
               "region": "us-east-1", "password": "pw", "private_key": "pk"}
    response = http.post("/meetings", json={"recording_config": {"storage_config": storage}})
    assert response.status_code == 201, response.text
    answered = response.json()["data"]["recording_config"]["storage_config"]
    assert answered == {"type": "aws", "bucket": "b", "region": "us-east-1", "path": None,
                        "auth_method": None, "username": None, "host": None, "port": None}
    view = resolve(document, document["components"]["schemas"]["StorageView"])
    assert view["additionalProperties"] is False
    assert sorted(view["required"]) == sorted(answered)
    meeting = resolve(document, document["components"]["schemas"]["Meeting"])
    config = resolve(document, meeting["properties"]["recording_config"])
    assert {"$ref": "#/components/schemas/StorageView"} in \
        config["properties"]["storage_config"]["anyOf"]
    leaked = {"data": {**response.json()["data"], "recording_config": {
        **response.json()["data"]["recording_config"],
        "storage_config": {**answered, "secret": "s3cr3t"}}}, "success": True}
    with pytest.raises(ContractViolation, match="secret"):
        Contract(document).check(_answer("POST", str(response.url), 201, leaked))


def test_a_recording_id_is_never_track(document: dict[str, Any], http: httpx.Client) -> None:
    """`/recordings/track` is only the track recording's POST (a GET is 405, not a
    recording lookup): the document's recording id says so, as the router does."""
    assert http.get("/recordings/track").status_code == 405
    for method in ("get", "put"):
        operation = document["paths"][f"{PREFIX}/{{app_id}}/recordings/{{recording_id}}"][method]
        (schema,) = [p["schema"] for p in operation["parameters"]
                     if p["name"] == "recording_id"]
        pattern = re.compile(schema["pattern"])
        assert not pattern.search("track") and pattern.search("b7d1c0de-0000-4000-8000-1")
