"""For the scripts under scripts/: run them with the repository's .venv whatever `python3` is first on PATH.

Stdlib only, so it works before the re-exec (Debian 12's own python3 is 3.11 without our packages).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path


def use_repo_venv(root: Path) -> None:
    """Re-execute the running script with ``root/.venv/bin/python`` when started by another interpreter.

    Does nothing inside the venv, or when there is no .venv (an interpreter the user set up
    themselves must then have the packages; the import that fails says which)."""
    venv = root / ".venv"
    python = venv / "bin" / "python"
    if Path(sys.prefix).resolve() == venv.resolve() or not python.exists():
        return
    os.execv(python, [str(python), sys.argv[0], *sys.argv[1:]])
