"""The operator CLI, run against the same database as a live server."""

import json
import time

import httpx

from tests.servers import SalonServer


def test_apps_create_json_while_server_runs(server: SalonServer) -> None:
    result = server.cli("apps", "create", "from-cli", "--json")
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 1
    creds = json.loads(lines[0])
    assert set(creds) == {"account_id", "app_id", "api_token"}
    assert creds["account_id"] == server.account_id
    response = httpx.get(
        f"{server.url}/client/v4/accounts/{creds['account_id']}/realtime/kit/"
        f"{creds['app_id']}/presets",
        headers={"Authorization": f"Bearer {creds['api_token']}"},
    )
    assert response.status_code == 200
    assert response.json()["paging"]["total_count"] == 4  # default presets seeded

    listed = [json.loads(line) for line in server.cli("apps", "list", "--json").stdout.splitlines()]
    assert creds["app_id"] in [app["app_id"] for app in listed]
    assert "from-cli" in server.cli("apps", "list").stdout


def test_account_token_reaches_every_app(server: SalonServer) -> None:
    creds = json.loads(server.cli("apps", "create", "second", "--json").stdout)
    other = f"{server.account_url}/{creds['app_id']}/meetings"
    assert httpx.get(other, headers=server.headers).status_code == 200


def test_app_scoped_token(server: SalonServer) -> None:
    issued = json.loads(server.cli("tokens", "create", "--app", server.app_id, "--name", "scoped",
                                   "--json").stdout)
    assert issued["app_id"] == server.app_id
    headers = {"Authorization": f"Bearer {issued['api_token']}"}
    assert httpx.get(f"{server.app_url}/meetings", headers=headers).status_code == 200

    neighbour = json.loads(server.cli("apps", "create", "neighbour", "--json").stdout)
    denied = httpx.get(f"{server.account_url}/{neighbour['app_id']}/meetings", headers=headers)
    assert denied.status_code == 404 and denied.json()["success"] is False

    apps = httpx.get(f"{server.account_url}/apps", headers=headers).json()
    assert [app["id"] for app in apps["data"]] == [server.app_id]
    refused = httpx.post(f"{server.account_url}/apps", json={"name": "x"}, headers=headers)
    assert refused.status_code == 403 and refused.json()["error"]["code"] == 403


def test_revoked_token_stops_working(server: SalonServer) -> None:
    issued = json.loads(server.cli("tokens", "create", "--json").stdout)
    headers = {"Authorization": f"Bearer {issued['api_token']}"}
    assert httpx.get(f"{server.app_url}/meetings", headers=headers).status_code == 200

    listing = server.cli("tokens", "list", "--json").stdout
    assert issued["api_token"] not in listing  # secrets are never shown again
    assert issued["id"] in listing

    server.cli("tokens", "revoke", issued["id"])
    deadline = time.monotonic() + 3  # the server remembers grants for up to a second
    while (response := httpx.get(f"{server.app_url}/meetings", headers=headers)) \
            .status_code == 200 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert response.status_code == 401 and response.json()["error"]["code"] == 401
    revoked = [json.loads(line) for line in server.cli("tokens", "list", "--json").stdout.splitlines()]
    assert next(t for t in revoked if t["id"] == issued["id"])["revoked"] is True


def test_cli_errors_are_messages_not_tracebacks(server: SalonServer) -> None:
    result = server.cli("tokens", "create", "--app", "0" * 32, check=False)
    assert result.returncode != 0
    assert "does not exist" in result.stderr and "Traceback" not in result.stderr
    result = server.cli("tokens", "revoke", "no-such-token", check=False)
    assert result.returncode != 0 and "Traceback" not in result.stderr
