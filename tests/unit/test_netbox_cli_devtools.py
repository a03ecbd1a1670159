"""`zwvl netbox up|down|status` import the local NetBox (devtools) only when run, with a clear error."""

from __future__ import annotations

import subprocess
import sys

import pytest
from click.testing import CliRunner

from zwvl.cli import main


@pytest.mark.parametrize("args", [["up"], ["down"], ["status"]])
def test_clear_error_without_devtools(args: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "devtools.netbox", None)  # as if devtools were not installed
    result = CliRunner().invoke(main, ["netbox", *args])
    assert result.exit_code == 1
    assert "devtools" in result.output
    assert "pip install -e '.[dev]'" in result.output


def test_the_product_imports_without_devtools() -> None:
    code = "import sys; sys.modules['devtools'] = None; import zwvl.cli, zwvl.cli.netbox, zwvl.cli.lab"
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )
    assert proc.returncode == 0, proc.stderr
