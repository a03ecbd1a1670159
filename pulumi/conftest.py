"""What the unit tests beside the Pulumi programs (`pulumi/<project>/tests/`) share.

The programs run under `pulumi.runtime.set_mocks` (`devtools.pulumi_mocks`): no CLI, no services. The
test folders are not packages, and each test module has its own name (`test_<project>.py`), so
pytest imports each once, next to `tests/` (whose modules are `tests.*`).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from zwvl.inventory import Inventory, load_inventory

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def inventory() -> Inventory:
    return load_inventory(REPO / "inventory")
