"""The JWT attack suite, through a real endpoint (GET /api/v1/users/me): every forged, stale or foreign token is a
401 problem+json with code `invalid_token` and `WWW-Authenticate: Bearer`. Then the external OIDC mode, with a
locally generated RSA/EC key set served by a patched `PyJWKClient.fetch_data` (no sockets)."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Iterator
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

from infra.local.adapter import event_for
from infra.local.functions import invoke
from slotwise.identity import keys, tokens
from slotwise.settings import get_settings
from tests.support.http import ApiResponse, call
from tests.unit.identity.conftest import SECRET, b64, bearer, claims, make_user, raw_token, sign

ME = "/api/v1/users/me"
REQUIRED = ("exp", "nbf", "iat", "iss", "aud", "sub")


@pytest.fixture
def user(table: str) -> None:
    make_user()


def assert_invalid_token(response: ApiResponse) -> None:
    assert response.status == 401, response.body
    assert response.headers["content-type"] == "application/problem+json"
    assert response.code == "invalid_token"
    assert response.body["status"] == 401 and response.body["type"] == "urn:slotwise:problem:invalid_token"
    assert response.headers["www-authenticate"].startswith("Bearer")


def me(token: str, **kwargs: Any) -> ApiResponse:
    return call("GET", ME, headers=bearer(token), **kwargs)


# --- own issuer -------------------------------------------------------------------------------------------------


def test_a_valid_token_names_the_caller(user: None) -> None:
    response = me(sign(claims()))
    assert response.status == 200
    assert response.body["id"] == "u-1" and response.body["role"] == "customer"


def test_an_issued_token_verifies_and_carries_every_claim(user: None) -> None:
    from slotwise.identity.repository import get_user

    stored = get_user("u-1")
    assert stored is not None
    token, lifetime = tokens.issue_access_token(stored)
    assert lifetime == 900
    decoded = jwt.decode(token, SECRET, algorithms=["HS256"], audience="slotwise-api")
    assert set(decoded) == {"sub", "role", "status", "iss", "aud", "iat", "nbf", "exp", "jti"}
    assert decoded["exp"] - decoded["iat"] == 900
    assert jwt.get_unverified_header(token)["alg"] == "HS256"
    assert me(token).status == 200


def test_alg_none_is_refused(user: None) -> None:
    assert_invalid_token(me(raw_token({"alg": "none", "typ": "JWT"}, claims())))
    assert_invalid_token(me(raw_token({"alg": "none", "typ": "JWT"}, claims(role="admin"))))
    assert_invalid_token(me(raw_token({"alg": "None"}, claims())))


def test_alg_none_with_a_signature_is_refused(user: None) -> None:
    unsigned = raw_token({"alg": "none"}, claims())
    assert_invalid_token(me(unsigned + b64(b"x")))


def test_an_rs256_token_is_refused_by_the_own_issuer(user: None) -> None:
    attacker = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    assert_invalid_token(me(sign(claims(), attacker, "RS256")))


def test_hs256_signed_with_a_public_key_is_refused(user: None) -> None:
    """HS/RS confusion: a public key (which anyone may know) used as the HMAC secret."""
    public_pem = (
        rsa.generate_private_key(public_exponent=65537, key_size=2048)
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    header, payload = b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode()), b64(json.dumps(claims()).encode())
    signature = hmac.new(public_pem, f"{header}.{payload}".encode(), hashlib.sha256).digest()
    assert_invalid_token(me(f"{header}.{payload}.{b64(signature)}"))


@pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")
def test_other_hmac_algorithms_are_refused_even_with_the_right_secret(user: None) -> None:
    assert_invalid_token(me(sign(claims(), SECRET, "HS512")))
    assert_invalid_token(me(sign(claims(), SECRET, "HS384")))


def test_a_token_signed_with_another_secret_is_refused(user: None) -> None:
    assert_invalid_token(me(sign(claims(), "some-other-secret-that-is-32-bytes-long!")))


def test_expired(user: None) -> None:
    now = int(time.time())
    response = me(sign(claims(iat=now - 1000, nbf=now - 1000, exp=now - 1)))
    assert_invalid_token(response)
    assert "expired" in response.body["detail"]


def test_not_yet_valid(user: None) -> None:
    now = int(time.time())
    assert_invalid_token(me(sign(claims(nbf=now + 600, exp=now + 1500))))
    assert_invalid_token(me(sign(claims(iat=now + 600, nbf=now, exp=now + 1500))))


def test_wrong_audience(user: None) -> None:
    assert_invalid_token(me(sign(claims(aud="another-api"))))
    assert_invalid_token(me(sign(claims(aud=["another-api"]))))


def test_wrong_issuer(user: None) -> None:
    assert_invalid_token(me(sign(claims(iss="https://evil.example"))))


def test_tampered_payload(user: None) -> None:
    header, _, signature = sign(claims()).split(".")
    forged = b64(json.dumps(claims(role="admin")).encode())
    assert_invalid_token(me(f"{header}.{forged}.{signature}"))


def test_tampered_signature(user: None) -> None:
    token = sign(claims())
    flipped = token[:-2] + ("A" if token[-2] != "A" else "B") + token[-1]
    assert_invalid_token(me(flipped))


@pytest.mark.parametrize("missing", REQUIRED)
def test_missing_required_claim(user: None, missing: str) -> None:
    response = me(sign(claims(**{missing: None})))
    assert_invalid_token(response)


@pytest.mark.parametrize("role", ["superuser", None, 7])
def test_a_role_claim_slotwise_does_not_know(user: None, role: Any) -> None:
    assert_invalid_token(me(sign(claims(role=role))))


@pytest.mark.parametrize("subject", ["", "   ", 42])
def test_a_subject_that_names_no_user(user: None, subject: Any) -> None:
    assert_invalid_token(me(sign(claims(sub=subject))))


@pytest.mark.parametrize(
    "header",
    [
        "Bearer garbage",
        "Bearer a.b.c",
        "Bearer ....",
        "Bearer eyJhbGciOiJIUzI1NiJ9.e30",
        "Bearer " + "a" * 9000,
        "Bearer",
        "Bearer ",
        "Basic dXNlcjpwYXNz",
        "Token abc",
        "Bearer two tokens",
    ],
)
def test_garbage(user: None, header: str) -> None:
    assert_invalid_token(call("GET", ME, headers={"authorization": header}))


def test_a_bad_token_is_not_downgraded_to_the_identity_headers(user: None) -> None:
    """The headers would make this caller an admin; a bad bearer token is still a 401."""
    response = call("GET", ME, headers=bearer("garbage"), user="u-1", role="admin")
    assert_invalid_token(response)


def test_the_token_wins_over_identity_headers(user: None) -> None:
    response = call("GET", ME, headers=bearer(sign(claims())), user="someone-else", role="admin")
    assert response.status == 200 and response.body["id"] == "u-1"


def test_no_token_and_no_headers_is_a_401_asking_for_a_bearer_token(table: str) -> None:
    response = call("GET", ME)
    assert response.status == 401 and response.code == "authentication_required"
    assert response.headers["www-authenticate"].startswith("Bearer")


def _with_authorizer(token: str | None, sub: str) -> dict[str, Any]:
    """The event API Gateway sends after its JWT authorizer accepted a token."""
    headers = [("authorization", f"Bearer {token}")] if token else []
    group, event = event_for("GET", ME, raw_query_string="", headers=headers, body=b"")
    event["requestContext"]["authorizer"] = {"jwt": {"claims": {"sub": sub, "iss": "x"}, "scopes": None}}
    return invoke(group, event)  # type: ignore[no-any-return]


def test_gateway_verified_tokens_are_verified_again(user: None) -> None:
    assert _with_authorizer(sign(claims()), "u-1")["statusCode"] == 200
    # The gateway's claims do not stand in for the token: a bad token is refused all the same.
    forged = _with_authorizer(sign(claims(), "some-other-secret-that-is-32-bytes-long!"), "u-1")
    assert forged["statusCode"] == 401
    assert _with_authorizer(sign(claims()), "somebody-else")["statusCode"] == 401
    assert _with_authorizer(None, "u-1")["statusCode"] == 401


def test_identity_headers_are_ignored_in_deployed_stages(monkeypatch: pytest.MonkeyPatch, table: str) -> None:
    for stage in ("dev", "prod"):
        monkeypatch.setenv("SLOTWISE_STAGE", stage)
        get_settings.cache_clear()
        assert get_settings().trust_identity_headers is False
        response = call("GET", ME, user="u-1", role="admin")
        assert response.status == 401 and response.code == "authentication_required"


# --- external OIDC provider -------------------------------------------------------------------------------------

ISSUER = "https://idp.example.test/"
AUDIENCE = "slotwise-api-client"


class Provider:
    """An identity provider's keys: RS256 (kid rsa-1) and ES256 (kid ec-1), and the JWKS it publishes."""

    def __init__(self) -> None:
        self.rsa = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.ec = ec.generate_private_key(ec.SECP256R1())
        rsa_jwk = json.loads(RSAAlgorithm.to_jwk(self.rsa.public_key()))
        ec_jwk = json.loads(ECAlgorithm.to_jwk(self.ec.public_key()))
        self.jwks: dict[str, Any] = {
            "keys": [
                {**rsa_jwk, "kid": "rsa-1", "use": "sig", "alg": "RS256"},
                {**ec_jwk, "kid": "ec-1", "use": "sig", "alg": "ES256"},
            ]
        }
        self.fetches = 0
        self.down = False

    def claims(self, **overrides: Any) -> dict[str, Any]:
        now = int(time.time())
        base: dict[str, Any] = {
            "sub": "idp|42",
            "iss": ISSUER,
            "aud": AUDIENCE,
            "iat": now,
            "exp": now + 600,
            "custom:role": "vendor",
        }
        base.update(overrides)
        return {k: v for k, v in base.items() if v is not None}

    def rs256(self, **overrides: Any) -> str:
        return jwt.encode(self.claims(**overrides), self.rsa, algorithm="RS256", headers={"kid": "rsa-1"})

    def es256(self, **overrides: Any) -> str:
        return jwt.encode(self.claims(**overrides), self.ec, algorithm="ES256", headers={"kid": "ec-1"})

    def public_pem(self) -> bytes:
        return self.rsa.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )


