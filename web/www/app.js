// The inspector's page: UI only. Every byte is decoded in worker.js (wasm); this file asks it
// for batches, records and bytes, and draws them.

const worker = new Worker('worker.js', { type: 'module' });
let seq = 0;
const pending = new Map();
function call(op, args = {}, onPartial) {
  return new Promise((resolve, reject) => {
    const s = ++seq;
    pending.set(s, { resolve, reject, onPartial });
    worker.postMessage({ seq: s, op, args });
  });
}
worker.onmessage = (ev) => {
  const m = ev.data;
  if (m.hello) return;
  const p = pending.get(m.seq);
  if (!p) return;
  if (m.partial) { p.onPartial?.(m.partial); return; }
  pending.delete(m.seq);
  if (m.ok) p.resolve(m.result); else p.reject(new Error(m.error));
};
worker.onerror = (e) => showError(`The decoder failed to start: ${e.message || e}`);

// ---- small DOM helpers -------------------------------------------------------------------
function h(tag, attrs = {}, ...kids) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else el.setAttribute(k, v === true ? '' : v);
  }
  for (const c of kids.flat()) if (c !== null && c !== undefined && c !== false) el.append(c instanceof Node ? c : String(c));
  return el;
}
const $ = (id) => document.getElementById(id);
function setStatus(t) { $('status').textContent = t; }
function showError(msg) {
  const box = $('errors');
  box.append(h('p', {}, msg, ' ', h('button', { type: 'button', class: 'link', onclick: (e) => e.target.parentElement.remove() }, 'dismiss')));
}
function fmtBytes(n) {
  if (n < 1024) return `${n} B`;
  if (n < 1 << 20) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1 << 30) return `${(n / (1 << 20)).toFixed(1)} MiB`;
  return `${(n / (1 << 30)).toFixed(2)} GiB`;
}
function fmtTs(ts) {
  if (ts < 0) return String(ts);
  const d = new Date(ts);
  return isNaN(d) ? String(ts) : d.toISOString().replace('T', ' ').replace('Z', '');
}
const hex8 = (n) => '0x' + (n >>> 0).toString(16).padStart(8, '0');
function download(name, data, type = 'application/octet-stream') {
  const url = URL.createObjectURL(new Blob([data], { type }));
  const a = h('a', { href: url, download: name });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}
