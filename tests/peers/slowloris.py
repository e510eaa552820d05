#!/usr/bin/env python3
"""slowloris.py - a slow client for the HTTP tests.

Opens COUNT connections to HOST:PORT from the source address SOURCE, sends
a request line on each, then dribbles header bytes (one every INTERVAL
seconds) for DURATION seconds without ever finishing the headers.  Prints
one JSON object: how many connections were opened, how many the server
closed and after how long (the longest), and how many were still open at
the end.  --tls SNI wraps each connection in TLS (certificate not checked:
the test's own self-signed one).  --ready FILE is written once every
connection has sent its request line.
"""
import argparse
import json
import select
import socket
import ssl
import sys
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--source", default="127.0.0.1")
    ap.add_argument("--count", type=int, default=80)
    ap.add_argument("--interval", type=float, default=0.5)
    ap.add_argument("--duration", type=float, default=8)
    ap.add_argument("--tls")
    ap.add_argument("--ready")
    a = ap.parse_args()
    ctx = None
    if a.tls:
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    conns, refused = [], 0
    t0 = time.time()
    for _ in range(a.count):
        try:
            s = socket.create_connection((a.host, a.port), timeout=5,
                                         source_address=(a.source, 0))
            if ctx:
                s = ctx.wrap_socket(s, server_hostname=a.tls)
            s.sendall(b"GET /feeds/public.ics HTTP/1.1\r\nHost: x\r\n")
            s.setblocking(False)
            conns.append({"s": s, "open": True, "at": time.time(), "closed": None})
        except OSError:
            refused += 1
    if a.ready:
        open(a.ready, "w").write("ready\n")
    end = t0 + a.duration
    while time.time() < end:
        live = [c for c in conns if c["open"]]
        if not live:
            break
        r, _, _ = select.select([c["s"] for c in live], [], [], a.interval)
        now = time.time()
        for c in live:
            closed = False
            if c["s"] in r:
                try:
                    if not c["s"].recv(4096):
                        closed = True
                except (ssl.SSLWantReadError, BlockingIOError):
                    pass
                except OSError:
                    closed = True
            if not closed:
                try:
                    c["s"].send(b"x")
                except (ssl.SSLWantWriteError, BlockingIOError):
                    pass
                except OSError:
                    closed = True
            if closed:
                c["open"] = False
                c["closed"] = now - c["at"]
    closed = [c["closed"] for c in conns if c["closed"] is not None]
    print(json.dumps({
        "opened": len(conns),
        "refused": refused,
        "closed_by_server": len(closed),
        "longest_open": max(closed) if closed else None,
        "still_open": sum(1 for c in conns if c["open"]),
    }))
    for c in conns:
        try:
            c["s"].close()
        except OSError:
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
