#!/usr/bin/python3
"""Pop-ups, tray icon and pause protection of `spoofwatch` in a real desktop session.

Run inside tests/gui/gui-session.sh (Xvfb, a session D-Bus, dunst logging every
notification to $SW_GUI_NOTIFY_LOG). A minimal StatusNotifierWatcher
(test-tray-watcher.py) stands in for a panel so libayatana-appindicator registers its
StatusNotifierItem; the test reads the item's properties and menu off the bus.

Run 1: spoofwatch --hidden on the demo mailbox; the tray item is registered, idle, with
its menu (Open window, Pause protection, Settings, Quit); the 7 samples are fetched with
poplib; exactly the 1 quarantine and 2 reject samples raise notifications (reject
CRITICAL, quarantine NORMAL), each naming the claimed domain and the record's
explanation; the tray turns to "reject" with a title in words; a screenshot of the
pop-ups (X root window) goes to build/screenshots/notify-popups.png.
Run 2 (fresh store, grouping threshold 2): Pause protection through app.pause on the bus;
the tray says "paused"; the samples come through with temperror "protection paused" and
no notification; after resuming, a second download is verified and the three suspicious
messages make ONE grouped notification "3 suspicious messages" (CRITICAL); screenshot
notify-grouped.png.
Every process started here is stopped on every exit path.

usage: test-notify-session.py SPOOFWATCH   (SW_SOURCE_DIR, SW_BUILD_DIR, SW_GUI_SESSION_DIR)
"""
import os
import poplib
import re
import sqlite3
import subprocess
import sys
import time

spoofwatch = sys.argv[1]
src = os.environ["SW_SOURCE_DIR"]
build = os.environ["SW_BUILD_DIR"]
session = os.environ["SW_GUI_SESSION_DIR"]
notify_log = os.environ["SW_GUI_NOTIFY_LOG"]
shots = os.path.join(build, "screenshots")
os.makedirs(shots, exist_ok=True)
PY = "/usr/bin/python3"  # python3-gi is installed for Debian's python
GROUP_MS = 300

failures = []
checks = 0
procs = []


def check(name, cond, detail=""):
    global checks
    checks += 1
    if not cond:
        failures.append(name)
        print(f"FAIL {name}: {detail}", file=sys.stderr)
    return cond


def wait_for(what, seconds, fn):
    """Polls fn() every 50 ms until it returns a true value, at most `seconds`."""
    deadline = time.monotonic() + seconds
    while True:
        v = fn()
        if v:
            return v
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {seconds} s waiting for {what}")
        time.sleep(0.05)


def stop_all():
    for p in reversed(procs):
        if p.poll() is None:
            p.terminate()
    for p in reversed(procs):
        try:
            p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


expected = {}
with open(os.path.join(src, "samples", "expected.tsv")) as fh:
    for line in fh:
        if line.startswith("#") or not line.strip():
            continue
        name, verdict = line.split("\t")[:2]
        expected[name] = verdict
suspicious = {n: v for n, v in expected.items() if v in ("quarantine", "reject")}


def gdbus(*args):
    r = subprocess.run(["gdbus", "call", "--session", *args], capture_output=True, text=True, timeout=20)
    if r.returncode != 0:
        raise RuntimeError(f"gdbus {' '.join(args)}: {r.stderr.strip()}")
    return r.stdout


def app_action(method, *args):
    return gdbus("--dest", "org.spoofwatch.Spoofwatch", "--object-path", "/org/spoofwatch/Spoofwatch",
                 "--method", f"org.gtk.Actions.{method}", *args)


# ---- The tray item on the bus ----

watcher_log = os.path.join(session, "watcher.log")


def registrations():
    try:
        with open(watcher_log) as fh:
            return [l.rstrip("\n").split("\t")[1:] for l in fh if l.startswith("register\t")]
    except FileNotFoundError:
        return []


def sni_props(item):
    sender, path = item
    out = gdbus("--dest", sender, "--object-path", path, "--method", "org.freedesktop.DBus.Properties.GetAll",
                "org.kde.StatusNotifierItem")
    props = {}
    for m in re.finditer(r"'(\w+)': <(?:objectpath |uint32 )?'?(.*?)'?>(?:,|})", out):
        props[m.group(1)] = m.group(2)
    return props


def menu_labels(item, menu_path):
    out = gdbus("--dest", item[0], "--object-path", menu_path, "--method", "com.canonical.dbusmenu.GetLayout",
                "--", "0", "-1", "[]")
    return re.findall(r"'label': <'([^']*)'>", out)


# ---- Notifications (dunst's log: appname, summary, body, icon, urgency; the body may
# span lines) ----

def notifications():
    with open(notify_log, encoding="utf-8", errors="replace") as fh:
        text = fh.read()
    out = []
    for rec in re.split(r"(?m)^(?=Spoofwatch\t)", text):
        if not rec.startswith("Spoofwatch\t"):
            continue
        parts = rec.rstrip("\n").split("\t")
        if len(parts) >= 5:
            out.append({"summary": parts[1], "body": "\t".join(parts[2:-2]), "icon": parts[-2],
                        "urgency": parts[-1]})
    return out


