#!/bin/bash
# Integration test of the POP3 proxy with a real Dovecot (Debian's dovecot-pop3d) as the
# upstream and real clients (curl, Python's poplib, fetchmail) through the proxy.
# Usage: test-pop3-dovecot.sh <pop3-proxy-driver>
#   Dovecot runs from a temporary config on random loopback ports (implicit TLS and STLS)
#   with a self-signed CA and a server certificate for "localhost" made here by openssl,
#   a passwd-file user and a maildir holding tests/data/proxy/samples/*.eml plus a
#   message with a forged verdict claiming our authserv-id.
# Checks: every message arrives; the original headers and body are byte-identical to what
#   Dovecot holds; our X-Spoofwatch-Verdict equals expected.tsv; the forged fields are
#   gone; a second download gets the same headers from the verdict store; a certificate
#   for another host name, an untrusted certificate and a refused connection give -ERR
#   naming the cause.
# Dovecot and the proxies are stopped on every exit path.
set -u
driver=$1
# In an ASan build, LeakSanitizer's tracer sometimes dies ("LeakSanitizer has encountered a
# fatal error") on the thread-local storage of GIO's TLS module at exit; leaks are still
# checked with this interception off.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}intercept_tls_get_addr=0"
src=${SW_SOURCE_DIR:?}
data=$src/tests/data/proxy/samples
id=spoofwatch.test
user=alice
pass='s3cret-Pa55'

for tool in dovecot openssl curl fetchmail /usr/bin/python3; do
  command -v "$tool" >/dev/null || { echo "FAIL: $tool is not installed (tools/install-deps)"; exit 1; }
done

tmp=$(mktemp -d /tmp/sw-pop3-dovecot.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
  if [ -f "$tmp/dovecot.conf" ]; then
    dovecot -c "$tmp/dovecot.conf" stop >/dev/null 2>&1
    for _ in $(seq 50); do [ -e "$tmp/run/master.pid" ] || break; sleep 0.1; done
  fi
  [ -n "${KEEP_TMP:-}" ] || rm -rf "$tmp"
}
trap cleanup EXIT INT TERM
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

