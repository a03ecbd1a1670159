"""Pulumi program: the pooled helpdesk (see zwvl.platform.programs.helpdesk)."""

from zwvl.platform.programs import helpdesk_main

helpdesk_main()
