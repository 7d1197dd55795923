#!/bin/bash
# pop3-bench.sh: the POP3 proxy benchmark of issue 3 (docs/benchmarks.md, "POP3 proxy").
#
# Usage: bench/pop3-bench.sh BUILD_DIR [--count N] [--rounds R] [--big-mb M] [--smoke]
#   Needs BUILD_DIR/bench/gen-corpus, BUILD_DIR/bench/delay-dns and
#   BUILD_DIR/tests/pop3-proxy-driver (cmake --build BUILD_DIR --target gen-corpus delay-dns
#   pop3-proxy-driver), dovecot (dovecot-core dovecot-pop3d), nsd, /usr/bin/python3.
#
# A local Dovecot (temporary config, random loopback port, plain text: the proxy is what
# is measured, not TLS) holds N messages of gen-corpus's corpus (default 1000, about 20 kB
# each, 300 sender domains); NSD serves the corpus's zone on loopback. Python's poplib
# downloads all of them directly from Dovecot and through the proxy (pop3-proxy-driver,
# libunbound forwarding to NSD, no verdict store so that every message is verified), in
# the same run, alternating, R rounds each (the median is reported):
#   warm   the proxy's DNS cache already holds every answer (one untimed download first)
#   20ms   a fresh proxy (empty cache) whose DNS server answers every query after 20 ms
#          (bench/delay-dns in front of NSD); each round starts a fresh proxy
#   dnsmasq  the user's resolver is dnsmasq as home routers, Pi-hole and NetworkManager run it
#          (Debian's dnsmasq-base, its defaults: at most 150 queries forwarded at once, the
#          rest refused), forwarding to the 20 ms server; a fresh proxy downloads the mailbox
#          once, and every message must come with a verdict, none with temperror
# Then the proxy's peak memory (VmHWM) while a client downloads one M MB message (50).
# Prints the figures and the ratios proxy/direct, and the CPU time per message of each
# kind of proxy thread (by thread name) during the timed warm downloads; exits 1 if a download fails, a
# message count is wrong, or a message through the proxy differs from the direct download
# other than by our header block on top (bench/pop3-client.py DIGEST_FILE; checked for the
# first download of each case, hashed after the timing) — never because a target is
# missed (see --smoke).
# --smoke: 20 messages, 1 round, a 5 MB message; fails only on errors (for CTest).
# --only warm|20ms|big|dnsmasq: run that case only (while working on one of them; the figures of
# the others print as 0).
# SW_BENCH_PROXY_WRAP: a command put in front of the proxy (profiling), e.g.
#   SW_BENCH_PROXY_WRAP="strace -c -f -o /tmp/proxy.strace" or "perf record -g -o /tmp/p.data"
# SW_BENCH_TIMELINE=FILE: each download appends to FILE the second at which each message
#   had arrived (bench/pop3-client.py), to see where a download through the proxy loses time.
# "20 ms machine": the CPU time every process of the machine was busy during the timed
#   downloads of the 20 ms case (median of the rounds; client, Dovecot, the proxy, the DNS
#   servers): what the run needs of the CPUs, against their number times the elapsed time.
# SW_BENCH_ATTACH: a command run with the proxy's PID appended during the timed warm
# downloads only, stopped with SIGINT after them, e.g.
#   SW_BENCH_ATTACH="perf record -g -o /tmp/warm.data -p"
set -u
build=${1:?usage: pop3-bench.sh BUILD_DIR [--count N] [--rounds R] [--big-mb M] [--smoke]}
shift
count=1000 rounds=3 big_mb=50 only=
while [ $# -gt 0 ]; do
  case $1 in
    --count) count=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --big-mb) big_mb=$2; shift 2 ;;
    --smoke) count=20 rounds=1 big_mb=5; shift ;;
    --only) only=$2; shift 2 ;;
    *) echo "pop3-bench: unknown option $1" >&2; exit 2 ;;
  esac
done
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/.." && pwd)
gen=$build/bench/gen-corpus
driver=$build/tests/pop3-proxy-driver
for f in "$gen" "$driver"; do
  [ -x "$f" ] || { echo "pop3-bench: $f is missing (cmake --build $build --target gen-corpus pop3-proxy-driver)" >&2; exit 1; }
done
for tool in dovecot nsd /usr/bin/python3; do
  command -v "$tool" >/dev/null || { echo "pop3-bench: $tool is not installed" >&2; exit 1; }
done

