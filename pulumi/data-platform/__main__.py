"""Pulumi program: the shared data platform (see zwvl.platform.programs.data_platform)."""

from zwvl.platform.programs import data_platform_main

data_platform_main()
