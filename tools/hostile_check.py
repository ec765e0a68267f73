#!/usr/bin/env python3
"""Issue 27's attacks, as a hostile user would run them, against a real `tessera serve` on loopback.

Each check prints what it did, what the server answered, how long the refusal took and the server's RSS after it,
and fails (exit 1) when the server misbehaves: a crash, a 5xx, an attack that is not refused, a user reaching
another's data. The figures go to stdout as one JSON object at the end (`--json FILE` writes it to a file too).

Usage: hostile_check.py BINARY WORKDIR [--json FILE]   (run by tools/hostile-check)
"""
import http.client
import json
import os
import resource
import socket
import subprocess
import sys
import threading
import time

BINARY, WORK = sys.argv[1], sys.argv[2]
JSON_OUT = sys.argv[sys.argv.index("--json") + 1] if "--json" in sys.argv else None
ALICE, BOB, ROOT = "alice-token-0123456789", "bob-token-0123456789ab", "root-token-0123456789a"
ISOLATED = os.geteuid() == 0
figures = {"isolated": ISOLATED}
failures = []


def check(name, ok, detail=""):
    print(f"  {'ok  ' if ok else 'FAIL'} {name}{': ' + detail if detail else ''}", flush=True)
    if not ok:
        failures.append(name)


class Server:
    def __init__(self, extra, data="data", descriptors=None):
        os.makedirs(WORK, exist_ok=True)
        os.chmod(WORK, 0o711)
        args = [BINARY, "serve", "--data", f"{WORK}/{data}", "--listen", "127.0.0.1:0", "--nodes", "2", "--log-level", "error"]
        if ISOLATED:
            with open(f"{WORK}/users", "w") as users:
                users.write(f"alice user {ALICE}\nbob user {BOB}\nroot admin {ROOT}\n")
            os.chmod(f"{WORK}/users", 0o600)
            args += ["--users", f"{WORK}/users"]
        # A low descriptor limit (soft and hard: the server raises the soft one to the hard one) makes EMFILE easy.
        limit = (lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (descriptors, descriptors))) if descriptors else None
        self.process = subprocess.Popen(args + extra, stdout=subprocess.PIPE, stderr=open(f"{WORK}/server.stderr", "w"), text=True,
                                        preexec_fn=limit)
        # The first lines may name the cluster address; the listening line names the HTTP one.
        line = ""
        for _ in range(5):
            line = self.process.stdout.readline()
            if "http://" in line or not line:
                break
        if "http://" not in line:
            raise SystemExit(f"hostile-check: the server did not start: {line}{open(f'{WORK}/server.stderr').read()}")
        self.port = int(line.split("http://")[1].split()[0].rsplit(":", 1)[1])

    def request(self, method, path, token=ALICE, body=None, content_type="application/yaml", timeout=60):
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        headers = {"Content-Type": content_type}
        if ISOLATED and token:
            headers["Authorization"] = f"Bearer {token}"
        started = time.monotonic()
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        data = response.read()
        connection.close()
        return response.status, data, (time.monotonic() - started) * 1000

    def rss_mb(self):
        with open(f"/proc/{self.process.pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
        return 0

    def cpu_seconds(self):
        with open(f"/proc/{self.process.pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def descriptors(self):
        return len(os.listdir(f"/proc/{self.process.pid}/fd"))

    def alive(self):
        return self.process.poll() is None

    def wait_job(self, job, token=ALICE, limit=120):
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            status, data, _ = self.request("GET", f"/api/v1/jobs/{job}", token=token)
            state = json.loads(data).get("state") if status == 200 else None
            if state in ("FINISHED", "FAILED", "CANCELED", "KILLED", "IN_ERROR"):
                return json.loads(data)
            time.sleep(0.05)
        return {}

    def stop(self):
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()


def refused(server, name, yaml, expect=422):
    status, data, ms = server.request("POST", "/api/v1/jobs", body=yaml.encode())
    rss = server.rss_mb()
    figures[name] = {"status": status, "refuseMs": round(ms, 1), "rssMB": round(rss, 1)}
    check(f"{name} refused", status == expect and server.alive(),
          f"{status} in {ms:.1f} ms, RSS {rss:.0f} MB, {data[:140].decode(errors='replace')}")


def script_job(server, name, code, token=ALICE, extra=""):
    yaml = f"name: {name}\ntasks:\n  t:\n{extra}    script:\n      language: bash\n      code: |\n"
    yaml += "".join(f"        {line}\n" for line in code.splitlines())
    status, data, _ = server.request("POST", "/api/v1/jobs", token=token, body=yaml.encode())
    if status != 201:
        check(f"{name} submitted", False, f"{status} {data[:200]}")
        return None
    return json.loads(data)["id"]


def cluster_port_out_of_descriptors():
    """More connections to the HTTP and cluster ports than the descriptors allow: the server stops accepting before
    it runs out (no spinning core on EMFILE, no crash), and serves again once they close."""
    print("cluster port out of descriptors")
    keys = f"{WORK}/cluster.keys"
    with open(keys, "w") as out:
        out.write(f"1 {os.urandom(32).hex()}\n")
    os.chmod(keys, 0o600)
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    server = Server(["--cluster-bind", f"127.0.0.1:{port}", "--key-file", keys], data="data-cluster", descriptors=256)
    held = []
    # Idle HTTP connections take what descriptors are left (the cluster port holds 16 state exchanges at most), then
    # connections to the cluster port meet EMFILE.
    for _ in range(400):
        try:
            held.append(socket.create_connection(("127.0.0.1", server.port), timeout=5))
        except OSError:
            break
    for _ in range(800):
        try:
            held.append(socket.create_connection(("127.0.0.1", port), timeout=5))
        except OSError:
            break
    time.sleep(1)
    cpu_before, wall_before = server.cpu_seconds(), time.monotonic()
    time.sleep(3)
    cpu = (server.cpu_seconds() - cpu_before) / (time.monotonic() - wall_before) * 100
    descriptors = server.descriptors()
    alive = server.alive()
    for sock in held:
        sock.close()
    time.sleep(2)
    status = 0
    if alive and server.alive():
        status, _, _ = server.request("GET", "/api/v1/jobs")
    figures["400 HTTP and 800 cluster-port connections with 256 descriptors"] = {
        "connections": len(held), "descriptors": descriptors, "descriptorLimit": 256, "percentOfACore": round(cpu, 2), "statusAfter": status}
    check("connections past the descriptors wait, nothing spins", alive and cpu < 50, f"{len(held)} connections (HTTP and cluster), {descriptors} of 256 descriptors, server CPU {cpu:.1f} % of a core")
    check("the server serves again once they close", server.alive() and status == 200, f"GET /api/v1/jobs {status}")
    server.stop()


def main():
    server = Server(["--max-streams-per-user", "600", "--header-timeout", "20"])
    print(f"hostile-check: tessera serve pid {server.process.pid} on port {server.port} ({'isolated, as root' if ISOLATED else 'not root: no users file, isolation checks left out'})")
    figures["startRssMB"] = round(server.rss_mb(), 1)
    huge = "9223372036854775807"
    print("bounded input")
    refused(server, "walltime past Int64", f"name: big\ntasks:\n  a:\n    script: {{language: bash, code: 'true'}}\n    walltime: {huge}\n")
    refused(server, "WALLTIME past Int64", f"name: big\ngenericInfo: {{WALLTIME: \"{huge}\"}}\ntasks:\n  a:\n    script: {{language: bash, code: 'true'}}\n")
    refused(server, "taskRetryDelay past Int64", f"name: big\ntaskRetryDelay: {huge}\ntasks:\n  a:\n    script: {{language: bash, code: 'true'}}\n")
    refused(server, "input nested 600 deep", "name: deep\ntasks:\n  a:\n    function: tessera.noop\n    input: " + "[" * 600 + "]" * 600 + "\n")
    refused(server, "replicate of 100,000,000 runs", "name: wide\ntasks:\n  s:\n    script: {language: bash, code: 'true'}\n    replicate: {runs: 100000000}\n  t:\n    depends: [s]\n    script: {language: bash, code: 'true'}\n")
    bomb = "name: bomb\ngenericInfo:\n  L0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
    bomb += "".join(f"  L{level}: &l{level} [{', '.join([f'*l{level - 1}'] * 10)}]\n" for level in range(1, 10))
    bomb += "tasks:\n  a:\n    script: {language: bash, code: 'true'}\n"
    refused(server, "YAML alias bomb, 9 levels", bomb)
    refused(server, "NUL in a task name", "name: spoof\ntasks:\n  \"x.out\\0spoof\":\n    script: {language: bash, code: 'true'}\n")
    refused(server, "1,000,000-character job name", "name: " + "j" * 1_000_000 + "\ntasks:\n  a:\n    script: {language: bash, code: 'true'}\n")
    if ISOLATED:
        refused(server, "outputs walking the file system", "name: walk\ntasks:\n  a:\n    script: {language: bash, code: 'true'}\n    outputs: [\"/*/*/*/*/*/*/*\"]\n")
    status, _, _ = server.request("GET", "/metrics", token=None)
    check("/metrics without a token", status == (401 if ISOLATED else 200), f"{status}")

    print("run-time limits")
    loop = "name: forever\ntasks:\n  l:\n    function: tessera.noop\n    loop: {target: l, while: \"true\"}\n"
    status, data, _ = server.request("POST", "/api/v1/jobs", body=loop.encode())
    started = time.monotonic()
    ended = server.wait_job(json.loads(data)["id"]) if status == 201 else {}
    figures["loop while true"] = {"seconds": round(time.monotonic() - started, 2), "rssMB": round(server.rss_mb(), 1)}
    check("a loop that never ends stops at loopIterations", ended.get("progress", {}).get("total") == 10000 and ended.get("state") in ("FINISHED", "FAILED"),
          f"{ended.get('state')} with {ended.get('progress', {}).get('total')} instances in {figures['loop while true']['seconds']} s")
    flood = script_job(server, "flood", "head -c 1073741824 /dev/zero | tr '\\0' x")
    started = time.monotonic()
    ended = server.wait_job(flood) if flood else {}
    rss = server.rss_mb()
    status, data, ms = server.request("GET", f"/api/v1/jobs/{flood}/tasks/t/logs")
    rss_read = server.rss_mb()
    figures["1 GiB to stdout"] = {"seconds": round(time.monotonic() - started, 2), "logBytes": len(data), "rssMB": round(rss, 1), "rssAfterReadMB": round(rss_read, 1)}
    check("1 GiB of output is cut at the log quota", ended.get("state") == "FINISHED" and len(data) <= 64 * 1024 * 1024 + 4096 and b"limit logQuota" in data[-300:],
          f"log {len(data) / 1048576:.1f} MiB, RSS {rss:.0f} MB, after reading it {rss_read:.0f} MB")
    big = script_job(server, "result", "head -c 300000000 /dev/zero > \"$TESSERA_RESULT_FILE\"")
    ended = server.wait_job(big) if big else {}
    figures["300 MB result"] = {"rssMB": round(server.rss_mb(), 1)}
    task = (ended.get("tasks") or [{}])[0]
    check("a 300 MB result is refused", task.get("state") == "FAULTY" and "resultBytes" in (task.get("message") or ""), f"{task.get('state')}: {task.get('message')}")

    if ISOLATED:
        print("isolation")
        secret = script_job(server, "secret", "echo alice-secret-77")
        server.wait_job(secret)
        probe = script_job(server, "probe", "\n".join([
            "cat ../jobs/*/logs/* \"$(dirname \"$TESSERA_WORK_DIR\")\"/*/* 2>/dev/null | grep -q alice-secret-77 && echo logs=read || echo logs=safe",
            "users=$(tr '\\0' ' ' < /proc/$PPID/cmdline | sed -n 's/.*--users \\([^ ]*\\).*/\\1/p')",
            "grep -q admin \"$users\" 2>/dev/null && echo token=taken || echo token=safe",
            "env | grep -q hostile-secret-31 && echo env=leaked || echo env=clean",
            "kill -9 $PPID 2>/dev/null && echo server=killed || echo server=alive",
            "echo procs=$(ulimit -u) files=$(ulimit -n)",
        ]), token=BOB)
        server.wait_job(probe, token=BOB)
        _, log, _ = server.request("GET", f"/api/v1/jobs/{probe}/tasks/t/logs", token=BOB)
        text = log.decode(errors="replace")
        for line in ("logs=safe", "token=safe", "env=clean", "server=alive"):
            check(f"bob's script: {line}", line in text, text.replace("\n", " "))
        check("the server survived bob's script", server.alive())
        figures["isolation"] = text.strip().splitlines()

    print("connections and streams")
    idle = []
    for _ in range(1000):
        sock = socket.create_connection(("127.0.0.1", server.port))
        idle.append(sock)
    streams = []
    for _ in range(500):
        sock = socket.create_connection(("127.0.0.1", server.port))
        auth = f"Authorization: Bearer {ALICE}\r\n" if ISOLATED else ""
        sock.sendall(f"GET /api/v1/events HTTP/1.1\r\nHost: tessera\r\n{auth}\r\n".encode())
        streams.append(sock)
    for sock in streams:
        sock.settimeout(30)
        head = sock.recv(4096)
        if not head.startswith(b"HTTP/1.1 200"):
            check("an event stream opened", False, head[:100].decode(errors="replace"))
            break
    time.sleep(1)
    # The streams alone: their keep-alives and the node checks, nothing else asked.
    cpu_before, wall_before = server.cpu_seconds(), time.monotonic()
    time.sleep(8)
    cpu = (server.cpu_seconds() - cpu_before) / (time.monotonic() - wall_before) * 100
    latencies = []
    for _ in range(200):
        _, _, ms = server.request("GET", "/api/v1/jobs")
        latencies.append(ms)
    latencies.sort()
    p50, p99 = latencies[len(latencies) // 2], latencies[int(len(latencies) * 0.99) - 1]
    figures["GET jobs with 1,000 idle connections and 500 streams"] = {"p50Ms": round(p50, 2), "p99Ms": round(p99, 2), "descriptors": server.descriptors()}
    figures["server CPU with 500 idle streams"] = {"percentOfACore": round(cpu, 2)}
    check("GET /api/v1/jobs answers under load", p99 < 1000, f"p50 {p50:.1f} ms, p99 {p99:.1f} ms")
    print(f"  .... server CPU over 8 s with 500 idle streams: {cpu:.1f} % of a core")
    # Idle connections past the deadline are closed by the server.
    idle[0].settimeout(30)
    closed = idle[0].recv(1) == b""
    check("an idle connection is closed at the header deadline", closed)
    for sock in idle + streams:
        sock.close()
    slow = [socket.create_connection(("127.0.0.1", server.port)) for _ in range(300)]
    for sock in slow:
        sock.sendall(b"GET /api/v1/jobs HTTP/1.1\r\nHost: tessera\r\nX-Slow: 1")
    started = time.monotonic()
    for sock in slow:
        sock.settimeout(30)
        try:
            sock.recv(1)
        except OSError:
            pass
        sock.close()
    figures["300 slowloris connections closed after"] = {"seconds": round(time.monotonic() - started, 2)}
    check("300 slowloris connections are closed", time.monotonic() - started < 25, f"{time.monotonic() - started:.1f} s")
    figures["endRssMB"] = round(server.rss_mb(), 1)
    check("the server is alive at the end", server.alive(), f"RSS {figures['endRssMB']} MB")
    server.stop()
    cluster_port_out_of_descriptors()
    print(json.dumps(figures, indent=1))
    if JSON_OUT:
        with open(JSON_OUT, "w") as out:
            json.dump(figures, out, indent=1)
    if failures:
        print(f"hostile-check: {len(failures)} check(s) failed: {', '.join(failures)}")
        sys.exit(1)
    print("hostile-check: every attack was refused or bounded")


main()
