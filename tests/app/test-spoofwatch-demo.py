#!/usr/bin/python3
"""`spoofwatch --headless` with no account: the demo mailbox through the real proxy.

In a temporary $XDG_CONFIG_HOME/$XDG_DATA_HOME, fetches every sample through the demo port
with curl (pop3://) and with Python's poplib; checks each X-Spoofwatch-Verdict against
samples/expected.tsv, our Authentication-Results under the per-install authserv-id, that
the rest of each message is byte-identical to the sample, that the verdict store has one
row per sample, and that SIGTERM and SIGINT stop the daemon cleanly. The daemon is killed
on every exit path.

usage: test-spoofwatch-demo.py SPOOFWATCH   (SW_SOURCE_DIR names the source tree)
"""
import os
import poplib
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time

spoofwatch = sys.argv[1]
src = os.environ["SW_SOURCE_DIR"]
failures = []
checks = 0


def check(name, cond, detail=""):
    global checks
    checks += 1
    if not cond:
        failures.append(name)
        print(f"FAIL {name}: {detail}", file=sys.stderr)


samples = sorted(f for f in os.listdir(os.path.join(src, "samples")) if f.endswith(".eml"))
expected = {}
with open(os.path.join(src, "samples", "expected.tsv")) as fh:
    for line in fh:
        if line.startswith("#") or not line.strip():
            continue
        name, verdict = line.split("\t")[:2]
        expected[name] = verdict
originals = {}
for f in samples:
    with open(os.path.join(src, "samples", f), "rb") as fh:
        originals[f] = fh.read()

tmp = tempfile.mkdtemp(prefix="sw-test-spoofwatch-")
env = dict(os.environ, XDG_CONFIG_HOME=os.path.join(tmp, "config"), XDG_DATA_HOME=os.path.join(tmp, "data"),
           HOME=tmp)
procs = []


def start(*args):
    """Starts spoofwatch; returns (process, port, screen) once it printed "Ready."."""
    # The child writes through its own append-only handle; we read through another, so
    # our reads never move the offset the child writes at.
    out_path = os.path.join(tmp, f"out{len(procs)}")
    out = open(out_path, "ab")
    p = subprocess.Popen([spoofwatch, *args], env=env, stdin=subprocess.DEVNULL, stdout=out,
                         stderr=subprocess.STDOUT)
    procs.append(p)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with open(out_path, "rb") as f:
            screen = f.read().decode(errors="replace")
        if "Ready." in screen or p.poll() is not None:
            break
        time.sleep(0.05)
    m = re.search(r"demo +127\.0\.0\.1:(\d+) and \[::1\]:\d+ -> 127\.0\.0\.1:\d+ \(tls none\)", screen)
    if "Ready." not in screen or m is None:
        raise SystemExit(f"spoofwatch did not start: {screen}")
    return p, int(m.group(1)), screen


def stop(p, sig):
    p.send_signal(sig)
    try:
        return p.wait(timeout=30)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()
        return None


def split_ours(name, data, authserv_id):
    """Checks our two fields on top; returns (verdict, the rest)."""
    m = re.match(rb"Authentication-Results: ([^;\r\n]+);(?:\r\n[ \t][^\r\n]*)*\r\n"
                 rb"X-Spoofwatch-Verdict: ([a-z-]+)\r\n", data)
    if m is None:
        check(f"{name}-our-headers", False, repr(data[:300]))
        return None, data
    check(f"{name}-authserv-id", m.group(1).decode() == authserv_id, m.group(1))
    return m.group(2).decode(), data[m.end():]


