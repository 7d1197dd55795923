#!/usr/bin/env python3
"""`spoofwatch` with its window, under tests/gui/gui-session.sh (Xvfb, session D-Bus, dunst).

Starts the program on the demo mailbox (fresh XDG folders, first-run screen already seen),
downloads the seven samples through the demo proxy with poplib, and checks through the
program's test hooks (SW_GUI_TEST=1: actions app.test-dump, app.test-screenshot and
app.test-filter called over D-Bus) that the window lists each sample with the verdict of
samples/expected.tsv, that the filter and the search narrow the list, and that the details
view shows the record asked for with app.show-details. Screenshots of the main window, the
details view and the Japanese window (LANGUAGE=ja) go to $SW_BUILD_DIR/screenshots and are
checked for their size and for not being blank.

Usage: gui-session.sh test-gui-demo.py SPOOFWATCH
"""
import email
import email.header
import os
import poplib
import re
import signal
import struct
import subprocess
import sys
import time
import zlib

spoofwatch = sys.argv[1]
source_dir = os.environ["SW_SOURCE_DIR"]
samples = os.path.join(source_dir, "samples")
shots = os.path.join(os.environ["SW_BUILD_DIR"], "screenshots")
session = os.environ["SW_GUI_SESSION_DIR"]
os.makedirs(shots, exist_ok=True)

APP_ID = "org.spoofwatch.Spoofwatch"
APP_PATH = "/org/spoofwatch/Spoofwatch"
WINDOW_SIZE = (1240, 720)  # assets/ui/window.ui default size, without the title bar
failures = []
procs = []


def check(name, ok, detail=""):
    if ok:
        print(f"ok {name}")
    else:
        failures.append(name)
        print(f"FAIL {name}: {detail}", file=sys.stderr)
    return ok


def wait_until(what, predicate, timeout=20.0):
    """Polls @predicate (every 50 ms) until it returns a true value; returns that value."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for {what}")
        time.sleep(0.05)


def activate(action, variant=None):
    """Runs app.<action> in the running program; returns when it has run (D-Bus reply)."""
    param = f"[<{variant}>]" if variant is not None else "[]"
    r = subprocess.run(["gdbus", "call", "--session", "--dest", APP_ID, "--object-path", APP_PATH,
                        "--method", "org.gtk.Actions.Activate", action, param, "{}"],
                       capture_output=True, timeout=10)
    return r.returncode == 0


def gvariant_string(s):
    return "'" + s.replace("\\", "\\\\").replace("'", "\\'") + "'"


dump_file = os.path.join(session, "dump.tsv")


def dump():
    """The window's state and rows: ({key: value}, [row dicts]) or None if not reachable."""
    if os.path.exists(dump_file):
        os.unlink(dump_file)
    if not activate("test-dump", gvariant_string(dump_file)) or not os.path.exists(dump_file):
        return None
    state, rows = {}, []
    with open(dump_file, encoding="utf-8") as f:
        for line in f.read().splitlines():
            parts = line.split("\t")
            if parts[0] in ("state", "size"):
                state.update(dict(p.split("=", 1) for p in parts[1:]))
            elif parts[0] == "row":
                rows.append(dict(zip(["id", "verdict", "word", "from", "subject", "account", "seen"], parts[1:])))
    return state, rows


def loaded_dump(min_rows=0):
    """Waits until the window exists, is not loading and lists at least @min_rows rows."""
    def ready():
        d = dump()
        if d and d[0].get("window") == "1" and d[0].get("loading") == "0" and int(d[0]["rows"]) >= min_rows:
            return d
        return None
    return wait_until(f"the window with {min_rows} rows", ready)


def png_size(path):
    with open(path, "rb") as f:
        head = f.read(24)
    if head[:8] != b"\x89PNG\r\n\x1a\n":
        return None
    return struct.unpack(">II", head[16:24])


