"""`zwvl ansible-vars`: the playbooks' variables from the domain model, written or checked."""

from __future__ import annotations

from pathlib import Path

import click

from zwvl.cli.common import inventory_option, load_or_exit, output_options, write_or_check
from zwvl.platform.ansible_vars import VARS_FILE, render


@click.command("ansible-vars")
@inventory_option
@output_options(VARS_FILE)
def ansible_vars_command(inventory_dir: Path, output: Path, check: bool) -> None:
    """Write the helpdesk playbook's variables (SLA set, business hours, time zone) from the inventory.

    helpdesk.yml reads the file with vars_files; nothing runs Python on the Ansible controller.
    Exit 1 with --check when the checked-in file is out of date, 2 when the inventory is invalid.
    """
    write_or_check(output, render(load_or_exit(inventory_dir, 2)), check)
