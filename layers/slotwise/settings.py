"""Typed settings read from the environment, the one place configuration enters the code."""

from __future__ import annotations

import os
from functools import cache
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Stage = Literal["local", "test", "dev", "prod"]


class Settings(BaseModel):
    """Environment variables as a validated model (names are the env var names)."""

    model_config = ConfigDict(frozen=True, extra="ignore", populate_by_name=True)

    stage: Stage = Field(default="local", alias="SLOTWISE_STAGE")
    table_name: str = Field(default="slotwise", alias="SLOTWISE_TABLE_NAME", min_length=3)
    event_bus_name: str = Field(default="slotwise", alias="SLOTWISE_EVENT_BUS_NAME")
    region: str = Field(default="us-east-1", alias="AWS_REGION")
    api_base_path: str = Field(default="/api/v1", alias="SLOTWISE_API_BASE_PATH")
    service_name: str = Field(default="slotwise", alias="POWERTOOLS_SERVICE_NAME")
    # The local runtime names the caller through headers until the identity capability lands.
    trust_identity_headers: bool = Field(default=False, alias="SLOTWISE_TRUST_IDENTITY_HEADERS")


@cache
def get_settings() -> Settings:
    """Settings for this process; cached because the environment of a Lambda does not change."""
    return Settings.model_validate(dict(os.environ))
