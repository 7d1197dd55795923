#!/usr/bin/python3
"""pop3-zone.py: splits a flat zone text (gen-corpus's zone.txt, samples.zone) into one
zone file per top-level domain for NSD, and cuts TXT strings over 255 bytes into several
strings (a DKIM key is one long string in our zone syntax; RFC 1035 strings stop at 255).

Usage: pop3-zone.py ZONE_TEXT OUT_DIR    (writes OUT_DIR/TLD.zone, prints the TLDs)"""
import re
import sys
from pathlib import Path

src, out = Path(sys.argv[1]), Path(sys.argv[2])
out.mkdir(parents=True, exist_ok=True)
zones = {}


def cut_strings(rdata):
    def cut(m):
        s = m.group(1)
        return " ".join('"%s"' % s[i:i + 250] for i in range(0, max(len(s), 1), 250))
    return re.sub(r'"((?:[^"\\]|\\.)*)"', cut, rdata)


for line in src.read_text().splitlines():
    s = line.strip()
    if not s or s.startswith(";") or s.startswith("$"):
        continue
    name = s.split()[0].rstrip(".").lower()
    tld = name.rsplit(".", 1)[-1]
    zones.setdefault(tld, []).append(cut_strings(s))
for tld, lines in zones.items():
    head = f"$TTL 3600\n{tld}. IN SOA ns.{tld}. hostmaster.{tld}. 1 3600 600 86400 300\n{tld}. IN NS ns.{tld}.\n"
    (out / f"{tld}.zone").write_text(head + "\n".join(lines) + "\n")
print(" ".join(sorted(zones)))
