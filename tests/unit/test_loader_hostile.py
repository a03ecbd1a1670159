"""Hostile files: each is refused as one problem naming its file (and line), in bounded time and memory.

The files are generated here, in a copy of the region. The cases that would exhaust memory or hang
if the loader regressed (alias expansion, deep nesting, a FIFO) load in a child process limited to
512 MiB of address space, so a regression fails with MemoryError instead of taking the machine; the
child's timeout only stops a hang, it measures nothing.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.conftest import REPO, Region
from zwvl.inventory import InventoryError
from zwvl.yamlsrc import MAX_DEPTH, MAX_FILE_BYTES, MAX_NODES, YamlError, load_text

ADDRESS_SPACE = 512 * 2**20
"""Loading the region takes about 45 MB of address space here, the refused alias bomb about 95 MB."""


def _load_bounded(inventory: Path) -> list[str]:
    """The problems of loading ``inventory`` in a child limited to ADDRESS_SPACE bytes."""
    code = textwrap.dedent(
        f"""
        import json, resource, sys
        from pathlib import Path
        resource.setrlimit(resource.RLIMIT_AS, ({ADDRESS_SPACE}, {ADDRESS_SPACE}))
        from zwvl.inventory import InventoryError, load_inventory
        try:
            load_inventory(Path(sys.argv[1]))
        except InventoryError as exc:
            print(json.dumps([str(p) for p in exc.problems]))
        else:
            print("[]")
        """
    )
    proc = subprocess.run(
        [sys.executable, "-c", code, str(inventory)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    problems: list[str] = json.loads(proc.stdout)
    return problems


def _laughs_in_lists(levels: int = 9) -> str:
    lines = ['lol0: &lol0 ["lol"]']
    for i in range(1, levels + 1):
        lines.append(f"lol{i}: &lol{i} [" + ", ".join([f"*lol{i - 1}"] * 10) + "]")
    return "\n".join(lines) + "\n"  # 10**9 strings once expanded


def _laughs_in_mappings(levels: int = 40) -> str:
    lines = ["m0: &m0 {x: 1}"]
    for i in range(1, levels + 1):
        lines.append(f"m{i}: &m{i} {{a: *m{i - 1}, b: *m{i - 1}}}")
    return "\n".join(lines) + "\n"  # 2**40 mappings once expanded


@pytest.mark.parametrize("text", [_laughs_in_lists(), _laughs_in_mappings()], ids=["lists", "mappings"])
def test_billion_laughs_is_refused_at_its_line(region: Region, text: str) -> None:
    region.write("inventory/extra/laughs.yaml", text)
    problems = _load_bounded(region.inventory)
    assert len(problems) == 1, problems
    where, message = problems[0].split(": ", 1)
    path, line, _col = where.split(":")
    assert path == "inventory/extra/laughs.yaml"
    assert 1 <= int(line) <= len(text.splitlines())
    assert message.startswith(f"the document builds more than {MAX_NODES:,} nodes here"), message


def test_aliases_within_the_limit_load(region: Region) -> None:
    """yaml.safe_dump writes an alias for a list used twice, as in the region's software file."""
    text = (region.inventory / "software" / "applications.yaml").read_text()
    assert "&id001" in text and "*id001" in text
    software = region.load().software
    shared = [s for s in software.values() if len(s.partners) > 1]
    assert len({tuple(s.partners) for s in shared}) < len(shared)  # two entries share one list


@pytest.mark.parametrize(
    ("text", "line", "col"),
    [
        # the top mapping is level 1: level 101 is the 100th "[" (libyaml's own limit is 1000)
        ("sites: " + "[" * 999 + "]" * 999 + "\n", 1, 7 + MAX_DEPTH),
        # a sequence and a mapping per line: level 101 is the mapping on line 51, after 99 spaces and "- "
        ("sites:\n" + "".join(" " * i + "- x:\n" for i in range(1, 200, 2)), 51, 102),
    ],
    ids=["flow", "block"],
)
def test_deep_nesting_is_refused_at_its_line(region: Region, text: str, line: int, col: int) -> None:
    region.write("inventory/extra/deep.yaml", text)
    problems = _load_bounded(region.inventory)
    assert problems == [
        f"inventory/extra/deep.yaml:{line}:{col}: nested more than {MAX_DEPTH} levels deep: refused"
    ]


def _depth() -> int:
    frame, n = sys._getframe(), 0
    while frame is not None:
        frame, n = frame.f_back, n + 1  # type: ignore[assignment]
    return n


def test_a_recursion_error_while_building_is_a_problem_with_its_line() -> None:
    """Nesting within MAX_DEPTH, but a stack that runs out first (a caller already deep in it)."""
    text = "a:\n  b: " + "[" * 80 + "]" * 80 + "\n"
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(_depth() + 40)
    try:
        with pytest.raises(YamlError) as exc:
            load_text(text, "x.yaml")
    finally:
        sys.setrecursionlimit(limit)
    problem = exc.value.problem
    assert (problem.path, problem.line, problem.message) == (
        "x.yaml",
        2,
        "nested too deeply to build: refused",
    )
    assert 6 < problem.col < 6 + 80  # the innermost list reached


def test_a_file_over_the_size_limit_is_not_read(region: Region) -> None:
    size = MAX_FILE_BYTES + 1
    region.write("inventory/extra/big.yaml", b"vlans: []\n" + b"#" * (size - 11) + b"\n")
    with pytest.raises(InventoryError) as exc:
        region.load()
    assert [str(p) for p in exc.value.problems] == [
        f"inventory/extra/big.yaml:1:1: file is {size:,} bytes, over the limit of {MAX_FILE_BYTES:,} bytes "
        f"(1 MiB) for one inventory file: split it"
    ]


