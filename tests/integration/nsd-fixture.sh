#!/bin/bash
# nsd-fixture.sh: runs a command while a real authoritative DNS server (NSD, Debian package
# "nsd") serves test zones on 127.0.0.1 at a random free port.
#
# Usage as a wrapper (what CTest does):
#
#   nsd-fixture.sh ZONE_DIR COMMAND [ARGS...]
#
#   Every ZONE_DIR/NAME.zone is served as zone NAME (example.com.zone -> example.com).
#   COMMAND runs with these variables set:
#     SW_NSD_ADDRESS  127.0.0.1
#     SW_NSD_PORT     the port NSD listens on (UDP and TCP)
#     SW_NSD_FORWARD  "127.0.0.1:PORT", ready for SwResolverOptions.forward or
#                     spoofwatch-check's DNS forwarder option
#     SW_NSD_PID      NSD's process id (a test may kill it, e.g. to test a cache)
#     SW_NSD_DIR      NSD's temporary directory (nsd.conf, nsd.log)
#   NSD is stopped and its directory removed on every exit path (EXIT/INT/TERM trap;
#   on INT/TERM the command gets SIGTERM too). The script exits with COMMAND's status,
#   or 1 when NSD cannot start or reports an error in a zone file (log on stderr).
#
# Usage from another bash script:
#
#   source tests/integration/nsd-fixture.sh
#   sw_nsd_start "$SW_SOURCE_DIR/tests/data/dns/nsd" || exit 1   # sets the variables
#   trap sw_nsd_stop EXIT
#   ... dig -p "$SW_NSD_PORT" @127.0.0.1 ... / spoofwatch-check ...
#
# Zone names must not be under .test, .invalid, .localhost or other names libunbound
# answers itself: use example.com/net/org. Start-up takes well under a second; a busy
# port is retried with another random port (at most 10 times).

sw_nsd_stop() {
  if [ -n "${SW_NSD_PID:-}" ]; then
    kill -TERM "$SW_NSD_PID" 2>/dev/null
    local i state
    for i in $(seq 1 50); do
      # gone, or a zombie waiting for this shell to reap it
      state=$(awk '{ print $3 }' "/proc/$SW_NSD_PID/stat" 2>/dev/null)
      if [ -z "$state" ] || [ "$state" = Z ]; then
        break
      fi
      sleep 0.1
    done
    kill -KILL "$SW_NSD_PID" 2>/dev/null
    wait "$SW_NSD_PID" 2>/dev/null
    SW_NSD_PID=
  fi
  if [ -n "${SW_NSD_DIR:-}" ] && [ -d "$SW_NSD_DIR" ]; then
    rm -rf "$SW_NSD_DIR"
    SW_NSD_DIR=
  fi
}

# sw_nsd_start ZONE_DIR: returns 0 with NSD running and the SW_NSD_* variables exported.
sw_nsd_start() {
  local zone_dir nsd attempt port i zone name
  zone_dir=$(cd "$1" && pwd) || { echo "nsd-fixture: no zone directory $1" >&2; return 1; }
  nsd=$(command -v nsd || echo /usr/sbin/nsd)
  [ -x "$nsd" ] || { echo "nsd-fixture: nsd is not installed (apt-get install nsd)" >&2; return 1; }
  SW_NSD_DIR=$(mktemp -d "${TMPDIR:-/tmp}/sw-nsd-XXXXXX") || return 1
  export SW_NSD_DIR

  for attempt in $(seq 1 10); do
    port=$((20000 + (RANDOM * 32768 + RANDOM) % 40000))
    {
      echo "server:"
      echo "  ip-address: 127.0.0.1@$port"
      echo "  do-ip6: no"
      echo "  username: \"\""
      echo "  chroot: \"\""
      echo "  zonesdir: \"$zone_dir\""
      echo "  pidfile: \"$SW_NSD_DIR/nsd.pid\""
      echo "  database: \"\""
      echo "  xfrdfile: \"$SW_NSD_DIR/xfrd.state\""
      echo "  zonelistfile: \"$SW_NSD_DIR/zone.list\""
      echo "  logfile: \"$SW_NSD_DIR/nsd.log\""
      echo "  verbosity: 1"
      echo "  server-count: 1"
      # no response rate limiting: a test or benchmark burst (a mailbox's DMARC tree walks
      # are mostly NXDOMAIN of one zone) must not get truncated or dropped answers
      echo "  rrl-ratelimit: 0"
      echo "  rrl-whitelist-ratelimit: 0"
      echo "remote-control:"
      echo "  control-enable: no"
      for zone in "$zone_dir"/*.zone; do
        name=$(basename "$zone" .zone)
        echo "zone:"
        echo "  name: \"$name\""
        echo "  zonefile: \"$zone\""
      done
    } >"$SW_NSD_DIR/nsd.conf"
    : >"$SW_NSD_DIR/nsd.log"
    "$nsd" -d -c "$SW_NSD_DIR/nsd.conf" >>"$SW_NSD_DIR/nsd.out" 2>&1 &
    SW_NSD_PID=$!
    for i in $(seq 1 100); do
      if grep -q "nsd started" "$SW_NSD_DIR/nsd.log"; then
        if grep -q "error" "$SW_NSD_DIR/nsd.log"; then
          echo "nsd-fixture: NSD rejected the zones:" >&2
          cat "$SW_NSD_DIR/nsd.log" >&2
          sw_nsd_stop
          return 1
        fi
        export SW_NSD_PID SW_NSD_PORT=$port SW_NSD_ADDRESS=127.0.0.1 SW_NSD_FORWARD="127.0.0.1:$port"
        return 0
      fi
      kill -0 "$SW_NSD_PID" 2>/dev/null || break
      sleep 0.1
    done
    if grep -qi "zone.*error\|error.*zone\|syntax" "$SW_NSD_DIR/nsd.log" "$SW_NSD_DIR/nsd.out"; then
      echo "nsd-fixture: NSD rejected the zones:" >&2
      cat "$SW_NSD_DIR/nsd.log" "$SW_NSD_DIR/nsd.out" >&2
      kill -KILL "$SW_NSD_PID" 2>/dev/null
      wait "$SW_NSD_PID" 2>/dev/null
      SW_NSD_PID=
      return 1
    fi
    # most likely the port was busy: try another one
    kill -KILL "$SW_NSD_PID" 2>/dev/null
    wait "$SW_NSD_PID" 2>/dev/null
    SW_NSD_PID=
  done
  echo "nsd-fixture: NSD did not start:" >&2
  cat "$SW_NSD_DIR/nsd.log" "$SW_NSD_DIR/nsd.out" >&2
  return 1
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  if [ $# -lt 2 ]; then
    echo "usage: $0 ZONE_DIR COMMAND [ARGS...]" >&2
    exit 2
  fi
  zone_dir=$1
  shift
  command_pid=
  trap sw_nsd_stop EXIT
  trap '[ -n "$command_pid" ] && kill -TERM "$command_pid" 2>/dev/null; exit 130' INT
  trap '[ -n "$command_pid" ] && kill -TERM "$command_pid" 2>/dev/null; exit 143' TERM
  sw_nsd_start "$zone_dir" || exit 1
  # In the background (stdin kept) so that a signal to this script reaches the traps at
  # once and the command is stopped with NSD.
  "$@" <&0 &
  command_pid=$!
  wait "$command_pid"
  status=$?
  command_pid=
  exit "$status"
fi
