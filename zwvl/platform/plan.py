"""Desired state of the data platform and the helpdesk, derived from the domain model only.

Pure functions over `zwvl.inventory.Inventory`: the Pulumi programs, the Ansible variables and the
tests all read the same plan, so nothing is typed twice.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from zwvl.inventory import Inventory
from zwvl.model import Helpdesk, SlaLevel

_IDENT = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


class PlanError(ValueError):
    """The domain model cannot be turned into a platform plan (e.g. a name too long for PostgreSQL)."""


def ident(prefix: str, *parts: str) -> str:
    """A PostgreSQL identifier from a prefix and slugs: lower case, hyphens to underscores, <= 63 chars."""
    name = prefix + "_".join(p.replace("-", "_") for p in parts)
    if not _IDENT.match(name):
        raise PlanError(f"{name!r} is not a valid PostgreSQL identifier (lower case, <= 63 characters)")
    return name


# --- data platform ---------------------------------------------------------------------------

WRITER_TABLE_PRIVILEGES = ("SELECT", "INSERT", "UPDATE", "DELETE")
WRITER_SEQUENCE_PRIVILEGES = ("SELECT", "UPDATE", "USAGE")
READER_TABLE_PRIVILEGES = ("SELECT",)

# The loaders' log the monitoring exporter reads for dataset freshness (zwvl/exporter/datasets.py):
# one row per load, in the shared database. Types as PostgreSQL's format_type spells them.
PLATFORM_SCHEMA = "platform"
LOAD_LOG_TABLE = "dataset_loads"
LOAD_LOG_COLUMNS: tuple[tuple[str, str, bool], ...] = (
    ("dataset", "text", True),  # the dataset's slug in the inventory
    ("loaded_at", "timestamp with time zone", True),
    ("rows", "bigint", False),
)


@dataclass(frozen=True)
class PartnerDatabase:
    """A partner's own database and its three login roles (owner, writer, reader)."""

    partner: str
    database: str
    owner: str
    writer: str
    reader: str

    @property
    def login_roles(self) -> tuple[str, str, str]:
        return (self.owner, self.writer, self.reader)


@dataclass(frozen=True)
class DatasetSchema:
    """A shared dataset's schema in the shared database, and the role that may read it."""

    dataset: str
    schema: str
    read_role: str
    open_data: bool
    classification: str
    partners: tuple[str, ...]


@dataclass(frozen=True)
class DataPlatformPlan:
    """Everything the data platform's PostgreSQL must hold, named and checked from the domain model."""

    prefix: str
    shared_database: str
    platform_owner: str
    open_data_role: str
    monitoring_role: str  # the exporter's login role: reads the load log only
    partners: tuple[PartnerDatabase, ...]
    datasets: tuple[DatasetSchema, ...]

    def partner(self, slug: str) -> PartnerDatabase:
        for p in self.partners:
            if p.partner == slug:
                return p
        raise KeyError(slug)

    def datasets_of(self, partner: str) -> tuple[DatasetSchema, ...]:
        return tuple(d for d in self.datasets if partner in d.partners)

    @property
    def open_datasets(self) -> tuple[DatasetSchema, ...]:
        return tuple(d for d in self.datasets if d.open_data)

    def memberships(self) -> list[tuple[str, str]]:
        """(group role, member role): partner readers into the read roles of their datasets, and the
        open-data role into the read roles of the open datasets."""
        out = [(d.read_role, self.partner(p).reader) for d in self.datasets for p in d.partners]
        out += [(d.read_role, self.open_data_role) for d in self.open_datasets]
        return out


def data_platform_plan(inv: Inventory, prefix: str = "dp_") -> DataPlatformPlan:
    if prefix and not _IDENT.match(prefix):
        raise PlanError(f"name prefix {prefix!r} must be lower case letters, digits and underscores")
    partners = tuple(
        PartnerDatabase(
            partner=slug,
            database=ident(prefix, slug),
            owner=ident(prefix, slug, "owner"),
            writer=ident(prefix, slug, "writer"),
            reader=ident(prefix, slug, "reader"),
        )
        for slug in sorted(inv.partners)
    )
    datasets = tuple(
        DatasetSchema(
            dataset=ds.slug,
            schema=ident("", ds.slug),
            read_role=ident(prefix, "ds", ds.slug, "read"),
            open_data=ds.open_data,
            classification=ds.classification,
            partners=tuple(sorted(ds.partners)),
        )
        for ds in sorted(inv.datasets.values(), key=lambda d: d.slug)
        if ds.service == "data-platform"
    )
    for ds in datasets:
        if ds.schema == PLATFORM_SCHEMA:
            raise PlanError(
                f"dataset {ds.dataset!r} would take the schema of the load log ({PLATFORM_SCHEMA})"
            )
        if ds.open_data and ds.classification != "public":
            raise PlanError(f"dataset {ds.dataset!r} is open data but classified {ds.classification!r}")
    return DataPlatformPlan(
        prefix=prefix,
        shared_database=ident(prefix, "shared"),
        platform_owner=ident(prefix, "platform_owner"),
        open_data_role=ident(prefix, "open_data"),
        monitoring_role=ident(prefix, "monitoring"),
        partners=partners,
        datasets=datasets,
    )


# --- helpdesk --------------------------------------------------------------------------------

ITIL_CATEGORY_FIELD = "ITIL category"

