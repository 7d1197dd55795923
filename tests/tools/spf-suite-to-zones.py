#!/usr/bin/python3
"""Converts the openspf.org RFC 7208 test suite (YAML) into what test-spf-suite reads.

Usage: spf-suite-to-zones.py SUITE.yml OUTDIR

Writes OUTDIR/scenario-NN.zone (zone text for sw_resolver_new_zone_text, syntax in
docs/zone-files.md) per scenario and OUTDIR/cases.ini (a GKeyFile: one group per test,
"scenario/test-id", with keys scenario, zone, host, helo, mailfrom, results (';'-separated,
any accepted), explanation (absent when the suite gives none)).

Like the suite's reference driver (pyspf testspf.py), SPF-type records are copied to TXT
for names that have no TXT record. TIMEOUT entries become the zone's TIMEOUT mark.
Names are written in presentation format (\\DDD escapes for spaces and other octets);
invalid DNS names are skipped and listed as "; skipped" comments.
Needs Debian's python3-yaml; run with /usr/bin/python3.
"""
import os
import sys

import yaml


def escape_txt(s):
    """One TXT character-string (<= 255 octets) in zone syntax."""
    out = []
    for b in s:
        if b in (0x22, 0x5C):
            out.append('\\' + chr(b))
        elif 0x20 <= b < 0x7F:
            out.append(chr(b))
        else:
            out.append('\\%03d' % b)
    return '"' + ''.join(out) + '"'


def txt_rdata(value):
    parts = value if isinstance(value, list) else [value]
    strings = []
    for p in parts:
        data = p.encode('utf-8') if isinstance(p, str) else bytes(p)
        if not data:
            strings.append('""')
        for i in range(0, len(data), 255):
            strings.append(escape_txt(data[i:i + 255]))
    if not strings:
        strings.append('""')
    return ' '.join(strings)


def zone_name(name):
    """Absolute zone owner name in presentation format (octets outside printable ASCII
    and the characters the zone syntax treats specially written as \\DDD), or None if
    it is not a valid DNS name (empty label, label over 63 or name over 253 octets)."""
    n = name[:-1] if name.endswith('.') else name
    data = n.encode('utf-8')
    if not data or len(data) > 253:
        return None
    labels = data.split(b'.')
    out = []
    for label in labels:
        if not label or len(label) > 63:
            return None
        out.append(''.join(chr(b) if 0x21 <= b < 0x7F and chr(b) not in '\\;()"$@' else '\\%03d' % b
                           for b in label))
    return '.'.join(out) + '.'


def target_name(name):
    # The zone syntax has no root name: a null MX ("." / "") cannot be written.
    return zone_name(name)


def convert_scenario(doc):
    lines = []
    for name, rrs in (doc.get('zonedata') or {}).items():
        owner = zone_name(str(name))
        if owner is None:
            lines.append('; skipped (name not expressible): %r' % (name,))
            continue
        has_txt = any(isinstance(rr, dict) and 'TXT' in rr for rr in rrs)
        # The reference driver's TIMEOUT: a query that finds no data at the name times
        # out (its "TXT: NONE" is such an empty answer).
        with_data = set()
        for rr in rrs:
            if isinstance(rr, dict):
                for rtype, value in rr.items():
                    if not (rtype == 'TXT' and value == 'NONE'):
                        with_data.add(rtype)
        if 'SPF' in with_data and not has_txt:
            with_data.add('TXT')
        for rr in rrs:
            if isinstance(rr, str):
                if rr == 'TIMEOUT':
                    for t in ('A', 'AAAA', 'MX', 'PTR', 'TXT', 'SPF'):
                        if t not in with_data:
                            lines.append('%s TIMEOUT %s' % (owner, t))
                else:
                    lines.append('; skipped %r at %r' % (rr, name))
                continue
            for rtype, value in rr.items():
                if rtype == 'TXT' and value == 'NONE':
                    continue
                if rtype in ('TXT', 'SPF'):
                    rdata = txt_rdata(value)
                    lines.append('%s 300 IN %s %s' % (owner, rtype, rdata))
                    if rtype == 'SPF' and not has_txt:
                        lines.append('%s 300 IN TXT %s' % (owner, rdata))
                elif rtype == 'MX':
                    pref, host = value
                    t = target_name(str(host))
                    if t is None:
                        lines.append('; skipped MX %r at %r' % (host, name))
                        continue
                    lines.append('%s 300 IN MX %d %s' % (owner, int(pref), t))
                elif rtype in ('PTR', 'CNAME'):
                    t = target_name(str(value))
                    if t is None:
                        lines.append('; skipped %s %r at %r' % (rtype, value, name))
                        continue
                    lines.append('%s 300 IN %s %s' % (owner, rtype, t))
                elif rtype in ('A', 'AAAA'):
                    values = value if isinstance(value, list) else [value]
                    for v in values:
                        lines.append('%s 300 IN %s %s' % (owner, rtype, v))
                else:
                    lines.append('; skipped type %s at %r' % (rtype, name))
    return '\n'.join(lines) + '\n'


def keyfile_value(s):
    s = str(s)
    out = s.replace('\\', '\\\\').replace('\n', '\\n').replace('\t', '\\t').replace('\r', '\\r')
    if out.startswith(' '):
        out = '\\s' + out[1:]
    return out


def main():
    if len(sys.argv) != 3:
        sys.stderr.write(__doc__)
        return 2
    suite, outdir = sys.argv[1], sys.argv[2]
    os.makedirs(outdir, exist_ok=True)
    with open(suite, encoding='utf-8') as f:
        docs = [d for d in yaml.safe_load_all(f) if d]
    cases = []
    count = 0
    for idx, doc in enumerate(docs, 1):
        zone_file = 'scenario-%02d.zone' % idx
        with open(os.path.join(outdir, zone_file), 'w', encoding='utf-8') as z:
            z.write('; %s\n' % doc.get('description', '').replace('\n', ' '))
            z.write(convert_scenario(doc))
        for test_id, t in doc['tests'].items():
            count += 1
            results = t['result'] if isinstance(t['result'], list) else [t['result']]
            cases.append('[%s]' % test_id)
            cases.append('scenario=%s' % keyfile_value(doc.get('description', '').strip()))
            cases.append('zone=%s' % zone_file)
            cases.append('host=%s' % keyfile_value(t.get('host', '')))
            cases.append('helo=%s' % keyfile_value(t.get('helo', '')))
            cases.append('mailfrom=%s' % keyfile_value(t.get('mailfrom', '')))
            cases.append('results=%s' % ';'.join(results))
            if 'explanation' in t:
                cases.append('explanation=%s' % keyfile_value(t['explanation']))
            cases.append('')
    with open(os.path.join(outdir, 'cases.ini'), 'w', encoding='utf-8') as c:
        c.write('# generated by tests/tools/spf-suite-to-zones.py: %d tests, %d scenarios\n'
                % (count, len(docs)))
        c.write('\n'.join(cases))
    print('%d tests in %d scenarios' % (count, len(docs)))
    return 0


if __name__ == '__main__':
    sys.exit(main())
