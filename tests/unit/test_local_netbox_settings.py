"""The local NetBox's extra settings: checked before anything is written; ALLOWED_HOSTS adds to the
local names (a forwarder reaching gunicorn under another address) and never opens them to any host."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from devtools.netbox.common import LocalNetboxError, layout
from devtools.netbox.config import extra_settings, prepare_root


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ({"DATABASES": {}}, "written by zwvl"),
        ({"SECRET_KEY": "x"}, "written by zwvl"),
        ({"max_page_size": 5}, "invalid NetBox setting name"),
        ({"ALLOWED_HOSTS": "198.18.0.1"}, "ALLOWED_HOSTS: a list"),
        ({"ALLOWED_HOSTS": ["*"]}, "no '*'"),
        ({"ALLOWED_HOSTS": [""]}, "ALLOWED_HOSTS: a list"),
    ],
)
def test_refused_settings(given: dict[str, Any], message: str) -> None:
    with pytest.raises(LocalNetboxError, match=message):
        extra_settings(given)


def test_allowed_hosts_extend_the_local_names(tmp_path: Path) -> None:
    lay = layout(tmp_path / "cache")
    root = tmp_path / "instance"
    (root / "conf").mkdir(parents=True)
    (root / "conf" / "__init__.py").write_text("")  # as `netbox setup` leaves it
    settings = extra_settings({"ALLOWED_HOSTS": ["198.18.0.1"], "MAX_PAGE_SIZE": 250})
    assert prepare_root(lay, root, "zwvl_x", 5, settings)
    text = (root / "conf" / "configuration.py").read_text()
    assert "ALLOWED_HOSTS = ['127.0.0.1', 'localhost', '198.18.0.1']\n" in text
    assert "MAX_PAGE_SIZE = 250" in text
    assert text.count("ALLOWED_HOSTS") == 1
    assert not prepare_root(lay, root, "zwvl_x", 5, settings)  # unchanged: no restart needed
