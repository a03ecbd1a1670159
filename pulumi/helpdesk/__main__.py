"""Pulumi program: the pooled helpdesk (see helpdesk.py)."""

from helpdesk import main

main()
