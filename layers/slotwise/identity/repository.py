"""The identity domain's items in the single table, and its only DynamoDB calls.

Longer than 400 lines because it is identity's one store module (users, account statuses, sign-ins, login
throttles, set-password and reset links); the rules that use them live in `auth_service`, `status`, `sessions`,
`throttle` and `account_links`, and in `slotwise.accounts`.

  USER#<id>     / PROFILE      the user (password hash included; GSI1 ROLE#<role>/USER#<id>)
  EMAIL#<email> / EMAIL        e-mail -> user id; written with the profile in one transaction, so e-mails are unique
  REFRESH#<sha256 of the token> / REFRESH      userId, familyId, status active|rotated|revoked, expiresEpoch, ttl
  USER#<user id> / FAMILY#<family id>           status active|revoked, ttl (the newest token's expiry)
  THROTTLE#<limit>#<sha256 of the subject> / W#<window start epoch>    count, ttl (window end + 1 min)
  THROTTLE#login-pair#<sha256 of e-mail and address> / STATE       count, next, ttl (the sign-in gates)
  PWTOKEN#<sha256 of the link's token> / PWTOKEN   userId, purpose set|reset, userVersion, status active|used,
                                                   expiresEpoch, ttl (slotwise.identity.account_links)

Every change of a profile is conditioned on the version read, never check-then-write.
"""

from __future__ import annotations

import random
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal

from slotwise import aws, errors
from slotwise.data.codec import from_item, to_item
from slotwise.data.dynamo import get_item, table_name, translate_errors
from slotwise.identity.models import User, UserStatus, normalise_email

if TYPE_CHECKING:
    from slotwise.audit.log import AuditEntry


def _key(pk: str, sk: str) -> dict[str, Any]:
    return {"PK": {"S": pk}, "SK": {"S": sk}}


def profile_key(user_id: str) -> dict[str, Any]:
    return _key(f"USER#{user_id}", "PROFILE")


def _profile_item(user: User) -> dict[str, Any]:
    return {
        "PK": f"USER#{user.id}",
        "SK": "PROFILE",
        "type": "user",
        "GSI1PK": f"ROLE#{user.role}",
        "GSI1SK": f"USER#{user.id}",
        **user.model_dump(mode="json", by_alias=True),
        # Excluded from every dump of the model; stored here only.
        "passwordHash": user.password_hash,
    }


def put_user(
    user: User, *, audit: AuditEntry | None = None, extra: Sequence[dict[str, Any]] = (), attempts: int = 5
) -> bool:
    """Store a new user (and its audit entry and `extra` items, such as an invitation's set-password token, in the
    same transaction); False when the id or e-mail is taken.

    A transaction cancelled only because another one touched the same keys at the same moment is run again:
    it then either succeeds or fails its condition (the other one took the e-mail).
    """
    client = aws.dynamodb()
    email = to_item({"PK": f"EMAIL#{normalise_email(user.email)}", "SK": "EMAIL", "type": "email", "userId": user.id})
    items: list[Any] = [
        {
            "Put": {
                "TableName": table_name(),
                "Item": to_item(_profile_item(user)),
                "ConditionExpression": "attribute_not_exists(PK)",
            }
        },
        {"Put": {"TableName": table_name(), "Item": email, "ConditionExpression": "attribute_not_exists(PK)"}},
    ]
    if audit is not None:
        items.append(audit.put())
    items.extend(extra)
    for attempt in range(attempts):
        with translate_errors("TransactWriteItems"):
            try:
                client.transact_write_items(TransactItems=items)
                return True
            except client.exceptions.TransactionCanceledException as exc:
                codes = {r.get("Code") for r in exc.response.get("CancellationReasons", [])}
                if "ConditionalCheckFailed" in codes or "TransactionConflict" not in codes:
                    return False
        time.sleep(random.uniform(0, 0.02 * 2**attempt))  # noqa: S311 - jitter, not security
    raise errors.DependencyUnavailable("DynamoDB TransactWriteItems failed: TransactionConflict")


def get_user(user_id: str) -> User | None:
    item = get_item(profile_key(user_id))
    return User.model_validate(from_item(item)) if item else None


def get_user_by_email(email: str) -> User | None:
    item = get_item(_key(f"EMAIL#{normalise_email(email)}", "EMAIL"))
    if not item:
        return None
    return get_user(item["userId"]["S"])