def screenshot(name):
    path = os.path.join(shots, name)
    subprocess.run(["import", "-window", "root", path], check=True, timeout=30)
    size = subprocess.run(["identify", "-format", "%w %h", path], capture_output=True, text=True,
                          check=True).stdout.split()
    check(f"{name}: size", size == ["1280", "1024"], size)
    # dunst shows its pop-ups at the top right: that part of the screen is not blank
    sd = subprocess.run(["convert", path, "-crop", "380x300+890+30", "+repage", "-format",
                         "%[fx:standard_deviation]", "info:"], capture_output=True, text=True, check=True).stdout
    check(f"{name}: pop-up area not blank", float(sd) > 0.05, sd)
    return path


# ---- spoofwatch ----

def start_spoofwatch(tag, extra_env):
    conf = os.path.join(session, f"{tag}.conf")
    with open(conf, "w") as fh:
        fh.write("[general]\nfirst-run-done=true\n")
    out_path = os.path.join(session, f"{tag}.out")
    env = dict(os.environ, SW_GUI_TEST="1", SW_GUI_NOTIFY_GROUP_MS=str(GROUP_MS), LANGUAGE="C", LANG="C.UTF-8",
               **extra_env)
    out = open(out_path, "w+")
    p = subprocess.Popen([spoofwatch, "--hidden", "--config", conf, "--store", os.path.join(session, f"{tag}.sqlite"),
                          "--demo-port", "0"], env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT)
    procs.append(p)

    def ready():
        if p.poll() is not None:
            raise RuntimeError(f"spoofwatch exited with {p.returncode}: {open(out_path).read()}")
        return "Ready." in open(out_path).read()

    wait_for("spoofwatch to be ready", 30, ready)
    port = int(re.search(r"demo\s+127\.0\.0\.1:(\d+)", open(out_path).read()).group(1))
    return p, port, os.path.join(session, f"{tag}.sqlite")


def quit_spoofwatch(p):
    app_action("Activate", "quit", "[]", "{}")
    try:
        p.wait(timeout=15)
    except subprocess.TimeoutExpired:
        check("quit: spoofwatch ended", False, "still running 15 s after app.quit")
        p.kill()
        p.wait()
    check("quit: exit status 0", p.returncode == 0, p.returncode)


def fetch_all(port):
    """RETR of every message through the proxy: {sample number: (verdict header, text)}."""
    c = poplib.POP3("127.0.0.1", port, timeout=30)
    try:
        c.user("demo")
        c.pass_("demo")
        got = {}
        for i in range(1, len(c.list()[1]) + 1):
            lines = c.retr(i)[1]
            text = b"\n".join(lines).decode("utf-8", "replace")
            m = re.search(r"(?m)^X-Spoofwatch-Verdict:\s*(\S+)", text)
            got[i] = (m.group(1) if m else None, text)
        c.quit()
        return got
    finally:
        c.close()


def tray_item_of(p, before):
    """The StatusNotifierItem registered by the spoofwatch started last."""
    return tuple(wait_for("the tray item to register with the watcher", 20,
                          lambda: len(registrations()) > before and registrations()[-1]))


def wait_title(item, needle):
    try:
        return wait_for(f"tray title with '{needle}'", 20,
                        lambda: (lambda pr: pr if needle in pr.get("Title", "") else None)(sni_props(item)))
    except TimeoutError as e:
        check(f"tray title '{needle}'", False, f"{e}: {sni_props(item)}")
        return sni_props(item)


def explanations(store):
    db = sqlite3.connect(store)
    try:
        return {r[0]: r[1] for r in db.execute("SELECT from_domain, explanation FROM verdicts")}
    finally:
        db.close()


