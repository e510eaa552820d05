#!/usr/bin/python3
"""ack_browser.py - a person acknowledging in headless Chromium.

    ack_browser.py CHROME URL SHOT_PAGE SHOT_DONE

Drives Chromium over --remote-debugging-pipe (DevTools protocol, JSON
messages separated by NUL on fds 3 and 4): opens URL (the ack page),
keeps a screenshot of it, clicks the "I have read this" button with real
mouse events, waits for the answer page and keeps a screenshot of that.
Prints one JSON line: the page's text before and after, the form's
method and action, the button's label, and whether the page ran any
script (it must not have any).  Exits 3 if Chromium misbehaves.
"""
import base64
import json
import os
import subprocess
import sys
import tempfile
import time


class Browser:
    def __init__(self, chrome, profile):
        r_cmd, w_cmd = os.pipe()      # we write commands, chromium reads fd 3
        r_evt, w_evt = os.pipe()      # chromium writes fd 4, we read events
        # dup2 onto the same number keeps close-on-exec: clear it first.
        os.set_inheritable(r_cmd, True)
        os.set_inheritable(w_evt, True)
        def child():
            os.dup2(r_cmd, 3)
            os.dup2(w_evt, 4)
        self.p = subprocess.Popen(
            [chrome, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
             "--disable-background-networking", "--disable-component-update",
             "--disable-sync", "--disable-default-apps", "--hide-scrollbars",
             "--window-size=900,900", "--user-data-dir=" + profile,
             "--remote-debugging-pipe", "about:blank"],
            preexec_fn=child, close_fds=False,
            stdout=subprocess.DEVNULL, stderr=open(os.environ.get("ACK_BROWSER_LOG", os.devnull), "ab"))
        os.close(r_cmd)
        os.close(w_evt)
        self.w = os.fdopen(w_cmd, "wb", buffering=0)
        self.r = os.fdopen(r_evt, "rb", buffering=0)
        self.buf = b""
        self.n = 0
        self.events = []

    def _read(self, deadline):
        while b"\0" not in self.buf:
            if time.time() > deadline:
                raise TimeoutError("chromium did not answer")
            chunk = self.r.read(65536)
            if not chunk:
                raise EOFError("chromium closed the pipe")
            self.buf += chunk
        msg, self.buf = self.buf.split(b"\0", 1)
        return json.loads(msg)

    def call(self, method, params=None, session=None, timeout=30):
        self.n += 1
        m = {"id": self.n, "method": method, "params": params or {}}
        if session:
            m["sessionId"] = session
        self.w.write(json.dumps(m).encode() + b"\0")
        deadline = time.time() + timeout
        while True:
            r = self._read(deadline)
            if r.get("id") == self.n:
                if "error" in r:
                    raise RuntimeError(f"{method}: {r['error']}")
                return r["result"]
            self.events.append(r)

    def wait_event(self, method, session, timeout=30):
        deadline = time.time() + timeout
        while True:
            for i, e in enumerate(self.events):
                if e.get("method") == method and e.get("sessionId") == session:
                    del self.events[i]
                    return e
            self.events.append(self._read(deadline))

    def close(self):
        try:
            self.call("Browser.close", timeout=5)
        except Exception:
            pass
        try:
            self.p.wait(10)
        except subprocess.TimeoutExpired:
            self.p.kill()


def main():
    chrome, url, shot_page, shot_done = sys.argv[1:5]
    profile = tempfile.mkdtemp(prefix="ack-chrome-")
    b = Browser(chrome, profile)
    try:
        t = b.call("Target.createTarget", {"url": "about:blank"})
        s = b.call("Target.attachToTarget", {"targetId": t["targetId"], "flatten": True})["sessionId"]
        b.call("Page.enable", session=s)
        b.call("Runtime.enable", session=s)
        b.call("Page.navigate", {"url": url}, session=s)
        b.wait_event("Page.loadEventFired", s)
        ev = lambda expr: b.call("Runtime.evaluate", {"expression": expr, "returnByValue": True},
                                 session=s)["result"].get("value")
        before = ev("document.body.innerText")
        form = ev("(f => f && {method: f.method, action: f.getAttribute('action')})"
                  "(document.querySelector('form'))")
        label = ev("(x => x && x.textContent)(document.querySelector('button'))")
        scripts = ev("document.scripts.length")
        shot = b.call("Page.captureScreenshot", {"format": "png"}, session=s)
        open(shot_page, "wb").write(base64.b64decode(shot["data"]))
        box = ev("(r => r && {x: r.x + r.width / 2, y: r.y + r.height / 2})"
                 "((x => x && x.getBoundingClientRect())(document.querySelector('button')))")
        after = None
        if box:
            for kind in ("mouseMoved", "mousePressed", "mouseReleased"):
                b.call("Input.dispatchMouseEvent", {"type": kind, "x": box["x"], "y": box["y"],
                                                    "button": "left", "clickCount": 1},
                       session=s)
            b.wait_event("Page.loadEventFired", s)
            after = ev("document.body.innerText")
            shot = b.call("Page.captureScreenshot", {"format": "png"}, session=s)
            open(shot_done, "wb").write(base64.b64decode(shot["data"]))
        print(json.dumps({"before": before, "after": after, "form": form, "label": label,
                          "scripts": scripts}))
    except Exception as e:
        print(f"ack_browser: {e}", file=sys.stderr)
        sys.exit(3)
    finally:
        b.close()
        subprocess.run(["rm", "-rf", profile])


if __name__ == "__main__":
    main()
