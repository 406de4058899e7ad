"""Logins, renewals, sessions and the hourly limits of the Tradovate front over loopback."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import trio

from tests.integration.tradovate.conftest import LOGIN, START, fault

if TYPE_CHECKING:
    import httpx

    from brokers.sim.config import SimEndpoints
    from brokers.sim.venue import SimVenue


async def test_login_answers_both_tokens(anonymous: httpx.AsyncClient) -> None:
    """A login answers accessToken, mdAccessToken, a 90-minute expiry and the user."""
    answer = (await anonymous.post("/auth/accesstokenrequest", json=LOGIN)).json()
    assert answer["accessToken"]
    assert answer["mdAccessToken"]
    expires = datetime.fromisoformat(answer["expirationTime"])
    assert timedelta(minutes=90) <= expires - START < timedelta(minutes=91)
    assert answer["userStatus"] == "Active"
    assert isinstance(answer["userId"], int)


async def test_wrong_password_is_refused_with_error_text(anonymous: httpx.AsyncClient) -> None:
    """A wrong password is HTTP 200 with Tradovate's errorText and no token."""
    response = await anonymous.post("/auth/accesstokenrequest", json={**LOGIN, "password": "wrong"})
    assert response.status_code == 200
    assert response.json()["errorText"].startswith("Incorrect username or password.")


async def test_missing_or_bad_bearer_is_401_with_an_empty_body(
    anonymous: httpx.AsyncClient,
) -> None:
    """Without a valid token every other endpoint answers 401, empty."""
    for headers in ({}, {"Authorization": "Bearer nope"}):
        response = await anonymous.get("/account/list", headers=headers)
        assert response.status_code == 401
        assert response.content == b""


async def test_renewal_and_me(client: httpx.AsyncClient) -> None:
    """renewaccesstoken answers a fresh token that works; auth/me names the user."""
    renewed = (await client.get("/auth/renewaccesstoken")).json()
    assert renewed["accessToken"]
    me = (
        await client.get("/auth/me", headers={"Authorization": f"Bearer {renewed['accessToken']}"})
    ).json()
    assert me["name"] == "trader"


async def test_user_list_and_item_name_the_logged_in_user(client: httpx.AsyncClient) -> None:
    """user/list answers the token's user (as auth/me names it); user/item finds it by id."""
    me = (await client.get("/auth/me")).json()
    users = (await client.get("/user/list")).json()
    assert [(u["id"], u["name"], u["status"]) for u in users] == [
        (me["userId"], "trader", "Active")
    ]
    item = await client.get("/user/item", params={"id": me["userId"]})
    assert item.json() == users[0]
    assert (await client.get("/user/item", params={"id": me["userId"] + 1})).status_code == 404


async def test_a_client_that_logs_in_per_request_loses_its_tokens(
    anonymous: httpx.AsyncClient, served: tuple[SimVenue, SimEndpoints]
) -> None:
    """Logging in before each request: from the third login the first token is revoked
    (two sessions at most), and the websockets are told which tokens ended."""
    _, revoked = served[0].tradovate.revoked_tokens.subscribe()
    tokens = []
    for _ in range(3):
        tokens.append((await anonymous.post("/auth/accesstokenrequest", json=LOGIN)).json())
        bearer = {"Authorization": f"Bearer {tokens[-1]['accessToken']}"}
        assert (await anonymous.get("/account/list", headers=bearer)).status_code == 200
    first = {"Authorization": f"Bearer {tokens[0]['accessToken']}"}
    assert (await anonymous.get("/account/list", headers=first)).status_code == 401
    assert tokens[0]["accessToken"] in revoked.receive_nowait()


async def test_failed_logins_earn_a_captcha_ticket(anonymous: httpx.AsyncClient) -> None:
    """Five failed logins in an hour: the sixth login, right or wrong, gets a captcha ticket."""
    for _ in range(5):
        await anonymous.post("/auth/accesstokenrequest", json={**LOGIN, "password": "x"})
    answer = (await anonymous.post("/auth/accesstokenrequest", json=LOGIN)).json()
    assert answer["p-captcha"] is True
    assert answer["p-time"] == 15
    assert "accessToken" not in answer


async def test_sixteen_renewals_in_an_hour_get_a_ticket_honoured_after_it(
    client: httpx.AsyncClient, autojump_clock: trio.testing.MockClock
) -> None:
    """The 16th renewal in an hour is a penalty ticket; resent with it after p-time it works."""
    for _ in range(15):
        assert "accessToken" in (await client.get("/auth/renewaccesstoken")).json()
    penalty = (await client.get("/auth/renewaccesstoken")).json()
    assert penalty["p-time"] == 15
    early = await client.get("/auth/renewaccesstoken", params={"p-ticket": penalty["p-ticket"]})
    assert "p-ticket" in early.json()
    await trio.sleep(16)
    honoured = await client.get("/auth/renewaccesstoken", params={"p-ticket": penalty["p-ticket"]})
    assert "accessToken" in honoured.json()


async def test_expired_and_revoked_tokens(
    client: httpx.AsyncClient, served: tuple[SimVenue, SimEndpoints]
) -> None:
    """expire_tokens: 401 and no renewal; revoke_tokens: the sessions end too."""
    await fault(served, "expire_tokens")
    assert (await client.get("/account/list")).status_code == 401
    assert (await client.get("/auth/renewaccesstoken")).status_code == 401
    await fault(served, "revoke_tokens")
    assert served[0].tradovate.tokens.live_sessions == []


async def test_paths_are_case_insensitive_as_the_official_samples_spell_them(
    anonymous: httpx.AsyncClient,
) -> None:
    """``/auth/accessTokenRequest`` and ``/order/placeOrder`` (the official samples'
    spelling) are the lower-case endpoints, limits included."""
    answer = (await anonymous.post("/auth/accessTokenRequest", json=LOGIN)).json()
    bearer = {"Authorization": f"Bearer {answer['accessToken']}"}
    account = (await anonymous.get("/Account/List", headers=bearer)).json()[0]
    body = {
        "accountId": account["id"],
        "action": "Buy",
        "symbol": "MNQZ6",
        "orderQty": 1,
        "orderType": "Market",
        "isAutomated": True,
    }
    placed = (await anonymous.post("/order/placeOrder", json=body, headers=bearer)).json()
    assert isinstance(placed["orderId"], int)
    assert (
        await anonymous.get(
            "/orderVersion/deps", params={"masterid": placed["orderId"]}, headers=bearer
        )
    ).json()[0]["orderQty"] == 1
    # The hourly login limit counts failures under either spelling: 5, then a ticket.
    wrong = {**LOGIN, "password": "wrong"}
    for spelling in ("accesstokenrequest", "accessTokenRequest") * 3:
        last = (await anonymous.post(f"/auth/{spelling}", json=wrong)).json()
    assert "p-ticket" in last