def _versioned_update_item(user: User, sets: dict[str, Any], now: datetime | None) -> dict[str, Any]:
    """The UpdateItem request that SETs these attributes (and updatedAt) and bumps the version, only if the stored
    version is the one read."""
    stamp = (now or datetime.now(UTC)).astimezone(UTC).isoformat().replace("+00:00", "Z")
    sets = {**sets, "updatedAt": stamp}
    names = {f"#a{i}": name for i, name in enumerate(sets)}
    values: dict[str, Any] = {f":a{i}": to_item({"v": value})["v"] for i, value in enumerate(sets.values())}
    values.update({":version": {"N": str(user.version)}, ":one": {"N": "1"}})
    assignments = [f"#a{i} = :a{i}" for i in range(len(sets))]
    # Users written before versions existed have no attribute: they count as version 1.
    condition = "#version = :version"
    if user.version == 1:
        condition = "(attribute_not_exists(#version) OR #version = :version)"
    names["#version"] = "version"
    return {
        "TableName": table_name(),
        "Key": profile_key(user.id),
        "UpdateExpression": "SET " + ", ".join(assignments) + ", #version = if_not_exists(#version, :one) + :one",
        "ConditionExpression": f"attribute_exists(PK) AND {condition}",
        "ExpressionAttributeNames": names,
        "ExpressionAttributeValues": values,
    }


def _versioned_update(user: User, sets: dict[str, Any], now: datetime | None, audit: AuditEntry | None = None) -> User:
    """SET these attributes, bump the version and updatedAt, only if the stored version is the one read.

    With an audit entry the update and the entry are one TransactWriteItems: the entry exists iff the change does.
    """
    update = _versioned_update_item(user, sets, now)
    client = aws.dynamodb()
    if audit is None:
        with translate_errors("UpdateItem"):
            try:
                result = client.update_item(**update, ReturnValues="ALL_NEW")
            except client.exceptions.ConditionalCheckFailedException as exc:
                raise _changed_meanwhile() from exc
        return User.model_validate(from_item(result["Attributes"]))
    with translate_errors("TransactWriteItems"):
        try:
            client.transact_write_items(TransactItems=[{"Update": update}, audit.put()])  # type: ignore[typeddict-item]
        except client.exceptions.TransactionCanceledException as exc:
            raise _changed_meanwhile() from exc
    return _updated(user, sets, update)


def _updated(user: User, sets: dict[str, Any], update: dict[str, Any]) -> User:
    """The user as `update` (a `_versioned_update_item` of `sets`) left it."""
    stamp = update["ExpressionAttributeValues"][f":a{len(sets)}"]["S"]
    changes = {**sets, "updatedAt": stamp, "version": user.version + 1}
    changes["passwordHash"] = sets.get("passwordHash", user.password_hash)
    return User.model_validate({**user.model_dump(mode="json", by_alias=True), **changes})


def _changed_meanwhile() -> errors.Conflict:
    return errors.Conflict(
        "The account changed while this request was being handled; read it again and retry.",
        code="concurrent_update",
    )


def update_profile(
    user: User, *, name: str | None, locale: str | None, now: datetime | None = None, audit: AuditEntry | None = None
) -> User:
    """Change name and/or locale of the user as read (409 `concurrent_update` if it changed since)."""
    sets: dict[str, Any] = {}
    if name is not None:
        sets["name"] = name
    if locale is not None:
        sets["locale"] = locale
    if not sets:
        return user
    return _versioned_update(user, sets, now, audit)


def set_status(user: User, status: UserStatus, *, now: datetime | None = None) -> User:
    """Approve (active), suspend or reinstate the user as read (for the admin service)."""
    return _versioned_update(user, {"status": status}, now)


def set_password_hash(
    user: User, password_hash: str, *, now: datetime | None = None, audit: AuditEntry | None = None
) -> User:
    return _versioned_update(user, {"passwordHash": password_hash}, now, audit)


# --- account status (slotwise.identity.status) -----------------------------------------------------------------

_STATUS_ATTEMPTS = 3


