"""`zwvl import`: read NetBox and put the inventory it describes in place of the output folder.

The state is read exactly as the reconciler reads it and mapped back to the domain model's sections
by the per-app modules (``zwvl.netbox.apps``, ``import_state``); this module owns the output folder.

NetBox is read completely before the output folder is touched. The inventory is written into a
temporary folder beside it (same file system), validated with the ordinary loader, and then takes
the folder's place in one step (`_swap`), so an unreachable NetBox, a NetBox error or an import that
does not validate leaves the folder exactly as it was.
"""

from __future__ import annotations

import ctypes
import dataclasses
import errno
import os
import shutil
import sys
import tempfile
from pathlib import Path

from zwvl.inventory import InventoryError, load_inventory
from zwvl.netbox.apps import import_state
from zwvl.netbox.apps.common import ImportResult, Warn
from zwvl.netbox.client import NetboxClient
from zwvl.netbox.state import read_state


class ImportError_(RuntimeError):
    """The import cannot be written (e.g. the output folder is not empty)."""


def _entries_not_inventory(folder: Path) -> str | None:
    """The first entry of `folder` that is neither a folder nor a YAML file (as the loader reads)."""
    for dirpath, dirs, names in os.walk(folder):
        for name in sorted(dirs):
            if os.path.islink(os.path.join(dirpath, name)):
                return os.path.relpath(os.path.join(dirpath, name), folder)
        for name in sorted(names):
            if not name.endswith((".yaml", ".yml")):
                return os.path.relpath(os.path.join(dirpath, name), folder)
    return None


def _contains(folder: Path, path: Path) -> bool:
    return path == folder or folder in path.parents


def check_out(out: Path, force: bool) -> bool:
    """Refuse an output folder that is not safe to write or to replace, before NetBox is read.

    True when ``out`` holds something the import will replace (only with ``force``). A symbolic
    link, a file or a mount point is never replaced (the swap renames the folder itself); with
    ``force`` the folder must hold nothing but folders and YAML files, must not hold the current
    folder, and must not be the inventory the other commands read (``./inventory``): an import is
    lossy (NetBox holds no standards or helpdesk SLAs), so it goes to another folder to compare.
    """
    if out.is_symlink():
        raise ImportError_(
            f"{out} is a symbolic link (to {os.readlink(out)}): name the folder itself "
            "(the import replaces a folder, never a link)"
        )
    if not out.exists():
        return False
    if not out.is_dir():
        raise ImportError_(f"{out} is a file, not a folder: it is not replaced")
    real = Path(os.path.realpath(out))
    if os.path.ismount(real):
        raise ImportError_(f"{out} is a mount point: it cannot be replaced; import into a folder inside it")
    if _contains(real, Path(os.path.realpath(os.getcwd()))):
        raise ImportError_(f"{out} holds the current folder: it is not replaced")
    if not any(real.iterdir()):
        return False
    if not force:
        raise ImportError_(f"{out} is not empty (pass --force to replace it)")
    if real == Path(os.path.realpath("inventory")):
        raise ImportError_(
            f"{out} is the inventory zwvl reads: an import does not replace it (NetBox holds no "
            "standards or helpdesk SLAs); import into another folder and compare"
        )
    other = _entries_not_inventory(real)
    if other is not None:
        raise ImportError_(
            f"{out} holds {other}, which is not inventory YAML: --force replaces only a folder of "
            "folders and .yaml files"
        )
    return True


AT_FDCWD = -100
RENAME_EXCHANGE = 2


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths in one step (Linux renameat2 RENAME_EXCHANGE); False where unsupported."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):  # no renameat2 in this C library (glibc < 2.28, musl)
        return False
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    if renameat2(AT_FDCWD, os.fsencode(a), AT_FDCWD, os.fsencode(b), RENAME_EXCHANGE) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):  # kernel or file system without it
        return False
    raise OSError(err, os.strerror(err), str(a), None, str(b))


def _swap(new: Path, out: Path, replace: bool, warn: Warn) -> None:
    """Put the folder ``new`` in the place of ``out``.

    ``out`` absent or empty: one rename (it fails, changing nothing, if ``out`` gained files since it
    was checked). ``out`` to be replaced: one atomic exchange, after which ``new`` holds the old
    folder and is removed. Where the exchange is not supported, ``out`` is renamed aside and ``new``
    renamed in; between those two renames ``out`` is absent (a crash there leaves the old folder as
    ``.NAME.replaced-*`` and the new one as ``.NAME.importing-*`` beside it) and a failure of the
    second rename puts the old folder back.
    """
    if not replace:
        os.rename(new, out)
        return
    if _exchange(new, out):
        old = new
    else:
        old = Path(tempfile.mkdtemp(prefix=f".{out.name}.replaced-", dir=out.parent))
        os.rename(out, old)  # over the empty folder just made
        try:
            os.rename(new, out)
        except BaseException:
            os.rename(old, out)
            raise
    try:
        shutil.rmtree(old)
    except OSError as exc:
        warn(f"the replaced folder is left at {old}: {exc}")


def import_netbox(
    client: NetboxClient, out: Path, *, force: bool = False, warn: Warn | None = None
) -> ImportResult:
    """Read NetBox, write the inventory under ``out`` and validate it with the loader.

    ``out`` is checked first (``check_out``) and touched only after NetBox has been read completely
    and the result validates; it is then replaced in one step (``_swap``).
    """
    warnings: list[str] = []

    def _warn(msg: str) -> None:
        warnings.append(msg)
        if warn is not None:
            warn(msg)

    replace = check_out(out, force)
    state = read_state(client)  # everything, before anything is written
    target = Path(os.path.abspath(out))
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.importing-", dir=target.parent))
        os.chmod(tmp, _folder_mode(target))  # mkdtemp's 0700 would otherwise become the folder's
    except OSError as exc:
        raise ImportError_(f"cannot write beside {out}: {exc.strerror or exc}") from None
    try:
        result = import_state(state, tmp, url=client.url, warn=_warn)
        try:
            load_inventory(tmp)
        except InventoryError as exc:  # name the problems by the folder asked for, not the temporary one
            raise InventoryError(
                [dataclasses.replace(p, file=_renamed(p.path, tmp.name, target.name)) for p in exc.problems]
            ) from None
        _swap(tmp, target, replace, _warn)
    except OSError as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        raise ImportError_(f"cannot write {out}: {exc}; it was left as it was") from None
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    result.out = out
    result.warnings = warnings
    return result


def _folder_mode(out: Path) -> int:
    """The permissions the output folder keeps (when replaced) or gets (as ``mkdir`` would)."""
    if out.is_dir():
        return out.stat().st_mode & 0o7777
    umask = os.umask(0)
    os.umask(umask)
    return 0o777 & ~umask


def _renamed(path: str, old: str, new: str) -> str:
    return new + path[len(old) :] if path == old or path.startswith(old + "/") else path


__all__ = ["ImportError_", "ImportResult", "check_out", "import_netbox"]
