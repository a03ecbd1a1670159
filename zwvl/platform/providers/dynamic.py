"""What the PostgreSQL and RT dynamic providers share: diffing declared properties, config access, and
the one way a resource is declared (its arguments as a dataclass, `DynamicResource[Args]`)."""

from __future__ import annotations

import os
import pickle
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from typing import Any, ClassVar, Generic, TypeVar

import pulumi
from pulumi.dynamic import ConfigureRequest, DiffResult, ResourceProvider

# Pulumi marks values that are not known yet (during preview) with this sentinel string.
UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
PROVIDER_KEY = "__provider"

# pulumi.dynamic.serialize_provider (SDK 3.x) wraps pickle._Pickler._batch_setitems on every call and
# never restores it, so the wrappers nest one level per dynamic resource until pickling a provider
# hits RecursionError (after ~900 resources in one process). Each of our resources undoes it first.
_BATCH_SETITEMS = pickle._Pickler._batch_setitems  # type: ignore[attr-defined]


@dataclass(kw_only=True)
class ResourceArgs:
    """The arguments a program declares a resource with; `props` are the input properties sent to the
    provider: every argument, plus what a subclass adds (outputs the provider fills in, constants)."""

    def props(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


A = TypeVar("A", bound=ResourceArgs)


class DynamicResource(pulumi.dynamic.Resource, Generic[A]):
    """A resource of `provider_type`, declared as `Kind(resource_name, KindArgs(...), opts)`.

    The provider is pickled into the state by module path (`zwvl.platform.providers.<area>.<module>`);
    `secret_outputs` are kept as Pulumi secrets.
    """

    provider_type: ClassVar[type[ResourceProvider]]
    secret_outputs: ClassVar[tuple[str, ...]] = ()

    def __init__(self, resource_name: str, args: A, opts: pulumi.ResourceOptions | None = None) -> None:
        pickle._Pickler._batch_setitems = _BATCH_SETITEMS  # type: ignore[attr-defined]
        if self.secret_outputs:
            secret = pulumi.ResourceOptions(additional_secret_outputs=list(self.secret_outputs))
            opts = pulumi.ResourceOptions.merge(opts, secret)
        super().__init__(self.provider_type(), resource_name, args.props(), opts)


def _norm(value: Any, as_set: bool) -> Any:
    if isinstance(value, Mapping):
        return {k: _norm(v, as_set) for k, v in sorted(value.items()) if k != PROVIDER_KEY}
    if isinstance(value, (list, tuple)):
        items = [_norm(v, as_set) for v in value]
        return sorted(items, key=repr) if as_set else items
    return value


class Provider(ResourceProvider):
    """Base of our dynamic providers.

    `managed` are the input properties compared by `diff`; `replace_on` those whose change needs a new
    object (deleted first, since names are unique); `set_like` are lists compared without order.
    `refuse_replace` (a subset of `replace_on`, for objects that hold data): `diff` raises
    `ReplaceRefused` instead of replacing, since a replacement drops the object and what it holds (a
    rename, or a `namePrefix` change that renames everything). An unknown value there (preview) is
    an update, not a replacement: the real diff during `up` sees the value and refuses if it changed.
    """

    kind: str = "object"
    managed: tuple[str, ...] = ()
    replace_on: tuple[str, ...] = ()
    refuse_replace: tuple[str, ...] = ()
    set_like: tuple[str, ...] = ()

    def __init__(self) -> None:
        super().__init__()
        self.settings: dict[str, Any] = {}

    def configure(self, req: ConfigureRequest) -> None:
        """Keep the stack's `zwvl:*` configuration (secrets arrive decrypted) for `setting`."""
        for key in self.config_keys():
            value = req.config.get(f"zwvl:{key}")
            if value is not None:
                self.settings[key] = value

    def config_keys(self) -> Iterable[str]:
        return ()

    def setting(self, key: str, env: str) -> str | None:
        """A stack setting (`zwvl:<key>`, usually a Pulumi secret), else the environment variable `env`."""
        value = self.settings.get(key)
        if value is None:
            value = os.environ.get(env)
        return None if value is None else str(value)

    def changed(self, olds: Mapping[str, Any], news: Mapping[str, Any]) -> list[str]:
        out = []
        for key in self.managed:
            new = news.get(key)
            if new == UNKNOWN:
                out.append(key)
                continue
            as_set = key in self.set_like
            if _norm(olds.get(key), as_set) != _norm(new, as_set):
                out.append(key)
        return out

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        changed = self.changed(olds, news)
        refused = [k for k in changed if k in self.refuse_replace and news.get(k) != UNKNOWN]
        if refused:
            moves = ", ".join(f"{k} {olds.get(k)!r} -> {news.get(k)!r}" for k in refused)
            raise ReplaceRefused(
                f"{self.kind} {_id}: {moves} would replace it (drop it with what it holds, create it "
                f"empty): refused. Rename it in the server itself (e.g. ALTER {self.kind.upper()} ... "
                "RENAME TO ...), then move it in the stack with `pulumi state` (or `pulumi import` "
                "under the new name) instead"
            )
        replaces = [k for k in changed if k in self.replace_on and k not in self.refuse_replace]
        return DiffResult(
            changes=bool(changed),
            replaces=replaces,
            stables=[k for k in self.replace_on if k not in changed],
            delete_before_replace=bool(replaces),
        )


class ReplaceRefused(RuntimeError):
    """A change that would replace (drop and re-create) an object holding data."""


def inputs_of(props: Mapping[str, Any], keys: Iterable[str]) -> dict[str, Any]:
    return {k: props.get(k) for k in keys}
