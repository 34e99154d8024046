// The inspector's 100 MB benchmark, browser half (BENCHMARKS.md, "The inspector"): opens each
// codec's segment written by `cargo run --release -p web --example bench -- write DIR` in the
// page (web/dist/, served on 127.0.0.1) in headless Chromium, and measures from the file
// being handed to the page's file picker to the first rows of the batch table and to the whole
// listing (the file's entry says "N batches" without "…"), and the worker's part of it (from
// the page posting the `scan` call to the worker's last answer). A fresh page per run; the best of
// RUNS (default 3) is printed as one JSON line per codec. Not a test: no timing is asserted.
//
//   node web/e2e/bench.mjs DIR [RUNS]
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));
const dist = path.resolve(here, '../dist');
const dir = process.argv[2];
const runs = Number(process.argv[3] || 3);
if (!dir) throw new Error('usage: node web/e2e/bench.mjs DIR [RUNS]');
if (!fs.existsSync(path.join(dist, 'inspector_bg.wasm'))) throw new Error('web/dist is not built (web/build.sh)');
const CODECS = ['none', 'gzip', 'snappy', 'lz4', 'zstd'];
const SEGMENT = '00000000000000000000.log';
const TYPES = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.wasm': 'application/wasm' };

const server = http.createServer((req, res) => {
  const p = new URL(req.url, 'http://x').pathname;
  const file = path.join(dist, p === '/' ? 'index.html' : path.normalize(p).replace(/^(\.\.[/\\])+/, ''));
  if (!file.startsWith(dist) || !fs.existsSync(file)) { res.writeHead(404); res.end(); return; }
  res.writeHead(200, { 'content-type': TYPES[path.extname(file)] || 'application/octet-stream' });
  fs.createReadStream(file).pipe(res);
});
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const base = `http://127.0.0.1:${server.address().port}/`;
const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
});

/** One run: the page is loaded first (not timed), then the file is opened. */
async function once(file) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  // The worker's part: from the page posting the `scan` call to the worker's final answer
  // (decoding, FileReaderSync reads, JSON, messages), beside the page's total.
  await page.addInitScript(() => {
    const W = window.Worker;
    window.__scan = {};
    window.Worker = function (...a) {
      const w = new W(...a);
      const post = w.postMessage.bind(w);
      w.postMessage = (m, ...r) => { if (m && m.op === 'scan') window.__scan[m.seq] = { start: performance.now() }; return post(m, ...r); };
      w.addEventListener('message', (ev) => { const x = window.__scan[ev.data && ev.data.seq]; if (x && ev.data.ok !== undefined) x.end = performance.now(); });
      return w;
    };
  });
  await page.goto(base);
  await page.waitForSelector('body[data-ready="true"]', { timeout: 20000 });
  // Both moments are taken in the page (performance.now()), from the input's change event.
  await page.evaluate(() => {
    window.__bench = {};
    document.getElementById('pick-files').addEventListener('change', () => { window.__bench.start = performance.now(); }, { capture: true });
    new MutationObserver(() => {
      const b = window.__bench;
      if (b.start === undefined) return;
      if (b.first === undefined && document.querySelector('#batches tbody tr')) b.first = performance.now();
      const s = document.querySelector('#file-list .fstate');
      if (b.done === undefined && s && /^\d+ batches/.test(s.textContent) && !s.textContent.includes('…')) {
        b.done = performance.now();
        b.batches = Number(s.textContent.match(/^(\d+)/)[1]);
      }
    }).observe(document.body, { subtree: true, childList: true, characterData: true });
  });
  await page.setInputFiles('#pick-files', file);
  await page.waitForFunction(() => window.__bench.done !== undefined, null, { timeout: 120000, polling: 50 });
  const b = await page.evaluate(() => window.__bench);
  const scans = await page.evaluate(() => Object.values(window.__scan));
  await context.close();
  if (errors.length) throw new Error(`${file}: page errors: ${errors.join('; ')}`);
  if (scans.length !== 1 || scans[0].end === undefined) throw new Error(`${file}: ${scans.length} scan calls`);
  return { firstRowsMs: b.first - b.start, listedMs: b.done - b.start, workerMs: scans[0].end - scans[0].start, batches: b.batches };
}

try {
  const version = browser.version();
  for (const codec of CODECS) {
    const file = path.join(dir, `${codec}-0`, SEGMENT);
    let best = null;
    for (let i = 0; i < runs; i++) {
      const r = await once(file);
      if (!best || r.listedMs < best.listedMs) best = r;
    }
    const bytes = fs.statSync(file).size;
    console.log(JSON.stringify({ codec, bytes, batches: best.batches, firstRowsMs: Number(best.firstRowsMs.toFixed(1)), listedMs: Number(best.listedMs.toFixed(1)), workerMs: Number(best.workerMs.toFixed(1)), chromium: version }));
  }
} finally {
  await browser.close();
  server.close();
}
