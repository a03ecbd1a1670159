"""NetBox ``tenancy``: partners and their contacts.

Forward: partners -> tenants in the tenant groups ``municipality`` / ``intermunicipal`` (custom
fields: code, team, the indicators' digital satisfaction, IT challenges/projects, eBox, MAGDA
document service, helpdesk membership); contacts, contact roles and their assignments to tenants.

Reverse: tenants -> partners (a missing or repeated code is made up from the slug), assignments of a
contact to a tenant -> contacts; the helpdesk, which NetBox does not hold, as a stub whose roles
cover the partners' headcounts.
"""

from __future__ import annotations

from zwvl.inventory import Inventory
from zwvl.model import Contact, Helpdesk, Partner
from zwvl.netbox.apps.common import DesiredState, Imported, file_of, key_of, source_where
from zwvl.netbox.kinds import Ref

TENANT_GROUPS = {"municipality": "Municipalities", "intermunicipal": "Intermunicipal partners"}
CONTACT_ROLE_NAMES = {
    "it-coordinator": "IT coordinator",
    "dpo": "Data protection officer",
    "security-officer": "Information security officer",
}

# ------------------------------------------------------------------------------------------ forward


def map_tenants(ds: DesiredState, inv: Inventory) -> None:
    ds.add_named("tenancy.tenantgroup", {p.type for p in inv.partners.values()}, TENANT_GROUPS)
    names: dict[str, str] = {}
    for p in inv.partners.values():
        ds.unique_name(names, "tenant", p.name, p)
        ds.add(
            "tenancy.tenant",
            {
                "slug": p.slug,
                "name": p.name,
                "group": Ref("tenancy.tenantgroup", (p.type,)),
                "description": p.description,
                "cf.partner_code": p.code,
                "cf.partner_team": p.team,
                "cf.digital_satisfaction_pct": p.digital_satisfaction_pct,
                "cf.it_challenges_2022": p.it_challenges_2022,
                "cf.it_projects_2022": p.it_projects_2022,
                "cf.ebox": p.ebox,
                "cf.magda_document_service": p.magda_document_service,
                "cf.helpdesk": p.helpdesk.model_dump(mode="json") if p.helpdesk else None,
            },
            *source_where(inv, p),
        )


def map_contacts(ds: DesiredState, inv: Inventory) -> None:
    ds.add_named("tenancy.contactrole", {c.role for c in inv.contacts}, CONTACT_ROLE_NAMES)
    for c in inv.contacts:
        at = source_where(inv, c)
        ds.add(
            "tenancy.contact",
            {"name": c.name, "email": c.email, "phone": c.phone, "description": ""},
            *at,
        )
        ds.add(
            "tenancy.contactassignment",
            {
                "object": Ref("tenancy.tenant", (c.partner,)),
                "contact": Ref("tenancy.contact", (c.name,)),
                "role": Ref("tenancy.contactrole", (c.role,)),
                "priority": None,
            },
            *at,
        )


# ------------------------------------------------------------------------------------------ reverse


def import_partners(im: Imported) -> None:
    codes: set[str] = set()
    for t in im.of("tenancy.tenant"):
        slug = t.key[0]
        f = t.fields
        code = f.get("cf.partner_code") or ""
        if not code or code in codes:
            base = "".join(ch for ch in slug if ch.isalnum())[:3].ljust(3, "x")
            code, n = base, 0
            while code in codes:
                n += 1
                code = f"{base[:2]}{n % 10}"
        codes.add(code)
        group = key_of(f.get("group"))
        data = im.dump(
            Partner,
            {
                "slug": slug,
                "name": f.get("name") or slug,
                "code": code,
                "type": group if group in ("municipality", "intermunicipal") else "municipality",
                "team": f.get("cf.partner_team") or f"@{slug}",
                "digital_satisfaction_pct": f.get("cf.digital_satisfaction_pct"),
                "it_challenges_2022": f.get("cf.it_challenges_2022"),
                "it_projects_2022": f.get("cf.it_projects_2022"),
                "ebox": bool(f.get("cf.ebox")),
                "magda_document_service": f.get("cf.magda_document_service") or "not-started",
                "helpdesk": f.get("cf.helpdesk"),
                "description": f.get("description") or "",
            },
            f"tenant {slug}",
        )
        if data is None:
            continue
        rel = file_of(t, f"partners/{slug}/partner.yaml")
        im.partners[slug] = data
        im.partner_file[slug] = rel
        im.set(rel, "partner", data)
        im.counts["partners"] += 1


def import_contacts(im: Imported) -> None:
    contacts = {r.key[0]: r for r in im.of("tenancy.contact")}
    for a in im.of("tenancy.contactassignment"):
        obj = a.fields.get("object")
        if not isinstance(obj, Ref) or obj.kind != "tenancy.tenant" or obj.key[0] not in im.partners:
            continue
        c = contacts.get(key_of(a.fields.get("contact")) or "")
        role = key_of(a.fields.get("role"))
        if c is None or role is None:
            continue
        data = im.dump(
            Contact,
            {
                "partner": obj.key[0],
                "role": role,
                "name": c.key[0],
                "email": c.fields.get("email") or "",
                "phone": c.fields.get("phone") or "",
            },
            f"contact {c.key[0]}",
        )
        if data is not None:
            im.add(file_of(a, im.partner_file[obj.key[0]]), "contacts", data)
            im.counts["contacts"] += 1


def import_helpdesk(im: Imported) -> None:
    """Not in NetBox: a stub whose roles cover the partners' headcounts."""
    roles = sorted({r for p in im.partners.values() for r in (p.get("helpdesk") or {}).get("headcount", {})})
    helpdesk = im.dump(
        Helpdesk,
        {
            "business_hours": {"days": ["mon", "tue", "wed", "thu", "fri"], "start": "08:30", "end": "17:00"},
            "sla": [
                {"name": "P3-normal", "priority": 3, "acknowledge_minutes": 240, "resolve_minutes": 2550}
            ],
            "default_sla": "P3-normal",
            "categories": ["incident"],
            "roles": {r: r.replace("-", " ").capitalize() for r in roles},
            "groups": [],
        },
        "helpdesk",
    )
    if helpdesk is not None:
        im.set("helpdesk/pool.yaml", "helpdesk", helpdesk)
