"""The operator CLI, run against the same database as a live server."""

import json
import os
import time
from pathlib import Path

import httpx

from salon.client import RealtimeClient
from salon.client.realtime import ws_url
from tests.servers import SalonServer, free_port, launch, run_cli


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
    # The token `apps create` prints is account-wide too (its help says so).
    mine = {"Authorization": f"Bearer {creds['api_token']}"}
    assert httpx.get(f"{server.account_url}/{server.app_id}/meetings",
                     headers=mine).status_code == 200


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


async def test_demo_makes_a_meeting_that_two_people_join(tmp_path: Path) -> None:
    """`salon demo --json` on a fresh data dir, with no server running: an app is made
    (its credentials shown once), then a meeting and two links; a server started on that
    data dir afterwards lets both people in."""
    port = free_port()
    env = {**os.environ, "SALON_DATA_DIR": str(tmp_path), "SALON_DATABASE_URL": "",
           "SALON_PORT": str(port)}
    result = run_cli(env, "demo", "--json")
    demo = json.loads(result.stdout)
    assert demo["title"] == "Demo meeting" and demo["server_running"] is False
    created = demo["created_app"]
    assert created["app_id"] == demo["app_id"] and created["api_token"].startswith("salon_")
    base = f"http://127.0.0.1:{port}"
    assert demo["base_url"] == base
    assert demo["host"]["preset_name"] == "group_call_host"
    assert demo["guest"]["preset_name"] == "group_call_participant"
    for role in ("host", "guest"):
        assert demo[role]["url"] == f"{base}/meet#token={demo[role]['token']}"
    text = run_cli(env, "demo").stdout  # the text form, a second meeting in the same app
    assert "salon serve" in text and "Host (group_call_host):" in text
    assert "shown once" not in text  # the app exists now: no new credentials

    server = SalonServer(tmp_path, "", port, created["account_id"], created["app_id"],
                         created["api_token"], launch(env, port, tmp_path / "server.log"),
                         tmp_path / "server.log")
    try:
        with httpx.Client(base_url=server.app_url, headers=server.headers) as http:
            meeting = http.get(f"/meetings/{demo['meeting_id']}").json()["data"]
            assert meeting["title"] == "Demo meeting"
            people = http.get(f"/meetings/{demo['meeting_id']}/participants").json()["data"]
            assert {p["preset_name"] for p in people} == {"group_call_host",
                                                         "group_call_participant"}
        host = await RealtimeClient.join(ws_url(base), demo["host"]["token"])
        guest = await RealtimeClient.join(ws_url(base), demo["guest"]["token"])
        try:
            assert host.status == "joined"
            assert guest.status == "joined"  # group_call_participant skips the waiting room
            assert host.joined["room"]["meeting"]["title"] == "Demo meeting"
            await host.wait_for("peer.joined", lambda data: data["peer"]["name"] == "Guest")
        finally:
            await guest.leave()
            await host.leave()
        again = json.loads(run_cli(env, "demo", "--json").stdout)
        assert again["server_running"] is True and again["created_app"] is None
        assert again["app_id"] == demo["app_id"] and again["meeting_id"] != demo["meeting_id"]
        assert "Traceback" not in server.log()
    finally:
        server.stop()
