#!/usr/bin/python3
"""Splits a flat zone text (samples/samples.zone) into one file per apex for NSD.

Usage: split-zone.py ZONE_TEXT OUT_DIR APEX...
Every record goes to the longest APEX it falls under; each output file NAME.zone gets an
SOA and an NS record so that NSD serves it. Names must be absolute in the input."""
import sys
from pathlib import Path

src, out, apexes = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3:]
out.mkdir(parents=True, exist_ok=True)
zones = {a: [f"$TTL 300\n{a}. IN SOA ns.{a}. hostmaster.{a}. 1 3600 600 86400 300\n{a}. IN NS ns.{a}.\n"]
         for a in apexes}
for line in src.read_text().splitlines():
    s = line.strip()
    if not s or s.startswith(";") or s.startswith("$"):
        continue
    name = s.split()[0].rstrip(".").lower()
    best = max((a for a in apexes if name == a or name.endswith("." + a)), key=len, default=None)
    if best is None:
        sys.exit(f"split-zone: no apex for {name}")
    zones[best].append(line + "\n")
for a, lines in zones.items():
    (out / f"{a}.zone").write_text("".join(lines))
