'use strict';
// Colours that stay apart for colour-blind readers (Okabe and Ito), and a symbol with each state's name.
const COLOURS = {
  FINISHED: '#009E73', RUNNING: '#0072B2', PENDING: '#8a8f98', SUBMITTED: '#8a8f98', PAUSED: '#6f6f6f', STALLED: '#56B4E9',
  WAITING_ON_ERROR: '#E69F00', WAITING_ON_FAILURE: '#E69F00', IN_ERROR: '#CC79A7', FAULTY: '#D55E00', FAILED: '#D55E00',
  CANCELED: '#D55E00', KILLED: '#000000', ABORTED: '#000000', NOT_STARTED: '#b0b4ba', NOT_RESTARTED: '#b0b4ba', SKIPPED: '#b0b4ba',
  FREE: '#009E73', BUSY: '#0072B2', DOWN: '#E69F00', LOST: '#D55E00', DEPLOYING: '#56B4E9', CONFIGURING: '#CC79A7', TO_BE_REMOVED: '#6f6f6f',
};
const SYMBOLS = {
  FINISHED: '✓', RUNNING: '▶', PENDING: '…', SUBMITTED: '…', PAUSED: '⏸', STALLED: '◌', WAITING_ON_ERROR: '↻', WAITING_ON_FAILURE: '↻',
  IN_ERROR: '⚠', FAULTY: '✗', FAILED: '✗', CANCELED: '⊘', KILLED: '☠', ABORTED: '⊘', NOT_STARTED: '–', NOT_RESTARTED: '–', SKIPPED: '⤼',
  FREE: 'F', BUSY: 'B', DOWN: 'D', LOST: 'L', DEPLOYING: 'd', CONFIGURING: 'c', TO_BE_REMOVED: 'R',
};
const JOB_STATES = ['PENDING', 'RUNNING', 'STALLED', 'PAUSED', 'IN_ERROR', 'FINISHED', 'CANCELED', 'FAILED', 'KILLED'];
const ALIVE = new Set(['PENDING', 'RUNNING', 'STALLED', 'PAUSED', 'IN_ERROR']);
const NODE_STATES = ['FREE', 'BUSY', 'DOWN', 'LOST', 'DEPLOYING', 'CONFIGURING', 'TO_BE_REMOVED'];
const PRIORITIES = ['IDLE', 'LOWEST', 'LOW', 'NORMAL', 'HIGH', 'HIGHEST'];

const app = { token: sessionStorage.getItem('tessera.token') || '', me: null, streams: [], jobsPage: { before: null, history: [] } };
const $ = (selector, root = document) => root.querySelector(selector);
const el = (tag, attributes = {}, ...children) => {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('on')) node.addEventListener(key.slice(2), value); else node.setAttribute(key, value === true ? '' : value);
  }
  for (const child of children.flat()) if (child !== null && child !== undefined) node.append(child.nodeType ? child : String(child));
  return node;
};
const svg = (tag, attributes = {}, ...children) => {
  const node = document.createElementNS('http://www.w3.org/2000/svg', tag);
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, value);
  for (const child of children.flat()) if (child !== null && child !== undefined) node.append(child.nodeType ? child : String(child));
  return node;
};
const badge = (state) => el('span', { class: 'state', style: `background:${COLOURS[state] || '#555'}`, 'data-state': state },
  el('span', { 'aria-hidden': 'true' }, SYMBOLS[state] || ''), state);

function headers(extra = {}) {
  const result = Object.assign({}, extra);
  if (app.token) result.Authorization = 'Bearer ' + app.token;
  return result;
}

async function api(path, options = {}) {
  const response = await fetch('/api/v1/' + path, Object.assign({}, options, { headers: headers(options.headers) }));
  if (response.status === 401) { signOut('The token was refused.'); throw new Error('unauthorized'); }
  if (!response.ok) {
    let message = response.statusText;
    try { message = (await response.json()).message; } catch (_) {}
    throw new Error(message);
  }
  return (response.headers.get('content-type') || '').includes('json') ? response.json() : response.text();
}