# RT 5 queue rights per pool role. Staff roles work tickets; oversight roles read and comment.
_WORK = (
    "SeeQueue",
    "ShowTicket",
    "CreateTicket",
    "ReplyToTicket",
    "CommentOnTicket",
    "ShowTicketComments",
    "OwnTicket",
    "TakeTicket",
    "StealTicket",
    "ModifyTicket",
    "Watch",
    "WatchAsAdminCc",
    "SeeCustomField",
    "ModifyCustomField",
    "SetInitialCustomField",
)
_READ = ("SeeQueue", "ShowTicket", "ShowTicketComments", "CommentOnTicket", "SeeCustomField", "Watch")
ROLE_RIGHTS: dict[str, tuple[str, ...]] = {
    "helpdesk": _WORK,
    "system-administrator": _WORK,
    "dpo": _READ,
    "business-analyst": _READ,
    "data-miner": _READ,
    "enterprise-architect": _READ,
}


@dataclass(frozen=True)
class QueuePlan:
    """A partner's helpdesk queue in Request Tracker."""

    partner: str
    name: str
    description: str


@dataclass(frozen=True)
class UserPlan:
    """A helpdesk agent's RT account, in the pooled group of their role."""

    name: str
    real_name: str
    partner: str
    role: str


@dataclass(frozen=True)
class GroupPlan:
    """A pooled agent group: its members and the RT queue rights of its role."""

    slug: str
    description: str
    role: str
    members: tuple[str, ...]
    rights: tuple[str, ...]


@dataclass(frozen=True)
class HelpdeskPlan:
    """Everything Request Tracker must hold: SLAs, ITIL categories, queues, groups and agents."""

    default_sla: str
    sla_names: tuple[str, ...]
    categories: tuple[str, ...]
    queues: tuple[QueuePlan, ...]
    groups: tuple[GroupPlan, ...]
    users: tuple[UserPlan, ...] = field(default=())

    def queue(self, partner: str) -> QueuePlan:
        for q in self.queues:
            if q.partner == partner:
                return q
        raise KeyError(partner)


def helpdesk_of(inv: Inventory) -> Helpdesk:
    if inv.helpdesk is None:
        raise PlanError("the inventory has no helpdesk section")
    return inv.helpdesk


def helpdesk_plan(inv: Inventory) -> HelpdeskPlan:
    hd = helpdesk_of(inv)
    queues = tuple(
        QueuePlan(partner=p.slug, name=p.helpdesk.queue, description=f"Helpdesk queue of {p.name}")
        for p in sorted(inv.partners.values(), key=lambda p: p.slug)
        if p.helpdesk is not None
    )
    users: list[UserPlan] = []
    for p in sorted(inv.partners.values(), key=lambda p: p.slug):
        if p.helpdesk is None:
            continue
        for role, count in sorted(p.helpdesk.headcount.items()):
            for i in range(1, count + 1):
                users.append(
                    UserPlan(
                        name=f"{p.slug}-{role}-{i}",
                        real_name=f"{p.name}: {hd.roles[role]} {i}",
                        partner=p.slug,
                        role=role,
                    )
                )
    unknown = sorted({g.role for g in hd.groups} - set(ROLE_RIGHTS))
    if unknown:
        raise PlanError(f"no RT rights defined for helpdesk role(s) {', '.join(unknown)}")
    groups = tuple(
        GroupPlan(
            slug=g.slug,
            description=g.name,
            role=g.role,
            members=tuple(u.name for u in users if u.role == g.role),
            rights=ROLE_RIGHTS[g.role],
        )
        for g in hd.groups
    )
    return HelpdeskPlan(
        default_sla=hd.default_sla,
        sla_names=tuple(level.name for level in hd.sla),
        categories=tuple(hd.categories),
        queues=queues,
        groups=groups,
        users=tuple(users),
    )


_DAY_NUMBERS = {"sun": 0, "mon": 1, "tue": 2, "wed": 3, "thu": 4, "fri": 5, "sat": 6}
_DAY_NAMES = {
    "sun": "Sunday",
    "mon": "Monday",
    "tue": "Tuesday",
    "wed": "Wednesday",
    "thu": "Thursday",
    "fri": "Friday",
    "sat": "Saturday",
}


def _sla_level_vars(level: SlaLevel, tz: str) -> dict[str, object]:
    unit = "BusinessMinutes" if level.business_hours else "RealMinutes"
    return {
        "name": level.name,
        "priority": level.priority,
        "unit": unit,
        "business_hours": level.business_hours,
        "acknowledge_minutes": level.acknowledge_minutes,
        "resolve_minutes": level.resolve_minutes,
        "timezone": tz,
    }


def request_tracker_vars(inv: Inventory) -> dict[str, object]:
    """Variables of the Ansible `request_tracker` role: the uniform SLA set and business hours.

    RT semantics: acknowledge is RT's `Response` deadline, resolve its `Resolve` deadline; levels without
    business hours count real minutes; `AssumeOutsideActor` so a ticket created through the API by a
    service account for a requester still gets its acknowledge deadline (RT 5.0.3 gives none otherwise).
    """
    hd = helpdesk_of(inv)
    return {
        "request_tracker_timezone": hd.timezone,
        "request_tracker_default_sla": hd.default_sla,
        "request_tracker_sla_levels": [_sla_level_vars(level, hd.timezone) for level in hd.sla],
        "request_tracker_business_hours": [
            {
                "number": _DAY_NUMBERS[d],
                "name": _DAY_NAMES[d],
                "start": hd.business_hours.start,
                "end": hd.business_hours.end,
            }
            for d in hd.business_hours.days
        ],
    }
