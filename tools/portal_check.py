#!/usr/bin/env python3
"""The portal in a real headless Chromium (Debian's), driven by Playwright for Python, against a real
`tessera serve`. Run by tools/portal-check (which starts the server); screenshots of each view go to
$PORTAL_SCREENSHOTS. With --figures it also measures the first render of the jobs page with 10,000 jobs and the
page's responsiveness while a 2,000-task job runs, and prints them as JSON."""
import json
import os
import sys
import time
import urllib.request

from playwright.sync_api import sync_playwright, expect

URL = os.environ["PORTAL_URL"]
SHOTS = os.environ.get("PORTAL_SCREENSHOTS", "portal-screenshots")
ALICE, BOB, ROOT = "alice-token-0123456789", "bob-token-0123456789ab", "root-token-0123456789a"
os.makedirs(SHOTS, exist_ok=True)


def call(method, path, token, body=None, content_type="application/json"):
    data = None if body is None else (json.dumps(body).encode() if content_type == "application/json" else body.encode())
    request = urllib.request.Request(URL + path, data=data, method=method)
    request.add_header("Authorization", "Bearer " + token)
    if data is not None:
        request.add_header("Content-Type", content_type)
    with urllib.request.urlopen(request, timeout=60) as response:
        text = response.read().decode()
        return json.loads(text) if response.headers.get("Content-Type", "").startswith("application/json") else text


def submit(yaml, token=ALICE):
    return call("POST", "/api/v1/jobs", token, {"workflow": yaml})["id"]


DEMO = """
name: portal-demo
onTaskError: continueJobExecution
maxNumberOfExecution: 1
variables:
  GREETING: hello
tasks:
  split:
    function: tessera.noop
    replicate: {runs: 20}
  work:
    depends: [split]
    script:
      language: bash
      code: |
        sleep 0.4
        echo "working on $TESSERA_TASK_NAME: ${GREETING}"
  broken:
    script:
      language: bash
      code: |
        echo "about to fail" >&2
        exit 3
"""

LONG = """
name: portal-long
tasks:
  wait:
    script:
      language: bash
      code: sleep 60
"""


def sign_in(page, token):
    page.goto(URL + "/portal")
    expect(page.locator("#login")).to_be_visible()
    page.fill("#token", token)
    page.press("#token", "Enter")
    expect(page.locator("#jobs")).to_be_visible()


