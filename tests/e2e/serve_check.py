#!/usr/bin/python3
"""serve_check.py BUILD_DIR — end-to-end tests of `nntrace serve`.

Starts BUILD_DIR/nntrace serve on a free loopback port (--port 0; the URL is
the first line it prints) over a temporary tree of runs: a finished run of
the example trainer, a traced run of the demo model (stats, profile,
graph), a run with a million-point series (written by serve_writer.c,
compiled here against BUILD_DIR/libnntrace.a), a run of broken event files,
and a run holding the files other tools write (eval.json, graph.svg, a
sensitivity map) plus symlinks that lead out.  Then checks, over HTTP with
urllib and raw sockets:

  * the API: runs, tags, scalars, histograms, images, text, graph, stats,
    profile, eval, heatmap, artifacts, findings, version and long-poll;
  * downsampling of the million-point series (bounded answer, spike and NaN
    kept, fast), full resolution in a zoomed window;
  * path safety: traversal in the API's path parameter and in the URL,
    percent-encoded and double-encoded variants, absolute paths, symlinks
    out — all refused, nothing outside the tree ever served;
  * sturdiness: malformed and truncated event files, bad requests (methods,
    Host, garbage, huge URLs), many concurrent clients with event streams
    open, and a clean exit on SIGTERM;
  * live updates: a run written while the server runs shows up, announced
    on the event stream and the long-poll.

Prints "serve-check: N passed, N failed"; exits 1 on any failure.
"""
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

passed = 0
failed = 0


def check(cond, what):
    global passed, failed
    if cond:
        passed += 1
    else:
        failed += 1
        print("FAIL %s" % what)
    return cond


HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def build_writer(build):
    """serve_writer, compiled against the build's library."""
    src = os.path.join(HERE, "serve_writer.c")
    lib = os.path.join(build, "libnntrace.a")
    tool = os.path.join(build, "tests", "serve_writer")
    if os.path.exists(tool) and os.path.getmtime(tool) >= max(os.path.getmtime(lib), os.path.getmtime(src)):
        return tool
    os.makedirs(os.path.dirname(tool), exist_ok=True)
    pkgs = ["openblas", "libpng", "zlib", "libmicrohttpd", "libgvc", "libedit", "jansson"]
    libs = subprocess.run(["pkg-config", "--libs"] + pkgs, capture_output=True, text=True).stdout.split()
    cc = os.environ.get("CC", "cc").split()
    base = cc + ["-I" + os.path.join(ROOT, "include"), "-std=c11", "-O1", "-pthread", "-o", tool, src, lib] + libs + [
        "-lm", "-lpthread"]
    for extra in ([], ["-fsanitize=address,undefined"]):
        r = subprocess.run(base + extra, capture_output=True, text=True)
        if r.returncode == 0:
            return tool
    print("serve-check: cannot build serve_writer:\n" + r.stderr[-2000:])
    return None