def get_status_item(user_id: str) -> dict[str, Any] | None:
    """The profile projected to its status (a strongly consistent GetItem), or None when there is no profile."""
    with translate_errors("GetItem"):
        found = aws.dynamodb().get_item(
            TableName=table_name(),
            Key=profile_key(user_id),
            ProjectionExpression="#status",
            ExpressionAttributeNames={"#status": "status"},
            ConsistentRead=True,
        )
    item = found.get("Item")
    return from_item(item) if item is not None else None


def get_profile(user_id: str) -> dict[str, Any] | None:
    """The stored profile as plain data (tolerant of statuses and fields the User model may not know yet)."""
    item = get_item(profile_key(user_id))
    return from_item(item) if item else None


def change_status(
    profile: dict[str, Any], to: str, default: str, audit: AuditEntry, *, now: datetime | None = None
) -> int:
    """Set `status` on the profile as read (same status, or none and `default`; same version) and write the audit
    entry, in one TransactWriteItems. Returns the new version; 409 `version_conflict` when the profile changed."""
    current = str(profile.get("status", default))
    version = int(profile.get("version", 1))
    # Profiles written before versions existed have none: they count as version 1 (as `_versioned_update` does).
    was = "#status = :from" if "status" in profile else "attribute_not_exists(#status)"
    condition = f"{was} AND " + (
        "(attribute_not_exists(#version) OR #version = :version)" if version == 1 else "#version = :version"
    )
    stamp = (now or datetime.now(UTC)).astimezone(UTC).isoformat().replace("+00:00", "Z")
    client = aws.dynamodb()
    request: dict[str, Any] = {
        "TransactItems": [
            {
                "Update": {
                    "TableName": table_name(),
                    "Key": profile_key(str(profile["id"])),
                    "UpdateExpression": "SET #status = :to, #version = :next, updatedAt = :now",
                    "ConditionExpression": f"attribute_exists(PK) AND {condition}",
                    "ExpressionAttributeNames": {"#status": "status", "#version": "version"},
                    "ExpressionAttributeValues": {
                        **({":from": {"S": current}} if "status" in profile else {}),
                        ":to": {"S": to},
                        ":version": {"N": str(version)},
                        ":next": {"N": str(version + 1)},
                        ":now": {"S": stamp},
                    },
                }
            },
            audit.put(),
        ]
    }
    for attempt in range(_STATUS_ATTEMPTS):
        with translate_errors("TransactWriteItems"):
            try:
                client.transact_write_items(**request)
                return version + 1
            except client.exceptions.TransactionCanceledException as exc:
                reasons = {r.get("Code") for r in exc.response.get("CancellationReasons", [])} - {None, "None"}
                # Only a lost race (nothing failed its condition) is worth running again.
                if reasons != {"TransactionConflict"} or attempt == _STATUS_ATTEMPTS - 1:
                    raise errors.Conflict(
                        "The account changed since it was read; read it again and retry.", code="version_conflict"
                    ) from exc
        time.sleep(0.01 * (attempt + 1))
    raise AssertionError("unreachable")


# --- users by role (the admin console) --------------------------------------------------------------------------

# The key attributes of a user on GSI1 (what a listing's cursor holds).
USER_INDEX_KEY = ("PK", "SK", "GSI1PK", "GSI1SK")


def users_page(
    role: str, *, status: str | None, limit: int, start_key: dict[str, Any] | None
) -> tuple[list[dict[str, Any]], dict[str, Any] | None, int]:
    """One Query of GSI1 ROLE#<role>, optionally filtered to one status: the profiles as plain data, the key to go
    on from (None at the end) and how many items DynamoDB read."""
    request: dict[str, Any] = {
        "TableName": table_name(),
        "IndexName": "GSI1",
        "KeyConditionExpression": "GSI1PK = :pk AND begins_with(GSI1SK, :user)",
        "ExpressionAttributeValues": {":pk": {"S": f"ROLE#{role}"}, ":user": {"S": "USER#"}},
        "Limit": limit,
    }
    if status:
        request["FilterExpression"] = "#status = :status"
        request["ExpressionAttributeNames"] = {"#status": "status"}
        request["ExpressionAttributeValues"][":status"] = {"S": status}
    if start_key:
        request["ExclusiveStartKey"] = start_key
    with translate_errors("Query"):
        page = aws.dynamodb().query(**request)
    items = [from_item(raw) for raw in page.get("Items", [])]
    return items, page.get("LastEvaluatedKey"), int(page.get("ScannedCount", 0))