def check(browser):
    context = browser.new_context(viewport={"width": 1366, "height": 800})
    page = context.new_page()
    # Sign-in: a wrong token is refused, the right one opens the jobs.
    page.goto(URL + "/portal")
    page.fill("#token", "not-a-valid-token-at-all")
    page.press("#token", "Enter")
    expect(page.locator("#login-error")).to_contain_text("refused")
    page.screenshot(path=f"{SHOTS}/01-login.png")
    sign_in(page, ALICE)
    expect(page.locator("#who")).to_have_text("alice")
    page.evaluate("window.__noReload = true")

    # A job submitted through the API appears, moves and finishes in the open page, without a reload.
    job = submit(DEMO)
    row = page.locator(f'tr[data-job="{job}"]')
    expect(row).to_be_visible(timeout=10_000)
    seen = set()
    deadline = time.time() + 60
    while time.time() < deadline:
        text = row.locator(".progress-text").inner_text() if row.count() else ""
        seen.add(text)
        if row.locator('[data-state="FINISHED"]').count():
            break
        time.sleep(0.05)
    expect(row.locator('[data-state="FINISHED"]')).to_be_visible()
    assert len({s for s in seen if s}) >= 2, f"the progress bar moved: {seen}"
    assert page.evaluate("window.__noReload === true"), "the page was not reloaded"
    page.screenshot(path=f"{SHOTS}/02-jobs.png", full_page=True)

    # The job: its graph, its tasks (FINISHED), a task's log, the failing task's state and error.
    row.locator("a").first.click()
    expect(page.locator("#graph-svg")).to_be_visible()
    for name in ("split", "work", "broken"):
        expect(page.locator(f'#graph-svg g[data-task="{name}"]')).to_have_count(1)
    expect(page.locator('#tasks-body tr[data-task="work*3"] [data-state="FINISHED"]')).to_be_visible()
    broken = page.locator('#tasks-body tr[data-task="broken"]')
    expect(broken.locator('[data-state="FAULTY"]')).to_be_visible()
    expect(broken).to_contain_text("exit")
    expect(page.locator("#variables")).to_contain_text("GREETING")
    page.screenshot(path=f"{SHOTS}/03-job.png", full_page=True)
    page.locator('#tasks-body tr[data-task="work*3"] a').click()
    expect(page.locator("#log")).to_contain_text("working on work*3: hello")
    page.screenshot(path=f"{SHOTS}/04-log.png", full_page=True)
    page.goto(f"{URL}/portal#/jobs/{job}/logs/broken")
    expect(page.locator("#log")).to_contain_text("about to fail")
    expect(page.locator("#log-message")).to_contain_text("exit")
    page.screenshot(path=f"{SHOTS}/05-failed-task.png", full_page=True)

    # A running job: the user's actions, without the administrators' priorities; Kill works from the page.
    long_job = submit(LONG)
    page.goto(f"{URL}/portal#/jobs")
    long_row = page.locator(f'tr[data-job="{long_job}"]')
    expect(long_row.locator("button", has_text="Kill")).to_be_visible(timeout=10_000)
    options = long_row.locator("select option").all_inner_texts()
    assert "HIGH" not in options and "HIGHEST" not in options and "LOW" in options, options
    assert page.locator("#owner-filter").count() == 0, "a user has no owner filter"
    long_row.locator("button", has_text="Kill").click()
    expect(long_row.locator('[data-state="KILLED"]')).to_be_visible(timeout=10_000)

    # Another user sees none of alice's jobs, and cannot open one.
    bob = browser.new_context().new_page()
    sign_in(bob, BOB)
    expect(bob.locator(f'tr[data-job="{job}"]')).to_have_count(0)
    bob.goto(f"{URL}/portal#/jobs/{job}")
    expect(bob.locator("#view [role=alert]")).to_contain_text("no job")
    bob.screenshot(path=f"{SHOTS}/06-other-user.png")

    # The administrator sees every job, filters by owner, has every priority; the nodes view matches the API.
    root = browser.new_context(viewport={"width": 1366, "height": 800}).new_page()
    sign_in(root, ROOT)
    expect(root.locator(f'tr[data-job="{job}"]')).to_be_visible()
    expect(root.locator("#owner-filter")).to_be_visible()
    running = submit(LONG)
    root.goto(f"{URL}/portal#/jobs?owner=alice")
    admin_row = root.locator(f'tr[data-job="{running}"]')
    expect(admin_row.locator("select")).to_be_visible(timeout=10_000)
    assert "HIGHEST" in admin_row.locator("select option").all_inner_texts()
    call("PUT", f"/api/v1/jobs/{running}/kill", ALICE)
    root.goto(f"{URL}/portal#/nodes")
    expect(root.locator("#node-cells .cell").first).to_be_visible()
    nodes = call("GET", "/api/v1/nodes", ROOT)
    counts = {}
    for node in nodes:
        counts[node["state"]] = counts.get(node["state"], 0) + 1
    expect(root.locator("#node-cells .cell")).to_have_count(len(nodes))
    for state, count in counts.items():
        expect(root.locator(f'#node-counts [data-count="{state}"]')).to_contain_text(str(count))
    expect(root.locator("#nodes-chart")).to_be_visible()
    root.screenshot(path=f"{SHOTS}/07-nodes.png", full_page=True)
    # The keyboard reaches the navigation, and a node cell says its state in words.
    root.mouse.click(3, 3)  # the header's corner: the keyboard starts from the top of the page
    root.keyboard.press("Tab")
    focused = root.evaluate("document.activeElement.textContent")
    assert focused in ("Tessera", "Jobs", "Nodes"), f"the first Tab reaches the navigation, not {focused!r}"
    label = root.locator("#node-cells .cell").first.get_attribute("aria-label")
    assert any(state in label for state in counts), label
    # An elastic source: added from the portal's form, it acquires an agent process for a job of alice's, and the
    # view shows it with its nodes, cost and history.
    root.goto(f"{URL}/portal#/nodes")
    expect(root.locator("#add-source")).to_be_visible()
    root.fill("#source-spec", json.dumps({
        "name": "burst", "infrastructure": {"type": "processes", "nodesPerHost": 1, "pricePerHostHour": 1.0},
        "policy": {"type": "dynamic", "minNodes": 1, "maxNodes": 2, "refreshTime": "1s", "minUptime": "60s", "initDelay": "0s"},
        "rank": 10}))
    root.click("#add-source button[type=submit]")
    expect(root.locator('#node-sources tr[data-source="burst"]')).to_be_visible(timeout=10_000)
    submit(LONG.replace("long", "burst-work"))
    expect(root.locator('#node-cells .cell[data-state]').filter(has_text="B").first).to_be_visible(timeout=30_000)
    expect(root.locator("#history-burst polyline").first).to_be_visible(timeout=40_000)
    expect(root.locator('[data-cost="burst"]')).not_to_have_text("0.00", timeout=10_000)
    root.screenshot(path=f"{SHOTS}/08-node-sources.png", full_page=True)
    # A bad source is refused with the field named, and nothing is added.
    root.fill("#source-spec", json.dumps({"name": "bad", "infrastructure": {"type": "processes"}, "policy": {"type": "dynamic", "minNodes": 3, "maxNodes": 1}}))
    root.click("#add-source button[type=submit]")
    expect(root.locator("#source-message")).to_contain_text("policy.minNodes")
    assert not any(source["name"] == "bad" for source in call("GET", "/api/v1/nodesources", ROOT))
    call("DELETE", "/api/v1/nodesources/burst?force=true", ROOT)
    context.close()


