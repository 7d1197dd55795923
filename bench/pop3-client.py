#!/usr/bin/python3
"""pop3-client.py: downloads every message of a POP3 mailbox with Python's poplib (USER,
PASS, STAT, RETR 1..n, QUIT) and prints "SECONDS MESSAGES BYTES".

Usage: pop3-client.py PORT USER PASS [EXPECTED_COUNT]"""
import poplib
import sys
import time

port, user, password = int(sys.argv[1]), sys.argv[2], sys.argv[3]
poplib._MAXLINE = 1 << 20
start = time.perf_counter()
pop = poplib.POP3("127.0.0.1", port, timeout=60)
pop.user(user)
pop.pass_(password)
count, _ = pop.stat()
total = 0
for i in range(1, count + 1):
    _, lines, octets = pop.retr(i)
    total += octets
pop.quit()
elapsed = time.perf_counter() - start
if len(sys.argv) > 4 and count != int(sys.argv[4]):
    sys.exit("pop3-client: %d messages, expected %s" % (count, sys.argv[4]))
print("%.4f %d %d" % (elapsed, count, total))