def user_index_key(user: dict[str, Any]) -> dict[str, Any]:
    """The GSI1 key of a user read by `users_page`, to go on from it."""
    return to_item({name: user[name] for name in USER_INDEX_KEY})


def statuses_page(
    role: str, *, default: str, limit: int, start_key: dict[str, Any] | None
) -> tuple[list[str], dict[str, Any] | None]:
    """One Query of GSI1 ROLE#<role> projected to the status (`default` for a profile without one): the statuses
    and the key to go on from (None at the end)."""
    request: dict[str, Any] = {
        "TableName": table_name(),
        "IndexName": "GSI1",
        "KeyConditionExpression": "GSI1PK = :pk AND begins_with(GSI1SK, :user)",
        "ExpressionAttributeValues": {":pk": {"S": f"ROLE#{role}"}, ":user": {"S": "USER#"}},
        "ProjectionExpression": "#status",
        "ExpressionAttributeNames": {"#status": "status"},
        "Limit": limit,
    }
    if start_key:
        request["ExclusiveStartKey"] = start_key
    with translate_errors("Query"):
        page = aws.dynamodb().query(**request)
    statuses = [raw.get("status", {}).get("S", default) for raw in page.get("Items", [])]
    return statuses, page.get("LastEvaluatedKey")


# --- sign-ins: refresh tokens and their families (slotwise.identity.sessions) ------------------------------------

Rotation = Literal["rotated", "not_active", "family_revoked", "contention"]


def _token_key(hashed: str) -> dict[str, Any]:
    return _key(f"REFRESH#{hashed}", "REFRESH")


def _family_key(user_id: str, family_id: str) -> dict[str, Any]:
    return _key(f"USER#{user_id}", f"FAMILY#{family_id}")


def _iso(epoch: int) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat().replace("+00:00", "Z")


def _token_put(hashed: str, user_id: str, family_id: str, now: int, expires: int) -> dict[str, Any]:
    item = to_item(
        {
            "PK": f"REFRESH#{hashed}",
            "SK": "REFRESH",
            "type": "refresh_token",
            "userId": user_id,
            "familyId": family_id,
            "status": "active",
            "createdAt": _iso(now),
            "expiresEpoch": expires,
            "ttl": expires,
        }
    )
    return {"Put": {"TableName": table_name(), "Item": item, "ConditionExpression": "attribute_not_exists(PK)"}}


def put_sign_in(
    user_id: str,
    family_id: str,
    hashed: str,
    *,
    now: int,
    expires: int,
    audit: AuditEntry | None = None,
    rehash: tuple[User, str] | None = None,
    forget: Sequence[dict[str, Any]] = (),
) -> User | None:
    """A new family and its first token (and the sign-in's audit entry), in one TransactWriteItems.

    The same transaction may carry the login's other writes: `rehash` (the user as read, and a new password hash,
    set only if the profile's version is still the one read) and `forget` (keys of throttle items to delete). A
    rehash that loses to a concurrent change of the profile is dropped (the sign-in is written without it; the next
    login upgrades). Returns the user as rehashed, or None when nothing was rehashed.
    """
    family = to_item(
        {
            "PK": f"USER#{user_id}",
            "SK": f"FAMILY#{family_id}",
            "type": "refresh_family",
            "userId": user_id,
            "familyId": family_id,
            "status": "active",
            "createdAt": _iso(now),
            "ttl": expires,
        }
    )
    items: list[Any] = [
        {"Put": {"TableName": table_name(), "Item": family, "ConditionExpression": "attribute_not_exists(PK)"}},
        _token_put(hashed, user_id, family_id, now, expires),
        *([audit.put()] if audit is not None else []),
        *({"Delete": {"TableName": table_name(), "Key": key}} for key in forget),
    ]
    client = aws.dynamodb()
    if rehash is not None:
        user, password_hash = rehash
        sets = {"passwordHash": password_hash}
        update = _versioned_update_item(user, sets, datetime.fromtimestamp(now, UTC))
        with translate_errors("TransactWriteItems"):
            try:
                with_rehash: list[Any] = [*items, {"Update": update}]
                client.transact_write_items(TransactItems=with_rehash)
                return _updated(user, sets, update)
            except client.exceptions.TransactionCanceledException as exc:
                codes = [r.get("Code") for r in exc.response.get("CancellationReasons", [])]
                if not codes or codes[-1] != "ConditionalCheckFailed":
                    raise
    with translate_errors("TransactWriteItems"):
        client.transact_write_items(TransactItems=items)
    return None