try:
    p, port, screen = start("--headless", "--demo-port", "0")
    conf = os.path.join(tmp, "config", "spoofwatch", "spoofwatch.conf")
    check("config-written", os.path.exists(conf) and (os.stat(conf).st_mode & 0o777) == 0o600, screen)
    authserv_id = re.search(r"authserv-id=(\S+)", open(conf).read()).group(1)
    check("screen-authserv-id", f"authserv-id  {authserv_id}" in screen, screen)
    check("screen-demo", "user demo, password demo" in screen and "7 sample messages" in screen, screen)
    check("screen-store", os.path.join(tmp, "data", "spoofwatch", "verdicts.sqlite") in screen, screen)

    # curl, one message at a time.
    for i, f in enumerate(samples):
        r = subprocess.run(["curl", "-sS", "--max-time", "30", f"pop3://demo:demo@127.0.0.1:{port}/{i + 1}"],
                           capture_output=True, timeout=60)
        check(f"curl-{f}-status", r.returncode == 0, r.stderr)
        verdict, rest = split_ours(f"curl-{f}", r.stdout, authserv_id)
        check(f"curl-{f}-verdict", verdict == expected[f], f"{verdict} != {expected[f]}")
        check(f"curl-{f}-body", rest == originals[f], f"{len(rest)} bytes, expected {len(originals[f])}")
    r = subprocess.run(["curl", "-sS", "--max-time", "30", f"pop3://demo:demo@127.0.0.1:{port}/"],
                       capture_output=True, timeout=60)
    check("curl-list", r.stdout.decode().splitlines() and len(r.stdout.decode().splitlines()) == len(samples),
          r.stdout)

    # poplib: UIDL, LIST, RETR of everything in one session.
    c = poplib.POP3("127.0.0.1", port, timeout=30)
    c.user("demo")
    c.pass_("demo")
    resp, uidls, _ = c.uidl()
    check("poplib-uidl", [u.split()[1].decode() for u in uidls] == [f[:-4] for f in samples], uidls)
    count, _ = c.stat()
    check("poplib-stat", count == len(samples), count)
    for i, f in enumerate(samples):
        resp, lines, octets = c.retr(i + 1)
        data = b"\r\n".join(lines) + b"\r\n"
        verdict, rest = split_ours(f"poplib-{f}", data, authserv_id)
        check(f"poplib-{f}-verdict", verdict == expected[f], f"{verdict} != {expected[f]}")
        check(f"poplib-{f}-body", rest == originals[f], f"{len(rest)} bytes, expected {len(originals[f])}")
    c.quit()

    # The store, read by another connection while the daemon runs (WAL): one row per
    # sample for the demo account, whatever the client (curl fetched by number first,
    # poplib after UIDL: the same message is never stored twice).
    db = sqlite3.connect(f"file:{os.path.join(tmp, 'data', 'spoofwatch', 'verdicts.sqlite')}?mode=ro", uri=True)
    rows = db.execute("SELECT account, verdict FROM verdicts ORDER BY id").fetchall()
    db.close()
    check("store-rows", len(rows) == len(samples), rows)
    check("store-account", all(a == "demo" for a, _ in rows), rows)
    check("store-verdicts", sorted(v for _, v in rows) == sorted(expected[f] for f in samples), rows)

    status = stop(p, signal.SIGTERM)
    check("sigterm-exit", status == 0, status)
    with open(os.path.join(tmp, "out0"), "rb") as fh:
        check("sigterm-stopping", b"Stopping." in fh.read(), "")

    # A second run keeps the authserv-id; SIGINT stops it too. Default port: 11110, or
    # another one with a note when 11110 is busy (another test run, a user's daemon).
    p, port, screen = start("--headless")
    check("authserv-id-kept", f"authserv-id  {authserv_id}" in screen, screen)
    check("default-port", port == 11110 or "(port 11110 was busy: this run uses" in screen, screen)
    c = poplib.POP3("127.0.0.1", port, timeout=30)
    c.user("demo")
    c.pass_("demo")
    resp, lines, _ = c.retr(2)
    verdict, rest = split_ours("second-run", b"\r\n".join(lines) + b"\r\n", authserv_id)
    check("second-run-verdict", verdict == expected[samples[1]], verdict)
    c.quit()
    status = stop(p, signal.SIGINT)
    check("sigint-exit", status == 0, status)
finally:
    for p in procs:
        if p.poll() is None:
            p.kill()
            p.wait()
    shutil.rmtree(tmp, ignore_errors=True)

print(f"{checks} checks, {len(failures)} failed")
sys.exit(1 if failures else 0)
