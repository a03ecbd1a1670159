"""Where the tooling finds NetBox: NETBOX_URL/NETBOX_TOKEN, or the local instance's credentials file.

Any NetBox works through the two environment variables; without them the tooling falls back to the
credentials file written by `zwvl netbox up` (see `devtools.netbox`).
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

ENV_URL = "NETBOX_URL"
ENV_TOKEN = "NETBOX_TOKEN"
ENV_CACHE_DIR = "ZWVL_CACHE_DIR"
DEFAULT_INSTANCE = "main"
DEFAULT_PORT = 8765
"""Port of the local NetBox (`zwvl netbox up`) on 127.0.0.1 when none is given or remembered."""
CREDENTIALS_FILE = "credentials.json"

_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")


class NetboxSettingsError(RuntimeError):
    """NetBox cannot be located: neither the environment nor a local instance says where it is."""


def default_cache_dir() -> Path:
    """The cache folder (outside the work tree): $ZWVL_CACHE_DIR, else ~/.cache/zwvl."""
    env = os.environ.get(ENV_CACHE_DIR, "").strip()
    if env:
        return Path(env).expanduser().resolve()
    return (Path.home() / ".cache" / "zwvl").resolve()


def cache_dir_or_default(cache_dir: Path | str | None) -> Path:
    return Path(cache_dir).expanduser().resolve() if cache_dir is not None else default_cache_dir()


def check_instance_name(name: str) -> str:
    """Instance names become folder and database names: lower-case letters, digits, '-' and '_'."""
    if not _NAME_RE.match(name):
        raise NetboxSettingsError(
            f"invalid instance name {name!r}: use 1-40 characters from a-z, 0-9, '-', '_' "
            "(starting with a letter or digit)"
        )
    return name


def instance_dir(name: str = DEFAULT_INSTANCE, cache_dir: Path | str | None = None) -> Path:
    """NETBOX_ROOT of a local instance: <cache>/instances/<name>."""
    return cache_dir_or_default(cache_dir) / "instances" / check_instance_name(name)


def credentials_path(name: str = DEFAULT_INSTANCE, cache_dir: Path | str | None = None) -> Path:
    """The local instance's credentials file (mode 0600): url, token, admin user."""
    return instance_dir(name, cache_dir) / CREDENTIALS_FILE


def read_credentials(path: Path) -> dict[str, str]:
    """Read a credentials file; raise NetboxSettingsError when missing or malformed."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise NetboxSettingsError(f"no credentials file at {path}") from exc
    except (OSError, ValueError) as exc:
        raise NetboxSettingsError(f"cannot read credentials file {path}: {exc.__class__.__name__}") from exc
    if not isinstance(data, dict) or not data.get("url") or not data.get("token"):
        raise NetboxSettingsError(f"credentials file {path} lacks 'url' or 'token'")
    return {str(k): str(v) for k, v in data.items()}


def resolve_netbox(cache_dir: Path | str | None = None, instance: str = DEFAULT_INSTANCE) -> tuple[str, str]:
    """Return (url, token) for the NetBox the tooling should talk to.

    NETBOX_URL and NETBOX_TOKEN in the environment win (both must be set); otherwise the credentials
    file of the local instance (`zwvl netbox up`) is read. The URL is returned without trailing slash.
    """
    url = os.environ.get(ENV_URL, "").strip()
    token = os.environ.get(ENV_TOKEN, "").strip()
    if url and token:
        return url.rstrip("/"), token
    if url or token:
        missing = ENV_TOKEN if url else ENV_URL
        raise NetboxSettingsError(
            f"{ENV_URL} and {ENV_TOKEN} must be set together; {missing} is missing or empty"
        )
    path = credentials_path(instance, cache_dir)
    try:
        creds = read_credentials(path)
    except NetboxSettingsError as exc:
        raise NetboxSettingsError(
            f"NetBox is not configured: set {ENV_URL} and {ENV_TOKEN}, or start the local instance "
            f"with `zwvl netbox up` ({exc})"
        ) from exc
    return creds["url"].rstrip("/"), creds["token"]