// Server-sent events through fetch (the token stays in a header); reconnects after 2 s.
function follow(path, handlers) {
  const control = new AbortController();
  (async () => {
    while (!control.signal.aborted) {
      try {
        const response = await fetch('/api/v1/' + path, { headers: headers(), signal: control.signal });
        if (!response.ok) throw new Error(response.statusText);
        const reader = response.body.getReader();
        const decoder = new TextDecoder();
        let buffer = '';
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buffer += decoder.decode(value, { stream: true });
          let end;
          while ((end = buffer.indexOf('\n\n')) >= 0) {
            const chunk = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            let kind = 'message', data = '';
            for (const line of chunk.split('\n')) {
              if (line.startsWith('event: ')) kind = line.slice(7);
              else if (line.startsWith('data: ')) data += line.slice(6);
            }
            if (data && handlers[kind]) handlers[kind](JSON.parse(data));
          }
        }
      } catch (_) {
        if (control.signal.aborted) return;
      }
      await new Promise((resolve) => setTimeout(resolve, 2000));
    }
  })();
  app.streams.push(control);
  return control;
}

function stopStreams() {
  for (const stream of app.streams) stream.abort();
  app.streams = [];
}

function formatDuration(seconds) {
  if (seconds === null || seconds === undefined || isNaN(seconds)) return '';
  // Nodes measure their tasks, so an in-process task of a few microseconds shows as such, not as 0 ms.
  if (seconds < 0.001) return `${Math.round(seconds * 1e6)} µs`;
  if (seconds < 0.01) return `${(seconds * 1000).toFixed(1)} ms`;
  if (seconds < 1) return `${Math.round(seconds * 1000)} ms`;
  if (seconds < 90) return `${seconds.toFixed(1)} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 90) return `${minutes} min ${Math.round(seconds % 60)} s`;
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}
const formatTime = (iso) => iso ? new Date(iso).toLocaleString() : '';
const jobDuration = (job) => {
  if (!job.started && !job.submitted) return '';
  const start = new Date(job.started || job.submitted);
  const end = job.ended ? new Date(job.ended) : new Date();
  return formatDuration((end - start) / 1000);
};

function progressBar(progress, state) {
  const total = progress.total || 0;
  const finished = !ALIVE.has(state) && total === 0;
  const done = finished ? 1 : (total ? progress.done / total : 0);
  const failed = total ? progress.failed / total : 0;
  return el('span', {},
    el('span', { class: 'bar', role: 'progressbar', 'aria-valuemin': 0, 'aria-valuemax': total, 'aria-valuenow': progress.done, 'aria-label': 'progress' },
      el('span', { class: 'done', style: `width:${(done * 100).toFixed(1)}%` }),
      el('span', { class: 'failed', style: `left:${((done - failed) * 100).toFixed(1)}%;width:${(failed * 100).toFixed(1)}%` })),
    el('span', { class: 'progress-text' }, total ? `${progress.done}/${total}` : (finished ? 'done' : '')));
}

// MARK: Sign-in

function signOut(message) {
  stopStreams();
  app.token = '';
  app.me = null;
  sessionStorage.removeItem('tessera.token');
  showLogin(message || '');
}

function showLogin(message) {
  $('#login').hidden = false;
  $('#view').replaceChildren();
  $('#signout').hidden = true;
  $('#who').textContent = '';
  $('#login-error').textContent = message;
  $('#token').focus();
}

async function signIn() {
  try {
    app.me = await api('me');
  } catch (error) {
    // A refused token already shows the sign-in form with why.
    if (error.message !== 'unauthorized') showLogin(error.message);
    return false;
  }
  $('#login').hidden = true;
  $('#signout').hidden = !app.token;
  $('#who').textContent = `${app.me.name}${app.me.admin ? ' (administrator)' : ''}`;
  return true;
}

$('#login-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  app.token = $('#token').value.trim();
  $('#token').value = '';
  if (await signIn()) {
    sessionStorage.setItem('tessera.token', app.token);
    route();
  }
});
$('#signout').addEventListener('click', () => signOut(''));

// MARK: Jobs

async function jobAction(job, path, body) {
  try {
    await api(`jobs/${job}/${path}`, body ? { method: 'PUT', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) } : { method: 'PUT' });
  } catch (error) {
    alert(`${path}: ${error.message}`);
  }
}

function jobActions(job) {
  if (!ALIVE.has(job.state) || !app.me) return el('span');
  if (!app.me.admin && job.owner !== app.me.name) return el('span');
  const allowed = app.me.admin ? PRIORITIES : PRIORITIES.filter((p) => p !== 'HIGH' && p !== 'HIGHEST');
  const priority = el('select', { 'aria-label': `priority of job ${job.id}`, onchange: (event) => jobAction(job.id, 'priority', { priority: event.target.value }) },
    allowed.map((p) => el('option', { value: p, selected: p === job.priority }, p)));
  return el('span', { class: 'actions' },
    el('button', { type: 'button', onclick: () => jobAction(job.id, 'kill') }, 'Kill'),
    job.state === 'PAUSED'
      ? el('button', { type: 'button', onclick: () => jobAction(job.id, 'resume') }, 'Resume')
      : el('button', { type: 'button', onclick: () => jobAction(job.id, 'pause') }, 'Pause'),
    priority);
}

function jobRow(job) {
  return el('tr', { 'data-job': job.id },
    el('td', { class: 'num' }, el('a', { href: `#/jobs/${job.id}` }, String(job.id))),
    el('td', {}, job.name), el('td', {}, job.owner || el('span', { class: 'muted' }, 'local')),
    el('td', {}, badge(job.state)), el('td', {}, job.priority),
    el('td', {}, progressBar(job.progress, job.state)),
    el('td', { class: 'num' }, jobDuration(job)),
    el('td', {}, formatTime(job.submitted)), el('td', {}, formatTime(job.started)),
    el('td', {}, jobActions(job)));
}