def get_refresh(hashed: str) -> dict[str, Any] | None:
    """The refresh token stored under this hash, as plain data (a strongly consistent GetItem)."""
    item = get_item(_token_key(hashed))
    return from_item(item) if item else None


def rotate_refresh(
    hashed: str,
    user_id: str,
    family_id: str,
    new_hash: str,
    *,
    now: int,
    expires: int,
    audit: AuditEntry | None = None,
) -> Rotation:
    """The presented token `rotated` (if still active and unexpired), its family kept active with the new expiry,
    the new token put (and the audit entry), in one TransactWriteItems; the outcome says which condition failed."""
    items: list[Any] = [
        {
            "Update": {
                "TableName": table_name(),
                "Key": _token_key(hashed),
                "UpdateExpression": "SET #status = :rotated, rotatedAt = :at",
                "ConditionExpression": "#status = :active AND expiresEpoch > :now",
                "ExpressionAttributeNames": {"#status": "status"},
                "ExpressionAttributeValues": {
                    ":rotated": {"S": "rotated"},
                    ":active": {"S": "active"},
                    ":at": {"S": _iso(now)},
                    ":now": {"N": str(now)},
                },
            }
        },
        {
            "Update": {
                "TableName": table_name(),
                "Key": _family_key(user_id, family_id),
                "UpdateExpression": "SET #ttl = :ttl, rotatedAt = :at",
                "ConditionExpression": "#status = :active",
                "ExpressionAttributeNames": {"#status": "status", "#ttl": "ttl"},
                "ExpressionAttributeValues": {
                    ":active": {"S": "active"},
                    ":ttl": {"N": str(expires)},
                    ":at": {"S": _iso(now)},
                },
            }
        },
        _token_put(new_hash, user_id, family_id, now, expires),
    ]
    if audit is not None:
        items.append(audit.put())
    client = aws.dynamodb()
    with translate_errors("TransactWriteItems"):
        try:
            client.transact_write_items(TransactItems=items)
        except client.exceptions.TransactionCanceledException as exc:
            codes = [r.get("Code") for r in exc.response.get("CancellationReasons", [])]
            if len(codes) > 1 and codes[0] == "ConditionalCheckFailed":
                return "not_active"
            if len(codes) > 1 and codes[1] == "ConditionalCheckFailed":
                return "family_revoked"
            if "TransactionConflict" in codes:
                return "contention"
            raise
    return "rotated"


def revoke_family(user_id: str, family_id: str, now: int, reason: str, audit: AuditEntry | None = None) -> None:
    """Mark the family revoked (idempotent; nothing is created if it has expired away): one UpdateItem, or with an
    audit entry one TransactWriteItems (a family that is gone records nothing)."""
    update: dict[str, Any] = {
        "TableName": table_name(),
        "Key": _family_key(user_id, family_id),
        "UpdateExpression": "SET #status = :revoked, revokedAt = if_not_exists(revokedAt, :at), "
        "revokedReason = if_not_exists(revokedReason, :reason)",
        "ConditionExpression": "attribute_exists(PK)",
        "ExpressionAttributeNames": {"#status": "status"},
        "ExpressionAttributeValues": {
            ":revoked": {"S": "revoked"},
            ":at": {"S": _iso(now)},
            ":reason": {"S": reason},
        },
    }
    client = aws.dynamodb()
    if audit is None:
        with translate_errors("UpdateItem"):
            try:
                client.update_item(**update)
            except client.exceptions.ConditionalCheckFailedException:
                return
        return
    with translate_errors("TransactWriteItems"):
        try:
            client.transact_write_items(TransactItems=[{"Update": update}, audit.put()])  # type: ignore[typeddict-item]
        except client.exceptions.TransactionCanceledException as exc:
            codes = [r.get("Code") for r in exc.response.get("CancellationReasons", [])]
            if codes and codes[0] == "ConditionalCheckFailed":
                return
            raise


