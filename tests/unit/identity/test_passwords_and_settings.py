"""Password hashing and policy, identity settings, and where the signing key comes from."""

from __future__ import annotations

import boto3
import pytest
from pydantic import ValidationError

from slotwise import errors
from slotwise.identity import keys, passwords, tokens
from slotwise.identity.models import User
from slotwise.settings import Settings, get_settings

# --- passwords --------------------------------------------------------------------------------------------------


def test_hashes_are_salted_and_name_their_parameters() -> None:
    first, second = passwords.hash_password("Correct-horse-42"), passwords.hash_password("Correct-horse-42")
    assert first != second
    scheme, n, r, p, salt, derived = first.split("$")
    assert (scheme, n, r, p) == ("scrypt", str(passwords.current().n), "8", "1")
    assert len(passwords._unb64(salt)) == 16 and len(passwords._unb64(derived)) == 64
    assert passwords.verify_password("Correct-horse-42", first)
    assert passwords.verify_password("Correct-horse-42", second)
    assert not passwords.verify_password("Correct-horse-43", first)
    assert not passwords.needs_rehash(first)


def test_weaker_parameters_still_verify_and_ask_for_a_rehash() -> None:
    older = passwords.hash_password("Correct-horse-42", passwords.Params(n=2**10, r=8, p=1))
    assert passwords.verify_password("Correct-horse-42", older)
    assert passwords.needs_rehash(older)
    assert passwords.needs_rehash(passwords.hash_password("Correct-horse-42", passwords.Params(n=2**11, r=4)))
    # Stronger parameters are never lowered.
    assert not passwords.needs_rehash(passwords.hash_password("Correct-horse-42", passwords.Params(n=2**12)))


def test_production_parameters_are_owasps_scrypt_minimum(monkeypatch: pytest.MonkeyPatch) -> None:
    """The one test that pays for n = 2^17 (about a second): the tests' cheaper setting is off here."""
    monkeypatch.delenv("SLOTWISE_SCRYPT_LOG2_N")
    get_settings.cache_clear()
    assert passwords.current() == passwords.CURRENT == passwords.Params(n=2**17, r=8, p=1)
    older = passwords.hash_password("Correct-horse-42", passwords.Params(n=2**14))  # what was stored until now
    assert passwords.needs_rehash(older) and passwords.verify_password("Correct-horse-42", older)
    stored = passwords.hash_password("Correct-horse-42")
    assert stored.startswith("scrypt$131072$8$1$") and not passwords.needs_rehash(stored)
    assert passwords.verify_password("Correct-horse-42", stored)


@pytest.mark.parametrize("stage", ["dev", "prod"])
def test_deployed_stages_ignore_a_cheaper_hash_setting(stage: str) -> None:
    settings = Settings.model_validate({"SLOTWISE_STAGE": stage, "SLOTWISE_SCRYPT_LOG2_N": "10"})
    assert settings.scrypt_log2_n is None
    assert Settings.model_validate({"SLOTWISE_STAGE": "test", "SLOTWISE_SCRYPT_LOG2_N": "10"}).scrypt_log2_n == 10
    with pytest.raises(ValidationError):
        Settings.model_validate({"SLOTWISE_STAGE": "test", "SLOTWISE_SCRYPT_LOG2_N": "4"})


@pytest.mark.parametrize(
    "stored",
    [
        None,
        "",
        "plain-text",
        "bcrypt$2b$12$abc",
        "scrypt$16384$8$1$salt",
        "scrypt$1000$8$1$AAAA$AAAA",  # n not a power of two
        "scrypt$1048576$8$1$AAAA$AAAA",  # 1 GiB of memory: refused, never run
        "scrypt$524288$8$1$AAAA$AAAA",  # 512 MiB: more than the function may spend on one hash
        "scrypt$16$8$1$AAAA$AAAA",  # below the floor of 2^10: no real hash was ever made so weak
        "scrypt$16384$0$1$AAAA$AAAA",
        "scrypt$x$8$1$AAAA$AAAA",
    ],
)
def test_unreadable_hashes_fail_closed(stored: str | None) -> None:
    assert not passwords.verify_password("Correct-horse-42", stored)


def test_a_tampered_hash_fails() -> None:
    stored = passwords.hash_password("Correct-horse-42")
    head, derived = stored.rsplit("$", 1)
    flipped = ("B" if derived[0] == "A" else "A") + derived[1:]
    assert not passwords.verify_password("Correct-horse-42", f"{head}${flipped}")


@pytest.mark.parametrize(
    "password",
    ["Correct-horse-42", "correct horse battery", "ninechars!1", "UPPER-lower", "Ünïcödé-pässwörd"],
)
def test_policy_accepts(password: str) -> None:
    passwords.check_policy(password, email="ada@example.test", name="Ada Lovelace")


@pytest.mark.parametrize(
    "password",
    ["Short-1", "onlylowercase", "ONLYUPPERCASE", "12345678901", "aaaaaaaaaaaA", "ada-lovelace-1", "x" * 300 + "1"],
)
def test_policy_refuses(password: str) -> None:
    with pytest.raises(errors.ValidationFailed) as raised:
        passwords.check_policy(password, email="ada@example.test", name="Ada Lovelace")
    assert raised.value.code == "weak_password"


# --- settings ---------------------------------------------------------------------------------------------------