@pytest.fixture
def provider(monkeypatch: pytest.MonkeyPatch, table: str) -> Iterator[Provider]:
    found = Provider()

    def fetch_data(client: jwt.PyJWKClient) -> Any:
        assert client.uri == "https://idp.example.test/.well-known/jwks.json"
        found.fetches += 1
        if found.down:
            raise jwt.PyJWKClientConnectionError("connection refused")
        return found.jwks

    monkeypatch.setattr(jwt.PyJWKClient, "fetch_data", fetch_data)
    monkeypatch.setenv("SLOTWISE_AUTH_MODE", "oidc")
    monkeypatch.setenv("SLOTWISE_OIDC_ISSUER", ISSUER)
    monkeypatch.setenv("SLOTWISE_OIDC_AUDIENCE", AUDIENCE)
    monkeypatch.setenv("SLOTWISE_OIDC_JWKS_URL", "https://idp.example.test/.well-known/jwks.json")
    get_settings.cache_clear()
    keys.reset_keys()
    yield found
    keys.reset_keys()


def test_oidc_rs256_and_es256_tokens_name_the_caller(provider: Provider) -> None:
    for token in (provider.rs256(), provider.es256()):
        response = me(token)
        assert response.status == 200, response.body
        assert response.body == {"id": "idp|42", "role": "vendor", "status": "active"}


