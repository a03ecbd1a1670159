"""Rule implementations, one module per concern; importing this package registers them all."""

from zwvl.policy.rules import data, network, operations, procurement, security

__all__ = ["data", "network", "operations", "procurement", "security"]
