#!/usr/bin/python3
"""A minimal org.kde.StatusNotifierWatcher for the tray test (test-notify-session.py).

A bare session bus has no panel, so nothing would take the tray icon's registration and
libayatana-appindicator would fall back to an XEmbed icon. This watcher owns the name,
says a host is registered, and appends every RegisterStatusNotifierItem call to FILE as
"register<TAB>SENDER<TAB>ARGUMENT"; its first line is "ready" once it owns the name. It
exits on SIGTERM or when the session bus goes away.

usage: test-tray-watcher.py FILE
"""
import signal
import sys

from gi.repository import Gio, GLib

XML = """
<node>
  <interface name="org.kde.StatusNotifierWatcher">
    <method name="RegisterStatusNotifierItem"><arg name="service" type="s" direction="in"/></method>
    <method name="RegisterStatusNotifierHost"><arg name="service" type="s" direction="in"/></method>
    <property name="RegisteredStatusNotifierItems" type="as" access="read"/>
    <property name="IsStatusNotifierHostRegistered" type="b" access="read"/>
    <property name="ProtocolVersion" type="i" access="read"/>
    <signal name="StatusNotifierItemRegistered"><arg type="s"/></signal>
    <signal name="StatusNotifierItemUnregistered"><arg type="s"/></signal>
    <signal name="StatusNotifierHostRegistered"/>
  </interface>
</node>
"""

log_path = sys.argv[1]
items = []
loop = GLib.MainLoop()


def log(line):
    with open(log_path, "a") as fh:
        fh.write(line + "\n")


def on_call(conn, sender, path, iface, method, params, invocation):
    if method == "RegisterStatusNotifierItem":
        service = params.unpack()[0]
        items.append(service if service.startswith(":") else sender + service)
        log(f"register\t{sender}\t{service}")
        conn.emit_signal(None, path, iface, "StatusNotifierItemRegistered", GLib.Variant("(s)", (service,)))
    invocation.return_value(None)


def on_get(conn, sender, path, iface, prop):
    if prop == "RegisteredStatusNotifierItems":
        return GLib.Variant("as", items)
    if prop == "IsStatusNotifierHostRegistered":
        return GLib.Variant("b", True)
    if prop == "ProtocolVersion":
        return GLib.Variant("i", 0)
    return None


def on_bus(conn, name):
    info = Gio.DBusNodeInfo.new_for_xml(XML).interfaces[0]
    conn.register_object("/StatusNotifierWatcher", info, on_call, on_get, None)


def on_name(conn, name):
    log("ready")


def on_lost(conn, name):
    log("lost")
    loop.quit()


Gio.bus_own_name(Gio.BusType.SESSION, "org.kde.StatusNotifierWatcher", Gio.BusNameOwnerFlags.NONE, on_bus,
                 on_name, on_lost)
GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signal.SIGTERM, loop.quit)
GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signal.SIGINT, loop.quit)
loop.run()
