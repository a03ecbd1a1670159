"""For the scripts under scripts/: run them with the repository's .venv whatever `python3` is first on PATH.

Stdlib only, so it works before the re-exec (Debian 12's own python3 is 3.11 without our packages).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

VENV = Path(__file__).resolve().parents[1] / ".venv"


def use_repo_venv() -> None:
    """Re-execute the running script with ``.venv/bin/python`` when started by another interpreter.

    Does nothing inside the venv, or when there is no .venv (an interpreter the user set up
    themselves must then have the packages; the import that fails says which)."""
    python = VENV / "bin" / "python"
    if Path(sys.prefix).resolve() == VENV.resolve() or not python.exists():
        return
    os.execv(python, [str(python), sys.argv[0], *sys.argv[1:]])