def png_colours(path):
    """Number of distinct colours (ImageMagick's %k)."""
    r = subprocess.run(["convert", path, "-format", "%k", "info:"], capture_output=True, text=True, timeout=60)
    return int(r.stdout.strip() or 0)


def screenshot(name):
    """Saves the window as the X server shows it; checks its size and that it is not blank."""
    path = os.path.join(shots, name)
    if os.path.exists(path):
        os.unlink(path)
    state, _ = dump()
    window = (int(state["width"]), int(state["height"]))
    # the program writes the file after its next frame is painted
    ok = activate("test-screenshot", gvariant_string(path))
    ok = ok and wait_until(f"screenshot {name}", lambda: os.path.exists(path), timeout=10)
    if not check(f"screenshot-{name}-written", ok, path):
        return
    size = png_size(path)
    check(f"screenshot-{name}-size", size == window and size[0] >= WINDOW_SIZE[0] and size[1] >= WINDOW_SIZE[1],
          f"{size}, window {window}, at least {WINDOW_SIZE}")
    colours = png_colours(path)
    # a blank or single-colour image has 1-2 colours; text with anti-aliasing, chips and
    # icons give hundreds
    check(f"screenshot-{name}-not-blank", colours > 200, f"{colours} colours")


def start(extra_env=None):
    out_path = os.path.join(session, f"spoofwatch{len(procs)}.out")
    # The child writes through its own append-only handle; we read through another, so
    # our reads never move the offset the child writes at.
    out = open(out_path, "ab")
    env = dict(os.environ, SW_GUI_TEST="1", **(extra_env or {}))
    p = subprocess.Popen([spoofwatch, "--demo-port", "0"], env=env, stdin=subprocess.DEVNULL, stdout=out,
                         stderr=subprocess.STDOUT)
    procs.append(p)
    # The start-up screen is translated (po/ja.po) like the window.
    ja = (extra_env or {}).get("LANGUAGE") == "ja"
    ready_mark, mode = ("準備ができました。", "ウィンドウあり") if ja else ("Ready.", "with window")

    def ready():
        with open(out_path, "rb") as f:
            text = f.read().decode(errors="replace")
        if p.poll() is not None:
            raise SystemExit(f"spoofwatch exited ({p.returncode}): {text}")
        return text if ready_mark in text else None
    screen = wait_until("spoofwatch to start", ready)
    m = re.search(r"demo +127\.0\.0\.1:(\d+) ", screen)
    if m is None or mode not in screen:
        raise SystemExit(f"unexpected start screen: {screen}")
    return p, int(m.group(1))


def quit_app(p):
    activate("quit")
    try:
        return p.wait(timeout=20)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()
        return None


def decoded_header(msg, name):
    value = msg.get(name, "")
    return str(email.header.make_header(email.header.decode_header(value))).replace("\t", " ")


expected = {}
with open(os.path.join(samples, "expected.tsv"), encoding="utf-8") as f:
    for line in f:
        if line.startswith("#") or not line.strip():
            continue
        name, verdict, _ = line.rstrip("\n").split("\t", 2)
        with open(os.path.join(samples, name), "rb") as m:
            msg = email.message_from_binary_file(m)
        expected[name] = (verdict, decoded_header(msg, "Subject"))

