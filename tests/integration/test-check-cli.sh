#!/bin/bash
# spoofwatch-check as a user runs it: lines, exit status, --json, --filter, mbox, errors.
set -euo pipefail
check=$1
src=${SW_SOURCE_DIR:?}
zone=$src/samples/samples.zone
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

# Every sample: one line each, the expected verdict first; exit 1 because some fail
# with quarantine/reject.
set +e
"$check" --color=never --dns-zone "$zone" "$src"/samples/*.eml >"$tmp/out"
status=$?
set -e
[ "$status" -eq 1 ] || fail "exit status $status on the samples, expected 1"
while IFS=$'\t' read -r file verdict _; do
  case $file in \#*|"") continue ;; esac
  grep -E "^$verdict +.*/$file\$" "$tmp/out" >/dev/null || fail "$file: expected $verdict in: $(cat "$tmp/out")"
done <"$src/samples/expected.tsv"
[ "$(wc -l <"$tmp/out")" -eq 7 ] || fail "expected 7 lines"

# Only passing mail: exit 0.
"$check" --dns-zone "$zone" "$src/samples/02-genuine-bank.eml" >/dev/null || fail "exit status on a pass"

# -v shows the explanation and evidence.
"$check" -v --color=never --dns-zone "$zone" "$src/samples/01-citibank-spoofed.eml" >"$tmp/v" || true
grep -q "Claims to be from citibank.com, which rejects unauthenticated mail" "$tmp/v" || fail "no explanation in -v"
grep -q "ip=42.127.236.162 (received-auto)" "$tmp/v" || fail "no envelope evidence in -v"
grep -q "record at _dmarc.citibank.com" "$tmp/v" || fail "no DMARC record in -v"

# --json: one object per message with the documented fields.
"$check" --json --dns-zone "$zone" "$src"/samples/*.eml >"$tmp/json" || true
/usr/bin/python3 - "$tmp/json" <<'PY'
import json, sys
lines = open(sys.argv[1]).read().splitlines()
assert len(lines) == 7, len(lines)
for line in lines:
    o = json.loads(line)
    for k in ("version", "verdict", "explanation", "from_domain", "org_domain", "spf", "dkim", "dmarc"):
        assert k in o, k
    for k in ("result", "domain", "ip", "helo", "source"):
        assert k in o["spf"], k
    for sig in o["dkim"]:
        for k in ("result", "domain", "selector", "algorithm", "key_bits", "reason"):
            assert k in sig, k
    for k in ("result", "policy", "record", "aligned_by"):
        assert k in o["dmarc"], k
PY

# mbox: two messages, each verified.
{ printf 'From alert@citibank.com Mon Nov 23 08:14:52 2026\n'; tr -d '\r' <"$src/samples/01-citibank-spoofed.eml"; printf '\n';
  printf 'From grandma@small-family.example Mon Nov 23 11:12:45 2026\n'; tr -d '\r' <"$src/samples/06-no-dmarc-record.eml"; printf '\n'; } >"$tmp/box.mbox"
"$check" --color=never --dns-zone "$zone" "$tmp/box.mbox" >"$tmp/mbox.out" || true
grep -q "^reject .*box.mbox#1" "$tmp/mbox.out" || fail "mbox message 1: $(cat "$tmp/mbox.out")"
grep -q "^none .*box.mbox#2" "$tmp/mbox.out" || fail "mbox message 2: $(cat "$tmp/mbox.out")"

# --filter: stdin to stdout, our two header lines on top, the rest byte-identical.
for f in "$src"/samples/*.eml; do
  "$check" --filter --dns-zone "$zone" <"$f" >"$tmp/filtered" || fail "--filter exit status on $f"
  n=$(grep -c -m2 -E '^(Authentication-Results: spoofwatch;|X-Spoofwatch-Verdict: )' "$tmp/filtered") || true
  [ "$n" -eq 2 ] || fail "--filter did not add our headers to $f"
  # Our fields are the folded A-R plus the verdict line: strip them and compare.
  /usr/bin/python3 - "$tmp/filtered" "$f" <<'PY'
import sys
out = open(sys.argv[1], 'rb').read()
orig = open(sys.argv[2], 'rb').read()
end = out.index(b"X-Spoofwatch-Verdict: ")
end = out.index(b"\n", end) + 1
assert out[end:] == orig, "body or original headers changed"
assert out.startswith(b"Authentication-Results: spoofwatch;")
PY
done

# Usage errors and unreadable files: exit 2.
set +e
"$check" >/dev/null 2>&1; [ $? -eq 2 ] || fail "no arguments: expected exit 2"
"$check" --dns-zone "$zone" "$tmp/does-not-exist.eml" >/dev/null 2>&1; [ $? -eq 2 ] || fail "missing file: expected exit 2"
"$check" --helo x --dns-zone "$zone" "$src/samples/02-genuine-bank.eml" >/dev/null 2>&1; [ $? -eq 2 ] || fail "--helo without --ip: expected exit 2"
printf 'bogus line\n' >"$tmp/bad.zone"
"$check" --dns-zone "$tmp/bad.zone" "$src/samples/02-genuine-bank.eml" >/dev/null 2>&1; [ $? -eq 2 ] || fail "bad zone: expected exit 2"
set -e

# A known envelope replaces the reconstructed one.
"$check" --color=never --dns-zone "$zone" --ip 67.231.153.20 --helo mx0a.pphosted.com --mail-from alert@citibank.com \
  "$src/samples/01-citibank-spoofed.eml" >"$tmp/known" || fail "known envelope: exit status"
grep -q "^pass " "$tmp/known" || fail "known envelope: $(cat "$tmp/known")"
echo "all spoofwatch-check tests passed"