def family_status(user_id: str, family_id: str) -> str | None:
    item = get_item(_family_key(user_id, family_id))
    return item["status"]["S"] if item else None


def revoke_active_families(user_id: str, now: int, reason: str) -> int:
    """Revoke every active family of a user (a Query of USER#<id>, one UpdateItem per active family found);
    returns how many were active."""
    client = aws.dynamodb()
    request: dict[str, Any] = {
        "TableName": table_name(),
        "KeyConditionExpression": "PK = :pk AND begins_with(SK, :family)",
        "FilterExpression": "#status = :active",
        "ExpressionAttributeNames": {"#status": "status"},
        "ExpressionAttributeValues": {
            ":pk": {"S": f"USER#{user_id}"},
            ":family": {"S": "FAMILY#"},
            ":active": {"S": "active"},
        },
        "ProjectionExpression": "familyId",
        "ConsistentRead": True,
    }
    revoked = 0
    with translate_errors("Query"):
        while True:
            page = client.query(**request)
            for item in page.get("Items", []):
                revoke_family(user_id, item["familyId"]["S"], now, reason)
                revoked += 1
            if "LastEvaluatedKey" not in page:
                return revoked
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]


# --- login throttles (slotwise.identity.throttle) -----------------------------------------------------------------


def _attempts_key(counter: str, digest: str, window_start: int) -> dict[str, Any]:
    return _key(f"THROTTLE#{counter}#{digest}", f"W#{window_start}")


def add_attempt(counter: str, digest: str, window_start: int, *, limit: int, ttl: int) -> int | None:
    """ADD 1 to the window's count if it is below `limit` (one conditional UpdateItem): the count, or None when the
    window is full."""
    client = aws.dynamodb()
    with translate_errors("UpdateItem"):
        try:
            result = client.update_item(
                TableName=table_name(),
                Key=_attempts_key(counter, digest, window_start),
                UpdateExpression="ADD #count :one SET #ttl = if_not_exists(#ttl, :ttl)",
                ConditionExpression="attribute_not_exists(#count) OR #count < :limit",
                ExpressionAttributeNames={"#count": "count", "#ttl": "ttl"},
                ExpressionAttributeValues={
                    ":one": {"N": "1"},
                    ":limit": {"N": str(limit)},
                    ":ttl": {"N": str(ttl)},
                },
                ReturnValues="UPDATED_NEW",
            )
        except client.exceptions.ConditionalCheckFailedException:
            return None
    return int(result["Attributes"]["count"]["N"])


def clear_attempts(counter: str, digest: str, window_start: int) -> None:
    with translate_errors("DeleteItem"):
        aws.dynamodb().delete_item(TableName=table_name(), Key=_attempts_key(counter, digest, window_start))


# --- sign-in gates (slotwise.identity.throttle) --------------------------------------------------------------------
#   THROTTLE#login-pair#<sha256 of e-mail and address> / STATE    count (attempts since the last success), next, ttl
#   THROTTLE#login-account#<sha256 of the e-mail> / W#<window start>    count, slot (next attempt past the ceiling)
#   THROTTLE#login-ip#<sha256 of the address> / W#<window start>    count

LoginGate = Literal["ip", "pair", "account", "contention"]
_GATES: tuple[LoginGate, ...] = ("ip", "pair", "account")


def login_pair_key(digest: str) -> dict[str, Any]:
    return _key(f"THROTTLE#login-pair#{digest}", "STATE")


