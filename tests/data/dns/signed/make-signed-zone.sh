#!/bin/bash
# make-signed-zone.sh: regenerates the DNSSEC test data of tests/integration/test-dns-nsd.c
# (needs Debian's ldnsutils; run by hand, the results are committed):
#   ../nsd/signed.example.org.zone   the zone signed with a fresh ECDSA P-256 key,
#                                    signatures valid 2020-01-01 .. 2046-01-01, and then
#                                    one record changed after signing ("tampered": bogus)
#   signed.example.org.ds            the key's DS record: the test's trust anchor
# The private key is thrown away.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
key=$(ldns-keygen -a ECDSAP256SHA256 -k signed.example.org)
grep -v '^;' "$here/signed.example.org.zone.in" >zone
ldns-signzone -i 20200101000000 -e 20460101000000 -f signed zone "$key"
# Break one signature: change the text of tampered.signed.example.org after signing.
sed -i 's/^\(tampered\.signed\.example\.org\.\t.*\tTXT\t\)"original"$/\1"changed after signing"/' signed
grep -q '"changed after signing"' signed
{
  echo "; signed.example.org, DNSSEC-signed by tests/data/dns/signed/make-signed-zone.sh."
  echo "; tampered.signed.example.org's TXT was changed after signing: its RRSIG is bogus."
  cat signed
} >"$here/../nsd/signed.example.org.zone"
cp "$key.ds" "$here/signed.example.org.ds"
