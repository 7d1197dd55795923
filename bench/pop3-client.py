#!/usr/bin/python3
"""pop3-client.py: downloads every message of a POP3 mailbox with Python's poplib (USER,
PASS, STAT, RETR 1..n, QUIT) and prints "SECONDS MESSAGES BYTES CPU_SECONDS" (CPU: this
client's own user+system time during the download).

Usage: pop3-client.py PORT USER PASS [EXPECTED_COUNT [DIGEST_FILE]]

With DIGEST_FILE, after the timed download, writes one SHA-256 per message, of the message
as the server holds it: Spoofwatch's header block on top (an Authentication-Results field
through the X-Spoofwatch-Verdict field) is left out, so a download through the proxy must
give the same file as a direct one.

With SW_BENCH_TIMELINE set to a file name, appends one line per download to it: the
seconds from the start at which each message had arrived, separated by spaces (where a
download through the proxy loses time to a direct one).

With SW_BENCH_VERDICTS set to a file name, appends the verdict of each message to it, one
per line: the value of its X-Spoofwatch-Verdict field, or "-" without one."""
import hashlib
import os
import poplib
import sys
import time

port, user, password = int(sys.argv[1]), sys.argv[2], sys.argv[3]
digest_file = sys.argv[5] if len(sys.argv) > 5 else None
poplib._MAXLINE = 1 << 20
start = time.perf_counter()
cpu_start = sum(os.times()[:2])
pop = poplib.POP3("127.0.0.1", port, timeout=60)
pop.user(user)
pop.pass_(password)
count, _ = pop.stat()
total = 0
kept = []
arrived = []
for i in range(1, count + 1):
    _, lines, octets = pop.retr(i)
    total += octets
    arrived.append(time.perf_counter() - start)
    if digest_file or os.environ.get("SW_BENCH_VERDICTS"):
        kept.append(lines)
pop.quit()
elapsed = time.perf_counter() - start
cpu = sum(os.times()[:2]) - cpu_start
if os.environ.get("SW_BENCH_VERDICTS"):
    with open(os.environ["SW_BENCH_VERDICTS"], "a") as f:
        for lines in kept:
            verdict = "-"
            for line in lines:
                if line == b"":
                    break
                if line.lower().startswith(b"x-spoofwatch-verdict:"):
                    verdict = (line.split(b":", 1)[1].split() or [b"?"])[0].rstrip(b";").decode("ascii", "replace")
                    break
            f.write(verdict + "\n")
if os.environ.get("SW_BENCH_TIMELINE"):
    with open(os.environ["SW_BENCH_TIMELINE"], "a") as f:
        f.write(" ".join("%.4f" % t for t in arrived) + "\n")
if len(sys.argv) > 4 and count != int(sys.argv[4]):
    sys.exit("pop3-client: %d messages, expected %s" % (count, sys.argv[4]))


def without_our_fields(lines):
    """The lines after our header block, if the message starts with one."""
    if not lines or not lines[0].startswith(b"Authentication-Results:"):
        return lines
    for n, line in enumerate(lines):
        if line == b"":
            return lines  # no X-Spoofwatch-Verdict in the header block: not ours
        if line.startswith(b"X-Spoofwatch-Verdict:"):
            n += 1
            while n < len(lines) and lines[n][:1] in (b" ", b"\t"):
                n += 1
            return lines[n:]
    return lines


if digest_file:
    with open(digest_file, "w") as f:
        for lines in kept:
            f.write(hashlib.sha256(b"\r\n".join(without_our_fields(lines))).hexdigest() + "\n")
print("%.4f %d %d %.4f" % (elapsed, count, total, cpu))
