"""Development and test tooling for zwvl (installed with the `dev` extra); not part of the product."""