def test_a_file_of_exactly_the_size_limit_loads(region: Region) -> None:
    region.write("inventory/extra/big.yaml", b"vlans: []\n" + b"#" * (MAX_FILE_BYTES - 11) + b"\n")
    assert (region.inventory / "extra/big.yaml").stat().st_size == MAX_FILE_BYTES
    assert len(region.load().partners) == 15


def test_a_fifo_named_yaml_is_refused_without_waiting(region: Region) -> None:
    (region.inventory / "extra").mkdir()
    os.mkfifo(region.inventory / "extra" / "pipe.yaml")
    assert _load_bounded(region.inventory) == [
        "inventory/extra/pipe.yaml:1:1: not a regular file, expected YAML"
    ]


def test_symbolic_links_that_leave_the_folder_are_refused(region: Region, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.yaml").write_text("vlans: []\n")
    (region.inventory / "extra").mkdir()
    (region.inventory / "extra" / "file.yaml").symlink_to(outside / "secret.yaml")
    (region.inventory / "extra" / "folder").symlink_to(outside)
    (region.inventory / "extra" / "dangling.yaml").symlink_to(outside / "gone.yaml")
    with pytest.raises(InventoryError) as exc:
        region.load()
    assert [str(p) for p in exc.value.problems] == [
        f"inventory/extra/dangling.yaml:1:1: symbolic link to the file {outside}/gone.yaml, outside the "
        "inventory folder: refused",
        f"inventory/extra/file.yaml:1:1: symbolic link to the file {outside}/secret.yaml, outside the "
        "inventory folder: refused",
        f"inventory/extra/folder:0:0: symbolic link to the folder {outside}, outside the inventory folder: "
        "refused",
    ]


def test_symbolic_links_inside_the_folder_are_fine(region: Region) -> None:
    """A linked file inside is read; a linked folder inside is loaded once, under its own path (so a
    link to the folder itself is no loop)."""
    extra = region.inventory / "extra"
    extra.mkdir()
    (extra / "spare-vlan.txt").write_text("vlans:\n  - {partner: menen, vid: 3901, name: spare}\n")
    (extra / "spare.yaml").symlink_to("spare-vlan.txt")
    (extra / "menen-again").symlink_to(region.inventory / "partners" / "menen")
    (extra / "loop").symlink_to("..")
    inv = region.load()
    assert "extra/spare.yaml" in inv.files
    assert not [f for f in inv.files if f.startswith(("extra/menen-again/", "extra/loop/"))]
    assert [v.name for v in inv.vlans if v.vid == 3901] == ["spare"]
    assert len(inv.partners) == 15


def test_a_symlinked_inventory_folder_is_read(region: Region, tmp_path: Path) -> None:
    """The folder given may itself be a link: inside means inside its target."""
    link = tmp_path / "via-link"
    link.symlink_to(region.inventory)
    from zwvl.inventory import load_inventory

    assert len(load_inventory(link).partners) == 15


def test_an_unreadable_file_is_a_problem(region: Region) -> None:
    if os.geteuid() == 0:
        # root reads any file whatever its mode; a dangling link inside gives the same open error
        (region.inventory / "extra").mkdir()
        (region.inventory / "extra" / "gone.yaml").symlink_to("nothing-here.yaml")
    else:  # pragma: no cover - the suite runs as root
        region.write("inventory/extra/gone.yaml", "vlans: []\n").chmod(0)
    with pytest.raises(InventoryError) as exc:
        region.load()
    problems = [str(p) for p in exc.value.problems]
    assert len(problems) == 1 and problems[0].startswith(
        "inventory/extra/gone.yaml:1:1: cannot read the file: "
    )


def test_long_values_are_quoted_short_in_problems() -> None:
    with pytest.raises(YamlError) as exc:
        load_text("a: !!bool " + "y" * 10_000 + "\n", "x.yaml")
    assert len(str(exc.value)) < 200 and "(10,000 characters)" in str(exc.value)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("https://helpdesk.zwvl.be/" + "a" * 5000, "String should have at most 2048 characters"),
        ("https://helpdesk.zwvl.be/\x00\x1b[2J", "printable ASCII characters without spaces"),
        ("https://helpdesk.zwvl.be/\u202e", "printable ASCII characters without spaces"),
        ("https://xn--80ak6aa92e.com\u0000.zwvl.be/", "printable ASCII characters without spaces"),
        (["https://helpdesk.zwvl.be/"], "Input should be a valid string"),
    ],
    ids=["long", "control-characters", "bidi-override", "nul-in-host", "a-list"],
)
def test_a_hostile_service_url_is_one_problem_at_its_line(region: Region, url: object, message: str) -> None:
    text = (region.root / "inventory/platform/services.yaml").read_text()
    text = text.replace("  url: https://helpdesk.zwvl.be/\n", f"  url: {json.dumps(url)}\n")
    path = region.write("inventory/platform/services.yaml", text)
    with pytest.raises(InventoryError) as exc:
        region.load()
    problems = [str(p) for p in exc.value.problems]
    assert len(problems) == 1, problems
    line = next(i for i, t in enumerate(path.read_text().splitlines(), 1) if t.startswith("  url: "))
    assert problems[0].startswith(f"inventory/platform/services.yaml:{line}:3: service 'helpdesk': url: ")
    assert message in problems[0] and len(problems[0]) < 300, problems[0]
