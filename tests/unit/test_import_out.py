"""`zwvl import --out DIR [--force]`: which folders it refuses, and the swap that replaces one.

What happens with a real NetBox (down, failing mid-read, up) is in
tests/integration/test_import_out.py; here the checks made before NetBox is read and the swap.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.conftest import REPO
from zwvl.netbox import import_out
from zwvl.netbox.import_out import ImportError_, _swap, check_out


def _tree(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _folder(path: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        (path / rel).parent.mkdir(parents=True, exist_ok=True)
        (path / rel).write_text(text)
    return path


def test_absent_or_empty_folders_need_no_force(tmp_path: Path) -> None:
    assert check_out(tmp_path / "new", force=False) is False
    (tmp_path / "empty").mkdir()
    assert check_out(tmp_path / "empty", force=False) is False


def test_a_folder_of_inventory_yaml_is_replaced_only_with_force(tmp_path: Path) -> None:
    out = _folder(tmp_path / "out", {"region.yaml": "region: {}\n", "partners/a/sites.yml": "sites: []\n"})
    with pytest.raises(ImportError_, match=r"out is not empty \(pass --force to replace it\)"):
        check_out(out, force=False)
    assert check_out(out, force=True) is True


@pytest.mark.parametrize("force", [False, True])
def test_a_file_is_refused(tmp_path: Path, force: bool) -> None:
    (tmp_path / "out").write_text("not a folder\n")
    with pytest.raises(ImportError_, match="out is a file, not a folder: it is not replaced"):
        check_out(tmp_path / "out", force=force)


@pytest.mark.parametrize("target", ["folder", "missing"])
def test_a_symbolic_link_is_refused(tmp_path: Path, target: str) -> None:
    """The swap would replace the link, not the folder it names: name the folder itself."""
    (tmp_path / "folder").mkdir()
    (tmp_path / "out").symlink_to(tmp_path / target)
    with pytest.raises(ImportError_, match=rf"out is a symbolic link \(to {tmp_path}/{target}\)"):
        check_out(tmp_path / "out", force=True)


def test_a_folder_holding_other_files_is_not_replaced(tmp_path: Path) -> None:
    out = _folder(tmp_path / "out", {"region.yaml": "region: {}\n", "notes/todo.txt": "keep me\n"})
    with pytest.raises(ImportError_, match=r"out holds notes/todo.txt, which is not inventory YAML"):
        check_out(out, force=True)
    (out / "notes" / "todo.txt").unlink()
    (out / "notes" / "elsewhere").symlink_to(tmp_path)
    with pytest.raises(ImportError_, match=r"out holds notes/elsewhere, which is not inventory YAML"):
        check_out(out, force=True)


def test_the_current_folder_and_its_parents_are_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = _folder(tmp_path / "out", {"region.yaml": "region: {}\n"})
    (out / "sub").mkdir()
    monkeypatch.chdir(out / "sub")  # chdir only: the process's own current folder, nothing faked
    for path in (Path("."), Path(".."), out):
        with pytest.raises(ImportError_, match="holds the current folder: it is not replaced"):
            check_out(path, force=True)


def test_the_inventory_zwvl_reads_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    """./inventory is the source of truth; an import (stubs for standards and helpdesk) goes beside it."""
    monkeypatch.chdir(REPO)  # chdir only, as a user runs zwvl from the checkout
    before = _tree(REPO / "inventory")
    for path in (Path("inventory"), REPO / "inventory", Path("inventory/../inventory")):
        with pytest.raises(ImportError_, match="is the inventory zwvl reads: an import does not replace it"):
            check_out(path, force=True)
    assert _tree(REPO / "inventory") == before


def test_the_swap_replaces_in_one_step_and_removes_the_old_folder(tmp_path: Path) -> None:
    out = _folder(tmp_path / "out", {"old.yaml": "old\n"})
    new = _folder(tmp_path / ".out.importing-x", {"new.yaml": "new\n", "sub/b.yaml": "b\n"})
    inode = out.stat().st_ino
    warnings: list[str] = []
    _swap(new, out, True, warnings.append)
    assert _tree(out) == {"new.yaml": b"new\n", "sub/b.yaml": b"b\n"}
    assert out.stat().st_ino != inode  # the new folder itself took the name
    assert sorted(os.listdir(tmp_path)) == ["out"] and warnings == []


def test_the_swap_into_an_absent_or_empty_folder_is_a_rename(tmp_path: Path) -> None:
    for out in (tmp_path / "absent", tmp_path / "empty"):
        if out.name == "empty":
            out.mkdir()
        new = _folder(tmp_path / ".importing", {"a.yaml": "a\n"})
        _swap(new, out, False, print)
        assert _tree(out) == {"a.yaml": b"a\n"} and not new.exists()


def test_the_swap_never_merges_into_a_folder_that_filled_up_meanwhile(tmp_path: Path) -> None:
    """Checked empty, then written to by someone else before the swap: the swap fails, both stay."""
    out = _folder(tmp_path / "out", {"theirs.yaml": "theirs\n"})
    new = _folder(tmp_path / ".importing", {"a.yaml": "a\n"})
    with pytest.raises(OSError):
        _swap(new, out, False, print)
    assert _tree(out) == {"theirs.yaml": b"theirs\n"} and _tree(new) == {"a.yaml": b"a\n"}


def test_the_swap_without_an_atomic_exchange(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Where renameat2(RENAME_EXCHANGE) is missing (other kernels, some file systems; this machine's
    ext4 has it, so it is switched off here): rename aside, rename in, and on a failure of the second
    rename the old folder is put back."""
    # the fallback cannot be reached on this machine otherwise: its kernel and ext4 support the exchange
    monkeypatch.setattr(import_out, "_exchange", lambda a, b: False)
    out = _folder(tmp_path / "out", {"old.yaml": "old\n"})
    new = _folder(tmp_path / ".out.importing-x", {"new.yaml": "new\n"})
    _swap(new, out, True, print)
    assert _tree(out) == {"new.yaml": b"new\n"} and sorted(os.listdir(tmp_path)) == ["out"]
    with pytest.raises(FileNotFoundError):  # the second rename fails: the new folder is gone
        _swap(tmp_path / ".out.importing-gone", out, True, print)
    assert _tree(out) == {"new.yaml": b"new\n"} and sorted(os.listdir(tmp_path)) == ["out"]


def test_the_exchange_swaps_two_folders(tmp_path: Path) -> None:
    a = _folder(tmp_path / "a", {"x.yaml": "x\n"})
    b = _folder(tmp_path / "b", {"y.yaml": "y\n"})
    assert import_out._exchange(a, b) is True  # Linux with ext4 or tmpfs, as on these machines
    assert _tree(a) == {"y.yaml": b"y\n"} and _tree(b) == {"x.yaml": b"x\n"}
    with pytest.raises(FileNotFoundError):
        import_out._exchange(a, tmp_path / "missing")
