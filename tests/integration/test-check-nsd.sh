#!/bin/bash
# spoofwatch-check against a real authoritative DNS server: NSD on loopback serves the
# samples' zones and the libunbound backend forwards to it. Then NSD is stopped: every
# message still gets a verdict, temperror, within the DNS timeout.
set -euo pipefail
check=$1
src=${SW_SOURCE_DIR:?}
tmp=$(mktemp -d)
source "$src/tests/integration/nsd-fixture.sh"
trap 'set +e; sw_nsd_stop; rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

/usr/bin/python3 "$src/tests/tools/split-zone.py" "$src/samples/samples.zone" "$tmp/zones" \
  citibank.com citigroup.com pphosted.com example example.net
sw_nsd_start "$tmp/zones" || fail "NSD did not start"

"$check" --json --dns-server "$SW_NSD_FORWARD" "$src"/samples/*.eml >"$tmp/out" || true
/usr/bin/python3 - "$tmp/out" "$src/samples/expected.tsv" <<'PY'
import json, os, sys
got = {os.path.basename(o["file"]): o for o in map(json.loads, open(sys.argv[1]))}
n = 0
for line in open(sys.argv[2]):
    if line.startswith("#") or not line.strip():
        continue
    name, verdict, _ = line.rstrip("\n").split("\t", 2)
    assert got[name]["verdict"] == verdict, (name, got[name]["verdict"], verdict, got[name]["explanation"])
    n += 1
assert n == 7
print("samples through NSD: all", n, "verdicts as expected")
PY

# DNS down: a fresh process has an empty cache; every lookup times out.
set +e; sw_nsd_stop; set -e   # the fixture is written for scripts without -e
start=$(date +%s)
"$check" --json --dns-server "$SW_NSD_FORWARD" --dns-timeout 300 "$src/samples/01-citibank-spoofed.eml" >"$tmp/down" || true
elapsed=$(( $(date +%s) - start ))
grep -q '"verdict":"temperror"' "$tmp/down" || fail "DNS down: $(cat "$tmp/down")"
[ "$elapsed" -lt 20 ] || fail "DNS down took ${elapsed}s"
# --filter still delivers the message, with temperror.
"$check" --filter --dns-server "$SW_NSD_FORWARD" --dns-timeout 300 <"$src/samples/02-genuine-bank.eml" >"$tmp/f" \
  || fail "--filter failed with DNS down"
grep -q "^X-Spoofwatch-Verdict: temperror" "$tmp/f" || fail "--filter with DNS down: no temperror"
/usr/bin/python3 -c '
import sys
out, orig = open(sys.argv[1], "rb").read(), open(sys.argv[2], "rb").read()
end = out.index(b"\n", out.index(b"X-Spoofwatch-Verdict: temperror")) + 1
sys.exit(0 if out[end:] == orig else 1)' "$tmp/f" "$src/samples/02-genuine-bank.eml" || fail "--filter with DNS down changed the message"
echo "all NSD tests passed"
