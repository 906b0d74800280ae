"""Every piece of advice the tool prints, gathered once for the proofs: the JSON
snapshot of every cause (tests/it/snapshots/*.json.snap, which the snapshot test keeps
equal to real output, live facts included) and `replay --format json` of every saved
event under events/ (variants, authenticator lines and no-finding cases too).

    python3 tests/proofs/collect.py CLI_BINARY   prints the collection as JSON

Each item: {"origin": where it came from, "cause": the cause id, "commands": [...],
"iam_policy": the policy document or null}. Items with the same commands and policy
are kept once (the first origin wins), so a proof judges each distinct piece once.
"""

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def snapshot_lines():
    for path in sorted((ROOT / "tests" / "it" / "snapshots").glob("*.json.snap")):
        body = path.read_text().split("---\n", 2)[2]
        yield path.relative_to(ROOT).as_posix(), json.loads(body)


def replay_lines(cli):
    out = subprocess.run([str(cli), "replay", "--format", "json", str(ROOT / "events")],
                         check=False, capture_output=True, text=True, cwd=ROOT)
    if out.returncode not in (0, 1):
        raise SystemExit("collect: replay exited %d: %s" % (out.returncode, out.stderr[-2000:]))
    for n, line in enumerate(out.stdout.splitlines(), 1):
        if line.strip():
            yield "replay events/ line %d" % n, json.loads(line)


def collect(cli):
    seen, items = set(), []
    for origin, line in list(snapshot_lines()) + list(replay_lines(cli)):
        for finding in line.get("findings", []):
            item = {"origin": origin, "cause": finding["cause"], "commands": finding["commands"],
                    "iam_policy": finding["iam_policy"]}
            key = json.dumps([item["commands"], item["iam_policy"]], sort_keys=True)
            if key not in seen:
                seen.add(key)
                items.append(item)
    return items


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    json.dump(collect(sys.argv[1]), sys.stdout, indent=1)
    print()
