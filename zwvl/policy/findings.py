"""What a rule reads (:class:`Context`: the model, the repository, live evidence, the date) and what it
returns (:class:`Finding`: pass or fail of one object, with the evidence observed)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

from zwvl.inventory import Inventory
from zwvl.model import Obj, Waiver
from zwvl.policy.topology import Topology
from zwvl.yamlsrc import Src

Severity = Literal["mandatory", "advisory"]
Status = Literal["pass", "fail", "waived"]


@dataclass(frozen=True, slots=True)
class Finding:
    rule: str
    object: str  # "kind:key", what waivers name
    status: Status
    message: str
    evidence: dict[str, Any]
    src: Src | None = None
    waiver: Waiver | None = None

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "object": self.object,
            "status": self.status,
            "message": self.message,
            "evidence": self.evidence,
            "location": str(self.src) if self.src else None,
        }
        if self.waiver is not None:
            out["waiver"] = {
                "reason": self.waiver.reason,
                "approver": self.waiver.approver,
                "expires": self.waiver.expires.isoformat(),
                "location": str(self.waiver.src),
            }
        return out


@dataclass
class Context:
    """What a rule may read: the model, the repository, live evidence and the date."""

    inv: Inventory
    repo_root: Path
    today: dt.date
    circuit_status: dict[str, str] = field(default_factory=dict)  # live, from NetBox
    live_source: str | None = None
    # live, from `zwvl check --live`: slug -> what its url served (zwvl.policy.probes); None: not probed
    tls_observed: dict[str, dict[str, Any]] | None = None
    waivers: list[Waiver] = field(default_factory=list)
    # (rule, object) -> "pass"/"fail" of every finding of the rules that run first; the rules that
    # judge the waivers themselves (registered with after_others=True) read it
    evaluated: dict[tuple[str, str], str] = field(default_factory=dict)

    @cached_property
    def topology(self) -> Topology:
        return Topology(self.inv, status_override=self.circuit_status)

    def finding(
        self, rule: str, obj: Obj | str, ok: bool, message: str, src: Src | None = None, /, **evidence: Any
    ) -> Finding:
        """A pass or fail with its evidence: the fields checked and their values."""
        if isinstance(obj, Obj):
            name = f"{type(obj).__name__.lower()}:{obj.key}"
            src = src or obj.src
        else:
            name = obj
        return Finding(rule, name, "pass" if ok else "fail", message, evidence, src)
