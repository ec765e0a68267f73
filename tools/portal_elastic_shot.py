# The README screenshot of the Nodes page with an elastic source through two bursts: run a server with
# --users (root admin root-token-0123456789a), --cluster-bind and --key-file, then: python3 tools/portal_elastic_shot.py URL
import json, os, sys, time, urllib.request
from playwright.sync_api import sync_playwright
URL = sys.argv[1]; TOKEN = "root-token-0123456789a"
def call(method, path, body=None):
    data = None if body is None else json.dumps(body).encode()
    r = urllib.request.Request(URL + path, data=data, method=method)
    r.add_header("Authorization", "Bearer " + TOKEN)
    if data: r.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(r, timeout=60) as resp: return resp.read().decode()
call("POST", "/api/v1/nodesources", {"name": "burst", "rank": 10,
  "infrastructure": {"type": "processes", "nodesPerHost": 2, "bootDelay": "1s-3s", "pricePerHostHour": 1.0},
  "policy": {"type": "dynamic", "minNodes": 0, "maxNodes": 6, "refreshTime": "1s", "minUptime": "8s", "initDelay": "0s"}})
def burst(n, sleep):
    wf = f"name: burst-{n}\ntasks:\n  split:\n    script: {{language: bash, code: \"true\"}}\n    replicate: {{runs: {n}}}\n  work:\n    depends: [split]\n    script: {{language: bash, code: \"sleep {sleep}\"}}\n"
    call("POST", "/api/v1/jobs", {"workflow": wf})
burst(80, 0.5); time.sleep(35); burst(40, 0.5); time.sleep(45)
with sync_playwright() as p:
    b = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
    page = b.new_page(viewport={"width": 1366, "height": 900})
    page.goto(URL + "/portal")
    page.wait_for_selector("#login")
    page.fill("#token", TOKEN); page.press("#token", "Enter")
    page.wait_for_timeout(2000)
    page.goto(URL + "/portal#/nodes")
    try:
        page.wait_for_selector("#history-burst polyline", timeout=20000)
    except Exception:
        page.screenshot(path="/tmp/shot/fail.png", full_page=True); raise
    time.sleep(1)
    page.screenshot(path="/work/main/docs/screenshots/nodes-elastic-history.png", full_page=True)
    b.close()
print(call("GET", "/api/v1/nodesources/burst")[:600])
