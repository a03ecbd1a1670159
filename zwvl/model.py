"""The domain model: typed objects for everything under inventory/.

Every part of the repository (policies, NetBox sync, Ansible inventory, Pulumi, exporter) reads
these objects through `zwvl.inventory.load_inventory`, never the YAML itself.
"""

from __future__ import annotations

import datetime as dt
import re
from ipaddress import IPv4Interface, IPv4Network
from typing import Annotated, Any, ClassVar, Literal
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, PrivateAttr

from zwvl.yamlsrc import Src

Slug = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]*$", max_length=100)]
Status = Literal["active", "planned", "decommissioned"]


class Part(BaseModel):
    """A piece of the inventory: unknown fields are refused and nothing can be changed once loaded."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Obj(Part):
    """An object the inventory lists, with its key and where it was defined."""

    # set by the loader for every object; no defaults, so pydantic skips copying them per object
    _src: Src = PrivateAttr()
    _raw: Any = PrivateAttr()

    @property
    def src(self) -> Src:
        return self._src

    key_field: ClassVar[str]
    """The field that is the object's key, for objects keyed by one field (others override `key`)."""

    @property
    def key(self) -> str:
        return str(getattr(self, self.key_field))

    @property
    def label(self) -> str:
        return f"{type(self).__name__.lower()} {self.key!r}"


class SlugObj(Obj):
    """An object whose slug (its first field) is its key."""

    slug: Slug
    key_field = "slug"


class OnlyObj(Obj):
    """An object the inventory holds once (the helpdesk, the standards): its key is its kind."""

    @property
    def key(self) -> str:
        return type(self).__name__.lower()


# --- region and partners -------------------------------------------------------------------


class Targets(Part):
    magda_document_service_partners: int
    data_platform_min_partners: int
    local_datacenters_today: int
    regional_datacenters_target: int = 1


class Region(SlugObj):
    name: str
    inhabitants: int
    timezone: str = "Europe/Brussels"
    targets: Targets


class HelpdeskMembership(Part):
    queue: str
    headcount: dict[Slug, Annotated[int, Field(ge=0)]] = {}


class Partner(SlugObj):
    name: str
    code: Annotated[str, Field(pattern=r"^[a-z0-9]{3}$")]
    type: Literal["municipality", "intermunicipal"]
    team: str
    digital_satisfaction_pct: Annotated[int, Field(ge=0, le=100)] | None = None
    it_challenges_2022: Annotated[int, Field(ge=0)] | None = None
    it_projects_2022: Annotated[int, Field(ge=0)] | None = None
    ebox: bool = False
    magda_document_service: Literal["in-use", "planned", "not-started"] = "not-started"
    helpdesk: HelpdeskMembership | None = None
    description: str = ""


class Contact(Obj):
    partner: Slug
    role: Slug
    name: str
    email: str
    phone: str = ""

    @property
    def key(self) -> str:
        return f"{self.partner}/{self.role}"


SiteKind = Literal[
    "town-hall",
    "library",
    "social-house",
    "depot",
    "service-centre",
    "sports-centre",
    "office",
    "local-datacenter",
    "regional-datacenter",
]
PUBLIC_BUILDING_KINDS = frozenset(
    {"town-hall", "library", "social-house", "depot", "service-centre", "sports-centre", "office"}
)
DATACENTER_KINDS = frozenset({"local-datacenter", "regional-datacenter"})


class Location(Part):
    """A room or hall inside a site (a NetBox location); its slug is unique within the site."""

    slug: Slug
    name: Annotated[str, Field(min_length=1, max_length=100)]
    description: str = ""


class Site(SlugObj):
    name: str
    partner: Slug
    kind: SiteKind
    status: Status = "active"
    address: str
    lat: Annotated[float, Field(ge=-90, le=90)]
    lon: Annotated[float, Field(ge=-180, le=180)]
    description: str = ""
    locations: list[Location] = []

    @property
    def public_building(self) -> bool:
        return self.kind in PUBLIC_BUILDING_KINDS


# --- hardware --------------------------------------------------------------------------------


class InterfaceTemplate(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True)
    name: str
    type: str
    mgmt_only: bool = False
    label: str = ""


class DeviceType(Obj):
    """One device type in the netbox-community devicetype-library format."""

    model_config = ConfigDict(extra="allow", frozen=True, populate_by_name=True)
    manufacturer: str
    model: str
    slug: Slug
    part_number: str = ""
    u_height: float = 1
    is_full_depth: bool = True
    airflow: str | None = None
    comments: str = ""
    interfaces: list[InterfaceTemplate] = []
    key_field = "slug"

    @property
    def label(self) -> str:
        return f"device type {self.slug!r}"


DeviceRole = Literal["router", "switch", "server", "firewall"]
DeviceMonitoring = Literal["node-exporter", "frr-exporter", "snmp", "none"]


class DeviceAddress(Part):
    """A server's address on one of its interfaces: NetBox's primary IPv4 of the device."""

    interface: str
    address: IPv4Interface


class Device(Obj):
    name: str
    site: Slug
    role: DeviceRole
    device_type: Slug
    platform: Slug | None = None
    location: Slug | None = None
    """Slug of one of the site's locations (the room the device stands in)."""
    status: Status = "active"
    serial: str = ""
    loopback: IPv4Interface | None = None
    primary_ip4: DeviceAddress | None = None
    """A device without a loopback (a server): its address and interface, NetBox's primary IPv4."""
    monitoring: DeviceMonitoring = "none"
    description: str = ""
    key_field = "name"

    @property
    def primary_address(self) -> IPv4Interface | None:
        """What NetBox holds as the primary IPv4: the loopback of a router, else the server's address."""
        return (
            self.loopback
            if self.loopback is not None
            else (self.primary_ip4.address if self.primary_ip4 else None)
        )