def figures(browser):
    """The first render of the jobs page with 10,000 jobs in the store, its weight, and responsiveness with a
    2,000-task job running."""
    have = len(call("GET", "/api/v1/jobs?limit=1000", ROOT)["jobs"])
    for _ in range(max(0, 10_000 - have)):
        submit("name: tiny\ntasks:\n  t:\n    function: tessera.noop\n", ALICE)
    page = browser.new_context(viewport={"width": 1366, "height": 800}).new_page()
    sign_in(page, ROOT)
    transferred = []
    page.on("response", lambda response: transferred.append(len(response.body()) if response.request.resource_type != "fetch" or "events" not in response.url else 0))
    started = time.time()
    page.goto(URL + "/portal#/jobs")
    page.reload()
    expect(page.locator("#jobs-body tr").first).to_be_visible()
    page.wait_for_function("document.body.dataset.ready === 'true'")
    first_render_ms = (time.time() - started) * 1000
    timing = page.evaluate("JSON.stringify(performance.getEntriesByType('navigation')[0])")
    navigation = json.loads(timing)
    weight = sum(transferred)

    big = submit("""
name: wide
tasks:
  split:
    function: tessera.noop
    replicate: {runs: 2000}
  work:
    depends: [split]
    function: bench.sleep
    input: 1500
""", ROOT)
    page.goto(f"{URL}/portal#/jobs/{big}")
    expect(page.locator("#graph-svg")).to_be_visible()
    page.evaluate("""window.__long = []; new PerformanceObserver((list) => { for (const e of list.getEntries()) window.__long.push(e.duration); }).observe({ entryTypes: ['longtask'] });""")
    responses = []
    for _ in range(10):
        t = time.time()
        page.fill("#task-filter", "work*1")
        page.wait_for_function("document.querySelectorAll('#tasks-body tr').length > 0")
        page.fill("#task-filter", "")
        responses.append((time.time() - t) * 1000)
        time.sleep(0.2)
    long_tasks = page.evaluate("window.__long")
    result = {
        "jobsInStore": max(have, 10_000),
        "jobsPageFirstRenderMs": round(first_render_ms, 1),
        "jobsPageDomContentLoadedMs": round(navigation.get("domContentLoadedEventEnd", 0), 1),
        "jobsPageWeightBytes": weight,
        "wideJobFilterResponseMsMedian": round(sorted(responses)[len(responses) // 2], 1),
        "wideJobFilterResponseMsMax": round(max(responses), 1),
        "wideJobLongTasksOver50ms": len(long_tasks),
        "wideJobLongestTaskMs": round(max(long_tasks or [0]), 1),
    }
    print(json.dumps(result))


def main():
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=os.environ.get("CHROMIUM", "/usr/bin/chromium"), args=["--no-sandbox"])
        try:
            if "--figures" in sys.argv:
                figures(browser)
            else:
                check(browser)
        finally:
            browser.close()


if __name__ == "__main__":
    main()