async function showJobs(params) {
  const state = params.get('state') || '';
  const owner = params.get('owner') || '';
  const before = params.get('before') || '';
  const query = new URLSearchParams({ limit: '50' });
  if (state) query.set('state', state);
  if (owner && app.me.admin) query.set('owner', owner);
  if (before) query.set('before', before);
  const page = await api('jobs?' + query);
  const go = (changes) => {
    const next = new URLSearchParams({ state, owner });
    for (const [key, value] of Object.entries(changes)) next.set(key, value);
    for (const key of [...next.keys()]) if (!next.get(key)) next.delete(key);
    location.hash = '#/jobs?' + next;
  };
  const stateFilter = el('select', { id: 'state-filter', 'aria-label': 'state', onchange: (event) => go({ state: event.target.value, before: '' }) },
    el('option', { value: '' }, 'All states'), JOB_STATES.map((s) => el('option', { value: s, selected: s === state }, s)));
  const ownerFilter = app.me.admin
    ? el('input', { id: 'owner-filter', 'aria-label': 'owner', placeholder: 'owner', value: owner, onchange: (event) => go({ owner: event.target.value, before: '' }) })
    : null;
  const body = el('tbody', { id: 'jobs-body' }, page.jobs.map(jobRow));
  $('#view').replaceChildren(
    el('h1', {}, 'Jobs'),
    el('div', { class: 'filters' }, el('label', {}, 'State ', stateFilter), ownerFilter ? el('label', {}, 'Owner ', ownerFilter) : null,
      el('span', { class: 'muted', id: 'jobs-count' }, `${page.jobs.length} shown`)),
    el('table', { id: 'jobs' },
      el('thead', {}, el('tr', {}, ['ID', 'Name', 'Owner', 'State', 'Priority', 'Progress', 'Duration', 'Submitted', 'Started', 'Actions'].map((h) => el('th', { scope: 'col' }, h)))),
      body),
    el('div', { class: 'pager' },
      before ? el('button', { type: 'button', onclick: () => go({ before: '' }) }, '← Newest') : null,
      page.next ? el('button', { type: 'button', id: 'older', onclick: () => go({ before: String(page.next) }) }, 'Older →') : null));
  follow('events', {
    job: (job) => {
      if ((state && job.state !== state) || (owner && job.owner !== owner)) return;
      const row = body.querySelector(`tr[data-job="${job.id}"]`);
      if (row) row.replaceWith(jobRow(job));
      else if (!before) body.prepend(jobRow(job));
      $('#jobs-count').textContent = `${body.rows.length} shown`;
    },
  });
}