try:
    config_dir = os.path.join(os.environ["XDG_CONFIG_HOME"], "spoofwatch")
    os.makedirs(config_dir, mode=0o700, exist_ok=True)
    with open(os.path.join(config_dir, "spoofwatch.conf"), "w") as f:
        f.write("[general]\nfirst-run-done=true\n")

    p, port = start()
    state, rows = loaded_dump()
    check("window-empty-at-start", state["rows"] == "0" and state["total"] == "0", state)
    screenshot("main-window-empty.png")

    # A real client downloads the demo mailbox through the proxy.
    pop = poplib.POP3("127.0.0.1", port, timeout=30)
    pop.user("demo")
    pop.pass_("demo")
    count, _ = pop.stat()
    check("pop3-seven-messages", count == len(expected), count)
    for i in range(1, count + 1):
        _, lines, _ = pop.retr(i)
        check(f"pop3-retr-{i}-verdict-header", any(l.startswith(b"X-Spoofwatch-Verdict: ") for l in lines))
    pop.quit()

    # The window lists them (pushed by verdict-added, no reload).
    state, rows = loaded_dump(len(expected))
    check("window-lists-seven", len(rows) == len(expected) and state["total"] == str(len(expected)),
          (state, rows))
    by_subject = {r["subject"]: r for r in rows}
    for name, (verdict, subject) in sorted(expected.items()):
        row = by_subject.get(subject)
        if check(f"listed-{name}", row is not None, f"subject {subject!r} not in {list(by_subject)}"):
            check(f"verdict-{name}", row["verdict"] == verdict, f"{row['verdict']} != {verdict}")
            check(f"word-{name}", row["word"] != "" and row["account"] == "demo", row)
    ids = [int(r["id"]) for r in rows]
    check("newest-first", ids == sorted(ids, reverse=True), ids)
    screenshot("main-window.png")

    # Filter by verdict, then search, through the window's own widgets.
    n_reject = sum(1 for v, _ in expected.values() if v == "reject")
    activate("test-filter", gvariant_string("reject\t"))
    state, rows = loaded_dump()
    check("filter-reject", len(rows) == n_reject and all(r["verdict"] == "reject" for r in rows), rows)
    activate("test-filter", gvariant_string("all\tGREENLEAF"))
    state, rows = loaded_dump()
    greenleaf = [r for r in by_subject.values()
                 if "greenleaf" in (r["from"] + r["subject"]).lower()]
    check("search-case-insensitive", len(rows) == len(greenleaf) and len(rows) >= 2, (rows, greenleaf))
    activate("test-filter", gvariant_string("all\t"))
    state, rows = loaded_dump(len(expected))
    check("filter-cleared", len(rows) == len(expected), rows)

    # The details of the spoofed Citibank mail, opened the way a pop-up's action does.
    citi = by_subject[expected["01-citibank-spoofed.eml"][1]]
    activate("show-details", f"int64 {citi['id']}")
    state, rows = wait_until("the details of the Citibank sample",
                             lambda: (lambda d: d if d and d[0]["details"] == citi["id"] else None)(dump()))
    check("details-shown", state["details"] == citi["id"], state)
    seen = {r["id"]: r["seen"] for r in rows}
    check("details-marks-seen", seen.get(citi["id"]) == "1", seen)
    screenshot("details-reject.png")
    activate("test-scroll-details", "0.55")
    screenshot("details-reject-evidence.png")
    mlist = by_subject[expected["07-mailing-list.eml"][1]]
    activate("show-details", f"int64 {mlist['id']}")
    wait_until("the details of the mailing-list sample",
               lambda: (lambda d: d if d and d[0]["details"] == mlist["id"] else None)(dump()))
    screenshot("details-mailing-list.png")
    check("quit-english", quit_app(p) == 0, p.returncode)

    # Japanese: the same store, LANGUAGE=ja (gettext honours it with C.UTF-8).
    p, port = start({"LANGUAGE": "ja", "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8"})
    state, rows = loaded_dump(len(expected))
    words = {r["verdict"]: r["word"] for r in rows}
    check("japanese-words", words.get("reject") == "拒否" and words.get("pass") == "合格", words)
    activate("show-details", f"int64 {citi['id']}")
    wait_until("the Japanese details",
               lambda: (lambda d: d if d and d[0]["details"] == citi["id"] else None)(dump()))
    screenshot("details-reject-ja.png")
    activate("test-scroll-details", "0.55")
    screenshot("details-reject-evidence-ja.png")
    check("quit-japanese", quit_app(p) == 0, p.returncode)
finally:
    for p in procs:
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()

if failures:
    print(f"{len(failures)} failed: {', '.join(failures)}", file=sys.stderr)
    sys.exit(1)
print("all passed")