def test_oidc_key_set_is_fetched_once_per_process(provider: Provider) -> None:
    for _ in range(3):
        assert me(provider.rs256()).status == 200
    assert provider.fetches == 1


def test_oidc_tokens_without_nbf_are_accepted_but_nbf_is_checked_when_present(provider: Provider) -> None:
    assert "nbf" not in provider.claims()
    assert me(provider.rs256()).status == 200
    assert_invalid_token(me(provider.rs256(nbf=int(time.time()) + 600)))


@pytest.mark.parametrize(
    ("value", "role"),
    [
        ("customer", "customer"),
        (["customer", "admin"], "admin"),
        (["Staff"], "staff"),
        ("advisor agent", "agent"),
        ("superuser", "guest"),
        ([], "guest"),
        (None, "guest"),
        ({"role": "admin"}, "guest"),
    ],
)
def test_oidc_roles_claim_maps_to_a_slotwise_role(provider: Provider, value: Any, role: str) -> None:
    response = me(provider.rs256(**{"custom:role": value}))
    assert response.status == 200 and response.body["role"] == role


def test_oidc_roles_claim_name_is_a_setting(provider: Provider, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLOTWISE_OIDC_ROLES_CLAIM", "cognito:groups")
    get_settings.cache_clear()
    assert me(provider.rs256(**{"cognito:groups": ["admin"]})).body["role"] == "admin"
    assert me(provider.rs256()).body["role"] == "guest"  # custom:role is no longer read


def test_oidc_refuses_hs256_signed_with_the_providers_public_key(provider: Provider) -> None:
    header = b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": "rsa-1"}).encode())
    payload = b64(json.dumps(provider.claims(**{"custom:role": "admin"})).encode())
    signature = hmac.new(provider.public_pem(), f"{header}.{payload}".encode(), hashlib.sha256).digest()
    assert_invalid_token(me(f"{header}.{payload}.{b64(signature)}"))


def test_oidc_refuses_own_issuer_tokens(provider: Provider) -> None:
    assert_invalid_token(me(sign(claims(), SECRET, "HS256", kid="rsa-1")))
    assert_invalid_token(me(sign(provider.claims(), SECRET, "HS256", kid="rsa-1")))


def test_oidc_refuses_alg_none(provider: Provider) -> None:
    assert_invalid_token(me(raw_token({"alg": "none", "kid": "rsa-1"}, provider.claims())))


def test_oidc_refuses_a_key_the_provider_does_not_publish(provider: Provider) -> None:
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    assert_invalid_token(me(jwt.encode(provider.claims(), stranger, algorithm="RS256", headers={"kid": "rsa-1"})))
    assert_invalid_token(me(jwt.encode(provider.claims(), stranger, algorithm="RS256", headers={"kid": "nope"})))
    assert_invalid_token(me(jwt.encode(provider.claims(), stranger, algorithm="RS256")))


def test_oidc_refuses_an_rsa_key_used_for_es256(provider: Provider) -> None:
    """The `kid` picks the RSA key while the header claims ES256: the key type does not fit the algorithm."""
    token = jwt.encode(provider.claims(), provider.ec, algorithm="ES256", headers={"kid": "rsa-1"})
    assert_invalid_token(me(token))


@pytest.mark.parametrize(
    "overrides",
    [
        {"aud": "someone-else"},
        {"iss": "https://evil.example/"},
        {"exp": int(time.time()) - 120},
        {"exp": None},
        {"iat": None},
        {"iss": None},
        {"aud": None},
        {"sub": None},
    ],
)
def test_oidc_claims_are_checked(provider: Provider, overrides: dict[str, Any]) -> None:
    assert_invalid_token(me(provider.rs256(**overrides)))


def test_oidc_tampered_payload(provider: Provider) -> None:
    header, _, signature = provider.rs256().split(".")
    forged = b64(json.dumps(provider.claims(**{"custom:role": "admin"})).encode())
    assert_invalid_token(me(f"{header}.{forged}.{signature}"))


def test_oidc_provider_down_is_a_503_not_a_401(provider: Provider) -> None:
    provider.down = True
    response = me(provider.rs256())
    assert response.status == 503 and response.code == "dependency_unavailable"


def test_own_issuer_endpoints_are_disabled_in_oidc_mode(provider: Provider) -> None:
    for path, body in (
        ("/api/v1/auth/register", {"email": "a@b.test", "password": "Long-enough-1", "name": "A"}),
        ("/api/v1/auth/login", {"email": "a@b.test", "password": "Long-enough-1"}),
        ("/api/v1/auth/refresh", {"refreshToken": "x"}),
        ("/api/v1/auth/logout", {"refreshToken": "x"}),
    ):
        response = call("POST", path, body=body)
        assert (response.status, response.code) == (404, "auth_endpoint_disabled"), path
