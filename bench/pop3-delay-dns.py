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


class Udp(asyncio.DatagramProtocol):
    def connection_made(self, transport):
        self.transport = transport

    def datagram_received(self, data, addr):
        counts["udp"] += 1
        asyncio.get_running_loop().create_task(self.answer(data, addr))

    async def answer(self, data, addr):
        counts["waiting"] += 1
        counts["max_waiting"] = max(counts["max_waiting"], counts["waiting"])
        await asyncio.sleep(delay)
        counts["waiting"] -= 1
        loop = asyncio.get_running_loop()
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.setblocking(False)
        try:
            await loop.sock_connect(s, upstream)
            await loop.sock_sendall(s, data)
            reply = await asyncio.wait_for(loop.sock_recv(s, 65535), 5)
            self.transport.sendto(reply, addr)
        except (OSError, asyncio.TimeoutError):
            pass
        finally:
            s.close()


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
    await loop.create_datagram_endpoint(Udp, sock=udp)
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
