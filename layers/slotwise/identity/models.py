"""Who is calling, and the users Slotwise knows. Services receive a `Caller` as an argument; how it was
authenticated (JWT in AWS, headers in the local runtime) is the edge's business."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from slotwise.models import DomainModel

Role = Literal["admin", "vendor", "staff", "agent", "advisor", "customer", "guest"]
ROLES: tuple[Role, ...] = ("admin", "vendor", "staff", "agent", "advisor", "customer", "guest")
UserStatus = Literal["active", "pending_approval", "suspended"]


@dataclass(frozen=True)
class Caller:
    user_id: str | None
    role: Role

    @property
    def is_anonymous(self) -> bool:
        return self.user_id is None


ANONYMOUS = Caller(user_id=None, role="guest")


class User(DomainModel):
    id: str
    email: str
    name: str
    role: Role
    status: UserStatus = "active"
    locale: str = "en"
    created_at: datetime
