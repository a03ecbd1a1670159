"""Run a Pulumi program of `pulumi/<project>/` without the Pulumi CLI, under `pulumi.runtime.set_mocks`.

`Recorder` records every registered resource with its type, inputs, parent, aliases, dependencies,
secret outputs and `protect`, returning fake ids: the resource graph the programs' unit tests check
(`pulumi/<project>/tests/`). Components (`pulumi.ComponentResource`) are recorded apart from the
resources the providers manage. `tests/platform/harness.Applier` builds on it to apply a program to
real services.
"""

from __future__ import annotations

import base64
import runpy
import shutil
import subprocess
import sys
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import dill

import pulumi
from pulumi.dynamic import ResourceProvider
from pulumi.runtime import mocks as pmocks
from pulumi.runtime import rpc

DYNAMIC = "pulumi-python:dynamic:Resource"


@dataclass
class Registered:
    name: str
    typ: str
    inputs: dict[str, Any]
    provider_class: str
    provider_module: str = ""
    custom: bool = True
    parent: str = ""  # the parent's logical name; "" for the stack (the root)
    aliases: list[dict[str, Any]] = field(default_factory=list)  # the alias specs sent to the engine
    dependencies: set[str] = field(default_factory=set)  # logical names
    secret_outputs: list[str] = field(default_factory=list)
    protect: bool = False  # the resource option `protect`
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


def _name(urn: str) -> str:
    return urn.rsplit("::", 1)[-1]


def _parent(urn: str) -> str:
    """The parent's logical name; "" for the stack (the root resource)."""
    if not urn or urn.split("::")[2] == "pulumi:pulumi:Stack":
        return ""
    return _name(urn)


def _alias(alias: Any) -> dict[str, Any]:
    if alias.WhichOneof("alias") == "urn":
        return {"urn": alias.urn}
    spec = alias.spec
    return {"name": spec.name, "type": spec.type, "parent_urn": spec.parentUrn, "no_parent": spec.noParent}


class Recorder(pulumi.runtime.Mocks):
    def __init__(self) -> None:
        self.resources: dict[str, Registered] = {}  # what the providers manage, by logical name
        self.components: dict[str, Registered] = {}
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
            custom=bool(args.custom),
        )
        if not reg.custom:
            with self.lock:
                self.components[args.name] = reg
            return f"{args.name}-component", {}
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

    def children(self, component: str) -> list[Registered]:
        """The resources and components whose parent is `component`."""
        everything = [*self.components.values(), *self.resources.values()]
        return [r for r in everything if r.parent == component]


class RecordingMonitor(pmocks.MockMonitor):
    """Also records each resource's parent, aliases, dependencies, additional secret outputs and
    `protect`."""

    def __init__(self, mocks: Recorder) -> None:
        super().__init__(mocks)
        self.recorder = mocks

    def RegisterResource(self, request: Any) -> Any:  # noqa: N802 (gRPC name)
        resp = super().RegisterResource(request)
        deps = {_name(u) for u in request.dependencies}
        for pd in request.propertyDependencies.values():
            deps |= {_name(u) for u in pd.urns}
        registry = self.recorder.resources if request.custom else self.recorder.components
        reg = registry.get(request.name)
        if reg is not None:
            reg.dependencies = deps
            reg.secret_outputs = list(request.additionalSecretOutputs)
            reg.protect = bool(request.protect)
            reg.parent = _parent(request.parent)
            reg.aliases = [_alias(a) for a in request.aliases]
        return resp


def run_program(main: Path, mocks: Recorder, config: Mapping[str, str], project: str) -> None:
    """Run a program's `__main__.py` under mocks with the given `zwvl:*` stack config, its folder on
    `sys.path` as the Pulumi CLI puts it there (the program imports its modules beside it)."""
    folder = str(main.resolve().parent)
    if folder not in sys.path:
        sys.path.insert(0, folder)
    pulumi.runtime.set_all_config({f"zwvl:{k}": v for k, v in config.items()})
    pulumi.runtime.set_mocks(
        mocks, project=project, stack="dev", preview=False, monitor=RecordingMonitor(mocks)
    )

    @pulumi.runtime.test
    def go() -> Any:
        runpy.run_path(str(main), run_name="__main__")
        return pulumi.Output.from_input(None)

    go()


# --- checks both programs' tests make ---------------------------------------------------------

OLD_URN_ALIAS = {"name": "", "type": "", "parent_urn": "", "no_parent": True}
"""The alias every component child carries: its URN from before the components (same name and type,
parented by the stack), so an existing stack adopts it instead of replacing it."""


def assert_children_keep_their_urns(rec: Recorder) -> None:
    for r in rec.resources.values():
        assert r.parent in rec.components, r.name
        assert r.aliases == [OLD_URN_ALIAS], r.name


def assert_providers_pickled_under_the_package(rec: Recorder) -> None:
    for r in rec.resources.values():
        if r.provider_class:
            assert r.provider_module.startswith(
                ("zwvl.platform.providers.postgres.", "zwvl.platform.providers.rt.")
            )


def cli_preview(project: Path, tmp_path: Path, config: Mapping[str, str]) -> None:
    """`pulumi preview` of a project with the real CLI, in a throw-away local backend. The caller skips
    when the CLI is missing (it cannot be downloaded on these machines)."""
    cli = shutil.which("pulumi")
    assert cli is not None
    env = {
        "PULUMI_BACKEND_URL": f"file://{tmp_path}",
        "PULUMI_CONFIG_PASSPHRASE": "test",
        "PULUMI_SKIP_UPDATE_CHECK": "1",
        "PATH": str(Path(cli).parent) + ":/usr/bin:/bin",
        "HOME": str(tmp_path),
    }
    subprocess.run([cli, "stack", "init", "dev"], cwd=project, env=env, check=True, timeout=300)
    for key, value in config.items():
        subprocess.run([cli, "config", "set", key, value], cwd=project, env=env, check=True, timeout=300)
    proc = subprocess.run(
        [cli, "preview", "--non-interactive"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "to create" in proc.stdout