def reserve_login(
    *,
    pair: tuple[str, int, int, int],
    account: tuple[str, int, int, int, int],
    ip: tuple[str, int, int, int],
    now: int,
) -> LoginGate | None:
    """Take the three sign-in gates in one TransactWriteItems; None when all let the attempt through, else the
    first that refused it (in the order address, pair, account) or `contention` (a concurrent attempt held them).

    pair = (digest, free attempts, next attempt while this one is checked, ttl): passes while fewer attempts than
    free were made since the last success, or once `next` has come; counts the attempt and sets `next`.
    account = (digest, window start, ceiling, next slot, window end): passes below the ceiling, or once the slot
    has come; counts and moves the slot. ip = (digest, window start, limit, ttl): passes below the limit; counts.
    """
    pair_digest, free, hold, pair_ttl = pair
    account_digest, account_start, ceiling, slot, account_end = account
    ip_digest, ip_start, ip_limit, ip_ttl = ip
    names = {"#count": "count", "#ttl": "ttl"}
    items: list[Any] = [
        {
            "Update": {
                "TableName": table_name(),
                "Key": _attempts_key("login-ip", ip_digest, ip_start),
                "UpdateExpression": "ADD #count :one SET #ttl = if_not_exists(#ttl, :ttl)",
                "ConditionExpression": "attribute_not_exists(#count) OR #count < :limit",
                "ExpressionAttributeNames": names,
                "ExpressionAttributeValues": {
                    ":one": {"N": "1"},
                    ":limit": {"N": str(ip_limit)},
                    ":ttl": {"N": str(ip_ttl)},
                },
            }
        },
        {
            "Update": {
                "TableName": table_name(),
                "Key": login_pair_key(pair_digest),
                "UpdateExpression": "ADD #count :one SET #next = :hold, #ttl = :ttl",
                "ConditionExpression": "attribute_not_exists(#count) OR #count < :free OR #next <= :now",
                "ExpressionAttributeNames": {**names, "#next": "next"},
                "ExpressionAttributeValues": {
                    ":one": {"N": "1"},
                    ":free": {"N": str(free)},
                    ":hold": {"N": str(hold)},
                    ":now": {"N": str(now)},
                    ":ttl": {"N": str(pair_ttl)},
                },
            }
        },
        {
            "Update": {
                "TableName": table_name(),
                "Key": _attempts_key("login-account", account_digest, account_start),
                "UpdateExpression": "ADD #count :one SET #ttl = if_not_exists(#ttl, :ttl), #slot = :slot",
                "ConditionExpression": "attribute_not_exists(#count) OR #count < :limit OR #slot <= :now",
                "ExpressionAttributeNames": {**names, "#slot": "slot"},
                "ExpressionAttributeValues": {
                    ":one": {"N": "1"},
                    ":limit": {"N": str(ceiling)},
                    ":slot": {"N": str(slot)},
                    ":now": {"N": str(now)},
                    ":ttl": {"N": str(account_end + 60)},
                },
            }
        },
    ]
    client = aws.dynamodb()
    with translate_errors("TransactWriteItems"):
        try:
            client.transact_write_items(TransactItems=items)
        except client.exceptions.TransactionCanceledException as exc:
            codes = [r.get("Code") for r in exc.response.get("CancellationReasons", [])]
            for gate, code in zip(_GATES, codes, strict=False):
                if code == "ConditionalCheckFailed":
                    return gate
            if "TransactionConflict" in codes:
                return "contention"
            raise
    return None


def _number(key: dict[str, Any], attribute: str) -> int | None:
    value = (get_item(key) or {}).get(attribute)
    return int(value["N"]) if value else None


def login_pair_ready(digest: str) -> int | None:
    """When the source may try this account again (epoch), or None."""
    return _number(login_pair_key(digest), "next")


def login_account_slot(digest: str, window_start: int) -> int | None:
    """When the next attempt at this account past its ceiling may come (epoch), or None."""
    return _number(_attempts_key("login-account", digest, window_start), "slot")


def login_pair_failed(digest: str, *, ready: int) -> int:
    """Record a failure of the source at the account: it may try again at `ready`; returns its attempts since the
    last success (one UpdateItem)."""
    with translate_errors("UpdateItem"):
        result = aws.dynamodb().update_item(
            TableName=table_name(),
            Key=login_pair_key(digest),
            UpdateExpression="SET #next = :ready ADD #count :zero",
            ExpressionAttributeNames={"#next": "next", "#count": "count"},
            ExpressionAttributeValues={":ready": {"N": str(ready)}, ":zero": {"N": "0"}},
            ReturnValues="ALL_NEW",
        )
    return int(result["Attributes"]["count"]["N"])


def login_pair_wait(digest: str, *, ready: int) -> None:
    """Make the source wait until `ready` (after a failure past the free ones)."""
    with translate_errors("UpdateItem"):
        aws.dynamodb().update_item(
            TableName=table_name(),
            Key=login_pair_key(digest),
            UpdateExpression="SET #next = :ready",
            ExpressionAttributeNames={"#next": "next"},
            ExpressionAttributeValues={":ready": {"N": str(ready)}},
        )


