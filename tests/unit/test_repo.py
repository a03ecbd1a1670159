"""zwvl.repo.repo_root: $ZWVL_REPO, else the first folder with inventory/ and pyproject.toml upwards."""

from __future__ import annotations

from pathlib import Path

import pytest

from zwvl.repo import RepoNotFoundError, repo_root


def _repo(path: Path) -> Path:
    (path / "inventory").mkdir(parents=True)
    (path / "pyproject.toml").write_text("[project]\n")
    return path


def test_env_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = _repo(tmp_path / "checkout")
    monkeypatch.setenv("ZWVL_REPO", str(root))
    monkeypatch.chdir(tmp_path)
    assert repo_root() == root.resolve()


def test_env_not_a_repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ZWVL_REPO", str(tmp_path))
    with pytest.raises(RepoNotFoundError, match="ZWVL_REPO"):
        repo_root()


def test_walks_up_from_the_current_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = _repo(tmp_path / "checkout")
    deep = root / "inventory" / "sites"
    deep.mkdir()
    monkeypatch.delenv("ZWVL_REPO", raising=False)
    monkeypatch.chdir(deep)
    assert repo_root() == root.resolve()


def test_clear_error_outside_a_checkout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ZWVL_REPO", raising=False)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(RepoNotFoundError, match="ZWVL_REPO"):
        repo_root()
