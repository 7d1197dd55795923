#!/usr/bin/python3
"""The demo mailbox's POP3 server alone (app/demo-pop3-server.c), driven by Python's
poplib and by raw transcripts: what the client sends, the exact bytes the server answers.

usage: test-demo-pop3.py DEMO-POP3-HELPER   (SW_SOURCE_DIR names the source tree)
"""
import os
import poplib
import shutil
import socket
import subprocess
import sys
import tempfile

helper = sys.argv[1]
src = os.environ["SW_SOURCE_DIR"]
failures = []
checks = 0


def check(name, cond, detail=""):
    global checks
    checks += 1
    if not cond:
        failures.append(f"{name}: {detail}")
        print(f"FAIL {name}: {detail}", file=sys.stderr)


def crlf(data):
    """What the server holds: LF line ends made CRLF, a final CRLF added."""
    out = bytearray()
    for i, b in enumerate(data):
        if b == 0x0A and (i == 0 or data[i - 1] != 0x0D):
            out += b"\r"
        out.append(b)
    if not out.endswith(b"\r\n"):
        out += b"\r\n"
    return bytes(out)


tmp = tempfile.mkdtemp(prefix="sw-demo-pop3-")
proc = None
try:
    # The maildir: the samples, plus a message with LF line ends, lines starting with
    # '.', a lone "." line and no final newline (dot-stuffing and normalisation).
    names = sorted(f for f in os.listdir(os.path.join(src, "samples")) if f.endswith(".eml"))
    for f in names:
        shutil.copy(os.path.join(src, "samples", f), tmp)
    dots = (b"From: dots@example.org\nSubject: dots\n\n.leading dot\n..two dots\n.\n"
            b"normal line\nlast line without newline")
    with open(os.path.join(tmp, "99-dots.eml"), "wb") as fh:
        fh.write(dots)
    open(os.path.join(tmp, "not-a-message.txt"), "w").write("ignored\n")
    names.append("99-dots.eml")
    expected = []
    for f in names:
        with open(os.path.join(tmp, f), "rb") as fh:
            expected.append(crlf(fh.read()))
    uidls = [f[: -len(".eml")] for f in names]

    proc = subprocess.Popen([helper, tmp], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    line = proc.stdout.readline().decode()
    if not line.startswith("PORT "):
        raise SystemExit(f"helper did not start: {line!r}")
    port = int(line.split()[1])

    # poplib: the whole session.
    p = poplib.POP3("127.0.0.1", port, timeout=10)
    check("greeting", p.getwelcome().startswith(b"+OK"), p.getwelcome())
    capa = p.capa()
    for c in ("USER", "TOP", "UIDL", "PIPELINING"):
        check(f"capa-{c}", c in capa, capa)
    try:
        p.stat()
        check("stat-before-login", False, "STAT accepted before login")
    except poplib.error_proto as e:
        check("stat-before-login", str(e).startswith("b'-ERR"), e)
    p.user("demo")
    resp = p.pass_("demo")
    check("pass", resp.startswith(b"+OK"), resp)
    total = sum(len(m) for m in expected)
    check("stat", p.stat() == (len(expected), total), f"{p.stat()} != {(len(expected), total)}")
    resp, listing, _ = p.list()
    want = [f"{i + 1} {len(m)}".encode() for i, m in enumerate(expected)]
    check("list", listing == want, f"{listing} != {want}")
    check("list-one", p.list(2) == f"+OK 2 {len(expected[1])}".encode(), p.list(2))
    resp, listing, _ = p.uidl()
    want = [f"{i + 1} {u}".encode() for i, u in enumerate(uidls)]
    check("uidl", listing == want, f"{listing} != {want}")
    check("uidl-one", p.uidl(3) == f"+OK 3 {uidls[2]}".encode(), p.uidl(3))
    for i, m in enumerate(expected):
        resp, lines, octets = p.retr(i + 1)
        got = b"\r\n".join(lines) + b"\r\n"
        check(f"retr-{names[i]}", got == m, f"{len(got)} bytes, expected {len(m)}")
        header = m[: m.index(b"\r\n\r\n") + 4]
        resp, lines, _ = p.top(i + 1, 0)
        got = b"\r\n".join(lines) + b"\r\n"
        check(f"top0-{names[i]}", got == header, got[-80:])
        resp, lines, _ = p.top(i + 1, 2)
        body = [l + b"\r\n" for l in m[len(header):].split(b"\r\n")[:-1]]  # m ends with CRLF
        want_top = header + b"".join(body[:2])
        check(f"top2-{names[i]}", b"\r\n".join(lines) + b"\r\n" == want_top, lines[-3:])
    check("noop", p.noop().startswith(b"+OK"), "")
    p.dele(1)
    check("dele-stat", p.stat()[0] == len(expected) - 1, p.stat())
    for what, call in (("retr", lambda: p.retr(1)), ("list", lambda: p.list(1)), ("dele", lambda: p.dele(1))):
        try:
            call()
            check(f"deleted-{what}", False, "a deleted message was served")
        except poplib.error_proto:
            check(f"deleted-{what}", True)
    resp, listing, _ = p.list()
    check("dele-list", listing[0].startswith(b"2 "), listing)
    p.rset()
    check("rset", p.stat()[0] == len(expected), p.stat())
    p.dele(2)
    check("quit", p.quit().startswith(b"+OK"), "")
    # DELE never destroys the demo samples.
    p = poplib.POP3("127.0.0.1", port, timeout=10)
    p.user("anyone")
    p.pass_("anything")
    check("dele-kept", p.stat()[0] == len(expected), p.stat())
    p.quit()

    # Raw transcripts: the exact bytes on the wire.
    def session(send, read_until_close=True):
        s = socket.create_connection(("127.0.0.1", port), timeout=10)
        f = s.makefile("rb")
        greeting = f.readline()
        s.sendall(send)
        if read_until_close:
            data = f.read()
        else:
            data = b""
        s.close()
        return greeting, data

    dot_index = len(expected)
    greeting, data = session(f"USER demo\r\nPASS demo\r\nRETR {dot_index}\r\nQUIT\r\n".encode())
    want = (b"+OK any password opens the demo mailbox\r\n"
            + f"+OK demo maildrop has {len(expected)} messages ({total} octets)\r\n".encode()
            + f"+OK {len(expected[-1])} octets\r\n".encode()
            + b"From: dots@example.org\r\nSubject: dots\r\n\r\n..leading dot\r\n...two dots\r\n..\r\n"
            + b"normal line\r\nlast line without newline\r\n.\r\n"
            + b"+OK Spoofwatch demo server signing off (the demo mailbox keeps every sample)\r\n")
    check("transcript-dot-stuffing", data == want, repr(data))
    check("transcript-greeting", greeting.startswith(b"+OK ") and greeting.endswith(b"\r\n"), greeting)

    # Pipelined commands: answers in order; TOP of the dot message stuffed too.
    greeting, data = session(f"USER a\r\nPASS b\r\nSTAT\r\nLIST 2\r\nUIDL 2\r\nTOP {dot_index} 1\r\nNOOP\r\nQUIT\r\n"
                             .encode())
    want = (b"+OK any password opens the demo mailbox\r\n"
            + f"+OK demo maildrop has {len(expected)} messages ({total} octets)\r\n".encode()
            + f"+OK {len(expected)} {total}\r\n".encode()
            + f"+OK 2 {len(expected[1])}\r\n".encode()
            + f"+OK 2 {uidls[1]}\r\n".encode()
            + b"+OK top of message follows\r\nFrom: dots@example.org\r\nSubject: dots\r\n\r\n..leading dot\r\n.\r\n"
            + b"+OK\r\n"
            + b"+OK Spoofwatch demo server signing off (the demo mailbox keeps every sample)\r\n")
    check("transcript-pipelining", data == want, repr(data))

    # Errors: commands out of state, bad message numbers, unknown commands.
    greeting, data = session(b"PASS x\r\nSTAT\r\nUSER\r\nUSER demo\r\nPASS demo\r\nRETR 0\r\nRETR 999\r\nRETR x\r\n"
                             b"TOP 1\r\nDELE\r\nXYZZY\r\n\r\nQUIT\r\n")
    lines = data.split(b"\r\n")
    want_prefixes = [b"-ERR USER first", b"-ERR log in with USER and PASS first", b"-ERR USER needs a name",
                     b"+OK any password", b"+OK demo maildrop", b"-ERR no such message", b"-ERR no such message",
                     b"-ERR no such message", b"-ERR TOP needs", b"-ERR no such message", b"-ERR unknown command",
                     b"-ERR empty command", b"+OK Spoofwatch demo server signing off"]
    check("transcript-errors", len(lines) == len(want_prefixes) + 1
          and all(l.startswith(w) for l, w in zip(lines, want_prefixes)), repr(data))

    # A command line over 255 octets: an error and the connection closes.
    greeting, data = session(b"USER " + b"x" * 300 + b"\r\n")
    check("transcript-line-too-long", data == b"-ERR line too long\r\n", repr(data))

    # Too many errors: the server hangs up.
    greeting, data = session(b"BAD\r\n" * 20)
    check("transcript-too-many-errors", data.count(b"-ERR") == 21 and data.endswith(b"-ERR too many errors, goodbye\r\n"),
          repr(data[-80:]))

    # Several clients at once.
    clients = [poplib.POP3("127.0.0.1", port, timeout=10) for _ in range(4)]
    for c in clients:
        c.user("demo")
        c.pass_("demo")
    ok = all(c.stat() == (len(expected), total) for c in clients)
    for c in clients:
        c.quit()
    check("concurrent-clients", ok, "")

    # A folder without .eml files is an error at start.
    empty = os.path.join(tmp, "empty")
    os.mkdir(empty)
    r = subprocess.run([helper, empty], stdin=subprocess.DEVNULL, capture_output=True, timeout=30)
    check("empty-maildir", r.returncode == 1 and b"no .eml file" in r.stderr, r.stderr)
finally:
    if proc is not None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        check("helper-exit", proc.returncode == 0, f"exit status {proc.returncode}")
    shutil.rmtree(tmp, ignore_errors=True)

print(f"{checks} checks, {len(failures)} failed")
sys.exit(1 if failures else 0)
