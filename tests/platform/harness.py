"""Run the Pulumi programs without the Pulumi CLI.

- `Recorder` (`devtools.pulumi_mocks`, for `pulumi.runtime.set_mocks`): records every registered
  resource with its type, inputs, parent, dependencies and secret outputs, returning fake ids: the
  resource graph the programs' unit tests check (`pulumi/<project>/tests/`).
- `Applier`: the same, but dynamic resources are really created by their provider (decoded from the
  `__provider` input the way Pulumi's dynamic provider host does it) against real services, in the
  order Pulumi registers them (a resource registers once its inputs are resolved, so dependencies
  come first); `destroy` deletes in reverse order. It stands in for `pulumi up/destroy` in the
  behaviour tests; it keeps no state file, so it is not a replacement for the CLI.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from devtools import pulumi_mocks as mocks
from devtools.pulumi_mocks import DYNAMIC, Recorder, Registered, decode_provider
from pulumi.dynamic import Config, ConfigureRequest, ResourceProvider

REPO = Path(__file__).resolve().parents[2]
PROGRAMS = {
    "data-platform": REPO / "pulumi" / "data-platform" / "__main__.py",
    "helpdesk": REPO / "pulumi" / "helpdesk" / "__main__.py",
}

__all__ = ["PROGRAMS", "REPO", "Applier", "Recorder", "Registered", "decode_provider", "run_program"]


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


def run_program(
    program: str, mocks_: Recorder, config: Mapping[str, str], project: str | None = None
) -> None:
    """Run pulumi/<program>/__main__.py under mocks with the given `zwvl:*` stack config."""
    mocks.run_program(PROGRAMS[program], mocks_, config, project or f"zwvl-{program}")