function b64ToBytes(s) {
  const bin = atob(s);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

// ---- state ---------------------------------------------------------------------------------
const files = new Map(); // id -> {id, name, kind, size, batches, problems, done, reports, frames}
let current = null;      // the file shown
const PAGE = 100;
const view = { sort: null, dir: 1, page: 0, batch: null, recs: null, record: null, hex: null };

// ---- opening ---------------------------------------------------------------------------------
async function openFiles(list) {
  if (!list.length) return;
  setStatus(`Opening ${list.length} file(s)…`);
  const opened = await call('open', { list });
  for (const f of opened) addFile(f);
  // Show the first segment while it is being read: its first rows come after the first slice.
  if (!current && opened.length) select((opened.find((f) => f.kind === 'log') || opened[0]).id);
  // Logs first (their listings are what index files are checked against), then indexes.
  for (const f of opened.filter((f) => f.kind === 'log')) await scanLog(files.get(f.id));
  for (const f of opened.filter((f) => f.kind === 'frames')) await decodeFrames(files.get(f.id));
  for (const f of opened.filter((f) => f.kind === 'capture')) await decodeCapture(files.get(f.id));
  for (const f of opened.filter((f) => f.kind === 'other')) {
    const g = files.get(f.id);
    try { g.table = await call('other', { id: f.id }); g.problems = g.table ? g.table.problems : []; updateFileState(g); } catch (e) { showError(`${f.name}: ${e.message}`); }
  }
  for (const f of opened.filter((f) => f.kind === 'index' || f.kind === 'timeindex')) await checkIndexFor(files.get(f.id));
  if (current !== null) render();
  setStatus(`${files.size} file(s) open`);
}

function addFile(f) {
  const entry = { ...f, batches: [], problems: [], done: false, reports: {} };
  files.set(f.id, entry);
  const li = h('li', {}, h('button', { type: 'button', class: 'file', dataset: { id: f.id }, onclick: () => select(f.id) },
    h('span', { class: 'fname' }, f.name), h('span', { class: 'fmeta' }, `${f.kind} · ${fmtBytes(f.size)}`),
    h('span', { class: 'fstate' })));
  $('file-list').append(li);
  return entry;
}

function fileButton(id) { return document.querySelector(`#file-list button[data-id="${id}"]`); }
function updateFileState(f) {
  const b = fileButton(f.id);
  if (!b) return;
  const n = f.problems.length + Object.values(f.reports).reduce((a, r) => a + r.problems.length, 0);
  const what = f.kind === 'log' ? `${f.batches.length} batches${f.done ? '' : '…'}`
    : f.kind === 'frames' && f.frames ? `${f.frames.frames.length} frames`
      : f.kind === 'capture' && f.capture ? `${f.capture.connections.length} connections` : '';
  b.querySelector('.fstate').textContent = [what, n ? `${n} problem${n > 1 ? 's' : ''}` : ''].filter(Boolean).join(' · ');
  b.classList.toggle('has-problems', n > 0);
}

async function scanLog(f) {
  let first = true;
  await call('scan', { id: f.id }, ({ progress }) => {
    f.batches.push(...progress.batches);
    f.problems.push(...progress.problems);
    f.position = progress.position;
    f.done = progress.done;
    updateFileState(f);
    if (current === f.id && (first || progress.done || progress.batches.length)) renderLog(f, false);
    first = false;
  });
}

function sibling(f, suffix) {
  const stem = f.name.replace(/\.[a-z]+$/, '');
  for (const g of files.values()) if (g.name === stem + suffix) return g;
  return null;
}

async function checkIndexFor(f) {
  const log = sibling(f, '.log');
  if (!log) { f.problems.push({ file: f.name, offset: 0, kind: 'index', reason: 'no .log of the same segment is open: the entries cannot be checked' }); }
  try {
    if (f.kind === 'timeindex') {
      const idx = sibling(f, '.index');
      if (idx && !idx.report && log) await checkIndexFor(idx);
      f.report = await call('checkIndex', { id: f.id, log: log ? log.id : f.id, offsets: idx ? idx.id : null });
    } else {
      f.report = await call('checkIndex', { id: f.id, log: log ? log.id : f.id, offsets: null });
    }
    if (log) { log.reports[f.kind] = f.report; updateFileState(log); }
    updateFileState(f);
    if (current === f.id || (log && current === log.id)) render();
  } catch (e) { showError(`${f.name}: ${e.message}`); }
}

async function decodeFrames(f) {
  try {
    f.frames = await call('frames', { id: f.id });
    f.problems = f.frames.problems;
    for (const fr of f.frames.frames) for (const s of fr.recordSets) {
      if (!files.has(s.file)) files.set(s.file, { id: s.file, name: `${f.name} #${fr.index} ${s.path}`, kind: 'log', size: s.len, batches: [], problems: [], done: false, reports: {}, parent: f.id });
    }
    updateFileState(f);
  } catch (e) { showError(`${f.name}: ${e.message}`); }
}

let uiIds = 1e6; // ids of entries that exist only in the page (a capture's connections)
async function decodeCapture(f) {
  try {
    f.capture = await call('capture', { id: f.id });
    f.problems = f.capture.problems;
    let after = fileButton(f.id).parentElement;
    for (const c of f.capture.connections) {
      if (!c.kafka) continue;
      const id = uiIds++;
      c.file = id;
      const g = { id, name: `${c.client} → ${c.server}`, kind: 'frames', size: c.clientBytes + c.serverBytes, batches: [], problems: c.problems, done: true, reports: {}, frames: { frames: c.frames, problems: c.problems }, parent: f.id };
      files.set(id, g);
      for (const fr of c.frames) for (const s of fr.recordSets) {
        if (!files.has(s.file)) files.set(s.file, { id: s.file, name: `${g.name} #${fr.index} ${s.path}`, kind: 'log', size: s.len, batches: [], problems: [], done: false, reports: {}, parent: id });
      }
      const li = h('li', { class: 'child' }, h('button', { type: 'button', class: 'file', dataset: { id }, onclick: () => select(id) },
        h('span', { class: 'fname' }, g.name), h('span', { class: 'fmeta' }, `Kafka · ${fmtBytes(g.size)}`), h('span', { class: 'fstate' })));
      after.after(li);
      after = li;
      updateFileState(g);
    }
    updateFileState(f);
  } catch (e) { showError(`${f.name}: ${e.message}`); }
}

function renderCapture(f) {
  const v = $('view');
  const r = f.capture;
  if (!r) { v.replaceChildren(h('h2', {}, f.name), h('p', { class: 'hint' }, 'Reading…')); return; }
  v.replaceChildren(h('h2', {}, f.name),
    h('p', {}, `${r.format} · ${r.packets} packets · ${r.tcpPackets} TCP · ${r.connections.length} connections · ${r.connections.filter((c) => c.kafka).length} Kafka`),
    problemList(r.problems) || '',
    h('div', { class: 'table-wrap', tabindex: 0 }, h('table', { id: 'connections', class: 'grid' },
      h('thead', {}, h('tr', {}, ['#', 'Client', 'Server', 'Kafka', 'Packets', 'Client bytes', 'Server bytes', 'Retransmitted', 'Frames', 'Problems'].map((c) => h('th', { scope: 'col' }, c)))),
      h('tbody', {}, r.connections.map((c) => h('tr', { class: c.problems.length ? 'warn' : '', onclick: () => { if (c.file !== undefined) select(c.file); } },
        h('td', {}, c.index), h('td', {}, c.client), h('td', {}, c.server), h('td', {}, c.kafka ? 'yes' : 'no'), h('td', {}, c.packets),
        h('td', {}, c.clientBytes), h('td', {}, c.serverBytes), h('td', {}, c.retransmittedBytes), h('td', {}, c.frames.length),
        h('td', { class: 'note' }, c.problems.map((p) => p.reason).join('; '))))))));
}

// ---- selection and rendering -----------------------------------------------------------------
function select(id) {
  current = id;
  Object.assign(view, { sort: null, dir: 1, page: 0, batch: null, recs: null, record: null, hex: null, frame: null });
  for (const b of document.querySelectorAll('#file-list button')) b.classList.toggle('current', Number(b.dataset.id) === id);
  const f = files.get(id);
  $('export').disabled = !(f && (f.kind === 'log' || f.kind === 'frames' || f.kind === 'capture'));
  if (f && f.kind === 'log' && !f.done && !f.scanning && f.parent !== undefined) { f.scanning = true; scanLog(f); }
  render();
}

function render() {
  const f = files.get(current);
  const v = $('view');
  if (!f) { v.replaceChildren(); return; }
  if (f.kind === 'log') renderLog(f, true);
  else if (f.kind === 'index' || f.kind === 'timeindex') renderIndex(f);
  else if (f.kind === 'frames') renderFrames(f);
  else if (f.kind === 'capture') renderCapture(f);
  else if (f.table) v.replaceChildren(h('h2', {}, f.name), h('p', {}, `${f.table.kind} · ${f.table.rows.length} entries · ${fmtBytes(f.size)}`),
    problemList(f.table.problems) || '',
    h('div', { class: 'table-wrap', tabindex: 0 }, h('table', { id: 'other', class: 'grid' },
      h('thead', {}, h('tr', {}, f.table.columns.map((c) => h('th', { scope: 'col' }, c)))),
      h('tbody', {}, f.table.rows.map((r) => h('tr', {}, r.map((c) => h('td', {}, c))))))));
  else v.replaceChildren(h('h2', {}, f.name), h('p', { class: 'hint' }, 'This kind of file cannot be decoded by this version of the inspector yet.'));
}

function problemList(list) {
  if (!list.length) return null;
  return h('details', { class: 'problems', open: true },
    h('summary', {}, `${list.length} problem${list.length > 1 ? 's' : ''}`),
    h('ul', {}, list.map((p) => h('li', { class: `problem ${p.kind}` },
      h('button', { type: 'button', class: 'link', onclick: () => jumpToPosition(p) }, `${p.file} @ byte ${p.offset}`), ` ${p.kind}: ${p.reason}`))));
}

function jumpToPosition(p) {
  const f = files.get(current);
  if (!f || f.kind !== 'log' || p.file !== f.name) return;
  const i = f.batches.findIndex((b) => b.position >= p.offset);
  if (i >= 0) selectBatch(f, f.batches[i].index, true);
}

const COLS = [
  ['index', '#'], ['position', 'Position'], ['baseOffset', 'Base offset'], ['lastOffset', 'Last offset'],
  ['count', 'Count'], ['compression', 'Codec'], ['size', 'Size'], ['crcStored', 'CRC'],
  ['firstTimestamp', 'First timestamp'], ['maxTimestamp', 'Max timestamp'], ['timestampType', 'Type'],
  ['producerId', 'Producer id'], ['producerEpoch', 'Epoch'], ['baseSequence', 'Base seq'],
  ['transactional', 'Txn'], ['control', 'Control'],
];

function sortedBatches(f) {
  const rows = f.batches.slice();
  if (view.sort) {
    const k = view.sort, d = view.dir;
    rows.sort((a, b) => (a[k] < b[k] ? -d : a[k] > b[k] ? d : a.index - b.index));
  }
  return rows;
}

function renderLog(f, full) {
  const v = $('view');
  const rows = sortedBatches(f);
  const pages = Math.max(1, Math.ceil(rows.length / PAGE));
  view.page = Math.min(view.page, pages - 1);
  const records = f.batches.reduce((a, b) => a + b.count, 0);
  const indexProblems = Object.values(f.reports).flatMap((r) => r.problems);
  const head = h('div', { class: 'summary' },
    h('h2', {}, f.name),
    h('p', {}, `${f.batches.length} batches · ${records} records · ${fmtBytes(f.size)}`,
      f.done ? '' : ` · reading… ${f.size ? Math.floor(100 * (f.position || 0) / f.size) : 0}%`,
      Object.keys(f.reports).length ? ` · checked against ${Object.values(f.reports).map((r) => r.file).join(', ')}` : ''));
  const tools = h('form', { class: 'tools', onsubmit: (e) => e.preventDefault() },
    h('label', {}, 'Offset ', h('input', { id: 'jump-offset', type: 'text', inputmode: 'numeric', size: 10, onkeydown: (e) => { if (e.key === 'Enter') jumpOffset(f, e.target.value); } })),
    h('label', {}, 'Timestamp ', h('input', { id: 'jump-ts', type: 'text', size: 22, placeholder: 'ms or 2023-11-14T22:13', onkeydown: (e) => { if (e.key === 'Enter') jumpTs(f, e.target.value); } })),
    h('span', { class: 'pager' },
      h('button', { type: 'button', disabled: view.page === 0, onclick: () => { view.page--; renderLog(f, true); } }, '‹ Prev'),
      ` page ${view.page + 1} of ${pages} `,
      h('button', { type: 'button', disabled: view.page >= pages - 1, onclick: () => { view.page++; renderLog(f, true); } }, 'Next ›')));
  const table = h('table', { id: 'batches', class: 'grid' },
    h('thead', {}, h('tr', {}, COLS.map(([k, label]) => h('th', { scope: 'col', 'aria-sort': view.sort === k ? (view.dir > 0 ? 'ascending' : 'descending') : 'none' },
      h('button', { type: 'button', class: 'sort', onclick: () => { view.dir = view.sort === k ? -view.dir : 1; view.sort = k; renderLog(f, true); } }, label, view.sort === k ? (view.dir > 0 ? ' ▲' : ' ▼') : ''))))),
    h('tbody', {}, rows.slice(view.page * PAGE, (view.page + 1) * PAGE).map((b) => batchRow(f, b))));
  const wrap = h('div', { class: 'table-wrap', tabindex: 0, 'aria-label': 'Batches (arrow keys move, Enter opens)', onkeydown: (e) => tableKeys(e, f) }, table);
  const detail = h('section', { id: 'detail', 'aria-label': 'Batch detail' });
  if (full || !v.querySelector('#batches')) {
    v.replaceChildren(head, problemList([...f.problems, ...indexProblems]) || '', tools, wrap, detail);
    if (view.batch !== null) renderBatch(f);
  } else {
    // A scan step: refresh the summary, problems and rows, keep the detail pane.
    const old = v.querySelector('.summary'); old.replaceWith(head);
    const op = v.querySelector('details.problems'); const np = problemList([...f.problems, ...indexProblems]);
    if (op && np) op.replaceWith(np); else if (np) head.after(np); else if (op) op.remove();
    v.querySelector('.tools').replaceWith(tools);
    v.querySelector('.table-wrap').replaceWith(wrap);
  }
}

function batchRow(f, b) {
  const cls = [!b.crcOk ? 'bad' : '', b.problem ? 'warn' : '', view.batch === b.index ? 'selected' : '', b.control ? 'control' : ''].filter(Boolean).join(' ');
  const crc = b.crcOk
    ? h('span', { class: 'crc ok', title: `stored ${hex8(b.crcStored)} = computed` }, '✓ ', hex8(b.crcStored))
    : h('span', { class: 'crc bad', title: 'CRC mismatch' }, '✗ ', hex8(b.crcStored), ' ≠ ', hex8(b.crcComputed));
  return h('tr', { class: cls, dataset: { index: b.index }, 'aria-selected': view.batch === b.index ? 'true' : 'false', onclick: () => selectBatch(f, b.index, false) },
    h('td', {}, b.index), h('td', {}, b.position), h('td', {}, b.baseOffset), h('td', {}, b.lastOffset), h('td', {}, b.count),
    h('td', {}, b.compression), h('td', {}, b.size), h('td', {}, crc, b.problem ? h('span', { class: 'note' }, ' ', b.problem) : ''),
    h('td', { title: fmtTs(b.firstTimestamp) }, b.firstTimestamp), h('td', { title: fmtTs(b.maxTimestamp) }, b.maxTimestamp),
    h('td', {}, b.timestampType), h('td', {}, b.producerId), h('td', {}, b.producerEpoch), h('td', {}, b.baseSequence),
    h('td', {}, b.transactional ? 'yes' : ''), h('td', {}, b.control ? (b.controlType || 'yes') : ''));
}

function tableKeys(e, f) {
  const rows = sortedBatches(f);
  let i = rows.findIndex((b) => b.index === view.batch);
  const move = { ArrowDown: 1, ArrowUp: -1, PageDown: PAGE, PageUp: -PAGE, Home: -Infinity, End: Infinity }[e.key];
  if (move !== undefined) {
    e.preventDefault();
    i = Math.max(0, Math.min(rows.length - 1, (i < 0 ? 0 : i + move)));
    if (!Number.isFinite(i)) i = move > 0 ? rows.length - 1 : 0;
    view.page = Math.floor(i / PAGE);
    selectBatch(f, rows[i].index, true);
  } else if (e.key === 'Enter' && view.batch !== null) {
    e.preventDefault();
    document.querySelector('#records .table-wrap')?.focus();
  }
}

async function jumpOffset(f, text) {
  const off = Number(text);
  if (!Number.isFinite(off)) return showError(`Not an offset: ${text}`);
  const idx = f.reports.index ? sibling(f, '.index') : null;
  const i = await call('jumpOffset', { log: f.id, offset: off, index: idx ? idx.id : null });
  if (i === null) return showError(`No batch holds offset ${off} or a later one`);
  view.sort = null; view.page = Math.floor(i / PAGE);
  selectBatch(f, i, true);
}

async function jumpTs(f, text) {
  const ts = /^-?\d+$/.test(text.trim()) ? Number(text) : Date.parse(text.endsWith('Z') ? text : text + 'Z');
  if (!Number.isFinite(ts)) return showError(`Not a timestamp: ${text}`);
  const ti = f.reports.timeindex ? sibling(f, '.timeindex') : null;
  const idx = f.reports.index ? sibling(f, '.index') : null;
  const i = await call('jumpTime', { log: f.id, ts, time: ti ? ti.id : null, index: idx ? idx.id : null });
  if (i === null) return showError(`No batch has a record at or after ${fmtTs(ts)}`);
  view.sort = null; view.page = Math.floor(i / PAGE);
  selectBatch(f, i, true);
}

async function selectBatch(f, index, refocus) {
  view.batch = index; view.record = null; view.recs = null; view.hex = null; view.recPage = 0;
  renderLog(f, true);
  document.querySelector(`#batches tr[data-index="${index}"]`)?.scrollIntoView({ block: 'nearest' });
  if (refocus) document.querySelector('#view > .table-wrap')?.focus();
}

async function renderBatch(f) {
  const b = f.batches[view.batch];
  const d = $('detail');
  if (!b || !d) return;
  d.replaceChildren(h('h3', {}, `Batch ${b.index} · offsets ${b.baseOffset}–${b.lastOffset} · ${b.compression} · ${b.size} bytes`), h('p', { class: 'hint' }, 'Reading…'));
  try {
    if (!view.recs || view.recs.batch.index !== b.index || view.recs.page !== view.recPage) {
      const r = await call('records', { id: f.id, batch: b.index, skip: view.recPage * PAGE, limit: PAGE, preview: 4096 });
      r.page = view.recPage;
      view.recs = r;
    }
    if (!view.hex || view.hex.batch !== b.index) {
      const bytes = await call('batchBytes', { id: f.id, batch: b.index });
      view.hex = { batch: b.index, mode: 'stored', bytes, base: b.position, start: 0, sel: null, dec: null };
    }
  } catch (e) {
    d.replaceChildren(h('h3', {}, `Batch ${b.index}`), h('p', { class: 'error' }, e.message));
    return;
  }
  const r = view.recs;
  const fields = h('div', { class: 'fields' }, h('h4', {}, 'Header'), h('ul', {}, r.headerRanges.map((x) =>
    h('li', {}, h('button', { type: 'button', class: 'link field', onclick: () => selectRange(x, 'stored') }, x.name), ` ${fieldValue(b, x.name)} `, h('span', { class: 'range' }, `[${x.start}, ${x.end})`)))));
  const recTable = h('table', { class: 'grid' },
    h('thead', {}, h('tr', {}, ['#', 'Offset', 'Timestamp', 'Key', 'Value', 'Headers'].map((c) => h('th', { scope: 'col' }, c)))),
    h('tbody', {}, r.records.records.map((rec) => h('tr', { dataset: { index: rec.index }, class: view.record === rec.index ? 'selected' : '', onclick: () => selectRecord(f, rec.index) },
      h('td', {}, rec.index), h('td', {}, rec.offset), h('td', { title: fmtTs(rec.timestamp) }, rec.timestamp),
      h('td', { class: 'preview' }, preview(rec.key)), h('td', { class: 'preview' }, preview(rec.value)), h('td', {}, rec.headers.length)))));
  const recPages = Math.max(1, Math.ceil(r.records.total / PAGE));
  const recWrap = h('div', { class: 'table-wrap', tabindex: 0, 'aria-label': 'Records (arrow keys move, Escape returns to the batches)', onkeydown: (e) => recordKeys(e, f) }, recTable);
  d.replaceChildren(
    h('h3', {}, `Batch ${b.index} · offsets ${b.baseOffset}–${b.lastOffset} · ${b.compression} · ${b.size} bytes`,
      ' ', h('button', { type: 'button', onclick: async () => download(`${f.name}.batch${b.index}.jsonl`, await call('exportRecords', { id: f.id, batch: b.index }), 'application/x-ndjson') }, 'Records as JSON lines')),
    r.records.error ? h('p', { class: 'error' }, `Records stop early: ${r.records.error}`) : '',
    h('div', { class: 'cols' }, fields,
      h('div', { id: 'records' }, h('h4', {}, `Records (${r.records.total})`,
        recPages > 1 ? h('span', { class: 'pager' },
          h('button', { type: 'button', disabled: view.recPage === 0, onclick: () => { view.recPage--; view.record = null; renderBatch(f); } }, '‹'),
          ` ${view.recPage + 1}/${recPages} `,
          h('button', { type: 'button', disabled: view.recPage >= recPages - 1, onclick: () => { view.recPage++; view.record = null; renderBatch(f); } }, '›')) : ''),
        recWrap)),
    h('div', { id: 'record' }),
    hexView(f));
  if (view.record !== null) renderRecord(f);
}

function fieldValue(b, name) {
  const m = { baseOffset: b.baseOffset, batchLength: b.size - 12, partitionLeaderEpoch: b.partitionLeaderEpoch, magic: b.magic,
    crc: b.crcOk ? `${hex8(b.crcStored)} ✓` : `${hex8(b.crcStored)} ✗ computed ${hex8(b.crcComputed)}`,
    attributes: [b.compression, b.timestampType, b.transactional ? 'transactional' : '', b.control ? 'control' : ''].filter(Boolean).join(', '),
    lastOffsetDelta: b.lastOffset - b.baseOffset, baseTimestamp: b.firstTimestamp, maxTimestamp: b.maxTimestamp,
    producerId: b.producerId, producerEpoch: b.producerEpoch, baseSequence: b.baseSequence, recordCount: b.count,
    offset: b.lastOffset, size: b.size - 12, timestamp: b.maxTimestamp, records: '' };
  return m[name] ?? '';
}

function preview(v) {
  if (!v) return h('span', { class: 'null' }, 'null');
  const s = v.utf8 !== null && v.kind !== 'binary' && v.kind !== 'schema-registry' ? v.utf8.slice(0, 80) : [...b64ToBytes(v.base64).slice(0, 24)].map((x) => x.toString(16).padStart(2, '0')).join(' ');
  return `${s}${v.len > 80 ? '…' : ''}`;
}

function recordKeys(e, f) {
  const list = view.recs.records.records;
  let i = list.findIndex((r) => r.index === view.record);
  const move = { ArrowDown: 1, ArrowUp: -1, Home: -1e9, End: 1e9 }[e.key];
  if (move !== undefined) {
    e.preventDefault();
    i = Math.max(0, Math.min(list.length - 1, i < 0 ? 0 : i + move));
    selectRecord(f, list[i].index, true);
  } else if (e.key === 'Escape') {
    e.preventDefault();
    document.querySelector('#view > .table-wrap')?.focus();
  }
}

function selectRecord(f, index, keepFocus) {
  view.record = index;
  for (const tr of document.querySelectorAll('#records tbody tr')) tr.classList.toggle('selected', Number(tr.dataset.index) === index);
  renderRecord(f);
  const rec = view.recs.records.records.find((r) => r.index === index);
  if (rec) selectRange({ name: `record ${index}`, start: rec.span[0], end: rec.span[1] }, view.recs.records.space === 'file' ? 'stored' : 'records');
  if (keepFocus) document.querySelector('#records .table-wrap')?.focus();
}

function renderRecord(f) {
  const rec = view.recs.records.records.find((r) => r.index === view.record);
  const box = $('record');
  if (!rec || !box) return;
  const space = view.recs.records.space === 'file' ? 'stored' : 'records';
  box.replaceChildren(
    h('h4', {}, `Record ${rec.index} · offset ${rec.offset} · ${fmtTs(rec.timestamp)}`, rec.sequence >= 0 ? ` · sequence ${rec.sequence}` : ''),
    h('div', { class: 'part' }, h('h5', {}, h('button', { type: 'button', class: 'link', onclick: () => selectRange({ name: `record ${rec.index} key`, start: rec.keySpan[0], end: rec.keySpan[1] }, space) }, 'Key')), valueView(f, rec, 'key', rec.key)),
    h('div', { class: 'part' }, h('h5', {}, h('button', { type: 'button', class: 'link', onclick: () => selectRange({ name: `record ${rec.index} value`, start: rec.valueSpan[0], end: rec.valueSpan[1] }, space) }, 'Value')), valueView(f, rec, 'value', rec.value)),
    rec.headers.length ? h('div', { class: 'part' }, h('h5', {}, `Headers (${rec.headers.length})`),
      h('ul', { class: 'headers' }, rec.headers.map((x, i) => h('li', {}, h('b', {}, x.key), ': ', valueView(f, rec, `header:${i}`, x.value))))) : '');
}

function valueView(f, rec, part, v) {
  if (!v) return h('span', { class: 'null' }, 'null');
  const box = h('div', { class: 'value' });
  const tabs = [];
  if (v.json) tabs.push(['JSON', () => jsonTree(JSON.parse(v.json))]);
  if (v.schemaRegistry) tabs.push(['Schema registry', () => srView(v.schemaRegistry)]);
  if (v.utf8 !== null) tabs.push(['UTF-8', () => h('pre', { class: 'text' }, v.utf8)]);
  tabs.push(['Hex', () => h('pre', { class: 'text hexdump' }, hexLines(b64ToBytes(v.base64)))]);
  tabs.push(['Base64', () => h('pre', { class: 'text' }, v.base64)]);
  const first = { json: 'JSON', 'schema-registry': 'Schema registry', utf8: 'UTF-8' }[v.kind] || 'Hex';
  const body = h('div', { class: 'tab-body' });
  const bar = h('div', { class: 'tabs', role: 'tablist' }, tabs.map(([name, make]) => h('button', { type: 'button', role: 'tab', 'aria-selected': name === first ? 'true' : 'false',
    onclick: (e) => { for (const t of bar.children) t.setAttribute('aria-selected', t === e.target ? 'true' : 'false'); body.replaceChildren(make()); } }, name)));
  body.replaceChildren((tabs.find(([n]) => n === first) || tabs[0])[1]());
  box.append(h('div', { class: 'vmeta' }, `${v.len} bytes`, v.truncated ? ` · showing the first ${v.preview}` : '', bar), body);
  if (v.truncated) {
    box.append(h('p', {}, h('button', { type: 'button', onclick: async (e) => {
      e.target.disabled = true;
      const bytes = await call('part', { id: f.id, batch: view.batch, record: rec.index, part });
      const text = new TextDecoder('utf-8', { fatal: false }).decode(bytes);
      let tree = null;
      if (v.kind === 'utf8' || text.trimStart().startsWith('{') || text.trimStart().startsWith('[')) { try { tree = jsonTree(JSON.parse(text)); } catch { tree = null; } }
      body.replaceChildren(tree || h('pre', { class: 'text' }, text));
      e.target.textContent = `Showing all ${bytes.length} bytes`;
    } }, `Show all ${fmtBytes(v.len)}`), ' ',
    h('button', { type: 'button', onclick: async () => download(`${f.name}.${rec.offset}.${part}.bin`, await call('part', { id: f.id, batch: view.batch, record: rec.index, part })) }, 'Download raw bytes')));
  }
  return box;
}

function srView(sr) {
  return h('dl', { class: 'sr' }, h('dt', {}, 'Schema id'), h('dd', {}, sr.schemaId),
    h('dt', {}, 'Payload'), h('dd', {}, `from byte ${sr.payloadAt} (Avro, JSON Schema)`),
    sr.protobufIndexes ? [h('dt', {}, 'Protobuf message indexes'), h('dd', {}, `[${sr.protobufIndexes.join(', ')}], payload from byte ${sr.protobufPayloadAt}`)] : '',
    sr.json ? [h('dt', {}, 'JSON payload'), h('dd', {}, h('pre', { class: 'text' }, sr.json))] : '');
}

// A collapsible JSON tree; children are built when opened, so a huge document stays quick.
function jsonTree(value, key) {
  const label = key === undefined ? '' : h('span', { class: 'jkey' }, JSON.stringify(key), ': ');
  if (value === null || typeof value !== 'object') {
    return h('div', { class: 'jleaf' }, label, h('span', { class: `j${value === null ? 'null' : typeof value}` }, JSON.stringify(value)));
  }
  const entries = Array.isArray(value) ? value.map((v, i) => [i, v]) : Object.entries(value);
  const open = entries.length <= 50;
  const det = h('details', { class: 'jnode', open });
  det.append(h('summary', {}, label, Array.isArray(value) ? `[${entries.length}]` : `{${entries.length}}`));
  let built = false;
  const build = () => {
    if (built) return;
    built = true;
    const kids = h('div', { class: 'jkids' });
    const max = 1000;
    for (const [k, v] of entries.slice(0, max)) kids.append(jsonTree(v, Array.isArray(value) ? undefined : k));
    if (entries.length > max) kids.append(h('div', { class: 'hint' }, `… ${entries.length - max} more`));
    det.append(kids);
  };
  if (open) build();
  det.addEventListener('toggle', build);
  return det;
}

function hexLines(bytes, base = 0) {
  const out = [];
  for (let i = 0; i < bytes.length; i += 16) {
    const line = bytes.slice(i, i + 16);
    out.push(`${(base + i).toString(16).padStart(8, '0')}  ${[...line].map((x) => x.toString(16).padStart(2, '0')).join(' ').padEnd(47)}  |${[...line].map((c) => (c >= 32 && c < 127 ? String.fromCharCode(c) : '.')).join('')}|`);
  }
  return out.join('\n');
}

// ---- the hex view: highlight a range, and a clicked byte selects its field ----------------
const HEX_WINDOW = 2048;

function currentRanges(mode) {
  const r = view.recs;
  if (!r) return [];
  if (mode === 'records') return r.records.space === 'records' ? r.recordRanges : [];
  return [...r.headerRanges, ...(r.records.space === 'file' ? r.recordRanges : [])];
}

async function selectRange(range, mode) {
  const hx = view.hex;
  if (!hx) return;
  const f = files.get(current);
  if (mode === 'records' && hx.mode !== 'records') {
    if (!hx.dec) hx.dec = await call('uncompressed', { id: f.id, batch: view.batch });
    hx.mode = 'records';
  } else if (mode === 'stored') hx.mode = 'stored';
  hx.sel = range;
  const base = hx.mode === 'stored' ? hx.base : 0;
  const rel = range.start - base;
  if (rel < hx.start || rel >= hx.start + HEX_WINDOW) hx.start = Math.max(0, Math.floor(rel / 16) * 16 - 256);
  $('hex')?.replaceWith(hexView(f));
  document.querySelector('#hex .hl')?.scrollIntoView({ block: 'nearest' });
}

function hexView(f) {
  const hx = view.hex;
  if (!hx) return h('div', { id: 'hex' });
  const bytes = hx.mode === 'stored' ? hx.bytes : hx.dec;
  const base = hx.mode === 'stored' ? hx.base : 0;
  const end = Math.min(bytes.length, hx.start + HEX_WINDOW);
  const sel = hx.sel;
  const grid = h('div', { class: 'hexgrid', role: 'grid', 'aria-label': 'Bytes (click a byte to select its field)', onclick: (e) => {
    const p = e.target.dataset?.p;
    if (p === undefined) return;
    const pos = base + Number(p);
    const hit = innermost(currentRanges(hx.mode), pos);
    if (hit) {
      const m = /^record (\d+)$/.exec(hit.name);
      if (m) { selectRecord(f, Number(m[1])); return; }
      selectRange(hit, hx.mode);
    }
  } });
  for (let i = hx.start; i < end; i += 16) {
    const row = h('div', { class: 'hexrow' }, h('span', { class: 'addr' }, (base + i).toString(16).padStart(8, '0')));
    const hexPart = h('span', { class: 'hexbytes' });
    const ascii = h('span', { class: 'ascii' });
    for (let j = i; j < Math.min(i + 16, end); j++) {
      const abs = base + j;
      const on = sel && abs >= sel.start && abs < sel.end;
      hexPart.append(h('span', { class: on ? 'b hl' : 'b', dataset: { p: j } }, bytes[j].toString(16).padStart(2, '0')));
      const c = bytes[j];
      ascii.append(h('span', { class: on ? 'a hl' : 'a', dataset: { p: j } }, c >= 32 && c < 127 ? String.fromCharCode(c) : '.'));
    }
    row.append(hexPart, ascii);
    grid.append(row);
  }
  const b = f.batches[view.batch];
  const modes = b.compression !== 'none' && view.recs?.records.space === 'records';
  return h('div', { id: 'hex' },
    h('h4', {}, 'Bytes ', modes ? h('span', { class: 'tabs' },
      h('button', { type: 'button', 'aria-selected': hx.mode === 'stored' ? 'true' : 'false', onclick: () => { hx.mode = 'stored'; hx.start = 0; $('hex').replaceWith(hexView(f)); } }, 'stored'),
      h('button', { type: 'button', 'aria-selected': hx.mode === 'records' ? 'true' : 'false', onclick: async () => { if (!hx.dec) hx.dec = await call('uncompressed', { id: f.id, batch: view.batch }); hx.mode = 'records'; hx.start = 0; $('hex').replaceWith(hexView(f)); } }, 'decompressed records')) : '',
      h('span', { class: 'pager' },
        h('button', { type: 'button', disabled: hx.start === 0, onclick: () => { hx.start = Math.max(0, hx.start - HEX_WINDOW); $('hex').replaceWith(hexView(f)); } }, '‹'),
        ` ${base + hx.start}–${base + end} of ${bytes.length} `,
        h('button', { type: 'button', disabled: end >= bytes.length, onclick: () => { hx.start += HEX_WINDOW; $('hex').replaceWith(hexView(f)); } }, '›'))),
    h('p', { id: 'hex-selection', class: 'hint' }, sel ? `Selected: ${sel.name} [${sel.start}, ${sel.end})` : 'Click a byte to select its field.'),
    grid);
}

function innermost(ranges, pos) {
  let best = null;
  for (let i = ranges.length - 1; i >= 0; i--) {
    const r = ranges[i];
    if (r.start <= pos && pos < r.end && (!best || r.end - r.start < best.end - best.start)) best = r;
  }
  return best;
}

// ---- index and frame views ---------------------------------------------------------------------
function renderIndex(f) {
  const r = f.report;
  const v = $('view');
  if (!r) { v.replaceChildren(h('h2', {}, f.name), h('p', { class: 'hint' }, 'Checking…')); return; }
  const time = f.kind === 'timeindex';
  v.replaceChildren(h('h2', {}, f.name),
    h('p', {}, `${r.entries.length} entries`, r.zeroEntries ? ` and ${r.zeroEntries} preallocated zero entries` : '', ` · ${fmtBytes(f.size)}`),
    problemList([...f.problems, ...r.problems]) || h('p', { class: 'ok' }, '✓ Every entry agrees with the segment.'),
    h('div', { class: 'table-wrap', tabindex: 0 }, h('table', { class: 'grid' },
      h('thead', {}, h('tr', {}, (time ? ['#', 'Timestamp', 'Offset'] : ['#', 'Offset', 'Position']).map((c) => h('th', { scope: 'col' }, c)))),
      h('tbody', {}, r.entries.slice(0, 5000).map((e, i) => h('tr', {}, h('td', {}, i),
        time ? [h('td', { title: fmtTs(e.timestamp) }, e.timestamp), h('td', {}, e.offset)] : [h('td', {}, e.offset), h('td', {}, e.position)]))))));
}

function renderFrames(f) {
  const v = $('view');
  const r = f.frames;
  if (!r) { v.replaceChildren(h('h2', {}, f.name), h('p', { class: 'hint' }, 'Decoding…')); return; }
  const sel = view.frame;
  const table = h('table', { id: 'frames', class: 'grid' },
    h('thead', {}, h('tr', {}, ['#', 'Position', 'Direction', 'API', 'Version', 'Correlation id', 'Client id', 'Pair', 'Size', 'Error'].map((c) => h('th', { scope: 'col' }, c)))),
    h('tbody', {}, r.frames.map((fr) => h('tr', { class: [fr.error ? 'bad' : '', sel === fr.index ? 'selected' : ''].join(' '), dataset: { index: fr.index }, onclick: () => { view.frame = fr.index; renderFrames(f); } },
      h('td', {}, fr.index), h('td', {}, fr.position), h('td', {}, fr.direction), h('td', {}, fr.apiName ?? ''), h('td', {}, fr.apiVersion ?? ''),
      h('td', {}, fr.correlationId ?? ''), h('td', {}, fr.clientId ?? ''), h('td', {}, fr.pair ?? ''), h('td', {}, fr.size), h('td', { class: 'note' }, fr.error ?? '')))));
  const wrap = h('div', { class: 'table-wrap', tabindex: 0, onkeydown: (e) => {
    const d = { ArrowDown: 1, ArrowUp: -1 }[e.key];
    if (d === undefined || !r.frames.length) return;
    e.preventDefault();
    view.frame = Math.max(0, Math.min(r.frames.length - 1, (view.frame ?? -1) + d));
    renderFrames(f);
    document.querySelector('#view > .table-wrap')?.focus();
  } }, table);
  const fr = sel !== null && sel !== undefined ? r.frames[sel] : null;
  const detail = fr ? h('section', { id: 'detail' },
    h('h3', {}, `Frame ${fr.index}: ${fr.apiName ?? '?'} ${fr.direction} v${fr.apiVersion ?? '?'} · correlation id ${fr.correlationId}`, fr.clientId ? ` · client ${fr.clientId}` : ''),
    fr.error ? h('p', { class: 'error' }, fr.error) : '',
    fr.recordSets.length ? h('ul', {}, fr.recordSets.map((s) => h('li', {}, h('button', { type: 'button', class: 'link', onclick: () => openRecordSet(f, fr, s) }, s.path),
      ` · ${s.batches.length} batches · ${s.len} bytes`))) : '',
    fr.body ? jsonTree(fr.body) : '') : '';
  v.replaceChildren(h('h2', {}, f.name), h('p', {}, `${r.frames.length} frames`), problemList(f.problems) || '', wrap, detail);
}

function openRecordSet(parent, fr, s) {
  if (!fileButton(s.file)) {
    const g = files.get(s.file);
    const li = h('li', { class: 'child' }, h('button', { type: 'button', class: 'file', dataset: { id: s.file }, onclick: () => select(s.file) },
      h('span', { class: 'fname' }, g.name), h('span', { class: 'fmeta' }, `records · ${fmtBytes(g.size)}`), h('span', { class: 'fstate' })));
    fileButton(parent.id).parentElement.after(li);
  }
  select(s.file);
}

// ---- export, paste, pickers, drag and drop ---------------------------------------------------
$('export').addEventListener('click', async () => {
  const f = files.get(current);
  if (!f) return;
  if (f.kind === 'log') download(`${f.name.replace(/[/ #]/g, '_')}.json`, await call('exportListing', { id: f.id }), 'application/json');
  else if (f.kind === 'frames') download(`${f.name.replace(/[^\w.-]+/g, '_')}.json`, JSON.stringify(f.frames, null, 2), 'application/json');
  else if (f.kind === 'capture') download(`${f.name}.json`, JSON.stringify(f.capture, null, 2), 'application/json');
});
$('paste-toggle').addEventListener('click', (e) => {
  const p = $('paste');
  p.hidden = !p.hidden;
  e.target.setAttribute('aria-expanded', String(!p.hidden));
  if (!p.hidden) $('paste-text').focus();
});
$('paste-go').addEventListener('click', async () => {
  try {
    const f = await call('paste', { text: $('paste-text').value });
    const entry = addFile(f);
    if (f.kind === 'log') await scanLog(entry); else await decodeFrames(entry);
    select(f.id);
  } catch (e) { showError(`Pasted text: ${e.message}`); }
});
for (const id of ['pick-files', 'pick-dir']) {
  $(id).addEventListener('change', (e) => {
    const list = [...e.target.files].map((file) => ({ file, path: file.webkitRelativePath || file.name }));
    e.target.value = '';
    openFiles(list).catch((err) => showError(err.message));
  });
}
async function entryFiles(entry, prefix, out) {
  if (entry.isFile) {
    out.push(await new Promise((res, rej) => entry.file((file) => res({ file, path: prefix + file.name }), rej)));
  } else if (entry.isDirectory) {
    const reader = entry.createReader();
    for (;;) {
      const batch = await new Promise((res, rej) => reader.readEntries(res, rej));
      if (!batch.length) break;
      for (const e of batch) await entryFiles(e, `${prefix}${entry.name}/`, out);
    }
  }
}
document.addEventListener('dragover', (e) => { e.preventDefault(); document.body.classList.add('dragging'); });
document.addEventListener('dragleave', () => document.body.classList.remove('dragging'));
document.addEventListener('drop', async (e) => {
  e.preventDefault();
  document.body.classList.remove('dragging');
  const out = [];
  const items = [...(e.dataTransfer.items || [])].map((i) => i.webkitGetAsEntry?.()).filter(Boolean);
  if (items.length) for (const it of items) await entryFiles(it, '', out);
  else for (const file of e.dataTransfer.files) out.push({ file, path: file.name });
  openFiles(out).catch((err) => showError(err.message));
});
document.addEventListener('keydown', (e) => {
  if (e.key === '/' && !/INPUT|TEXTAREA/.test(document.activeElement?.tagName)) {
    const j = $('jump-offset');
    if (j) { e.preventDefault(); j.focus(); }
  }
});
window.addEventListener('error', (e) => showError(`Unexpected error: ${e.message}`));
window.addEventListener('unhandledrejection', (e) => showError(`Unexpected error: ${e.reason?.message || e.reason}`));

// The page is ready once the worker has loaded the decoder.
call('open', { list: [] }).then(() => { setStatus('Ready: open or drop files'); document.body.dataset.ready = 'true'; })
  .catch((e) => showError(`The decoder failed to load: ${e.message}`));
