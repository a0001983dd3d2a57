"""API tokens over REST (salon extension): list without secrets, create account-wide or
app-scoped, revoke; an app-scoped token never widens its reach. Both database backends."""

import httpx

from tests.servers import SalonServer


def _client(server: SalonServer, token: str) -> httpx.Client:
    return httpx.Client(base_url=server.account_url, timeout=10,
                        headers={"Authorization": f"Bearer {token}"})


def _other_app(server: SalonServer) -> str:
    with _client(server, server.api_token) as account:
        response = account.post("/apps", json={"name": "tokens-other"})
        assert response.status_code == 201, response.text
        return response.json()["data"]["app"]["id"]


def test_list_create_revoke_account_wide(server: SalonServer) -> None:
    with _client(server, server.api_token) as account:
        listed = account.get("/api_tokens", params={"per_page": 100})
        assert listed.status_code == 200, listed.text
        assert listed.json()["paging"]["total_count"] >= 1
        for row in listed.json()["data"]:
            assert "token" not in row and "token_hash" not in row
            assert row["status"] in ("ACTIVE", "REVOKED")

        created = account.post("/api_tokens", json={"name": "  ci  "})
        assert created.status_code == 201, created.text
        data = created.json()["data"]
        assert data["name"] == "ci" and data["app_id"] is None and data["status"] == "ACTIVE"
        assert data["token"].startswith("salon_") and data["revoked_at"] is None
        again = account.get("/api_tokens", params={"per_page": 100}).json()["data"]
        assert [row for row in again if row["id"] == data["id"]] == [
            {key: value for key, value in data.items() if key != "token"}]

    with _client(server, data["token"]) as fresh:
        assert fresh.get("/apps").status_code == 200
        revoked = fresh.delete(f"/api_tokens/{data['id']}")  # a token may revoke itself
        assert revoked.status_code == 200, revoked.text
        assert revoked.json()["data"]["status"] == "REVOKED"
        assert revoked.json()["data"]["revoked_at"] is not None
        # At once, not after the grant cache's second.
        refused = fresh.get("/apps")
        assert refused.status_code == 401
        assert refused.json()["error"]["message"] == "Invalid or revoked API token."

    with _client(server, server.api_token) as account:
        twice = account.delete(f"/api_tokens/{data['id']}")
        assert twice.status_code == 200 and twice.json()["data"]["status"] == "REVOKED"
        missing = account.delete("/api_tokens/0123456789abcdef0123456789abcdef")
        assert missing.status_code == 404
        assert missing.json()["error"]["message"] == (
            "API token 0123456789abcdef0123456789abcdef not found.")


def test_app_scoped_token_stays_in_its_app(server: SalonServer) -> None:
    other = _other_app(server)
    with _client(server, server.api_token) as account:
        account_wide = account.post("/api_tokens", json={"name": "wide"}).json()["data"]
        other_scoped = account.post("/api_tokens", json={"name": "other",
                                                         "app_id": other}).json()["data"]
        scoped = account.post("/api_tokens", json={"name": "scoped",
                                                   "app_id": server.app_id})
        assert scoped.status_code == 201, scoped.text
        scoped_token = scoped.json()["data"]
        assert scoped_token["app_id"] == server.app_id

    with _client(server, scoped_token["token"]) as app_only:
        listed = app_only.get("/api_tokens", params={"per_page": 100}).json()["data"]
        assert listed and {row["app_id"] for row in listed} == {server.app_id}
        assert account_wide["id"] not in {row["id"] for row in listed}

        widen = app_only.post("/api_tokens", json={"name": "wider"})
        assert widen.status_code == 403
        assert widen.json()["error"]["message"] == (
            "This API token is scoped to one app and cannot create account-wide tokens; "
            "give 'app_id'.")
        sideways = app_only.post("/api_tokens", json={"name": "x", "app_id": other})
        assert sideways.status_code == 404
        assert sideways.json()["error"]["message"] == f"App {other} not found."
        for token_id in (account_wide["id"], other_scoped["id"]):
            denied = app_only.delete(f"/api_tokens/{token_id}")
            assert denied.status_code == 404, denied.text

        own = app_only.post("/api_tokens", json={"name": "sibling", "app_id": server.app_id})
        assert own.status_code == 201 and own.json()["data"]["app_id"] == server.app_id
        assert app_only.delete(f"/api_tokens/{own.json()['data']['id']}").status_code == 200

    with _client(server, account_wide["token"]) as wide:
        assert wide.get("/apps").status_code == 200  # untouched by the scoped token
        wide.delete(f"/api_tokens/{account_wide['id']}")


def test_bad_input_and_other_accounts(server: SalonServer) -> None:
    with _client(server, server.api_token) as account:
        for body, problem in (
            ({"name": "x" * 256}, "body.name: String should have at most 255 characters"),
            ({"name": "ok", "scope": "all"}, "body.scope: is not a known field"),
            ({"name": 5}, "body.name: Input should be a valid string"),
            ({"name": "   "}, "Token name must be 1 to 255 characters."),
            ({"app_id": ""}, "body.app_id: String should have at least 1 character"),
            ({"app_id": 7}, "body.app_id: Input should be a valid string"),
        ):
            response = account.post("/api_tokens", json=body)
            assert response.status_code == 400, response.text
            assert problem in response.json()["error"]["message"]
        unknown = account.post("/api_tokens", json={"app_id": "f" * 32})
        assert unknown.status_code == 404
        assert unknown.json()["error"]["message"] == f"App {'f' * 32} not found."
    foreign = httpx.Client(base_url=server.url + "/client/v4/accounts/" + "a" * 32
                           + "/realtime/kit", headers=server.headers, timeout=10)
    with foreign:
        for response in (foreign.get("/api_tokens"), foreign.post("/api_tokens", json={}),
                         foreign.delete("/api_tokens/" + "b" * 32)):
            assert response.status_code == 404
            assert response.json()["error"]["message"] == f"Account {'a' * 32} not found."
    assert httpx.get(server.account_url + "/api_tokens").status_code == 401


def test_verify_says_what_a_token_reaches(server: SalonServer) -> None:
    verify = server.url + "/client/v4/user/tokens/verify"
    answer = httpx.get(verify, headers=server.headers)
    assert answer.status_code == 200, answer.text
    data = answer.json()["data"]
    assert data["status"] == "active" and data["account_id"] == server.account_id
    assert data["app_id"] is None and len(data["id"]) == 32
    with _client(server, server.api_token) as account:
        scoped = account.post("/api_tokens", json={"name": "v", "app_id": server.app_id})
    secret = scoped.json()["data"]["token"]
    mine = httpx.get(verify, headers={"Authorization": f"Bearer {secret}"}).json()["data"]
    assert mine["app_id"] == server.app_id and mine["id"] == scoped.json()["data"]["id"]
    for headers in ({}, {"Authorization": "Bearer salon_nope"}, {"Authorization": "Basic x"}):
        refused = httpx.get(verify, headers=headers)
        assert refused.status_code == 401 and refused.json()["success"] is False


def test_every_field_is_optional_so_no_body_is_fine(server: SalonServer) -> None:
    with _client(server, server.api_token) as account:
        for created in (account.post("/api_tokens"), account.post("/api_tokens", json=None),
                        account.post("/api_tokens", json={})):
            assert created.status_code == 201, created.text
            assert created.json()["data"]["name"] == "dashboard"
            account.delete(f"/api_tokens/{created.json()['data']['id']}")
