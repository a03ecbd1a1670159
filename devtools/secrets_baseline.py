"""Write .secrets.baseline for review: ``python -m devtools.secrets_baseline`` at the repository root.

It runs detect-secrets' own ``scan`` with the plugin set of SEC-no-secrets (zwvl.policy.secrets) and
the repository's detectors, then appends what only the history holds: secrets that lines of past
commits added and that the tree no longer has (detect-secrets scans no history). Review every entry
(each must be a false positive, e.g. a test fixture's planted fake) before committing the file.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from zwvl.policy.rules.security import HISTORY_COMMITS
from zwvl.policy.secrets import BASELINE, PLUGINS, Scanner, removed_secrets, scan_history

DETECTORS = "zwvl/policy/secret_detectors.py"
# detect-secrets' plugins that SEC-no-secrets leaves out (see PLUGINS)
_OFF = ["KeywordDetector", "IPPublicDetector", "CloudantDetector", "IbmCloudIamDetector"]
_OFF += ["IbmCosHmacDetector", "SoftlayerDetector"]


def main(root: Path) -> int:
    cmd = [str(Path(sys.executable).parent / "detect-secrets"), "scan", "--plugin", DETECTORS]
    cmd += [a for name in _OFF for a in ("--disable-plugin", name)]
    cmd += ["--disable-filter", "detect_secrets.filters.heuristic.is_sequential_string"]
    cmd += ["--exclude-files", r"^\.secrets\.baseline$"]
    for p in PLUGINS:
        if "limit" in p:
            flag = "--base64-limit" if p["name"].startswith("Base64") else "--hex-limit"
            cmd += [flag, str(p["limit"])]
    data = json.loads(subprocess.run(cmd, cwd=root, capture_output=True, check=True, text=True).stdout)
    for plugin in data["plugins_used"]:  # a path relative to the repository root, not this checkout
        if "path" in plugin:
            plugin["path"] = f"file://{DETECTORS}"
    results: dict[str, list[dict[str, object]]] = data["results"]
    known = {(f, r["type"], r["hashed_secret"]) for f, rs in results.items() for r in rs}
    with Scanner() as scanner:
        history, _ = scan_history(scanner, root, HISTORY_COMMITS)
    for h in removed_secrets(history, []):
        if (h.file, h.kind, h.hashed) not in known:
            known.add((h.file, h.kind, h.hashed))
            entry = {"type": h.kind, "filename": h.file, "hashed_secret": h.hashed, "is_verified": False}
            results.setdefault(h.file, []).append({**entry, "line_number": h.line, "commit": h.commit})
            print(f"history only: {h.file}:{h.line} {h.kind} ({h.commit})")
    data["results"] = {f: results[f] for f in sorted(results)}
    (root / BASELINE).write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    print(f"{BASELINE}: {sum(len(rs) for rs in results.values())} entries to review")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(Path.cwd()))
