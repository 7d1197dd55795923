#!/usr/bin/python3
"""`spoofwatch` as a user runs it, without a mail server: --add-account (config written
0600, what to type into the mail client, every refusal), a bad configuration file (the
message names the line, exit status 1), command-line mistakes (exit status 2), the demo
turned off, and a configured account whose port is taken. Every process is bounded by a
timeout.

usage: test-spoofwatch-cli.py SPOOFWATCH
"""
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile

spoofwatch = sys.argv[1]
failures = []
checks = 0


def check(name, cond, detail=""):
    global checks
    checks += 1
    if not cond:
        failures.append(name)
        print(f"FAIL {name}: {detail}", file=sys.stderr)


tmp = tempfile.mkdtemp(prefix="sw-test-cli-")
env = dict(os.environ, XDG_CONFIG_HOME=os.path.join(tmp, "config"), XDG_DATA_HOME=os.path.join(tmp, "data"),
           HOME=tmp)
conf = os.path.join(tmp, "config", "spoofwatch", "spoofwatch.conf")


def run(*args, config=None):
    r = subprocess.run([spoofwatch, *args], env=env, capture_output=True, timeout=60, stdin=subprocess.DEVNULL)
    return r.returncode, r.stdout.decode(errors="replace"), r.stderr.decode(errors="replace")


