"""The served OpenAPI document as a contract: every HTTP answer the tests get is checked
against it (status documented for the operation, body valid against its schema).

`install` wraps httpx's transports for the whole run (conftest), so every client the
suite uses — `http`, `AdminClient`, the official SDK — has every answer from a salon
server checked: a route whose answer drifts from the document fails whichever test
touched it. `Contract.seen` records which operations and statuses were checked.
"""

import re
from dataclasses import dataclass, field
from typing import Any

import httpx
import jsonschema_rs
import orjson


class ContractViolation(AssertionError):
    pass


@dataclass
class _Operation:
    method: str
    template: str
    pattern: re.Pattern[str]
    responses: dict[str, Any]


@dataclass
class Contract:
    document: dict[str, Any]
    operations: list[_Operation] = field(default_factory=list)
    #: (METHOD, path template, status) of every answer checked.
    seen: set[tuple[str, str, int]] = field(default_factory=set)
    _validators: dict[tuple[str, str, str], Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # Literal paths before templated ones: `/sessions/peer-report/{id}` must not be
        # taken for `/sessions/{session_id}/…`.
        for template, methods in sorted(self.document["paths"].items(),
                                        key=lambda item: item[0].count("{")):
            for method, operation in methods.items():
                self.operations.append(_Operation(method.upper(), template,
                                                  _path_pattern(template, operation),
                                                  operation["responses"]))

    @classmethod
    def of(cls, base_url: str) -> "Contract":
        return cls(httpx.get(f"{base_url}/openapi.json").raise_for_status().json())

    def operation(self, method: str, path: str) -> _Operation | None:
        return next((op for op in self.operations
                     if op.method == method and op.pattern.match(path)), None)

    def check(self, response: httpx.Response) -> None:
        """Raise ContractViolation if the answer is not what the document promises."""
        request = response.request
        # HEAD is the GET without its body (docs/api.md): the GET's statuses, no schema.
        head = request.method == "HEAD"
        operation = self.operation("GET" if head else request.method, request.url.path)
        if operation is None:
            # No such route (404), method (405), or refused before routing (401 without a
            # token, 413): an error, in the envelope.
            if 400 <= response.status_code < 500:
                if not head:
                    _envelope_error(response)
                elif response.content:
                    raise ContractViolation(f"HEAD {request.url.path}: an answer with a body")
                return
            raise ContractViolation(f"{request.method} {request.url.path} answered "
                                    f"{response.status_code} but is not in the document")
        status = str(response.status_code)
        documented = operation.responses.get(status)
        where = f"{request.method} {operation.template} → {status}"
        if documented is None:
            raise ContractViolation(f"{where} is not documented (documented: "
                                    f"{sorted(operation.responses)}): {response.text[:300]}")
        self.seen.add((request.method, operation.template, response.status_code))
        if head:
            if response.content:
                raise ContractViolation(f"{where}: a HEAD answer with a body")
            return
        content = documented.get("content") or {}
        kind = response.headers.get("content-type", "").split(";")[0].strip()
        if "application/json" not in content:
            if content and kind not in content and "application/octet-stream" not in content:
                raise ContractViolation(f"{where}: Content-Type {kind}, documented "
                                        f"{sorted(content)}")
            return
        if kind != "application/json":
            raise ContractViolation(f"{where}: Content-Type {kind}, not JSON")
        validator = self._validator(operation.template, request.method, status,
                                    content["application/json"].get("schema", {}))
        body = orjson.loads(response.content)
        errors = [f"{'/'.join(map(str, e.instance_path)) or '(root)'}: {e.message}"
                  for e in validator.iter_errors(body)]
        if errors:
            raise ContractViolation(f"{where} disagrees with the document:\n  "
                                    + "\n  ".join(errors[:10]) + f"\nbody: {response.text[:500]}")

    def _validator(self, template: str, method: str, status: str, schema: dict[str, Any]) -> Any:
        key = (template, method, status)
        if key not in self._validators:
            rooted = {**schema, "components": self.document.get("components", {})}
            self._validators[key] = jsonschema_rs.Draft202012Validator(rooted)
        return self._validators[key]


_UUID = "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"


def _path_pattern(template: str, operation: dict[str, Any]) -> re.Pattern[str]:
    """The paths an operation serves: `{name}` is one segment, a UUID where the
    parameter's schema says `format: uuid` (as the router's `{name:uuid}` does), and
    one its `pattern` matches where it has one (`recording_id` is never `track`)."""
    schemas = {p["name"]: p.get("schema", {})
               for p in operation.get("parameters", []) if p["in"] == "path"}

    def segment(name: str) -> str:
        schema = schemas.get(name, {})
        if schema.get("format") == "uuid":
            return _UUID
        pattern = schema.get("pattern")
        return f"(?:{pattern.removeprefix('^').removesuffix('$')})" if pattern else "[^/]+"

    regex = re.sub(r"\\{(\w+)\\}", lambda m: segment(m.group(1)), re.escape(template))
    return re.compile(f"^{regex}$")


def _envelope_error(response: httpx.Response) -> None:
    body = response.json()
    if set(body) != {"success", "error"} or body["success"] is not False \
            or set(body["error"]) != {"code", "message"}:
        raise ContractViolation(f"an error outside the envelope: {response.text[:300]}")


#: Contracts by server base URL (`http://127.0.0.1:PORT`); None for servers that are not
#: salon (webhook receivers, plugin hosts).
CONTRACTS: dict[str, Contract | None] = {}
_UNCHECKED = ("/openapi.json", "/docs", "/redoc", "/meet", "/sdk/", "/dashboard")


def _base(url: httpx.URL) -> str:
    return f"{url.scheme}://{url.host}:{url.port}"


def _learn(base: str, document: Any) -> None:
    salon = isinstance(document, dict) and document.get("info", {}).get("title") == "salon"
    CONTRACTS[base] = Contract(document) if salon else None


def contract_for(url: httpx.URL) -> Contract | None:
    """The contract of the server at `url` (its document fetched once; `/openapi.json`
    is not checked, so this does not recurse)."""
    base = _base(url)
    if base not in CONTRACTS:
        try:
            _learn(base, httpx.get(f"{base}/openapi.json", timeout=10).json())
        except (httpx.HTTPError, ValueError):
            CONTRACTS[base] = None
    return CONTRACTS[base]


async def acontract_for(url: httpx.URL) -> Contract | None:
    """`contract_for` without blocking the loop, which may be the server's own."""
    base = _base(url)
    if base not in CONTRACTS:
        try:
            async with httpx.AsyncClient(timeout=10) as client:
                _learn(base, (await client.get(f"{base}/openapi.json")).json())
        except (httpx.HTTPError, ValueError):
            CONTRACTS[base] = None
    return CONTRACTS[base]


#: Pages at exactly these paths (the landing page) are not in the REST contract either.
_UNCHECKED_EXACT = ("/",)


def _checked(request: httpx.Request) -> bool:
    path = request.url.path
    return (request.url.host == "127.0.0.1" and not path.startswith(_UNCHECKED)
            and path not in _UNCHECKED_EXACT)


def _from_salon(response: httpx.Response) -> bool:
    """Contracts are learnt per address, and a port a salon server used may be taken by
    another server later in the run (an S3 stand-in, a webhook receiver): only answers
    that uvicorn served are held to salon's document."""
    return response.headers.get("server", "").startswith("uvicorn")


def install(monkeypatch: Any) -> None:
    """Check every answer that any httpx client in the run gets from a salon server."""
    sync_handle = httpx.HTTPTransport.handle_request
    async_handle = httpx.AsyncHTTPTransport.handle_async_request

    def handle_request(self: httpx.HTTPTransport, request: httpx.Request) -> httpx.Response:
        response = sync_handle(self, request)
        if _checked(request) and _from_salon(response) \
                and (contract := contract_for(request.url)) is not None:
            response.read()
            response.request = request
            contract.check(response)
        return response

    async def handle_async_request(self: httpx.AsyncHTTPTransport,
                                   request: httpx.Request) -> httpx.Response:
        response = await async_handle(self, request)
        if _checked(request) and _from_salon(response) \
                and (contract := await acontract_for(request.url)) is not None:
            await response.aread()
            response.request = request
            contract.check(response)
        return response

    monkeypatch.setattr(httpx.HTTPTransport, "handle_request", handle_request)
    monkeypatch.setattr(httpx.AsyncHTTPTransport, "handle_async_request", handle_async_request)
