"""Zuid-West-Vlaanderen regional operations tooling."""

__version__ = "0.1.0"