tmp=$(mktemp -d /tmp/sw-pop3-bench.XXXXXX)
pids=()
source "$src/tests/integration/nsd-fixture.sh"
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
  if [ -f "$tmp/dovecot.conf" ]; then
    dovecot -c "$tmp/dovecot.conf" stop >/dev/null 2>&1
    for _ in $(seq 50); do [ -e "$tmp/run/master.pid" ] || break; sleep 0.1; done
  fi
  sw_nsd_stop >/dev/null 2>&1
  [ -n "${KEEP_TMP:-}" ] || rm -rf "$tmp"
}
trap cleanup EXIT INT TERM
die() { echo "pop3-bench: $*" >&2; exit 1; }
free_port() {
  /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# --- corpus, zone, NSD ---
"$gen" --out "$tmp/corpus" --count "$count" --domains 300 --size 20000 --keys "$here/keys" >/dev/null \
  || die "gen-corpus failed"
/usr/bin/python3 "$here/pop3-zone.py" "$tmp/corpus/zone.txt" "$tmp/zones" >/dev/null || die "zone split failed"
sw_nsd_start "$tmp/zones" || die "NSD did not start"

# --- mailboxes: "bench" holds the corpus, "big" one large message ---
for u in bench big; do mkdir -p "$tmp/home/$u/Maildir/cur" "$tmp/home/$u/Maildir/new" "$tmp/home/$u/Maildir/tmp"; done
mkdir -p "$tmp/run" "$tmp/state" "$tmp/spool"
n=0
for f in "$tmp/corpus/msg"/*.eml; do
  n=$((n + 1))
  tr -d '\r' <"$f" >"$tmp/home/bench/Maildir/cur/$((1700000000 + n)).M$n.bench:2,"
done
/usr/bin/python3 - "$tmp/corpus/msg/000001.eml" "$big_mb" "$tmp/home/big/Maildir/cur/1700000000.M1.big:2," <<'PY'
import sys
head = open(sys.argv[1], 'rb').read().replace(b'\r\n', b'\n').split(b'\n\n', 1)[0]
line = (b'x' * 75 + b'\n')
n = int(sys.argv[2]) * 1024 * 1024 // len(line)
with open(sys.argv[3], 'wb') as f:
    f.write(head + b'\n\n')
    for _ in range(n):
        f.write(line)
PY

# --- Dovecot, plain text on loopback ---
if [ "$(id -u)" = 0 ]; then
  mail_user=nobody; login_user=dovenull; internal_user=dovecot
  chown -R nobody "$tmp/home"
  chmod 755 "$tmp"
else
  mail_user=$(id -un); login_user=$mail_user; internal_user=$mail_user
fi
mail_uid=$(id -u "$mail_user"); mail_gid=$(id -g "$mail_user")
printf 'bench:{PLAIN}bench-pass::::::\nbig:{PLAIN}bench-pass::::::\n' >"$tmp/passwd"
pop3_port=$(free_port)
cat >"$tmp/dovecot.conf" <<CONF
base_dir = $tmp/run
state_dir = $tmp/state
instance_name = sw-bench-$$
log_path = $tmp/dovecot.log
protocols = pop3
listen = 127.0.0.1
default_login_user = $login_user
default_internal_user = $internal_user
default_internal_group = $(id -gn "$internal_user")
first_valid_uid = $mail_uid
last_valid_uid = $mail_uid
auth_mechanisms = plain
disable_plaintext_auth = no
ssl = no
mail_location = maildir:$tmp/home/%u/Maildir
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u $tmp/passwd
}
userdb {
  driver = static
  args = uid=$mail_uid gid=$mail_gid home=$tmp/home/%u
}
service pop3-login {
  inet_listener pop3 {
    address = 127.0.0.1
    port = $pop3_port
  }
  chroot =
}
service anvil {
  chroot =
}
CONF
dovecot -c "$tmp/dovecot.conf" || { cat "$tmp/dovecot.log" 2>/dev/null; die "dovecot did not start"; }
for _ in $(seq 100); do
  (exec 3<>/dev/tcp/127.0.0.1/$pop3_port) 2>/dev/null && break
  sleep 0.1
done

# start_proxy DNS_FORWARD: sets proxy_port, wrap_pid (what was started: the proxy, or the
# SW_BENCH_PROXY_WRAP command running it) and proxy_pid (the proxy itself: its CPU and memory
# are read from /proc)
start_proxy() {
  local out=$tmp/proxy.$RANDOM.out
  ${SW_BENCH_PROXY_WRAP:-} "$driver" --dns-server "$1" --dns-timeout 3000 --upstream-host 127.0.0.1 --upstream-port "$pop3_port" \
    --tls none --spool-dir "$tmp/spool" >"$out" 2>>"$tmp/proxy.log" &
  wrap_pid=$! proxy_pid=$!
  pids+=("$wrap_pid")
  proxy_port=
  for _ in $(seq 100); do
    proxy_port=$(sed -n 's/^PORT //p' "$out" 2>/dev/null)
    [ -n "$proxy_port" ] && break
    sleep 0.05
  done
  [ -n "$proxy_port" ] || { cat "$tmp/proxy.log"; die "the proxy did not start"; }
  if [ -n "${SW_BENCH_PROXY_WRAP:-}" ]; then
    proxy_pid=$(pgrep -n -P "$wrap_pid" -f "$driver") || die "the proxy under $SW_BENCH_PROXY_WRAP was not found"
    pids+=("$proxy_pid")
  fi
}
# stop_proxy: the proxy first, so that a wrapping profiler sees it end and writes its report
stop_proxy() {
  kill "$proxy_pid" 2>/dev/null
  [ "$wrap_pid" = "$proxy_pid" ] || while kill -0 "$proxy_pid" 2>/dev/null; do sleep 0.05; done
  wait "$wrap_pid" 2>/dev/null
}
# download PORT [USER [COUNT [DIGEST_FILE]]]: prints seconds
download() {
  local r
  r=$(/usr/bin/python3 "$here/pop3-client.py" "$1" "${2:-bench}" bench-pass "${3:-$count}" ${4:+"$4"}) \
    || die "download through port $1 failed"
  echo "${r##* }" >"$tmp/last_cpu" # the client's own CPU seconds
  echo "${r%% *}"
}
# same_bytes REFERENCE DIGESTS WHAT: every message of DIGESTS as in REFERENCE
same_bytes() {
  cmp -s "$1" "$2" || die "$3: $(diff "$1" "$2" | grep -c '^>') of $count messages differ from the direct download"
}
# thread_cpu PID: "NAME TICKS SWITCHES" per thread name (digits removed: pool-3 -> pool-),
# user+system CPU ticks and context switches (voluntary and not)
thread_cpu() {
  for t in /proc/"$1"/task/*; do
    sw=$(awk '/ctxt_switches/ { n += $2 } END { print n + 0 }' "$t/status" 2>/dev/null)
    sed 's/^[0-9]* (\(.*\)) [A-Za-z] \(.*\)$/\1 \2/' "$t/stat" 2>/dev/null | sed "s/\$/ $sw/"
  done | awk '{ name = $1; gsub(/[0-9]+/, "", name); t[name] += $12 + $13; c[name] += $NF } END { for (n in t) print n, t[n], c[n] }'
}
# machine_busy: the machine's busy CPU ticks so far, every process (/proc/stat: user, nice,
# system, irq, softirq)
machine_busy() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8; exit }' /proc/stat; }
median() { printf '%s\n' "$@" | sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

runs() { [ -z "$only" ] || [ "$only" = "$1" ]; }
# start_delay: the DNS server answering after 20 ms (bench/delay-dns in front of NSD), once;
# sets delay_port
delay_port=
start_delay() {
  [ -z "$delay_port" ] || return 0
  coproc DELAY { exec "$build/bench/delay-dns" "$SW_NSD_PORT" 20; }
  pids+=("$DELAY_PID")
  read -r -t 10 _ delay_port <&"${DELAY[0]}" || die "the delaying DNS forwarder $build/bench/delay-dns did not start"
}
slow_ticks=0 d_slow_busy=0 p_slow_busy=0 d_warm=0 p_warm=0 d_warm_cpu=0 p_warm_cpu=0 d_slow=0 p_slow=0 big_s=0 before_kb=0 peak_kb=0 cpu_before= cpu_after=

# --- warm: one proxy, its cache filled by an untimed download ---
if runs warm; then
start_proxy "$SW_NSD_FORWARD"
download "$proxy_port" bench "$count" "$tmp/cold.sha" >/dev/null
direct=() proxied=()
attach_pid=
if [ -n "${SW_BENCH_ATTACH:-}" ]; then
  $SW_BENCH_ATTACH "$proxy_pid" >"$tmp/attach.out" 2>&1 &
  attach_pid=$!
  sleep 1
fi
cpu_before=$(thread_cpu "$proxy_pid")
direct_cpu=() proxied_cpu=()
for r in $(seq "$rounds"); do
  if [ "$r" = 1 ]; then
    direct+=("$(download "$pop3_port" bench "$count" "$tmp/direct.sha")")
    direct_cpu+=("$(cat "$tmp/last_cpu")")
    proxied+=("$(download "$proxy_port" bench "$count" "$tmp/warm.sha")")
    proxied_cpu+=("$(cat "$tmp/last_cpu")")
  else
    direct+=("$(download "$pop3_port")")
    direct_cpu+=("$(cat "$tmp/last_cpu")")
    proxied+=("$(download "$proxy_port")")
    proxied_cpu+=("$(cat "$tmp/last_cpu")")
  fi
done
cpu_after=$(thread_cpu "$proxy_pid")
if [ -n "$attach_pid" ]; then
  kill -INT "$attach_pid" 2>/dev/null
  wait "$attach_pid"
fi
same_bytes "$tmp/direct.sha" "$tmp/cold.sha" "first download through the proxy"
same_bytes "$tmp/direct.sha" "$tmp/warm.sha" "warm download through the proxy"
stop_proxy
d_warm=$(median "${direct[@]}") p_warm=$(median "${proxied[@]}")
d_warm_cpu=$(median "${direct_cpu[@]}") p_warm_cpu=$(median "${proxied_cpu[@]}")
fi

# --- 20 ms: a DNS server answering after 20 ms; a fresh proxy (empty cache) per round ---
if runs 20ms; then
[ -f "$tmp/direct.sha" ] || download "$pop3_port" bench "$count" "$tmp/direct.sha" >/dev/null
start_delay
direct=() proxied=() slow_cpu=() direct_busy=() proxied_busy=()
for r in $(seq "$rounds"); do
  b0=$(machine_busy)
  direct+=("$(download "$pop3_port")")
  direct_busy+=($(($(machine_busy) - b0)))
  start_proxy "127.0.0.1:$delay_port"
  digests=
  [ "$r" = 1 ] && digests=$tmp/slow.sha
  b0=$(machine_busy)
  proxied+=("$(download "$proxy_port" bench "$count" "$digests")")
  proxied_busy+=($(($(machine_busy) - b0)))
  slow_cpu+=("$(thread_cpu "$proxy_pid" | awk '{ t += $2 } END { print t }')")
  stop_proxy
done
same_bytes "$tmp/direct.sha" "$tmp/slow.sha" "download through the proxy with DNS after 20 ms"
d_slow=$(median "${direct[@]}") p_slow=$(median "${proxied[@]}")
slow_ticks=$(median "${slow_cpu[@]}")
d_slow_busy=$(median "${direct_busy[@]}") p_slow_busy=$(median "${proxied_busy[@]}")
fi

# --- dnsmasq: the user's resolver forwards at most 150 queries at once ---
mq_s=0 mq_n=0 mq_temperror=0
if runs dnsmasq; then
command -v dnsmasq >/dev/null || die "dnsmasq is not installed (Debian: dnsmasq-base)"
[ -f "$tmp/direct.sha" ] || download "$pop3_port" bench "$count" "$tmp/direct.sha" >/dev/null
start_delay
mq_port=$(free_port)
dnsmasq --conf-file=/dev/null --keep-in-foreground --no-resolv --no-hosts --listen-address=127.0.0.1 --bind-interfaces --port="$mq_port" \
  --server="127.0.0.1#$delay_port" --user="$(id -un)" --pid-file= --log-facility="$tmp/dnsmasq.log" &
pids+=("$!")
for _ in $(seq 50); do
  grep -q "using nameserver" "$tmp/dnsmasq.log" 2>/dev/null && break
  sleep 0.1
done
grep -q "using nameserver" "$tmp/dnsmasq.log" 2>/dev/null || die "dnsmasq did not start: $(cat "$tmp/dnsmasq.log" 2>/dev/null)"
start_proxy "127.0.0.1:$mq_port"
: >"$tmp/verdicts.txt"
mq_s=$(SW_BENCH_VERDICTS=$tmp/verdicts.txt download "$proxy_port" bench "$count" "$tmp/dnsmasq.sha")
stop_proxy
same_bytes "$tmp/direct.sha" "$tmp/dnsmasq.sha" "download through the proxy behind dnsmasq"
mq_n=$(wc -l <"$tmp/verdicts.txt")
mq_temperror=$(grep -c -v -x -E 'pass|none|fail-none|quarantine|reject' "$tmp/verdicts.txt")
refused=$(grep -c "Maximum number of concurrent DNS queries" "$tmp/dnsmasq.log")
fi

# --- peak memory while a client downloads one big message ---
if runs big; then
start_proxy "$SW_NSD_FORWARD"
before_kb=$(awk '/^VmHWM/ { print $2 }' "/proc/$proxy_pid/status")
big_s=$(download "$proxy_port" big 1)
peak_kb=$(awk '/^VmHWM/ { print $2 }' "/proc/$proxy_pid/status")
stop_proxy
fi

/usr/bin/python3 - "$count" "$rounds" "$d_warm" "$p_warm" "$d_slow" "$p_slow" "$big_mb" "$big_s" "$before_kb" "$peak_kb" <<'PY'
import sys
count, rounds = int(sys.argv[1]), int(sys.argv[2])
dw, pw, ds, ps = map(float, sys.argv[3:7])
big_mb, big_s, before_kb, peak_kb = int(sys.argv[7]), float(sys.argv[8]), int(sys.argv[9]), int(sys.argv[10])
print("POP3 proxy benchmark: %d messages, median of %d rounds (poplib, plain text on loopback)" % (count, rounds))
print("  warm DNS cache : direct %.3f s, proxy %.3f s, ratio %.2f (target <= 1.10)" % (dw, pw, pw / dw if dw else 0))
print("  DNS after 20 ms: direct %.3f s, proxy %.3f s, ratio %.2f (target <= 1.5)" % (ds, ps, ps / ds if ds else 0))
print("  per message    : direct %.2f ms, proxy %.2f ms (warm), %.2f ms (20 ms DNS)"
      % (dw / count * 1e3, pw / count * 1e3, ps / count * 1e3))
print("  %d MB message  : %.2f s through the proxy; proxy VmHWM %.1f MB (%.1f MB before; target < 64 MB)"
      % (big_mb, big_s, peak_kb / 1024, before_kb / 1024))
PY
if runs dnsmasq; then
  echo "  behind dnsmasq : proxy $mq_s s, $mq_n messages: $(sort "$tmp/verdicts.txt" | uniq -c | awk '{ printf "%s%s %s", sep, $1, $2; sep = ", " }')"
  echo "                   (dnsmasq logged reaching its limit of queries at once: $refused time(s))"
fi
# CPU of the client and of the proxy's threads during the timed warm downloads, per message
awk -v n="$count" -v d="$d_warm_cpu" -v p="$p_warm_cpu" 'BEGIN { if (n > 0 && d + p > 0)
  printf "  warm CPU/msg   : client (poplib) %.3f ms direct, %.3f ms through the proxy\n", d * 1000 / n, p * 1000 / n }'
ticks=$(getconf CLK_TCK)
awk -v n="$count" -v t="$slow_ticks" -v hz="$ticks" 'BEGIN { if (n > 0 && t > 0)
  printf "  20 ms CPU/msg  : proxy %.3f ms (all threads, whole download with a fresh cache)\n", t * 1000 / hz / n }'
awk -v d="$d_slow_busy" -v p="$p_slow_busy" -v hz="$ticks" -v cpus="$(nproc)" 'BEGIN { if (p > 0)
  printf "  20 ms machine  : %.2f s CPU busy direct, %.2f s through the proxy (every process; %d CPUs)\n",
         d / hz, p / hz, cpus }'
awk -v n=$((rounds * count)) -v hz="$ticks" '
  NR == FNR { before[$1] = $2; sw0[$1] = $3; next }
  { d = $2 - before[$1]; c = $3 - sw0[$1]; total += d; switches += c
    if (d > 0 || c > 0) printf "  warm CPU/msg   : %-16s %.3f ms, %.1f context switches\n", $1, d * 1000 / hz / n, c / n }
  END { if (n > 0 && total + switches > 0)
          printf "  warm CPU/msg   : %-16s %.3f ms, %.1f context switches (all threads of the proxy)\n", "total",
                 total * 1000 / hz / n, switches / n }
' <(echo "$cpu_before") <(echo "$cpu_after")
[ "$mq_temperror" = 0 ] || die "behind dnsmasq, $mq_temperror of $mq_n messages came without a verdict (temperror)"