try:
    # --add-account: the config is created with mode 0600 and the instructions printed.
    status, out, err = run("--add-account", "work", "--upstream", "pop.example.net:995", "--tls", "implicit",
                           "--provider-host", "*.mail.example.net", "--provider-host", "mx?.example.net",
                           "--trust-authserv-id", "mx.example.net")
    check("add-status", status == 0, err)
    check("add-mode", os.path.exists(conf) and (os.stat(conf).st_mode & 0o777) == 0o600, conf)
    port = re.search(r"port +(\d+)", out)
    check("add-instructions", port is not None and "server          127.0.0.1" in out
          and "pop.example.net:995 with TLS" in out and "spoofwatch --headless" in out, out)
    text = open(conf).read()
    for want in ("[account work]", "upstream-host=pop.example.net", "upstream-port=995", "tls=implicit",
                 "provider-hosts=*.mail.example.net;mx?.example.net;", "trusted-authserv-ids=mx.example.net;",
                 "authserv-id=spoofwatch-", f"listen-port={port.group(1) if port else '?'}"):
        check(f"add-file-{want}", want in text, text)

    # A second account: STLS with the default port 110, an IPv6 upstream, a given port.
    status, out, err = run("--add-account", "home", "--upstream", "[2001:db8::1]", "--tls", "starttls",
                           "--listen-port", "12345", "--trusted-hops", "2")
    check("add2-status", status == 0, err)
    text = open(conf).read()
    check("add2-file", "[account home]" in text and "upstream-host=2001:db8::1" in text and "upstream-port=110" in text
          and "listen-port=12345" in text and "trusted-hops=2" in text and "tls=starttls" in text, text)
    check("add2-instructions", "port            12345" in out and "STLS" in out, out)

    # Refusals: exit status 1 or 2, a message that says why, the file unchanged.
    before = open(conf).read()
    refusals = [
        ("duplicate-name", ["--add-account", "work", "--upstream", "pop.example.org:995"], 1,
         "an account named \"work\" exists already"),
        ("duplicate-port", ["--add-account", "other", "--upstream", "pop.example.org:995", "--listen-port", "12345"],
         1, "12345 is already the port of account \"home\""),
        ("tls-none-remote", ["--add-account", "plain", "--upstream", "pop.example.org:110", "--tls", "none"], 1,
         "none is allowed only to a loopback upstream"),
        ("bad-tls", ["--add-account", "x", "--upstream", "pop.example.org", "--tls", "ssl"], 2,
         "--tls ssl: use implicit"),
        ("no-upstream", ["--add-account", "x"], 2, "--add-account needs --upstream"),
        ("bad-upstream", ["--add-account", "x", "--upstream", "pop.example.org:99999"], 2, "--upstream"),
        ("bad-name", ["--add-account", "a b", "--upstream", "pop.example.org"], 1, "name: an account name is"),
        ("privileged-port", ["--add-account", "x", "--upstream", "pop.example.org", "--listen-port", "110"], 1,
         "listen-port: missing or below 1024"),
        ("bad-pattern", ["--add-account", "x", "--upstream", "pop.example.org", "--provider-host", "a b"], 1,
         "provider-hosts: \"a b\""),
        ("upstream-without-add", ["--upstream", "pop.example.org"], 2, "go with --add-account NAME"),
        ("unknown-option", ["--frobnicate"], 2, "Unknown option --frobnicate"),
        ("extra-argument", ["--headless", "extra"], 2, "unexpected argument \"extra\""),
        ("bad-demo-port", ["--headless", "--demo-port", "70000"], 2, "--demo-port 70000"),
    ]
    for name, args, want_status, want_text in refusals:
        status, out, err = run(*args)
        check(f"refuse-{name}", status == want_status and want_text in err, f"status {status}: {err}")
    check("refusals-file-unchanged", open(conf).read() == before, "")

    status, out, err = run("--version")
    check("version", status == 0 and re.match(r"spoofwatch \d+\.\d+\.\d+\n", out) is not None, out)

    # A bad configuration file: the daemon names the file and the line, exit status 1.
    bad = os.path.join(tmp, "bad.conf")
    cases = [
        ("bad-tls-line", "[general]\ndemo=true\n\n[account work]\nlisten-port=11995\nupstream-host=pop.example.net\n"
         "tls=plain\n", ":7: [account work] tls: unknown mode \"plain\""),
        ("syntax-line", "[general]\nthis line is wrong\n", ":2: not a \"key=value\" line"),
        ("tls-none-remote-line", "[account work]\nlisten-port=11995\nupstream-host=pop.example.net\ntls=none\n",
         ":4: [account work] tls: none is allowed only to a loopback upstream"),
    ]
    for name, content, want in cases:
        with open(bad, "w") as fh:
            fh.write(content)
        status, out, err = run("--headless", "--config", bad)
        check(f"config-{name}", status == 1 and f"{bad}{want}" in err, f"status {status}: {err}")

    # No account and the demo turned off: a clear message, exit status 1.
    off = os.path.join(tmp, "off.conf")
    with open(off, "w") as fh:
        fh.write("[general]\nauthserv-id=spoofwatch-0123456789abcdef\ndemo=false\n")
    status, out, err = run("--headless", "--config", off, "--store", os.path.join(tmp, "v.sqlite"))
    check("demo-off", status == 1 and "no account configured and the demo is off" in err, err)
    status, out, err = run("--headless", "--no-demo", "--config", os.path.join(tmp, "none.conf"),
                           "--store", os.path.join(tmp, "v.sqlite"))
    check("no-demo-option", status == 1 and "no account configured" in err, err)

    # A configured account whose port is taken: the daemon says which and exits 1.
    busy = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    busy.bind(("127.0.0.1", 0))
    busy.listen(1)
    busy_port = busy.getsockname()[1]
    taken = os.path.join(tmp, "taken.conf")
    with open(taken, "w") as fh:
        fh.write(f"[account local]\nlisten-port={busy_port}\nupstream-host=127.0.0.1\nupstream-port=1\ntls=none\n")
    status, out, err = run("--headless", "--config", taken, "--store", os.path.join(tmp, "v.sqlite"),
                           "--dns-forward", "127.0.0.1:9")
    busy.close()
    check("port-taken", status == 1 and f"account \"local\": cannot listen on port {busy_port}" in err,
          f"status {status}: {err}")
    # The authserv-id generated for a file without one was written back (0600).
    text = open(taken).read()
    check("authserv-id-added", "authserv-id=spoofwatch-" in text and (os.stat(taken).st_mode & 0o777) == 0o600, text)
finally:
    shutil.rmtree(tmp, ignore_errors=True)

print(f"{checks} checks, {len(failures)} failed")
sys.exit(1 if failures else 0)