free_port() {
  /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# --- certificates: a CA, a server certificate for "localhost" only (no IP SAN) ---
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=Spoofwatch test CA" \
  -keyout "$tmp/ca.key" -out "$tmp/ca.pem" >/dev/null 2>&1 || { echo "FAIL: openssl CA"; exit 1; }
openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" -keyout "$tmp/server.key" \
  -out "$tmp/server.csr" >/dev/null 2>&1
printf 'subjectAltName=DNS:localhost\n' >"$tmp/ext.cnf"
openssl x509 -req -in "$tmp/server.csr" -CA "$tmp/ca.pem" -CAkey "$tmp/ca.key" -CAcreateserial \
  -days 2 -extfile "$tmp/ext.cnf" -out "$tmp/server.pem" >/dev/null 2>&1 || { echo "FAIL: openssl cert"; exit 1; }

# --- the mailbox ---
mkdir -p "$tmp/home/Maildir/cur" "$tmp/home/Maildir/new" "$tmp/home/Maildir/tmp" "$tmp/run" "$tmp/state" "$tmp/expected"
n=0
for f in "$data"/*.eml; do
  n=$((n + 1))
  base=$(basename "$f")
  cp "$f" "$tmp/expected/$n.eml"
  grep -P "^\Q$base\E\t" "$data/expected.tsv" | cut -f2 >"$tmp/expected/$n.verdict"
  tr -d '\r' <"$f" >"$tmp/home/Maildir/cur/$((1700000000 + n)).M$n.test:2,"
done
# a message with a forged verdict claiming our authserv-id: both fields must go
n=$((n + 1))
forged_fields=$'Authentication-Results: spoofwatch.test; dmarc=pass header.from=citibank.com\r\nX-Spoofwatch-Verdict: pass\r\n'
{ printf '%s' "$forged_fields"; cat "$data/01-citibank-spoofed.eml"; } >"$tmp/forged.eml"
cp "$data/01-citibank-spoofed.eml" "$tmp/expected/$n.eml"
echo reject >"$tmp/expected/$n.verdict"
tr -d '\r' <"$tmp/forged.eml" >"$tmp/home/Maildir/cur/$((1700000000 + n)).M$n.test:2,"
total=$n

# --- Dovecot ---
if [ "$(id -u)" = 0 ]; then
  mail_user=nobody; login_user=dovenull; internal_user=dovecot
  chown -R nobody "$tmp/home"
  chmod 755 "$tmp"
else
  mail_user=$(id -un); login_user=$mail_user; internal_user=$mail_user
fi
mail_uid=$(id -u "$mail_user"); mail_gid=$(id -g "$mail_user")
printf '%s:{PLAIN}%s::::::\n' "$user" "$pass" >"$tmp/passwd"
pop3_port=$(free_port); pop3s_port=$(free_port)
cat >"$tmp/dovecot.conf" <<CONF
base_dir = $tmp/run
state_dir = $tmp/state
instance_name = sw-test-$$
log_path = $tmp/dovecot.log
protocols = pop3
listen = 127.0.0.1
default_login_user = $login_user
default_internal_user = $internal_user
default_internal_group = $(id -gn "$internal_user")
first_valid_uid = $mail_uid
last_valid_uid = $mail_uid
auth_mechanisms = plain login
disable_plaintext_auth = no
ssl = yes
ssl_cert = <$tmp/server.pem
ssl_key = <$tmp/server.key
mail_location = maildir:$tmp/home/Maildir
pop3_uidl_format = %08Xu%08Xv
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u $tmp/passwd
}
userdb {
  driver = static
  args = uid=$mail_uid gid=$mail_gid home=$tmp/home
}
service pop3-login {
  inet_listener pop3 {
    address = 127.0.0.1
    port = $pop3_port
  }
  inet_listener pop3s {
    address = 127.0.0.1
    port = $pop3s_port
    ssl = yes
  }
}
service anvil {
  chroot =
}
service imap-login {
  chroot =
}
service pop3-login {
  chroot =
}
CONF
dovecot -c "$tmp/dovecot.conf" || { echo "FAIL: dovecot did not start"; cat "$tmp/dovecot.log" 2>/dev/null; exit 1; }
for _ in $(seq 100); do
  (exec 3<>/dev/tcp/127.0.0.1/$pop3s_port) 2>/dev/null && break
  sleep 0.1
done

# --- proxies ---
# start_proxy NAME ARGS...: sets port_NAME; DNS from ${dns_args[@]}
dns_args=(--zone "$data/samples.zone")
start_proxy() {
  local name=$1; shift
  local out=$tmp/proxy-$name.out
  G_MESSAGES_DEBUG=sw-proxy "$driver" "${dns_args[@]}" --authserv-id "$id" --spool-dir "$tmp/spool" "$@" \
    >"$out" 2>"$tmp/proxy-$name.log" &
  pids+=($!)
  for _ in $(seq 100); do
    grep -q '^PORT ' "$out" 2>/dev/null && break
    sleep 0.05
  done
  local port
  port=$(sed -n 's/^PORT //p' "$out")
  [ -n "$port" ] || { echo "FAIL: proxy $name did not start"; cat "$tmp/proxy-$name.log"; exit 1; }
  eval "port_$name=$port"
}
start_proxy implicit --upstream-host localhost --upstream-port "$pop3s_port" --tls implicit --ca "$tmp/ca.pem" \
  --store "$tmp/verdicts.sqlite" --memory-limit 4096
start_proxy stls --upstream-host localhost --upstream-port "$pop3_port" --tls starttls --ca "$tmp/ca.pem"
start_proxy wrongname --upstream-host 127.0.0.1 --upstream-port "$pop3s_port" --tls implicit --ca "$tmp/ca.pem"
start_proxy untrusted --upstream-host localhost --upstream-port "$pop3s_port" --tls implicit
start_proxy stlsname --upstream-host 127.0.0.1 --upstream-port "$pop3_port" --tls starttls --ca "$tmp/ca.pem"
closed_port=$(free_port) # nothing listens there
start_proxy refused --upstream-host localhost --upstream-port "$closed_port" --tls implicit --ca "$tmp/ca.pem"

# check_message CLIENT N FILE: FILE (CRLF) must be our header block + expected/N.eml
check_message() {
  local client=$1 i=$2 got=$3
  local verdict=${4:-}
  [ -n "$verdict" ] || verdict=$(cat "$tmp/expected/$i.verdict")
  /usr/bin/python3 - "$got" "$tmp/expected/$i.eml" "$verdict" "$id" <<'PY' || fail "$client message $i"
import sys
got = open(sys.argv[1], 'rb').read()
want = open(sys.argv[2], 'rb').read()
verdict, authserv = sys.argv[3], sys.argv[4]
if not got.endswith(want):
    sys.exit("original headers/body not byte-identical (%d bytes received, %d expected)" % (len(got), len(want)))
ours = got[:len(got) - len(want)].decode()
lines = ours.split('\r\n')
if not lines[0].startswith('Authentication-Results: %s;' % authserv):
    sys.exit("our Authentication-Results is not on top: %r" % lines[0])
if lines[-2] != 'X-Spoofwatch-Verdict: ' + verdict or lines[-1] != '':
    sys.exit("verdict %r, expected %s" % (lines[-2], verdict))
if any(l and not l[0].isspace() for l in lines[1:-2]):
    sys.exit("unexpected header lines above the message: %r" % lines)
if b'dmarc=pass header.from=citibank.com' in got or got.count(b'X-Spoofwatch-Verdict') != 1:
    sys.exit("a forged field survived")
PY
}

# --- curl: pop3:// through the implicit-TLS proxy (with the store) and the STLS proxy ---
for name in implicit stls; do
  eval "port=\$port_$name"
  for i in $(seq "$total"); do
    curl -s --max-time 20 "pop3://127.0.0.1:$port/$i" -u "$user:$pass" -o "$tmp/curl-$name-$i.eml" \
      || fail "curl ($name) message $i: exit $?"
    check_message "curl ($name)" "$i" "$tmp/curl-$name-$i.eml"
  done
done
# the second download through the store-backed proxy gets the same header lines
for i in $(seq "$total"); do
  curl -s --max-time 20 "pop3://127.0.0.1:$port_implicit/$i" -u "$user:$pass" -o "$tmp/curl-again-$i.eml"
  cmp -s "$tmp/curl-implicit-$i.eml" "$tmp/curl-again-$i.eml" || fail "message $i: a second download differs"
done
# (GLib writes info and debug lines to stdout: proxy-NAME.out, the rest to proxy-NAME.log)
# the proxy listens on ::1 too (same port), when the host has IPv6 loopback
if /usr/bin/python3 -c 'import socket; socket.socket(socket.AF_INET6).bind(("::1", 0))' 2>/dev/null; then
  curl -s --max-time 20 "pop3://[::1]:$port_implicit/1" -u "$user:$pass" -o "$tmp/curl-v6.eml" || fail "curl to [::1]: exit $?"
  cmp -s "$tmp/curl-implicit-1.eml" "$tmp/curl-v6.eml" || fail "message 1 through [::1] differs"
fi
grep -q "(stored verdict)" "$tmp/proxy-implicit.out" || fail "the second download did not use the verdict store"

# --- Python's poplib: UIDL, LIST, TOP, RETR ---
/usr/bin/python3 - "$port_implicit" "$user" "$pass" "$tmp" "$total" <<'PY' || fail "poplib"
import poplib, sys
port, user, pw, tmp, total = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
p = poplib.POP3('127.0.0.1', port, timeout=20)
caps = p.capa()
if 'STLS' in caps:
    sys.exit("STLS offered to the client")
p.user(user); p.pass_(pw)
count, size = p.stat()
if count != total:
    sys.exit("STAT: %d messages, expected %d" % (count, total))
uidls = p.uidl()[1]
if len(uidls) != total:
    sys.exit("UIDL: %r" % uidls)
listing = p.list()[1]
for i in range(1, total + 1):
    resp, lines, octets = p.retr(i)
    open('%s/poplib-%d.eml' % (tmp, i), 'wb').write(b'\r\n'.join(lines) + b'\r\n')
    # LIST sizes count our header lines (an upper bound, docs/pop3-proxy.md)
    listed = int(listing[i - 1].split()[1])
    if listed < octets - 2 * len(lines):
        sys.exit("LIST %d says %d, message has %d" % (i, listed, octets))
# TOP of a message verified before (its UIDL is known) carries the stored header lines
resp, lines, octets = p.top(1, 0)
retr1 = open('%s/poplib-1.eml' % tmp, 'rb').read()
ours = retr1[:retr1.index(b'\r\nReturn-Path:') + 2]
if not b'\r\n'.join(lines).startswith(ours):
    sys.exit("TOP does not carry the stored verdict of RETR: %r" % lines[:8])
p.quit()
PY
for i in $(seq "$total"); do
  check_message poplib "$i" "$tmp/poplib-$i.eml"
done

# --- fetchmail: keeps the messages, delivers each to an MDA that writes a file; sslproto
# "" stops its opportunistic STLS (the client side of the proxy is plain loopback) ---
mkdir -p "$tmp/fetchmail"
cat >"$tmp/fetchmailrc" <<RC
set no syslog
poll 127.0.0.1 protocol pop3 port $port_stls
  user "$user" password "$pass" is "$user" here
  keep fetchall no rewrite sslproto ''
  mda "$tmp/mda.sh"
RC
chmod 600 "$tmp/fetchmailrc"
cat >"$tmp/mda.sh" <<MDA
#!/bin/sh
n=\$(ls "$tmp/fetchmail" | wc -l)
cat >"$tmp/fetchmail/\$((n + 1)).eml"
MDA
chmod 755 "$tmp/mda.sh"
HOME=$tmp FETCHMAILHOME=$tmp timeout 60 fetchmail -f "$tmp/fetchmailrc" --nosoftbounce -s \
  >"$tmp/fetchmail.log" 2>&1 || fail "fetchmail: exit $? ($(tail -3 "$tmp/fetchmail.log"))"
for i in $(seq "$total"); do
  f=$tmp/fetchmail/$i.eml
  [ -f "$f" ] || { fail "fetchmail: message $i missing"; continue; }
  # fetchmail hands the MDA LF line endings and inserts its own Received: (below a
  # Return-Path:); undo those before comparing
  /usr/bin/python3 - "$f" "$tmp/expected/$i.eml" "$(cat "$tmp/expected/$i.verdict")" <<'PY' || fail "fetchmail message $i"
import re, sys
got = open(sys.argv[1], 'rb').read().replace(b'\r\n', b'\n')
want = open(sys.argv[2], 'rb').read().replace(b'\r\n', b'\n')
got = re.sub(rb'Received: from 127\.0\.0\.1 \[127\.0\.0\.1\]\n(?:[ \t][^\n]*\n)*', b'', got, count=1)
if not got.endswith(want):
    sys.exit("original headers/body not identical")
if not got[:len(got) - len(want)].endswith(b'\nX-Spoofwatch-Verdict: ' + sys.argv[3].encode() + b'\n'):
    sys.exit("our verdict is not %s right above the message" % sys.argv[3])
PY
done

# --- a real DNS server: NSD on loopback serves the samples' zones, the proxy's libunbound
# forwards to it; then NSD stops: every message is still delivered, byte for byte, with
# temperror ---
source "$src/tests/integration/nsd-fixture.sh"
/usr/bin/python3 "$src/tests/tools/split-zone.py" "$data/samples.zone" "$tmp/zones" \
  citibank.com citigroup.com pphosted.com example example.net || fail "split-zone"
if sw_nsd_start "$tmp/zones"; then
  dns_args=(--dns-server "$SW_NSD_FORWARD")
  start_proxy nsd --upstream-host localhost --upstream-port "$pop3s_port" --tls implicit --ca "$tmp/ca.pem"
  for i in $(seq "$total"); do
    curl -s --max-time 20 "pop3://127.0.0.1:$port_nsd/$i" -u "$user:$pass" -o "$tmp/curl-nsd-$i.eml" \
      || fail "curl (NSD) message $i: exit $?"
    check_message "curl (NSD)" "$i" "$tmp/curl-nsd-$i.eml"
  done
  sw_nsd_stop
  dns_args=(--dns-server "$SW_NSD_FORWARD" --dns-timeout 300)
  start_proxy dnsdown --upstream-host localhost --upstream-port "$pop3s_port" --tls implicit --ca "$tmp/ca.pem"
  for i in $(seq "$total"); do
    curl -s --max-time 60 "pop3://127.0.0.1:$port_dnsdown/$i" -u "$user:$pass" -o "$tmp/curl-dnsdown-$i.eml" \
      || fail "curl (DNS down) message $i: exit $?"
    check_message "curl (DNS down)" "$i" "$tmp/curl-dnsdown-$i.eml" temperror
  done
else
  fail "NSD did not start"
fi
dns_args=(--zone "$data/samples.zone")

# --- TLS failures: -ERR naming the cause, never a plain-text fallback ---
expect_err() {
  local name=$1 pattern=$2
  local port greeting
  eval "port=\$port_$name"
  greeting=$(/usr/bin/python3 -c '
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=20)
print(s.makefile("rb").readline().decode().strip())' "$port")
  case "$greeting" in
    "-ERR"*$pattern*) ;;
    *) fail "$name: greeting \"$greeting\" does not name \"$pattern\"" ;;
  esac
}
expect_err wrongname "host name mismatch"
expect_err untrusted "not trusted"
expect_err stlsname "host name mismatch"
expect_err refused "cannot connect to localhost port $closed_port"

# --- logs: commands are logged, the password never ---
grep -q "C: PASS \*\*\*" "$tmp/proxy-implicit.out" || fail "PASS is not logged (masked)"
if grep -qF "$pass" "$tmp"/proxy-*.log "$tmp"/proxy-*.out; then fail "the password appears in the proxy's logs"; fi

# --- the proxies stop cleanly on SIGTERM (and, in an ASan build, without reports) ---
for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null; done
for p in "${pids[@]}"; do wait "$p" || fail "a proxy driver exited with status $? on SIGTERM"; done
pids=()
if grep -q "Sanitizer\|runtime error" "$tmp"/proxy-*.log; then fail "sanitizer report in the proxy logs"; fi

if [ "$failures" -gt 0 ]; then
  echo "$failures failure(s); logs in $tmp (KEEP_TMP=1 keeps them)"
  exit 1
fi
echo "ok: $total messages through curl (implicit TLS and STLS), poplib and fetchmail; TLS errors named"