class CircuitEnd(Part):
    site: Slug
    device: str
    interface: str
    address: IPv4Interface


class Circuit(Obj):
    cid: Annotated[str, Field(pattern=r"^[A-Z0-9][A-Z0-9-]*$")]
    provider: Slug
    type: Slug = "dark-fibre"
    status: Status = "active"
    prefix: IPv4Network
    ospf_cost: Annotated[int, Field(ge=1, le=65535)] = 10
    length_km: Annotated[float, Field(gt=0)] | None = None
    a: CircuitEnd
    z: CircuitEnd
    description: str = ""
    key_field = "cid"


class Provider(SlugObj):
    name: str
    description: str = ""


class Vlan(Obj):
    partner: Slug
    vid: Annotated[int, Field(ge=1, le=4094)]
    name: Slug
    description: str = ""

    @property
    def key(self) -> str:
        return f"{self.partner}/{self.vid}"


class Prefix(Obj):
    partner: Slug
    prefix: IPv4Network
    role: Slug
    status: Status = "active"
    vlan: int | None = None
    site: Slug | None = None
    container: bool = False
    description: str = ""

    @property
    def key(self) -> str:
        return str(self.prefix)


# --- services, data, helpdesk, software -------------------------------------------------------


class Hosting(Part):
    model: Literal["cloud", "on-premise"]
    reason: str = ""


_LABEL = r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?"
_DNS_NAME = re.compile(rf"^(?=.{{1,253}}$){_LABEL}(\.{_LABEL})+$")


def _https_url(value: str) -> str:
    """An https URL users reach: a DNS name (lower case), an optional port, a path; nothing else."""
    if not value.isascii() or not value.isprintable() or " " in value:
        raise ValueError("must be an https URL of printable ASCII characters without spaces")
    parts = urlsplit(value)
    if parts.scheme != "https":
        raise ValueError(f"must start with https:// (the address users reach over TLS), not {parts.scheme!r}")
    if parts.username is not None or parts.password is not None or parts.query or parts.fragment:
        raise ValueError("must not hold a user, password, query or fragment")
    host = parts.hostname or ""
    if not _DNS_NAME.match(host) or parts.netloc.split(":")[0] != host:
        raise ValueError(f"host {parts.netloc!r} is not a lower-case DNS name with a dot")
    try:
        port = parts.port
    except ValueError:
        raise ValueError("port must be a number from 1 to 65535") from None
    if port == 0:
        raise ValueError("port must be a number from 1 to 65535")
    return value


HttpsUrl = Annotated[str, Field(max_length=2048), AfterValidator(_https_url)]


class Service(SlugObj):
    name: str
    partner: Slug
    business_owner: str = ""
    status: Status = "active"
    hosting: Hosting | None = None
    site: Slug | None = None
    devices: list[str] = []
    exposed: bool = False
    tls: bool | None = None
    mfa: bool | None = None
    url: HttpsUrl | None = None
    """The HTTPS address users reach (`zwvl check --live` probes it when TLS is declared)."""
    monitoring: Literal["node-exporter", "blackbox", "postgres-exporter", "http", "none"] = "none"
    protocol: Literal["tcp", "udp", "sctp"] = "tcp"
    ports: list[Annotated[int, Field(ge=1, le=65535)]] = []
    """Where it listens on its devices: NetBox's application service on each device."""
    description: str = ""


class DataSource(Part):
    name: str
    system: str
    authoritative: bool = False


class Dataset(SlugObj):
    name: str
    domain: Literal["mobility", "climate-energy", "open-data", "internal"]
    business_owner: str = ""
    classification: Literal["public", "internal", "confidential"]
    sources: list[DataSource]
    partners: list[Slug]
    oslo: str
    open_data: bool = False
    service: Slug
    stale_after_hours: Annotated[int, Field(ge=1)] = 24
    description: str = ""


class Software(SlugObj):
    product: str
    vendor: str
    domain: str
    contract: Literal["regional-framework", "local-purchase"]
    partners: list[Slug]


class SlaLevel(Part):
    name: str
    priority: Annotated[int, Field(ge=1, le=5)]
    acknowledge_minutes: Annotated[int, Field(ge=1)]
    resolve_minutes: Annotated[int, Field(ge=1)]
    business_hours: bool = True


class BusinessHours(Part):
    days: list[Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]]
    start: Annotated[str, Field(pattern=r"^\d\d:\d\d$")]
    end: Annotated[str, Field(pattern=r"^\d\d:\d\d$")]


class PoolGroup(Part):
    slug: Slug
    name: str
    role: Slug


class Helpdesk(OnlyObj):
    timezone: str = "Europe/Brussels"
    business_hours: BusinessHours
    sla: list[SlaLevel]
    default_sla: str
    categories: list[Slug]
    roles: dict[Slug, str]
    groups: list[PoolGroup]


class Naming(Part):
    device: str
    site: str


# The shared address space of RFC 6598: the only range the backbone and the lab may ever use, so
# that nothing the region or a test builds can collide with, or reach, a real network.
ADDRESSING_PLAN = IPv4Network("100.64.0.0/10")


class Addressing(Part):
    supernet: IPv4Network
    point_to_point: IPv4Network
    loopbacks: IPv4Network


class Standards(OnlyObj):
    approved_device_types: list[Slug]
    naming: Naming
    addressing: Addressing


class Waiver(Obj):
    rule: str
    object: str
    reason: str
    approver: str
    expires: dt.date

    @property
    def key(self) -> str:
        return f"{self.rule}:{self.object}"
