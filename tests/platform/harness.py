"""Run the Pulumi programs without the Pulumi CLI.

- `Recorder` (for `pulumi.runtime.set_mocks`): records every registered resource with its type,
  inputs, dependencies and secret outputs, returning fake ids: the resource graph for unit tests.
- `Applier`: the same, but dynamic resources are really created by their provider (decoded from the
  `__provider` input the way Pulumi's dynamic provider host does it) against real services, in the
  order Pulumi registers them (a resource registers once its inputs are resolved, so dependencies
  come first); `destroy` deletes in reverse order. It stands in for `pulumi up/destroy` in the
  behaviour tests; it keeps no state file, so it is not a replacement for the CLI.
"""

from __future__ import annotations

import base64
import runpy
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import dill

import pulumi
from pulumi.dynamic import Config, ConfigureRequest, ResourceProvider
from pulumi.runtime import mocks as pmocks
from pulumi.runtime import rpc

REPO = Path(__file__).resolve().parents[2]
PROGRAMS = {
    "data-platform": REPO / "pulumi" / "data-platform" / "__main__.py",
    "helpdesk": REPO / "pulumi" / "helpdesk" / "__main__.py",
}
DYNAMIC = "pulumi-python:dynamic:Resource"


@dataclass
class Registered:
    name: str
    typ: str
    inputs: dict[str, Any]
    provider_class: str
    provider_module: str = ""
    dependencies: set[str] = field(default_factory=set)  # logical names
    secret_outputs: list[str] = field(default_factory=list)
    id: str = ""
    outputs: dict[str, Any] = field(default_factory=dict)


def unwrap(value: Any) -> Any:
    """Remove Pulumi's secret wrappers from deserialized properties."""
    if isinstance(value, dict):
        if value.get(rpc._special_sig_key) == rpc._special_secret_sig:
            return unwrap(value.get("value"))
        return {k: unwrap(v) for k, v in value.items()}
    if isinstance(value, list):
        return [unwrap(v) for v in value]
    return value


def decode_provider(inputs: Mapping[str, Any]) -> ResourceProvider:
    provider: ResourceProvider = dill.loads(base64.b64decode(inputs["__provider"]))
    return provider


class Recorder(pulumi.runtime.Mocks):
    def __init__(self) -> None:
        self.resources: dict[str, Registered] = {}
        self.lock = threading.Lock()

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        inputs = unwrap(dict(args.inputs))
        provider = type(decode_provider(inputs)) if args.typ == DYNAMIC else None
        reg = Registered(
            args.name,
            args.typ,
            {k: v for k, v in inputs.items() if k != "__provider"},
            provider.__name__ if provider else "",
            provider.__module__ if provider else "",
        )
        rid, outs = self.create(reg, inputs)
        reg.id, reg.outputs = rid, outs
        with self.lock:
            self.resources[args.name] = reg
        return rid, outs

    def create(self, reg: Registered, inputs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        outs = dict(inputs)
        if reg.provider_class == "PasswordProvider":
            outs["result"] = f"mock-password-{reg.name}"
        return f"{reg.name}-id", outs

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]] | None]:
        return {}, None

    def of(self, provider_class: str) -> list[Registered]:
        return [r for r in self.resources.values() if r.provider_class == provider_class]


class Applier(Recorder):
    """Creates dynamic resources for real (see the module docstring)."""

    def __init__(self, settings: Mapping[str, str]) -> None:
        super().__init__()
        self.settings = dict(settings)
        self.order: list[tuple[str, ResourceProvider, str, dict[str, Any]]] = []

    def provider(self, inputs: Mapping[str, Any]) -> ResourceProvider:
        provider = decode_provider(inputs)
        provider.configure(
            ConfigureRequest(Config({f"zwvl:{k}": v for k, v in self.settings.items()}, "zwvl"))
        )
        return provider

    def create(self, reg: Registered, inputs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        if reg.typ != DYNAMIC:
            return super().create(reg, inputs)
        provider = self.provider(inputs)
        props = {k: v for k, v in inputs.items() if k != "__provider"}
        result = provider.create(props)
        outs = dict(props, **(result.outs or {}))
        with self.lock:
            self.order.append((reg.name, provider, str(result.id), outs))
        return str(result.id), dict(outs, __provider=inputs["__provider"])

    def destroy(self) -> None:
        while self.order:
            _name, provider, rid, outs = self.order.pop()
            provider.delete(rid, outs)


class RecordingMonitor(pmocks.MockMonitor):
    """Also records each resource's dependencies and additional secret outputs."""

    def __init__(self, mocks: Recorder) -> None:
        super().__init__(mocks)
        self.recorder = mocks
        self.deps: dict[str, tuple[set[str], list[str]]] = {}

    def RegisterResource(self, request: Any) -> Any:  # noqa: N802 (gRPC name)
        resp = super().RegisterResource(request)
        deps = {u.rsplit("::", 1)[-1] for u in request.dependencies}
        for pd in request.propertyDependencies.values():
            deps |= {u.rsplit("::", 1)[-1] for u in pd.urns}
        reg = self.recorder.resources.get(request.name)
        if reg is not None:
            reg.dependencies = deps
            reg.secret_outputs = list(request.additionalSecretOutputs)
        return resp


def run_program(program: str, mocks: Recorder, config: Mapping[str, str], project: str | None = None) -> None:
    """Run pulumi/<program>/__main__.py under mocks with the given `zwvl:*` stack config."""
    project = project or f"zwvl-{program}"
    pulumi.runtime.set_all_config({f"zwvl:{k}": v for k, v in config.items()})
    pulumi.runtime.set_mocks(
        mocks, project=project, stack="dev", preview=False, monitor=RecordingMonitor(mocks)
    )

    @pulumi.runtime.test
    def go() -> Any:
        runpy.run_path(str(PROGRAMS[program]), run_name="__main__")
        return pulumi.Output.from_input(None)

    go()
