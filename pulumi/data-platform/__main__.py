"""Pulumi program: the shared data platform (see data_platform.py)."""

from data_platform import main

main()
