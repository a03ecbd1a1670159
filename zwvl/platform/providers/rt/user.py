"""A privileged Request Tracker user."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pulumi
from zwvl.platform.providers.dynamic import DynamicResource
from zwvl.platform.providers.rt.base import RecordArgs, RecordProvider, flag


class UserProvider(RecordProvider):
    """A privileged RT user. The password (optional) is set at creation only; RT does not return it."""

    kind = "user"
    fields = ("real_name", "email", "privileged")
    rt_fields = ("RealName", "EmailAddress", "Privileged")
    create_only = {"password": "Password"}
    managed = ("url", "name", "real_name", "email", "privileged", "disabled")
    replace_on = ("name",)

    def body(self, props: Mapping[str, Any]) -> dict[str, Any]:
        return {
            "RealName": props.get("real_name") or "",
            "EmailAddress": props.get("email") or "",
            "Privileged": 1 if props.get("privileged") else 0,
        }

    def from_rt(self, prop: str, value: Any) -> Any:
        if prop == "privileged":
            return flag(value)
        return value or (None if prop == "email" else "")


@dataclass(kw_only=True)
class UserArgs(RecordArgs):
    real_name: str
    email: str | None = None
    privileged: bool = True
    password: pulumi.Input[str] | None = None


class User(DynamicResource[UserArgs]):
    provider_type = UserProvider
    secret_outputs = ("password",)
    rt_id: pulumi.Output[str]
