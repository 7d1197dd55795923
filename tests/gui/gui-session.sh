#!/bin/bash
# gui-session.sh COMMAND [ARG...]: runs COMMAND in a desktop session of its own:
#   - an X server (Xvfb, 1280x1024x24) on a free display (-displayfd): DISPLAY
#   - a session D-Bus (dbus-daemon --session): DBUS_SESSION_BUS_ADDRESS
#   - a notification daemon (dunst) whose every notification is appended by a script to
#     $SW_GUI_NOTIFY_LOG, one line per notification:
#     appname<TAB>summary<TAB>body<TAB>icon<TAB>urgency
#   - with SW_GUI_SESSION_WATCHER=1: a stand-in panel (tests/gui/test-tray-watcher.py, an
#     org.kde.StatusNotifierWatcher) so that the tray icon registers as on a desktop
#     with a panel (without one, libayatana-appindicator falls back to an XEmbed icon)
# plus SW_GUI_SESSION_DIR (a private temporary folder, removed afterwards) and XDG
# folders inside it. Every process it started is stopped on every exit path (normal end,
# error, signal). Exit status: COMMAND's, or 77 if the session cannot be set up.
set -u

session_dir=$(mktemp -d "${TMPDIR:-/tmp}/sw-gui-session.XXXXXX") || exit 77
pids=()

cleanup() {
  local i
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
    kill "${pids[$i]}" 2>/dev/null
  done
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
    # bounded: a process that ignores TERM gets KILL after 5 s
    local n=0
    while kill -0 "${pids[$i]}" 2>/dev/null && [ $n -lt 100 ]; do
      sleep 0.05
      n=$((n + 1))
    done
    kill -KILL "${pids[$i]}" 2>/dev/null
  done
  rm -rf "$session_dir"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

fail() {
  echo "gui-session: $*" >&2
  exit 77
}

# wait_for SECONDS COMMAND...: polls COMMAND every 50 ms until it succeeds.
wait_for() {
  local limit=$(($1 * 20)) n=0
  shift
  until "$@"; do
    n=$((n + 1))
    [ $n -ge $limit ] && return 1
    sleep 0.05
  done
}

for tool in Xvfb dbus-daemon dunst; do
  command -v $tool >/dev/null || fail "$tool is not installed"
done

# X server on the first free display, which it writes to the display file.
Xvfb -displayfd 3 -screen 0 1280x1024x24 -nolisten tcp -noreset \
  3>"$session_dir/display" >"$session_dir/xvfb.log" 2>&1 &
pids+=($!)
wait_for 20 test -s "$session_dir/display" || fail "Xvfb did not start: $(cat "$session_dir/xvfb.log")"
export DISPLAY=":$(head -n1 "$session_dir/display")"

# Session bus.
bus_info=$(dbus-daemon --session --fork --print-address=1 --print-pid=1) || fail "dbus-daemon did not start"
export DBUS_SESSION_BUS_ADDRESS=$(echo "$bus_info" | sed -n 1p)
pids+=($(echo "$bus_info" | sed -n 2p))

# Private XDG folders: nothing of the user's desktop leaks in or out.
export HOME="$session_dir/home"
export XDG_CONFIG_HOME="$session_dir/config" XDG_DATA_HOME="$session_dir/data"
export XDG_CACHE_HOME="$session_dir/cache" XDG_RUNTIME_DIR="$session_dir/runtime"
mkdir -p "$HOME" "$XDG_CONFIG_HOME" "$XDG_DATA_HOME" "$XDG_CACHE_HOME" "$XDG_RUNTIME_DIR"
chmod 700 "$XDG_RUNTIME_DIR"
export SW_GUI_SESSION_DIR="$session_dir"
export NO_AT_BRIDGE=${NO_AT_BRIDGE:-1}

# Notification daemon that logs what it shows.
export SW_GUI_NOTIFY_LOG="$session_dir/notifications.log"
: >"$SW_GUI_NOTIFY_LOG"
cat >"$session_dir/notify-log.sh" <<'SCRIPT'
#!/bin/sh
printf '%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" "$5" | tr -d '\r' >>"$SW_GUI_NOTIFY_LOG"
SCRIPT
chmod +x "$session_dir/notify-log.sh"
cat >"$session_dir/dunstrc" <<CONF
[global]
    monitor = 0
    follow = none
    font = Noto Sans CJK JP 10
    width = 360
    origin = top-right
    offset = 10x40
[log_everything]
    summary = "*"
    script = $session_dir/notify-log.sh
CONF
dunst -config "$session_dir/dunstrc" >"$session_dir/dunst.log" 2>&1 &
pids+=($!)
has_notifications() {
  dbus-send --session --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \
    org.freedesktop.DBus.NameHasOwner string:org.freedesktop.Notifications 2>/dev/null | grep -q "boolean true"
}
wait_for 20 has_notifications || fail "dunst did not take org.freedesktop.Notifications: $(cat "$session_dir/dunst.log")"

if [ "${SW_GUI_SESSION_WATCHER:-0}" = 1 ]; then
  /usr/bin/python3 "$(dirname "$0")/test-tray-watcher.py" "$session_dir/watcher.log" \
    >"$session_dir/watcher.out" 2>&1 &
  pids+=($!)
  watcher_ready() { grep -q '^ready' "$session_dir/watcher.log" 2>/dev/null; }
  wait_for 20 watcher_ready || fail "the StatusNotifierWatcher did not start: $(cat "$session_dir/watcher.out")"
fi

"$@"
