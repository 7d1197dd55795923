#!/usr/bin/python3
"""pop3-delay-dns.py: a DNS forwarder on 127.0.0.1 that answers every query (UDP and TCP)
after a fixed delay, by forwarding it to an upstream server: the "DNS server answering
after 20 ms" of the POP3 benchmark.

Usage: pop3-delay-dns.py UPSTREAM_PORT DELAY_MS    (prints "PORT n" once listening;
stops when stdin closes or on SIGTERM, printing how many queries it answered to stderr)"""
import asyncio
import resource
import signal
import socket
import sys

upstream = ("127.0.0.1", int(sys.argv[1]))
delay = int(sys.argv[2]) / 1000.0
counts = {"udp": 0, "tcp": 0, "waiting": 0, "max_waiting": 0}


class Upstream(asyncio.DatagramProtocol):
    """One socket to the real server for all UDP queries: each query gets an ID of our
    own (so that two clients' equal IDs never mix), the answer is held until DELAY after
    the query arrived, then sent with the client's ID. Cheap per query, so that this
    forwarder's CPU does not weigh on the machine the proxy is measured on."""

    def __init__(self):
        self.pending = {}  # our ID -> (client ID bytes, client address, arrival time)
        self.next_id = 0

    def connection_made(self, transport):
        self.transport = transport

    def forward(self, data, addr, server):
        if len(data) < 12:
            return
        for _ in range(65536):
            self.next_id = (self.next_id + 1) & 0xFFFF
            if self.next_id not in self.pending:
                break
        else:
            return  # 65,536 queries waiting: drop this one (the client retries)
        loop = asyncio.get_running_loop()
        self.pending[self.next_id] = (data[:2], addr, loop.time(), server)
        counts["waiting"] += 1
        counts["max_waiting"] = max(counts["max_waiting"], counts["waiting"])
        self.transport.sendto(self.next_id.to_bytes(2, "big") + data[2:])

    def datagram_received(self, data, addr):
        if len(data) < 12:
            return
        entry = self.pending.pop(int.from_bytes(data[:2], "big"), None)
        if entry is None:
            return
        client_id, client_addr, arrived, server = entry
        asyncio.get_running_loop().call_at(arrived + delay, answer, server, client_id + data[2:], client_addr)


def answer(server, reply, addr):
    counts["waiting"] -= 1
    server.transport.sendto(reply, addr)


class Udp(asyncio.DatagramProtocol):
    def __init__(self, upstream):
        self.upstream = upstream

    def connection_made(self, transport):
        self.transport = transport

    def datagram_received(self, data, addr):
        counts["udp"] += 1
        self.upstream.forward(data, addr, self)


async def tcp_client(reader, writer):
    try:
        while True:
            head = await reader.readexactly(2)
            query = await reader.readexactly(int.from_bytes(head, "big"))
            counts["tcp"] += 1
            await asyncio.sleep(delay)
            r, w = await asyncio.open_connection(*upstream)
            w.write(head + query)
            await w.drain()
            rhead = await r.readexactly(2)
            reply = await r.readexactly(int.from_bytes(rhead, "big"))
            w.close()
            writer.write(rhead + reply)
            await writer.drain()
    except (asyncio.IncompleteReadError, OSError):
        pass
    finally:
        writer.close()


async def main():
    loop = asyncio.get_running_loop()
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind(("127.0.0.1", 0))
    port = udp.getsockname()[1]
    _, upstream_proto = await loop.create_datagram_endpoint(Upstream, remote_addr=upstream)
    await loop.create_datagram_endpoint(lambda: Udp(upstream_proto), sock=udp)
    await asyncio.start_server(tcp_client, "127.0.0.1", port)
    print("PORT", port, flush=True)
    stdin_closed = loop.create_future()
    loop.add_reader(sys.stdin.fileno(),
                    lambda: stdin_closed.done() or (sys.stdin.buffer.read1(4096) or stdin_closed.set_result(None)))
    loop.add_signal_handler(signal.SIGTERM, lambda: stdin_closed.done() or stdin_closed.set_result(None))
    await stdin_closed
    ru = resource.getrusage(resource.RUSAGE_SELF)
    print("pop3-delay-dns: %d UDP and %d TCP queries (at most %d UDP queries delayed at once), %.2f s CPU"
          % (counts["udp"], counts["tcp"], counts["max_waiting"], ru.ru_utime + ru.ru_stime), file=sys.stderr)


asyncio.run(main())
