"""A generated password, kept only as a Pulumi secret in the state."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

import pulumi
from pulumi.dynamic import CreateResult, ReadResult, UpdateResult
from zwvl.platform.providers.dynamic import DynamicResource, Provider, ResourceArgs


class PasswordProvider(Provider):
    """A generated password (kept only as a Pulumi secret in the state), like random.RandomPassword."""

    managed = ("length", "keepers")
    replace_on = ("length", "keepers")

    def create(self, props: dict[str, Any]) -> CreateResult:
        length = int(props.get("length") or 32)
        value = secrets.token_urlsafe(length)[:length]
        return CreateResult(
            "password-" + secrets.token_hex(4),
            {"length": length, "keepers": props.get("keepers"), "result": value},
        )

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        return ReadResult(id_, props)

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        return UpdateResult(dict(olds, keepers=news.get("keepers")))

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        return None


@dataclass(kw_only=True)
class PasswordArgs(ResourceArgs):
    length: int = 32

    def props(self) -> dict[str, Any]:
        return dict(super().props(), keepers=None, result=None)


class Password(DynamicResource[PasswordArgs]):
    provider_type = PasswordProvider
    secret_outputs = ("result",)
    result: pulumi.Output[str]