def forget_login_pair(digest: str) -> None:
    """Delete the source's failures at the account (a password change; a login does it in its transaction)."""
    with translate_errors("DeleteItem"):
        aws.dynamodb().delete_item(TableName=table_name(), Key=login_pair_key(digest))


# --- set-password and reset links (slotwise.identity.account_links, invitations, recovery) ------------------------
#   PWTOKEN#<sha256 of the token> / PWTOKEN   userId, purpose, userVersion, status active|used, expiresEpoch, ttl

PasswordTokenOutcome = Literal["redeemed", "refused", "contention"]


def _password_token_key(hashed: str) -> dict[str, Any]:
    return _key(f"PWTOKEN#{hashed}", "PWTOKEN")


def password_token_put(
    hashed: str, *, user_id: str, purpose: str, user_version: int, now: int, expires: int, keep_until: int
) -> dict[str, Any]:
    """The Put (one TransactWriteItems item) of a new link token: only its hash is stored, never the token."""
    item = to_item(
        {
            "PK": f"PWTOKEN#{hashed}",
            "SK": "PWTOKEN",
            "type": "password_token",
            "userId": user_id,
            "purpose": purpose,
            "userVersion": user_version,
            "status": "active",
            "createdAt": _iso(now),
            "expiresEpoch": expires,
            "ttl": keep_until,
        }
    )
    return {"Put": {"TableName": table_name(), "Item": item, "ConditionExpression": "attribute_not_exists(PK)"}}


def put_password_token(put: dict[str, Any], audit: AuditEntry) -> None:
    """Store a link token (a `password_token_put`) with its audit entry, in one TransactWriteItems."""
    with translate_errors("TransactWriteItems"):
        aws.dynamodb().transact_write_items(TransactItems=[put, audit.put()])  # type: ignore[list-item]


def get_password_token(hashed: str) -> dict[str, Any] | None:
    """The link token stored under this hash, as plain data (a strongly consistent GetItem), or None."""
    with translate_errors("GetItem"):
        found = aws.dynamodb().get_item(TableName=table_name(), Key=_password_token_key(hashed), ConsistentRead=True)
    item = found.get("Item")
    return from_item(item) if item is not None else None


def redeem_password_token(
    hashed: str,
    user: User,
    password_hash: str,
    *,
    purpose: str,
    now: int,
    audit: AuditEntry,
) -> PasswordTokenOutcome:
    """Use the token up and set the user's password, in one TransactWriteItems with the audit entry.

    The token must still be `active`, unexpired, of this purpose, of this user and issued at the profile's version
    as read; the profile must still be at that version. So of two concurrent redemptions exactly one commits, and
    any change of the account since the link was made (another link used, a password change) voids the link.
    `refused`: a condition failed; `contention`: only a concurrent transaction got in the way (read again).
    """
    token_update: dict[str, Any] = {
        "TableName": table_name(),
        "Key": _password_token_key(hashed),
        "UpdateExpression": "SET #status = :used, usedAt = :at",
        "ConditionExpression": "#status = :active AND expiresEpoch > :now AND purpose = :purpose "
        "AND userId = :user AND userVersion = :version",
        "ExpressionAttributeNames": {"#status": "status"},
        "ExpressionAttributeValues": {
            ":used": {"S": "used"},
            ":active": {"S": "active"},
            ":at": {"S": _iso(now)},
            ":now": {"N": str(now)},
            ":purpose": {"S": purpose},
            ":user": {"S": user.id},
            ":version": {"N": str(user.version)},
        },
    }
    profile_update = _versioned_update_item(user, {"passwordHash": password_hash}, datetime.fromtimestamp(now, UTC))
    client = aws.dynamodb()
    with translate_errors("TransactWriteItems"):
        try:
            items: list[Any] = [{"Update": token_update}, {"Update": profile_update}, audit.put()]
            client.transact_write_items(TransactItems=items)
        except client.exceptions.TransactionCanceledException as exc:
            codes = [r.get("Code") for r in exc.response.get("CancellationReasons", [])]
            if "ConditionalCheckFailed" in codes:
                return "refused"
            if "TransactionConflict" in codes:
                return "contention"
            raise
    return "redeemed"
