#!/usr/bin/python3
"""http_receiver.py - a real HTTP server standing in for Slack and webhook
receivers in herald's tests.

    http_receiver.py --port P --log FILE [--script FILE]
                     [--validate PREFIX=KIND ...]

Every request is logged to FILE as one JSON line (time, method, path
without its query, query, headers, body, the action taken, and the
payload's problems when validated).  What it answers is chosen per path:
the script (JSON {"/path": ["action", ...]}) gives a sequence of actions
per path, consumed one per request, the last repeating; a path not in the
script is answered by its first segment ("/ok/..." etc.).  Actions:

    200 | ok       200 with body "ok" (what Slack answers)
    NNN            that status, body "status NNN"
    429:S          429 with Retry-After: S
    hang           read the request, then answer nothing for 30 s
    slow           200 "ok" after 0.4 s (keeps sends in flight)
    drop           close the connection without answering
    echo:NNN       that status, the body repeating the request's path,
                   query and headers (a receiver that leaks what it got)

--validate /t/=teams (googlechat, mattermost: see chat_payloads.py)
checks every request below the prefix as that product would: one with
problems is answered 400 with them, whatever the script says.
"""
import argparse
import json
import os
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import chat_payloads  # noqa: E402

lock = threading.Lock()
counters = {}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--script")
    ap.add_argument("--validate", action="append", default=[])
    a = ap.parse_args()
    validate = [v.split("=", 1) for v in a.validate]
    script = {}
    if a.script:
        with open(a.script) as f:
            script = json.load(f)
    log = open(a.log, "a", buffering=1)

    class H(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def do_POST(self):
            n = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(n).decode("utf-8", "replace")
            path, _, query = self.path.partition("?")
            with lock:
                k = counters.get(path, 0)
                counters[path] = k + 1
            seq = script.get(path)
            if seq:
                action = seq[min(k, len(seq) - 1)]
            else:
                action = path.strip("/").split("/")[0] or "200"
            problems = None
            for prefix, kind in validate:
                if path.startswith(prefix):
                    problems = chat_payloads.check(kind, body, query)
                    if problems:
                        action = "400"
            rec = {"t": time.time(), "method": "POST", "path": path, "query": query,
                   "headers": {k.lower(): v for k, v in self.headers.items()},
                   "body": body, "action": action}
            if problems is not None:
                rec["problems"] = problems
            with lock:
                log.write(json.dumps(rec) + "\n")
            self.act(action)

        def act(self, action):
            if action == "drop":
                self.close_connection = True
                try:
                    self.connection.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                return
            if action == "hang":
                time.sleep(30)
                self.close_connection = True
                return
            retry = None
            if action.startswith("echo:"):
                data = json.dumps({"path": self.path, "headers": dict(self.headers)}).encode()
                self.send_response(int(action[5:]))
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                return
            if action == "slow":
                time.sleep(0.4)
                action = "200"
            if action in ("ok", "200"):
                status, text = 200, "ok"
            elif action.startswith("429"):
                status, text = 429, "rate_limited"
                retry = action.split(":")[1] if ":" in action else "1"
            else:
                status = int(action)
                text = {400: "invalid_payload", 404: "no_service",
                        410: "channel_is_archived"}.get(status, "status %d" % status)
            data = text.encode()
            self.send_response(status)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(data)))
            if retry:
                self.send_header("Retry-After", retry)
            self.end_headers()
            self.wfile.write(data)

    # Dozens of sends start at once: the default backlog of 5 would drop
    # connections (a SYN retried a second later looks like a slow peer).
    ThreadingHTTPServer.request_queue_size = 128
    srv = ThreadingHTTPServer(("127.0.0.1", a.port), H)
    srv.daemon_threads = True
    print("listening", flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
