"""The provider library in Pulumi's state: providers pickled under their old module paths still load,
and every provider keeps its old name importable. (The programs' resource graphs are tested beside
them, in `pulumi/<project>/tests/`.)"""

from __future__ import annotations

import pytest

from devtools.pulumi_mocks import decode_provider
from zwvl.platform.providers import postgres as pg
from zwvl.platform.providers import rt

# What `pulumi up` wrote into the state before the providers became a package (dill, protocol 4):
# a RoleProvider and a QueueProvider pickled by their old module path.
OLD_STATE_PROVIDERS = {
    "zwvl.platform.pg.RoleProvider": "gASVOQAAAAAAAACMEHp3dmwucGxhdGZvcm0ucGeUjAxSb2xlUHJvdmlkZXKU"
    "k5QpgZR9lIwIc2V0dGluZ3OUfZRzYi4=",
    "zwvl.platform.rt.QueueProvider": "gASVOgAAAAAAAACMEHp3dmwucGxhdGZvcm0ucnSUjA1RdWV1ZVByb3ZpZGVy"
    "lJOUKYGUfZSMCHNldHRpbmdzlH2Uc2Iu",
}


@pytest.mark.parametrize("old", sorted(OLD_STATE_PROVIDERS))
def test_providers_pickled_under_their_old_module_still_load(old: str) -> None:
    """refresh, destroy and the delete half of a replacement load the provider from the old state."""
    provider = decode_provider({"__provider": OLD_STATE_PROVIDERS[old]})
    new = {"RoleProvider": pg.RoleProvider, "QueueProvider": rt.QueueProvider}[old.rsplit(".", 1)[1]]
    assert type(provider) is new
    assert provider.settings == {}


def test_every_provider_keeps_its_old_name() -> None:
    from zwvl.platform import pg as old_pg
    from zwvl.platform import rt as old_rt

    kinds = {
        old_pg: (pg, ["Role", "Database", "Schema", "Table", "Grant", "Membership", "Password"]),
        old_rt: (
            rt,
            ["Queue", "User", "Group", "GroupMembers", "CustomField", "CustomFieldQueues", "QueueRights"],
        ),
    }
    for old, (package, names) in kinds.items():
        for name in names:
            assert getattr(old, f"{name}Provider") is getattr(package, name).provider_type