// MARK: A job

function layout(tasks) {
  const byName = new Map(tasks.map((task) => [task.name, task]));
  const depth = new Map();
  const visit = (name, seen = new Set()) => {
    if (depth.has(name)) return depth.get(name);
    if (seen.has(name)) return 0;
    seen.add(name);
    const task = byName.get(name);
    const d = task && task.depends.length ? 1 + Math.max(...task.depends.map((p) => visit(p, seen))) : 0;
    depth.set(name, d);
    return d;
  };
  tasks.forEach((task) => visit(task.name));
  const columns = [];
  for (const task of tasks) (columns[depth.get(task.name)] ||= []).push(task);
  const position = new Map();
  const width = 200, height = 64, gapX = 60, gapY = 24;
  columns.forEach((column, x) => column.forEach((task, y) => position.set(task.name, { x: 20 + x * (width + gapX), y: 20 + y * (height + gapY) })));
  const rows = Math.max(1, ...columns.map((c) => (c || []).length));
  return { position, width, height, total: { w: 40 + columns.length * (width + gapX), h: 40 + rows * (height + gapY) } };
}

function graph(view) {
  const { position, width, height, total } = layout(view.tasks);
  const root = svg('svg', { width: total.w, height: total.h, role: 'img', 'aria-label': 'workflow graph', id: 'graph-svg' });
  root.append(svg('defs', {}, svg('marker', { id: 'arrow', viewBox: '0 0 10 10', refX: 10, refY: 5, markerWidth: 6, markerHeight: 6, orient: 'auto' },
    svg('path', { d: 'M 0 0 L 10 5 L 0 10 z', fill: '#8a8f98' }))));
  for (const task of view.tasks) {
    const to = position.get(task.name);
    for (const parent of task.depends) {
      const from = position.get(parent);
      if (from) root.append(svg('line', { x1: from.x + width, y1: from.y + height / 2, x2: to.x, y2: to.y + height / 2, stroke: '#8a8f98', 'marker-end': 'url(#arrow)' }));
    }
    for (const target of task.targets) {
      const other = position.get(target);
      if (other) root.append(svg('path', { d: `M ${to.x + width / 2} ${to.y} C ${to.x + width / 2} ${to.y - 30}, ${other.x + width / 2} ${other.y - 30}, ${other.x + width / 2} ${other.y}`,
        fill: 'none', stroke: '#CC79A7', 'stroke-dasharray': '4 3', 'marker-end': 'url(#arrow)' }, svg('title', {}, `${task.flow} → ${target}`)));
    }
  }
  for (const task of view.tasks) {
    const at = position.get(task.name);
    const counts = Object.entries(task.instances);
    const instances = counts.reduce((sum, [, n]) => sum + n, 0);
    const group = svg('g', { 'data-task': task.name, tabindex: 0, role: 'button', 'aria-label': `${task.name}: ${counts.map(([s, n]) => `${n} ${s}`).join(', ') || 'no instance yet'}` },
      svg('rect', { x: at.x, y: at.y, width, height, rx: 6, fill: '#fff', stroke: '#8a8f98' }),
      svg('text', { x: at.x + 8, y: at.y + 16, 'font-weight': 700 }, task.name + (task.flow ? `  [${task.flow}]` : '')),
      svg('text', { x: at.x + 8, y: at.y + 32 }, `${task.runs} · ${instances} instance${instances === 1 ? '' : 's'}`));
    let offset = 0;
    for (const [state, n] of counts.sort()) {
      const w = instances ? (width - 16) * n / instances : 0;
      group.append(svg('rect', { x: at.x + 8 + offset, y: at.y + 42, width: Math.max(w, 0), height: 12, fill: COLOURS[state] || '#555' }, svg('title', {}, `${n} ${state}`)));
      offset += w;
    }
    group.addEventListener('click', () => { const input = $('#task-filter'); if (input) { input.value = task.name; input.dispatchEvent(new Event('input')); } });
    group.addEventListener('keydown', (event) => { if (event.key === 'Enter') group.dispatchEvent(new Event('click')); });
    root.append(group);
  }
  return root;
}