def run1():
    before = len(registrations())
    p, port, store = start_spoofwatch("run1", {})
    item = tray_item_of(p, before)
    props = sni_props(item)
    check("tray: id", props.get("Id") == "spoofwatch", props)
    check("tray: idle icon", props.get("IconName") == "sw-tray-idle", props)
    check("tray: idle title in words", "no unread mail" in props.get("Title", ""), props)
    check("tray: accessible description", props.get("IconAccessibleDesc") == props.get("Title"), props)
    check("tray: icon theme path has the icons",
          os.path.exists(os.path.join(props.get("IconThemePath", "/nonexistent"), "sw-tray-reject.svg")), props)
    labels = menu_labels(item, props.get("Menu", ""))
    for want in ("_Open window", "_Pause protection", "_Settings…", "_Quit"):
        check(f"tray menu: {want}", want in labels, labels)

    got = fetch_all(port)
    check("run1: 7 samples", len(got) == len(expected), len(got))
    names = sorted(expected)
    for i, (verdict, _) in got.items():
        check(f"run1: sample {names[i - 1]} verdict", verdict == expected[names[i - 1]], verdict)

    try:
        wait_for("3 notifications", 20, lambda: len(notifications()) >= len(suspicious))
    except TimeoutError as e:
        check("run1: notifications arrived", False, str(e))
    props = wait_title(item, "2 unread messages probably forged (Reject)")
    check("tray: reject icon", props.get("IconName") == "sw-tray-reject", props)
    check("tray: needs attention", props.get("Status") == "NeedsAttention", props)
    # No more than the three: every verdict was stored before the tray showed the count of
    # two rejects; wait out a few grouping windows for a late, unexpected pop-up.
    time.sleep(GROUP_MS * 4 / 1000)
    notes = notifications()
    check("run1: exactly 3 notifications", len(notes) == 3, [n["summary"] for n in notes])
    expl = explanations(store)
    want = {"citibank.com": ("reject", "CRITICAL"), "greenleaf-bank.example": ("reject", "CRITICAL"),
            "parcel-express.example": ("quarantine", "NORMAL")}
    for domain, (verdict, urgency) in want.items():
        mine = [n for n in notes if domain in n["summary"]]
        if not check(f"run1: one pop-up for {domain}", len(mine) == 1, [n["summary"] for n in notes]):
            continue
        n = mine[0]
        check(f"run1: {domain} urgency", n["urgency"] == urgency, n)
        check(f"run1: {domain} icon", n["icon"] == f"sw-tray-{verdict}", n)
        words = "Probably forged" if verdict == "reject" else "Suspicious"
        check(f"run1: {domain} summary", n["summary"].startswith(words), n)
        check(f"run1: {domain} body has the explanation", expl.get(domain, "?")[:60] in n["body"],
              (expl.get(domain), n["body"]))
    for domain in ("weekly-digest.example", "small-family.example", "university.example"):
        check(f"run1: no pop-up for {domain}", not any(domain in n["summary"] for n in notes))
    screenshot("notify-popups.png")
    quit_spoofwatch(p)


def run2():
    open(notify_log, "w").close()
    subprocess.run(["dunstctl", "close-all"], timeout=10)
    before = len(registrations())
    p, port, store = start_spoofwatch("run2", {"SW_GUI_NOTIFY_GROUP_THRESHOLD": "2"})
    item = tray_item_of(p, before)
    app_action("SetState", "pause", "<true>", "{}")
    props = wait_title(item, "protection paused")
    check("pause: tray icon", props.get("IconName") == "sw-tray-paused", props)
    got = fetch_all(port)
    for i, (verdict, text) in got.items():
        check(f"pause: sample {i} temperror", verdict == "temperror", verdict)
        check(f"pause: sample {i} says paused", "protection paused" in text)
    time.sleep(GROUP_MS * 4 / 1000)  # nothing may pop up: bounded wait for an absence
    check("pause: no notification", notifications() == [], notifications())
    db = sqlite3.connect(store)
    check("pause: nothing stored", db.execute("SELECT count(*) FROM verdicts").fetchone()[0] == 0)
    db.close()

    app_action("SetState", "pause", "<false>", "{}")
    wait_title(item, "no unread mail")
    got = fetch_all(port)
    names = sorted(expected)
    for i, (verdict, _) in got.items():
        check(f"resume: sample {names[i - 1]} verdict", verdict == expected[names[i - 1]], verdict)
    try:
        wait_for("the grouped notification", 20, lambda: notifications())
    except TimeoutError as e:
        check("group: notification arrived", False, str(e))
    wait_title(item, "probably forged (Reject)")
    time.sleep(GROUP_MS * 4 / 1000)
    notes = notifications()
    check("group: exactly one notification", len(notes) == 1, [n["summary"] for n in notes])
    if notes:
        n = notes[0]
        check("group: summary", n["summary"] == "3 suspicious messages", n)
        check("group: urgency critical (a reject among them)", n["urgency"] == "CRITICAL", n)
        for domain in ("citibank.com", "greenleaf-bank.example", "parcel-express.example"):
            check(f"group: names {domain}", domain in n["body"], n["body"])
    screenshot("notify-grouped.png")
    quit_spoofwatch(p)


def main():
    watcher = subprocess.Popen([PY, os.path.join(src, "tests", "gui", "test-tray-watcher.py"), watcher_log])
    procs.append(watcher)
    wait_for("the StatusNotifierWatcher", 20, lambda: os.path.exists(watcher_log) and "ready" in open(watcher_log).read())
    run1()
    run2()


try:
    main()
except Exception as e:  # noqa: BLE001 - any failure is reported with what was running
    failures.append(f"exception: {e!r}")
    print(f"FAIL: {e!r}", file=sys.stderr)
    for f in os.listdir(session):
        if f.endswith(".out"):
            print(f"--- {f}\n" + open(os.path.join(session, f)).read(), file=sys.stderr)
finally:
    stop_all()

print(f"{checks} checks, {len(failures)} failures")
sys.exit(1 if failures else 0)