def test_identity_defaults() -> None:
    settings = Settings.model_validate({})
    assert settings.auth_mode == "own"
    assert (settings.jwt_issuer, settings.jwt_audience) == ("slotwise-local", "slotwise-api")
    assert settings.jwt_secret is None and settings.oidc_roles_claim == "custom:role"


@pytest.mark.parametrize("stage", ["dev", "prod"])
def test_deployed_stages_never_trust_identity_headers(stage: str) -> None:
    settings = Settings.model_validate({"SLOTWISE_STAGE": stage, "SLOTWISE_TRUST_IDENTITY_HEADERS": "true"})
    assert settings.trust_identity_headers is False


@pytest.mark.parametrize("stage", ["local", "test"])
def test_local_stages_may_trust_identity_headers(stage: str) -> None:
    settings = Settings.model_validate({"SLOTWISE_STAGE": stage, "SLOTWISE_TRUST_IDENTITY_HEADERS": "true"})
    assert settings.trust_identity_headers is True


def test_a_short_secret_is_refused_and_never_shown() -> None:
    with pytest.raises(ValidationError) as raised:
        Settings.model_validate({"SLOTWISE_JWT_SECRET": "too-short-a-secret"})
    assert "too-short-a-secret" not in str(raised.value).split("input_value")[0]
    settings = Settings.model_validate({"SLOTWISE_JWT_SECRET": "s" * 32})
    assert "s" * 32 not in repr(settings)


def test_oidc_mode_needs_issuer_audience_and_jwks() -> None:
    with pytest.raises(ValidationError, match="SLOTWISE_OIDC_JWKS_URL"):
        Settings.model_validate(
            {"SLOTWISE_AUTH_MODE": "oidc", "SLOTWISE_OIDC_ISSUER": "https://i/", "SLOTWISE_OIDC_AUDIENCE": "a"}
        )
    with pytest.raises(ValidationError, match="https"):
        Settings.model_validate(
            {
                "SLOTWISE_STAGE": "prod",
                "SLOTWISE_AUTH_MODE": "oidc",
                "SLOTWISE_OIDC_ISSUER": "https://i/",
                "SLOTWISE_OIDC_AUDIENCE": "a",
                "SLOTWISE_OIDC_JWKS_URL": "http://i/jwks.json",
            }
        )
    with pytest.raises(ValidationError):
        Settings.model_validate({"SLOTWISE_AUTH_MODE": "saml"})


# --- signing key ------------------------------------------------------------------------------------------------


def _user() -> User:
    from datetime import UTC, datetime

    return User(id="u-9", email="u9@example.test", name="U", role="customer", created_at=datetime.now(UTC))


def test_local_stages_without_a_secret_use_a_random_per_process_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SLOTWISE_JWT_SECRET", raising=False)
    get_settings.cache_clear()
    secret = keys.signing_secret()
    assert len(secret) == 32 and keys.signing_secret() == secret
    token, _ = tokens.issue_access_token(_user())
    assert tokens.verify_access_token(token).user_id == "u-9"


@pytest.mark.parametrize("stage", ["dev", "prod"])
def test_deployed_stages_refuse_to_run_without_a_secret(monkeypatch: pytest.MonkeyPatch, stage: str) -> None:
    monkeypatch.delenv("SLOTWISE_JWT_SECRET", raising=False)
    monkeypatch.setenv("SLOTWISE_STAGE", stage)
    get_settings.cache_clear()
    with pytest.raises(keys.AuthNotConfigured):
        tokens.issue_access_token(_user())
    with pytest.raises(keys.AuthNotConfigured):
        tokens.verify_access_token("a.b.c")


def test_the_secret_can_come_from_secrets_manager(monkeypatch: pytest.MonkeyPatch, aws: None) -> None:
    value = "from-secrets-manager-" + "z" * 20
    arn = boto3.client("secretsmanager").create_secret(Name="slotwise/jwt", SecretString=value)["ARN"]
    monkeypatch.delenv("SLOTWISE_JWT_SECRET", raising=False)
    monkeypatch.setenv("SLOTWISE_STAGE", "prod")
    monkeypatch.setenv("SLOTWISE_JWT_SECRET_ARN", arn)
    get_settings.cache_clear()
    assert keys.signing_secret() == value.encode()
    token, _ = tokens.issue_access_token(_user())
    # Cached: a second verification does not call Secrets Manager again.
    boto3.client("secretsmanager").delete_secret(SecretId=arn, ForceDeleteWithoutRecovery=True)
    assert tokens.verify_access_token(token).user_id == "u-9"


def test_a_short_secret_in_secrets_manager_is_refused(monkeypatch: pytest.MonkeyPatch, aws: None) -> None:
    arn = boto3.client("secretsmanager").create_secret(Name="slotwise/short", SecretString="short")["ARN"]
    monkeypatch.delenv("SLOTWISE_JWT_SECRET", raising=False)
    monkeypatch.setenv("SLOTWISE_JWT_SECRET_ARN", arn)
    get_settings.cache_clear()
    with pytest.raises(keys.AuthNotConfigured):
        keys.signing_secret()


def test_secrets_manager_down_is_a_dependency_failure(monkeypatch: pytest.MonkeyPatch, aws: None) -> None:
    monkeypatch.delenv("SLOTWISE_JWT_SECRET", raising=False)
    monkeypatch.setenv("SLOTWISE_JWT_SECRET_ARN", "arn:aws:secretsmanager:us-east-1:123456789012:secret:missing")
    get_settings.cache_clear()
    with pytest.raises(errors.DependencyUnavailable):
        keys.signing_secret()