async function showJob(id, task) {
  const [job, view] = await Promise.all([api(`jobs/${id}`), api(`jobs/${id}/graph`)]);
  const tasks = new Map(job.tasks.map((t) => [t.name, t]));
  const limit = { value: 200 };
  const tbody = el('tbody', { id: 'tasks-body' });
  const filter = el('input', { id: 'task-filter', 'aria-label': 'filter tasks by name', placeholder: 'filter by name' });
  const renderTasks = () => {
    const text = filter.value.trim();
    const rows = [...tasks.values()].filter((t) => !text || t.name === text || t.name.startsWith(text + '#') || t.name.startsWith(text + '*') || t.name.includes(text));
    tbody.replaceChildren(...rows.slice(0, limit.value).map(taskRow));
    more.hidden = rows.length <= limit.value;
    more.textContent = `Show all ${rows.length}`;
  };
  const taskRow = (t) => el('tr', { 'data-task': t.name },
    el('td', {}, el('a', { href: `#/jobs/${id}/logs/${encodeURIComponent(t.name)}` }, t.name)),
    el('td', {}, badge(t.state)), el('td', { class: 'num' }, String(t.executions)),
    el('td', {}, t.node !== undefined ? `node-${t.node}` : ''), el('td', {}, t.host || ''),
    el('td', { class: 'num' }, formatDuration(t.duration)),
    el('td', {}, (t.name.includes('#') || t.name.includes('*')) ? t.name.slice(t.name.search(/[#*]/)) : ''),
    el('td', { class: t.state === 'FAULTY' || t.state === 'FAILED' || t.state === 'IN_ERROR' ? 'error' : 'muted' }, t.message || ''));
  const more = el('button', { type: 'button', id: 'more-tasks', onclick: () => { limit.value = Infinity; renderTasks(); } }, '');
  filter.addEventListener('input', renderTasks);
  const header = el('div', { id: 'job-header' });
  const renderHeader = (j) => header.replaceChildren(
    el('h1', {}, `Job ${j.id} · ${j.name} `, badge(j.state)),
    el('dl', { class: 'meta' },
      el('dt', {}, 'Owner'), el('dd', {}, j.owner || 'local'), el('dt', {}, 'Priority'), el('dd', {}, j.priority),
      el('dt', {}, 'Progress'), el('dd', { id: 'job-progress' }, progressBar(j.progress, j.state)),
      el('dt', {}, 'Actions'), el('dd', {}, jobActions(j))));
  renderHeader(job);
  const graphBox = el('div', { class: 'graph', id: 'graph' }, graph(view));
  const variables = Object.entries(view.variables);
  const results = el('div', { id: 'results' }, el('button', { type: 'button', onclick: async () => {
    const data = await api(`jobs/${id}/result`);
    const entries = Object.entries(data.results).slice(0, 200);
    results.replaceChildren(el('table', {}, el('tbody', {}, entries.map(([name, value]) => el('tr', {}, el('th', { scope: 'row' }, name), el('td', {}, el('code', {}, JSON.stringify(value).slice(0, 300))))))));
  } }, 'Show results'));
  const logBox = el('div', { id: 'log-panel' });
  $('#view').replaceChildren(header,
    el('h2', {}, 'Workflow'), graphBox,
    variables.length ? el('h2', {}, 'Variables') : null,
    variables.length ? el('dl', { class: 'meta', id: 'variables' }, variables.flatMap(([k, v]) => [el('dt', {}, k), el('dd', {}, v)])) : null,
    logBox,
    el('h2', {}, 'Tasks'), el('div', { class: 'filters' }, filter),
    el('table', { id: 'tasks' }, el('thead', {}, el('tr', {}, ['Task', 'State', 'Executions', 'Node', 'Host', 'Duration', 'Tag', 'Message'].map((h) => el('th', { scope: 'col' }, h)))), tbody),
    more, el('h2', {}, 'Results'), results);
  renderTasks();
  if (task) showLog(id, task, tasks.get(task), logBox);
  // Task events come in batches (every 250 ms): one table render per frame, one graph refresh per second at most.
  let pending = false;
  let graphAt = 0;
  const refresh = () => {
    if (pending) return;
    pending = true;
    requestAnimationFrame(async () => {
      pending = false;
      renderTasks();
      if (Date.now() - graphAt < 1000) return;
      graphAt = Date.now();
      try { graphBox.replaceChildren(graph(await api(`jobs/${id}/graph`))); } catch (_) {}
    });
  };
  follow(`events?job=${id}`, {
    job: (j) => { if (j.id === Number(id)) renderHeader(j); },
    task: (t) => {
      const known = tasks.get(t.name) || {};
      tasks.set(t.name, Object.assign({}, known, t));
      refresh();
    },
  });
}

function showLog(id, name, task, box) {
  const pre = el('pre', { class: 'log', id: 'log', 'aria-live': 'polite', tabindex: 0 });
  box.replaceChildren(el('div', { class: 'panel' },
    el('h2', {}, `Log of ${name} `, task ? badge(task.state) : null),
    task && task.message ? el('p', { class: 'error', id: 'log-message' }, task.message) : null,
    pre, el('a', { href: `#/jobs/${id}` }, 'Close')));
  const control = new AbortController();
  app.streams.push(control);
  (async () => {
    const response = await fetch(`/api/v1/jobs/${id}/tasks/${encodeURIComponent(name)}/logs?follow=true`, { headers: headers(), signal: control.signal });
    if (!response.ok) { pre.textContent = (await response.json()).message; return; }
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      pre.textContent += decoder.decode(value, { stream: true });
      pre.scrollTop = pre.scrollHeight;
    }
    pre.dataset.complete = 'true';
  })().catch(() => {});
}

// MARK: Nodes

function chart(history) {
  const width = 900, height = 220, left = 40, bottom = 24;
  const root = svg('svg', { width, height, role: 'img', 'aria-label': 'nodes by state through time', id: 'nodes-chart' });
  const samples = history.samples;
  if (samples.length < 2) { root.append(svg('text', { x: left, y: 40 }, 'Collecting the history…')); return root; }
  const t0 = samples[0].time, t1 = samples[samples.length - 1].time;
  const max = Math.max(1, ...samples.map((s) => Object.values(s.counts).reduce((a, b) => a + b, 0)));
  const x = (t) => left + (width - left - 10) * (t - t0) / Math.max(1, t1 - t0);
  const y = (n) => height - bottom - (height - bottom - 10) * n / max;
  root.append(svg('line', { x1: left, y1: height - bottom, x2: width - 10, y2: height - bottom, stroke: '#8a8f98' }));
  root.append(svg('text', { x: 4, y: y(max) + 4 }, String(max)), svg('text', { x: 4, y: height - bottom }, '0'));
  root.append(svg('text', { x: left, y: height - 6 }, new Date(t0 * 1000).toLocaleTimeString()), svg('text', { x: width - 80, y: height - 6 }, new Date(t1 * 1000).toLocaleTimeString()));
  for (const state of NODE_STATES) {
    if (!samples.some((s) => s.counts[state])) continue;
    const points = samples.map((s) => `${x(s.time).toFixed(1)},${y(s.counts[state] || 0).toFixed(1)}`).join(' ');
    root.append(svg('polyline', { points, fill: 'none', stroke: COLOURS[state], 'stroke-width': 2, 'stroke-dasharray': state === 'BUSY' ? '' : state === 'FREE' ? '6 3' : '2 2', 'data-state': state }, svg('title', {}, state)));
  }
  return root;
}

// The node sources: each with its infrastructure, policy, nodes by state, host-hours and cost; the managed ones
// with their history chart and (for administrators) deploy, undeploy and remove; and a form to add one.
const SOURCE_EXAMPLE = JSON.stringify({
  name: 'burst', infrastructure: { type: 'processes', nodesPerHost: 1, pricePerHostHour: 1.0 },
  policy: { type: 'dynamic', minNodes: 0, maxNodes: 4, refreshTime: '1s', minUptime: '30s' },
}, null, 2);

async function sourcesSection() {
  const box = el('section', { id: 'node-sources' });
  const message = el('p', { id: 'source-message', role: 'status' });
  const act = async (path, method) => {
    try {
      await api(path, { method });
      message.textContent = `${method} ${path}: done`;
    } catch (error) { message.textContent = error.message; }
    await draw();
  };
  const draw = async () => {
    const sources = await api('nodesources');
    const rows = sources.map((source) => {
      const counts = source.counts || {};
      const usage = source.usage || {};
      const actions = source.managed && app.me && app.me.admin ? el('td', {},
        el('button', { type: 'button', onclick: () => {
          $('#source-spec').value = JSON.stringify(source.spec, null, 2);
          app.editingSource = source.name;
          $('#add-source button[type=submit]').textContent = `Save ${source.name}`;
          $('#source-spec').focus();
        } }, 'Edit'), ' ',
        el('button', { type: 'button', onclick: () => act(`nodesources/${source.name}/deploy`, 'PUT') }, 'Deploy'), ' ',
        el('button', { type: 'button', onclick: () => act(`nodesources/${source.name}/undeploy`, 'PUT') }, 'Undeploy'), ' ',
        el('button', { type: 'button', onclick: () => act(`nodesources/${source.name}?force=true`, 'DELETE') }, 'Remove')) : el('td', {});
      return el('tr', { 'data-source': source.name },
        el('th', { scope: 'row' }, source.name), el('td', {}, source.infrastructure), el('td', {}, source.policy),
        el('td', {}, source.state || 'running'), el('td', {}, String(source.rank)),
        el('td', {}, NODE_STATES.filter((s) => counts[s]).map((s) => el('span', { 'data-count': s }, badge(s), ` ${counts[s]} `))),
        el('td', {}, usage.hostHours === undefined ? '–' : usage.hostHours.toFixed(3)),
        el('td', { 'data-cost': source.name }, usage.cost === undefined ? '–' : usage.cost.toFixed(2)),
        el('td', {}, source.lastFailure ? el('span', { class: 'error' }, source.lastFailure) : ''), actions);
    });
    const charts = [];
    for (const source of sources.filter((s) => s.managed)) {
      let usage = null;
      try { usage = (await api(`nodesources/${source.name}/usage`)).usage; } catch (_) {}
      const samples = ((usage && usage.history) || []).map((s) => ({
        time: Date.parse(s.at) / 1000, counts: Object.fromEntries(NODE_STATES.map((state) => [state, s[state] || 0])),
      }));
      const picture = chart({ samples });
      picture.setAttribute('aria-label', `nodes of ${source.name} by state through time`);
      picture.id = `history-${source.name}`;
      charts.push(el('div', {}, el('h3', {}, `Nodes history of ${source.name} · cost so far ${(usage ? usage.cost : 0).toFixed(2)}`), picture));
    }
    table.replaceChildren(el('thead', {}, el('tr', {}, ['Source', 'Infrastructure', 'Policy', 'State', 'Rank', 'Nodes', 'Host-hours', 'Cost', 'Last failure', ''].map((h) => el('th', { scope: 'col' }, h)))),
      el('tbody', {}, rows));
    chartsBox.replaceChildren(...charts);
  };
  // Made once: a redraw (every 10 s) keeps what the administrator is typing.
  const table = el('table', {});
  const chartsBox = el('div', { id: 'source-charts' });
  const form = app.me && app.me.admin ? el('form', { id: 'add-source', onsubmit: async (event) => {
    event.preventDefault();
    const editing = app.editingSource;
    try {
      await api(editing ? `nodesources/${editing}` : 'nodesources',
        { method: editing ? 'PUT' : 'POST', headers: { 'Content-Type': 'application/json' }, body: $('#source-spec').value });
      message.textContent = editing ? `node source ${editing} saved` : 'node source added';
      app.editingSource = null;
      $('#add-source button[type=submit]').textContent = 'Add';
    } catch (error) { message.textContent = error.message; }
    await draw();
  } }, el('label', { for: 'source-spec' }, 'Add a node source, or edit one (JSON, as POST /api/v1/nodesources takes it)'),
    el('textarea', { id: 'source-spec', rows: 8, cols: 70 }, SOURCE_EXAMPLE), el('button', { type: 'submit' }, 'Add')) : null;
  box.replaceChildren(el('h2', {}, 'Node sources'), table, message, chartsBox, ...(form ? [form] : []));
  await draw();
  return { box, draw };
}

async function showNodes() {
  const sources = await sourcesSection();
  const [nodes, history] = await Promise.all([api('nodes'), api('nodes/history')]);
  const counts = el('div', { class: 'counts', id: 'node-counts' });
  const cells = el('div', { id: 'node-cells' });
  const chartBox = el('div', { id: 'chart' }, chart(history));
  const render = (list) => {
    const byState = {};
    for (const node of list) byState[node.state] = (byState[node.state] || 0) + 1;
    counts.replaceChildren(...NODE_STATES.filter((s) => byState[s]).map((s) => el('span', { 'data-count': s }, badge(s), ` ${byState[s]}`)));
    const groups = new Map();
    for (const node of list) {
      const key = node.source;
      if (!groups.has(key)) groups.set(key, new Map());
      const hosts = groups.get(key);
      if (!hosts.has(node.host)) hosts.set(node.host, []);
      hosts.get(node.host).push(node);
    }
    cells.replaceChildren(...[...groups.entries()].map(([source, hosts]) => el('section', {},
      el('h2', {}, `Node source ${source}`),
      [...hosts.entries()].map(([host, hostNodes]) => el('div', {},
        el('h3', { class: 'host muted' }, host || 'local'),
        el('div', { class: 'cells' }, hostNodes.map((n) => el('span', {
          class: 'cell', tabindex: 0, 'data-node': n.id, 'data-state': n.state, style: `background:${COLOURS[n.state]}`,
          title: `${n.node} ${n.state}${n.locked ? ' (locked)' : ''} · ${n.running}/${n.capacity} tasks`,
          'aria-label': `${n.node} on ${host}: ${n.state}${n.locked ? ', locked' : ''}`,
        }, SYMBOLS[n.state]))))))));
  };
  render(nodes);
  $('#view').replaceChildren(el('h1', {}, 'Nodes'), counts,
    el('div', { class: 'legend' }, NODE_STATES.map((s) => el('span', {}, el('i', { style: `background:${COLOURS[s]}` }), `${SYMBOLS[s]} ${s}`))),
    el('h2', {}, 'Nodes by state, last samples'), chartBox, sources.box, cells);
  follow('events', { nodes: render });
  const timer = setInterval(async () => {
    if (!document.body.contains(chartBox)) { clearInterval(timer); return; }
    try { chartBox.replaceChildren(chart(await api('nodes/history'))); } catch (_) {}
    try { await sources.draw(); } catch (_) {}
  }, 10000);
}

// MARK: Routing

async function route() {
  stopStreams();
  if (!app.me && !(await signIn())) return;
  const [path, query] = (location.hash.slice(1) || '/jobs').split('?');
  const params = new URLSearchParams(query || '');
  const parts = path.split('/').filter(Boolean);
  for (const link of document.querySelectorAll('nav a')) link.removeAttribute('aria-current');
  try {
    if (parts[0] === 'nodes') {
      $('#nav-nodes').setAttribute('aria-current', 'page');
      await showNodes();
    } else if (parts[0] === 'jobs' && parts[1]) {
      $('#nav-jobs').setAttribute('aria-current', 'page');
      await showJob(parts[1], parts[2] === 'logs' ? decodeURIComponent(parts[3] || '') : null);
    } else {
      $('#nav-jobs').setAttribute('aria-current', 'page');
      await showJobs(params);
    }
    document.body.dataset.ready = 'true';
  } catch (error) {
    if (error.message !== 'unauthorized') $('#view').replaceChildren(el('p', { class: 'error', role: 'alert' }, error.message));
  }
}

window.addEventListener('hashchange', route);
route();
