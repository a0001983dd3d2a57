"""A fuzzing run of the whole REST API: schemathesis generates requests from the served
OpenAPI document, valid and invalid, with a valid token, on SQLite and PostgreSQL.

Every answer must be no server error, a status the document lists for the operation,
a body and Content-Type the document gives for that status, an `Allow` header that
names the path's methods, and every request that breaks the document must be refused.
Bounded: EXAMPLES per operation and phase, some 5,000 requests per backend.

Schemathesis runs as its CLI in a subprocess (its pytest plugin does not run under this
pytest). Two of its checks are left out, because they judge rules no OpenAPI document
can state: `positive_data_acceptance` (a request can fit the schema and still be refused
for the state it meets: a preset that does not exist, a daywise span over 366 days) and
`ensure_resource_availability` (a meeting just created has no active session until
someone joins, so `…/active-session/kick` is rightly a 404).
"""

import copy
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.servers import SalonServer

#: Test cases per operation and phase.
EXAMPLES = 25
EXCLUDED_CHECKS = "positive_data_acceptance,ensure_resource_availability"
#: Without the stateful phase: while gathering links for it, schemathesis 4.32.5 parses
#: every URL-like string in the answers and crashes on one such as `http://[` that a
#: free-text field may hold (`ValueError: Invalid IPv6 URL` in its observations code).
PHASES = "examples,coverage,fuzzing"


def pinned(document: dict[str, Any], account_id: str, app_id: str) -> dict[str, Any]:
    """The document with the test app's account and app ids written into the paths: a
    random `app_id` only ever reaches the 404 of the first lookup."""
    document = copy.deepcopy(document)
    paths = {}
    for path, operations in document["paths"].items():
        for operation in operations.values():
            operation["parameters"] = [p for p in operation.get("parameters", [])
                                       if p["name"] not in ("account_id", "app_id")
                                       or p["in"] != "path"]
        paths[path.replace("{account_id}", account_id).replace("{app_id}", app_id)] = operations
    document["paths"] = paths
    return document


@pytest.mark.parametrize("server", ["sqlite"], indirect=True)
def test_the_api_keeps_its_contract_under_fuzzing(server: SalonServer, tmp_path: Path) -> None:
    """On SQLite; test_fuzz_postgresql.py runs the same on PostgreSQL, in a file of its
    own so that the suite's workers (a file each at a time) run the two side by side."""
    fuzz(server, tmp_path)


def fuzz(server: SalonServer, tmp_path: Path) -> None:
    document = httpx.get(f"{server.url}/openapi.json").json()
    schema = tmp_path / "openapi.json"
    schema.write_text(json.dumps(pinned(document, server.account_id, server.app_id)))
    run = subprocess.run(
        [str(Path(sys.executable).parent / "schemathesis"), "run", str(schema),
         "--url", server.url, "--header", f"Authorization: Bearer {server.api_token}",
         "--checks", "all", "--exclude-checks", EXCLUDED_CHECKS, "--phases", PHASES,
         "--max-examples", str(EXAMPLES), "--generation-deterministic", "--workers", "1",
         "--no-color"],
        cwd=tmp_path, capture_output=True, text=True, timeout=600)
    output = run.stdout + run.stderr
    assert run.returncode == 0, output[-20_000:]
    generated = re.search(r"(\d+) generated", output)
    assert generated and int(generated.group(1)) > 1000, output[-2000:]  # it really ran


@pytest.mark.parametrize("server", ["sqlite"], indirect=True)
def test_a_contract_breach_fails_the_run(server: SalonServer, tmp_path: Path) -> None:
    """The run can fail: against a document that promises a field the server never
    sends, schemathesis reports the mismatch."""
    document = pinned(httpx.get(f"{server.url}/openapi.json").json(), server.account_id,
                      server.app_id)
    health = document["paths"]["/healthz"]["get"]["responses"]["200"]["content"][
        "application/json"]["schema"]
    document["paths"] = {"/healthz": document["paths"]["/healthz"]}
    document["components"]["schemas"][health["$ref"].rsplit("/", 1)[-1]]["required"].append(
        "promised")
    schema = tmp_path / "openapi.json"
    schema.write_text(json.dumps(document))
    run = subprocess.run(
        [str(Path(sys.executable).parent / "schemathesis"), "run", str(schema),
         "--url", server.url, "--checks", "response_schema_conformance",
         "--max-examples", "3", "--no-color"],
        cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert run.returncode != 0
    assert "promised" in run.stdout