class Server:
    def __init__(self, nntrace, dirs, extra=()):
        self.proc = subprocess.Popen([nntrace, "serve"] + list(dirs) + ["--port", "0", "--poll-ms", "200"] + list(extra),
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        self.url = line.strip().split(" ")[-1]
        u = urllib.parse.urlparse(self.url)
        self.host, self.port = u.hostname, u.port

    def get(self, path, timeout=10):
        """(status, headers, body bytes) for a GET of path (kept verbatim)."""
        c = http.client.HTTPConnection(self.host, self.port, timeout=timeout)
        try:
            c.putrequest("GET", path, skip_host=True, skip_accept_encoding=True)
            c.putheader("Host", "127.0.0.1:%d" % self.port)
            c.endheaders()
            r = c.getresponse()
            return r.status, dict(r.getheaders()), r.read()
        finally:
            c.close()

    def json(self, path):
        s, _, body = self.get(path)
        return s, (json.loads(body) if body else None)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                return self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                return None
        return self.proc.returncode


def q(**kw):
    return urllib.parse.urlencode(kw)


def wait_for(fn, timeout):
    t0 = time.time()
    while time.time() - t0 < timeout:
        v = fn()
        if v:
            return v
        time.sleep(0.1)
    return None


def make_tree(build, d):
    """The runs the server is pointed at; returns the tree's root."""
    root = os.path.join(d, "logs")
    os.makedirs(root)
    trainer = os.path.join(build, "examples", "train_mlp")
    subprocess.run([trainer, os.path.join(root, "mlp"), "--epochs", "40"], check=True, stdout=subprocess.DEVNULL)
    nntrace = os.path.join(build, "nntrace")
    demo = os.path.join(ROOT, "examples", "demo")
    subprocess.run([nntrace, "run", os.path.join(demo, "model.onnx"), "-i", os.path.join(demo, "digit.npy"),
                    "--trace", "stats", "--trace", "profile", "--run-dir", os.path.join(root, "traced"),
                    "-o", os.path.join(d, "out")], check=True, stdout=subprocess.DEVNULL)
    # Broken event files: garbage, an empty file, a copy cut mid-record.
    bad = os.path.join(root, "bad")
    os.makedirs(bad)
    with open(os.path.join(bad, "events.out.tfevents.1.garbage"), "wb") as f:
        f.write(os.urandom(5000))
    open(os.path.join(bad, "events.out.tfevents.2.empty"), "wb").close()
    src = [f for f in os.listdir(os.path.join(root, "mlp")) if "tfevents" in f][0]
    data = open(os.path.join(root, "mlp", src), "rb").read()
    with open(os.path.join(bad, "events.out.tfevents.3.cut"), "wb") as f:
        f.write(data[:len(data) // 2 + 7])
    flipped = bytearray(data)
    for i in range(100, len(flipped), 997):
        flipped[i] ^= 0x5a
    with open(os.path.join(bad, "events.out.tfevents.4.flipped"), "wb") as f:
        f.write(bytes(flipped))
    # The files other tools leave, and symlinks out of the tree.
    files = os.path.join(root, "files")
    os.makedirs(os.path.join(files, "maps"))
    with open(os.path.join(files, "run.json"), "w") as f:
        json.dump({"model": "m.onnx"}, f)
    with open(os.path.join(files, "eval.json"), "w") as f:
        f.write('{"accuracy": 0.75, "loss": NaN, "classes": 3, "confusion": [[5, 1, 0], [1, 4, 1], [0, 0, 6]],'
                ' "per_class": [{"precision": 0.8, "recall": 0.83, "f1": 0.8, "support": 6}]}')
    with open(os.path.join(files, "graph.svg"), "w") as f:
        f.write('<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>')
    with open(os.path.join(files, "findings.json"), "w") as f:
        f.write('{"findings": [{"kind": "nan", "severity": "error", "node": "/a", "detail": "x"}]}')
    try:
        import numpy as np
        np.save(os.path.join(files, "maps", "occlusion.npy"), np.arange(3 * 40 * 50, dtype=np.float32).reshape(1, 3, 40, 50))
    except ImportError:
        pass
    secret = os.path.join(d, "secret.txt")
    with open(secret, "w") as f:
        f.write("TOP-SECRET-OUTSIDE\n")
    os.symlink(secret, os.path.join(files, "leak.txt"))
    os.symlink(d, os.path.join(files, "up"))
    os.symlink("/etc", os.path.join(files, "etc"))
    return root


def check_api(s):
    st, runs = s.json("/api/runs")
    check(st == 200, "/api/runs answers")
    names = {r["name"]: r for r in runs["runs"]}
    for n in ["logs/mlp", "logs/traced", "logs/bad", "logs/files", "logs/big"]:
        check(n in names, "run %s is listed (%s)" % (n, sorted(names)))
    mlp = names.get("logs/mlp", {"tags": {"scalars": [], "histograms": [], "images": [], "texts": []}})
    check(set(mlp["tags"]["scalars"]) >= {"loss/train", "loss/val", "accuracy/train", "accuracy/val"}, "mlp scalar tags")
    check(len(mlp["tags"]["histograms"]) >= 1 and "confusion_matrix/val" in mlp["tags"]["images"]
          and "summary" in mlp["tags"]["texts"], "mlp histogram, image and text tags")

    st, d = s.json("/api/scalars?" + q(run="logs/mlp", tag="loss/train"))
    ser = d["series"][0] if st == 200 and d["series"] else {}
    check(ser.get("total") == 40 and len(ser.get("steps", [])) == 40 and ser["steps"] == sorted(ser["steps"]),
          "loss/train has its 40 points")
    st, d = s.json("/api/scalars?" + q(tag="loss/val"))
    check(st == 200 and "logs/mlp" in [x["run"] for x in d["series"]] and "logs/traced" not in [x["run"] for x in d["series"]],
          "scalars of a tag over all runs")
    st, d = s.json("/api/histograms?" + q(run="logs/mlp", tag=mlp["tags"]["histograms"][0] if mlp["tags"]["histograms"] else "x"))
    check(st == 200 and len(d["histograms"]) == 40 and len(d["histograms"][-1]["counts"]) > 0, "histograms over steps")
    st, d = s.json("/api/images?" + q(run="logs/mlp", tag="confusion_matrix/val"))
    check(st == 200 and d["images"] and d["images"][0]["width"] > 0, "image list")
    st, h, body = s.get("/api/image?" + q(run="logs/mlp", tag="confusion_matrix/val", index=0))
    check(st == 200 and body[:4] == b"\x89PNG" and h.get("Content-Type") == "image/png", "image bytes are a PNG")
    st, d = s.json("/api/text?" + q(run="logs/mlp", tag="summary"))
    check(st == 200 and "MLP" in d["texts"][0]["text"], "text")
    st, d = s.json("/api/overfit?" + q(run="logs/mlp"))
    check(st == 200 and "onsets" in d, "overfit answers")

    tr = names.get("logs/traced", {"files": {}})
    check(tr["files"].get("stats") and tr["files"].get("profile") and tr["files"].get("graph"), "traced run has stats, profile, graph")
    st, d = s.json("/api/stats?" + q(run="logs/traced"))
    check(st == 200 and len(d["nodes"]) > 3 and "histogram" in d["nodes"][0], "per-node stats")
    st, d = s.json("/api/profile?" + q(run="logs/traced"))
    check(st == 200 and d["nodes"] and d["nodes"][0]["total_us"] >= d["nodes"][-1]["total_us"], "profile per node, sorted")
    st, d = s.json("/api/graph?" + q(run="logs/traced"))
    check(st == 200 and any(n["op"] == "Conv" for n in d["nodes"]) and any(n["inputs"] for n in d["nodes"]), "graph from the GraphDef")
    st, d = s.json("/api/runinfo?" + q(run="logs/traced"))
    check(st == 200 and isinstance(d, dict), "run.json")

    st, d = s.json("/api/eval?" + q(run="logs/files"))
    check(st == 200 and d["confusion"][2][2] == 6 and d["loss"] is None, "eval.json with NaN sanitized")
    st, d = s.json("/api/findings?" + q(run="logs/files"))
    check(st == 200 and d["findings"][0]["kind"] == "nan", "findings.json")
    st, d = s.json("/api/report?" + q(run="logs/files"))
    check(st == 404, "missing report.json is a 404")
    st, d = s.json("/api/artifacts?" + q(run="logs/files"))
    paths = [f["path"] for f in d["files"]] if st == 200 else []
    check("graph.svg" in paths and "leak.txt" not in paths and not any(p.startswith("up/") or p.startswith("etc/") for p in paths),
          "artifacts list files, not symlinks (%s)" % paths)
    if "maps/occlusion.npy" in paths:
        st, d = s.json("/api/heatmap?" + q(run="logs/files", path="maps/occlusion.npy", max=16))
        check(st == 200 and d["rows"] == 16 and d["cols"] == 16 and len(d["data"]) == 256, "heatmap of a map, block-averaged")
    st, h, body = s.get("/api/file?" + q(run="logs/files", path="graph.svg"))
    check(st == 200 and "sandbox" in h.get("Content-Security-Policy", ""), "graph.svg served sandboxed")

    st, d = s.json("/api/version")
    check(st == 200 and d["version"] > 0, "version")
    for path in ["/api/scalars", "/api/scalars?tag=nope&run=logs/mlp", "/api/histograms?run=x", "/api/image?run=logs/mlp&tag=x",
                 "/api/stats?run=nope", "/api/nope", "/api/scalars?tag=loss/train&points=abc&min=x&max=-9999999999999999999999"]:
        st, h, body = s.get(path)
        ok = st in (200, 400, 404) and h.get("Content-Type") == "application/json"
        try:
            json.loads(body)
        except ValueError:
            ok = False
        check(ok, "bad parameters give a JSON answer: %s -> %d" % (path, st))


def check_big(s, n):
    def loaded():
        st, d = s.json("/api/scalars?" + q(run="logs/big", tag="big/series", points=1500))
        return d if st == 200 and d["series"] and d["series"][0]["total"] == n else None
    t0 = time.time()
    lat = []
    # While the big file is being indexed, the server keeps answering quickly.
    while time.time() - t0 < 60:
        a = time.time()
        s.json("/api/runs")
        lat.append(time.time() - a)
        if loaded():
            break
        time.sleep(0.05)
    d = loaded()
    check(d is not None, "a million-point series is indexed (%.1f s)" % (time.time() - t0))
    check(max(lat) < 2.0, "the server stays responsive while indexing (max %.3f s)" % max(lat))
    if not d:
        return
    ser = d["series"][0]
    check(ser["downsampled"] and 100 <= len(ser["steps"]) <= 1500, "downsampled to at most 1500 points (%d)" % len(ser["steps"]))
    check(1000.0 in ser["values"], "the spike survives downsampling")
    check(None in ser["values"], "the NaN survives downsampling (as null)")
    check(ser["steps"][0] == 0 and ser["steps"][-1] == n - 1, "first and last points kept")
    a = time.time()
    for _ in range(10):
        s.json("/api/scalars?" + q(run="logs/big", tag="big/series"))
    per = (time.time() - a) / 10
    check(per < 0.5, "a million-point request takes %.3f s" % per)
    st, d = s.json("/api/scalars?" + q(run="logs/big", tag="big/series", min=500000, max=500999))
    z = d["series"][0]
    check(not z["downsampled"] and len(z["steps"]) == 1000 and z["steps"][0] == 500000, "zoomed window at full resolution")


def check_traversal(s, secret_text):
    bad_api = ["../secret.txt", "../../secret.txt", "/etc/passwd", "leak.txt", "up/secret.txt", "etc/passwd",
               "maps/../../secret.txt", "%2e%2e/secret.txt", "%252e%252e%252fsecret.txt", "..\\secret.txt",
               "maps/%2e%2e/%2e%2e/secret.txt", "./graph.svg/../../secret.txt", "", "maps/"]
    for p in bad_api:
        st, h, body = s.get("/api/file?run=logs/files&path=" + urllib.parse.quote(p, safe=""))
        check(st in (400, 403, 404) and secret_text not in body and b"root:" not in body, "API path refused: %r -> %d" % (p, st))
    # Hand-encoded variants, passed verbatim.
    for raw in ["/api/file?run=logs/files&path=..%2fsecret.txt", "/api/file?run=logs/files&path=%2E%2E%2Fsecret.txt",
                "/api/file?run=logs/files&path=%252E%252E%252Fsecret.txt", "/api/file?run=logs/files&path=..%5csecret.txt",
                "/api/file?run=logs/files&path=%c0%ae%c0%ae/secret.txt", "/api/file?run=logs/files&path=up%2fsecret.txt",
                "/api/file?run=..&path=secret.txt", "/api/file?run=logs/../logs/files&path=graph.svg",
                "/api/file?run=logs/files&path=leak.txt%00.png", "/api/heatmap?run=logs/files&path=../secret.txt",
                "/api/file?run=logs/files&path=etc/passwd"]:
        st, h, body = s.get(raw)
        check(st in (400, 403, 404) and secret_text not in body and b"root:" not in body, "encoded path refused: %s -> %d" % (raw, st))
    for raw in ["/../../etc/passwd", "/%2e%2e/%2e%2e/etc/passwd", "/..%2f..%2fetc%2fpasswd", "//etc/passwd",
                "/vendor/../../../../etc/passwd", "/%252e%252e/etc/passwd", "/index.html/../../secret.txt",
                "/api/../../etc/passwd", "/app.js%00.html"]:
        st, h, body = s.get(raw)
        check(st in (400, 403, 404) and b"root:" not in body and secret_text not in body, "URL refused: %s -> %d" % (raw, st))
    st, h, body = s.get("/")
    check(st == 200 and b"<html" in body and "default-src 'self'" in h.get("Content-Security-Policy", ""),
          "the page is served with a strict CSP")
    check(b"http://" not in body.replace(b"http://www.w3.org", b"") and b"https://" not in body, "the page references no remote URL")


def raw_exchange(s, data, timeout=5):
    c = socket.create_connection((s.host, s.port), timeout=timeout)
    try:
        c.sendall(data)
        out = b""
        while True:
            try:
                b = c.recv(65536)
            except socket.timeout:
                break
            if not b:
                break
            out += b
        return out
    finally:
        c.close()


def check_sturdy(s, n_clients=48):
    for method in ["POST", "PUT", "DELETE"]:
        c = http.client.HTTPConnection(s.host, s.port, timeout=5)
        c.request(method, "/api/runs", body=b"x" * 10)
        check(c.getresponse().status == 405, "%s is refused" % method)
        c.close()
    out = raw_exchange(s, b"GET /api/runs HTTP/1.1\r\nHost: attacker.example\r\nConnection: close\r\n\r\n")
    check(out.startswith(b"HTTP/1.1 403"), "a foreign Host header is refused (DNS rebinding)")
    for junk in [b"\x00\x01\x02garbage\r\n\r\n", b"GET\r\n\r\n", b"GET / HTTP/9.9\r\n\r\n",
                 b"GET /" + b"a" * 200000 + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
                 b"GET /api/runs HTTP/1.1\r\nHost: 127.0.0.1\r\n" + b"X: y\r\n" * 5000 + b"\r\n",
                 b"GET /api/runs HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 99999999999\r\n\r\nabc"]:
        try:
            raw_exchange(s, junk, timeout=3)
        except OSError:
            pass
    st, _ = s.json("/api/version")
    check(st == 200 and s.proc.poll() is None, "the server survives malformed requests")

    # Many clients at once, with event streams open.
    streams = []
    for _ in range(16):
        c = socket.create_connection((s.host, s.port), timeout=5)
        c.sendall(b"GET /api/stream HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        streams.append(c)
    paths = ["/api/runs", "/api/scalars?tag=loss/train", "/api/scalars?run=logs/big&tag=big/series",
             "/api/stats?run=logs/traced", "/", "/app.js", "/api/histograms?run=logs/mlp&tag=weights/fc1",
             "/api/image?run=logs/mlp&tag=confusion_matrix/val"]
    results = []
    lock = threading.Lock()

    def worker(k):
        ok = 0
        for i in range(12):
            try:
                st, _, _ = s.get(paths[(k + i) % len(paths)], timeout=20)
                ok += st == 200
            except OSError:
                pass
        with lock:
            results.append(ok)

    t0 = time.time()
    threads = [threading.Thread(target=worker, args=(k,)) for k in range(n_clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    took = time.time() - t0
    check(sum(results) == n_clients * 12, "%d concurrent clients x 12 requests all answered (%d ok, %.1f s)"
          % (n_clients, sum(results), took))
    got = 0
    for c in streams:
        try:
            c.settimeout(3)
            got += b"event: version" in c.recv(4096)
        except OSError:
            pass
        c.close()
    check(got == len(streams), "event streams open at once (%d of %d)" % (got, len(streams)))


def check_live(s, build, root):
    c = socket.create_connection((s.host, s.port), timeout=10)
    c.sendall(b"GET /api/stream HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    buf = b""
    while b"event: version" not in buf:
        buf += c.recv(4096)
    head = buf.split(b"\r\n\r\n")[0]
    check(b"text/event-stream" in head, "the stream is server-sent events")
    v0 = json.loads(buf.split(b"data: ")[1].split(b"\n")[0])["version"]
    t0 = time.time()
    subprocess.run([os.path.join(build, "examples", "train_mlp"), os.path.join(root, "late", "run"), "--epochs", "5"],
                   check=True, stdout=subprocess.DEVNULL)
    newer = None
    c.settimeout(5)
    try:
        while newer is None and time.time() - t0 < 5:
            buf += c.recv(4096)
            for part in buf.split(b"\n\n"):
                if part.startswith(b"event: version") or b"\nevent: version" in part:
                    v = json.loads(part.split(b"data: ")[1])["version"]
                    if v > v0:
                        newer = v
    except OSError:
        pass
    c.close()
    check(newer is not None, "the event stream announces the new run (%.2f s)" % (time.time() - t0))
    st, d = s.json("/api/runs")
    check(any(r["name"] == "logs/late/run" for r in d["runs"]), "the new run is listed")
    v = d["version"]
    res = {}

    def poll():
        res["d"] = s.json("/api/poll?since=%d&timeout=10" % v)[1]
    t = threading.Thread(target=poll)
    t.start()
    time.sleep(0.3)
    subprocess.run([os.path.join(build, "examples", "train_mlp"), os.path.join(root, "late", "run2"), "--epochs", "3"],
                   check=True, stdout=subprocess.DEVNULL)
    t.join(15)
    check(res.get("d", {}).get("version", 0) > v, "the long-poll returns on a change")


def main():
    if len(sys.argv) != 2:
        print("usage: serve_check.py BUILD_DIR")
        print("serve-check: 0 passed, 1 failed")
        return 2
    build = os.path.abspath(sys.argv[1])
    nntrace = os.path.join(build, "nntrace")
    writer = build_writer(build)
    if not writer or not os.path.exists(os.path.join(build, "examples", "train_mlp")):
        print("serve-check: needs BUILD/nntrace, BUILD/examples/train_mlp (make examples) and a C compiler")
        print("serve-check: 0 passed, 1 failed")
        return 1
    d = tempfile.mkdtemp(prefix="nt_serve_check_")
    n_big = 1000000
    try:
        root = make_tree(build, d)
        subprocess.run([writer, os.path.join(root, "big"), str(n_big)], check=True)
        s = Server(nntrace, [root])
        try:
            check(s.url.startswith("http://127.0.0.1:"), "binds to loopback by default (%s)" % s.url)
            check_big(s, n_big)
            check_api(s)
            st, d2 = s.json("/api/runs")
            bad = [r for r in d2["runs"] if r["name"] == "logs/bad"]
            check(bad and (bad[0]["bad_records"] > 0 or bad[0]["truncated"]), "broken event files are counted, not fatal")
            check_traversal(s, b"TOP-SECRET-OUTSIDE")
            check_sturdy(s)
            check_live(s, build, root)
        finally:
            rc = s.stop()
            check(rc == 0, "exits 0 on SIGTERM (rc %s)" % rc)
        # Usage errors.
        r = subprocess.run([nntrace, "serve"], capture_output=True, text=True)
        check(r.returncode == 1, "no directory is a usage error")
        r = subprocess.run([nntrace, "serve", os.path.join(d, "missing")], capture_output=True, text=True)
        check(r.returncode == 2, "a missing directory exits 2")
        r = subprocess.run([nntrace, "serve", root, "--port", "70000"], capture_output=True, text=True)
        check(r.returncode == 1, "a bad port is a usage error")
    finally:
        shutil.rmtree(d, ignore_errors=True)
    print("serve-check: %d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
