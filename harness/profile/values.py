"""Building blocks every profile and lab model shares: the strict base model and values that may be
given inline or by reference (secret, environment, runtime fact)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


# --- references -------------------------------------------------------------------------------

class SecretRef(Strict):
    secret: str = Field(description="Name of a secret in the lab's secrets source (file or environment).")


class EnvRef(Strict):
    env: str = Field(description="Name of an environment variable.")


class RuntimeRef(Strict):
    runtime: str = Field(description="Dotted key into the runtime facts file named by the lab configuration.")


Ref = SecretRef | EnvRef | RuntimeRef


def _to_value(v: Any) -> Any:
    if isinstance(v, bool):
        raise ValueError("expected a string, not a boolean")
    if isinstance(v, (int, float)):
        return str(v)
    if isinstance(v, str):
        return v
    if isinstance(v, dict) and len(v) == 1:
        key = next(iter(v))
        kinds = {"secret": SecretRef, "env": EnvRef, "runtime": RuntimeRef}
        if key in kinds and isinstance(v[key], str) and v[key]:
            return kinds[key](**v)
    raise ValueError("expected a string or one of {secret: NAME}, {env: NAME}, {runtime: KEY}")


# A value given inline or by reference; resolved by harness.profile.resolve.
Value = Annotated[str | SecretRef | EnvRef | RuntimeRef, BeforeValidator(_to_value)]


