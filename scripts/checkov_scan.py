"""Scan the template as CloudFormation deploys it (Fn::ForEach expanded, SAM translated) with checkov.

Every finding is either fixed or skipped beside its resource in template.yaml (`Metadata: checkov: skip:`
with a one-line reason); this exits 1 on any failed check, and on a skip without a reason.
Usage: .venv/bin/python scripts/checkov_scan.py [--checkov PATH] [--list]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "functions")]

from tests import translated  # noqa: E402

OUT = ROOT / ".local" / "checkov"
DEFAULT_CHECKOV = ROOT / ".venv-checkov" / "bin" / "checkov"


def scan(checkov: Path) -> dict:
    """checkov's JSON report on the translated template (SAM Metadata, skips included, copied to what it generates)."""
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / "template.json"
    path.write_text(json.dumps(translated.template(with_metadata=True), indent=1, default=str))
    # Offline: no guideline download (the scan must send nothing anywhere).
    command = [str(checkov), "--skip-download", "--compact", "--framework", "cloudformation", "--output", "json"]
    env = {**os.environ, "BC_SKIP_MAPPING": "TRUE", "CHECKOV_RUN_SCA_PACKAGE_SCAN_V2": "false"}
    result = subprocess.run([*command, "-f", str(path)], check=False, capture_output=True, text=True, env=env)  # noqa: S603
    if result.returncode not in (0, 1):
        raise SystemExit(f"checkov failed ({result.returncode}): {result.stderr[-2000:]}")
    report = json.loads(result.stdout) if result.stdout.strip() else {}
    return report[0] if isinstance(report, list) else report


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkov", type=Path, default=DEFAULT_CHECKOV)
    parser.add_argument("--list", action="store_true", help="print every failed and skipped check")
    args = parser.parse_args()
    report = scan(args.checkov)
    results = report.get("results", {})
    failed, skipped = results.get("failed_checks", []), results.get("skipped_checks", [])
    summary = report.get("summary", {})
    counts = f"{summary.get('passed', 0)} passed, {len(failed)} failed, {len(skipped)} skipped"
    print(f"checkov {summary.get('checkov_version')} on the translated template: {counts}")
    unexplained = [s for s in skipped if not (s.get("check_result", {}).get("suppress_comment") or "").strip()]
    for check in failed:
        print(f"  FAILED {check['check_id']} {check['resource']}: {check['check_name']}")
    for check in unexplained:
        print(f"  SKIPPED WITHOUT A REASON {check['check_id']} {check['resource']}")
    if args.list:
        for check in skipped:
            reason = check["check_result"].get("suppress_comment")
            print(f"  skipped {check['check_id']} {check['resource']}: {reason}")
    return 1 if failed or unexplained else 0


if __name__ == "__main__":
    sys.exit(main())
