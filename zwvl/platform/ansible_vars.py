"""Variables the platform playbooks take from the domain model, as JSON on stdout.

    python -m zwvl.platform.ansible_vars [--inventory DIR]

`services` maps each shared service to the devices it runs on (the playbooks group those NetBox
hosts); `request_tracker` holds the uniform SLA set and business hours for the request_tracker role.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from zwvl.inventory import Inventory, load_inventory
from zwvl.platform.plan import request_tracker_vars
from zwvl.repo import RepoNotFoundError, repo_root


def platform_vars(inv: Inventory) -> dict[str, object]:
    return {
        "services": {slug: list(svc.devices) for slug, svc in sorted(inv.services.items()) if svc.devices},
        "request_tracker": request_tracker_vars(inv),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--inventory", type=Path, default=None, help="default: inventory/ of the repository")
    args = parser.parse_args(argv)
    try:
        inventory = args.inventory or repo_root() / "inventory"
    except RepoNotFoundError as exc:
        parser.error(exc.message)
    json.dump(platform_vars(load_inventory(inventory)), sys.stdout, sort_keys=True)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
