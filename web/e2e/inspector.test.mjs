// End-to-end tests of the inspector page in Debian's Chromium (playwright-core): the page is
// served from web/dist/ by a tiny static server on 127.0.0.1, and opens the fixtures written
// by `cargo run -p web --example fixtures` (a klog partition, a corrupted segment, a frame
// stream). Screenshots go to web/e2e/artifacts/.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));
const dist = path.resolve(here, '../dist');
const fixtures = process.env.FIXTURES || path.join(here, 'fixtures');
const artifacts = path.join(here, 'artifacts');
const manifest = JSON.parse(fs.readFileSync(path.join(fixtures, 'manifest.json'), 'utf8'));
assert.ok(fs.existsSync(path.join(dist, 'inspector_bg.wasm')), 'web/dist is built (web/build.sh)');
fs.mkdirSync(artifacts, { recursive: true });

const TYPES = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.wasm': 'application/wasm' };
let server, base, browser;

before(async () => {
  server = http.createServer((req, res) => {
    const p = new URL(req.url, 'http://x').pathname;
    const file = path.join(dist, p === '/' ? 'index.html' : path.normalize(p).replace(/^(\.\.[/\\])+/, ''));
    if (!file.startsWith(dist) || !fs.existsSync(file)) { res.writeHead(404); res.end(); return; }
    res.writeHead(200, { 'content-type': TYPES[path.extname(file)] || 'application/octet-stream' });
    fs.createReadStream(file).pipe(res);
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${server.address().port}/`;
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
  });
});

after(async () => {
  await browser?.close();
  await new Promise((r) => server.close(r));
});

/** A page at `viewport`, loaded and ready, recording every request made after load. */
async function openPage(viewport = { width: 1280, height: 800 }, colorScheme = 'light') {
  const context = await browser.newContext({ viewport, colorScheme, acceptDownloads: true });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  let loaded = false;
  const late = [];
  context.on('request', (r) => { if (loaded && !r.url().startsWith('blob:') && !r.url().startsWith('data:')) late.push(r.url()); });
  await page.goto(base);
  await page.waitForSelector('body[data-ready="true"]', { timeout: 20000 });
  loaded = true;
  return { page, context, errors, late };
}

async function openDir(page, dir) {
  const names = fs.readdirSync(path.join(fixtures, dir)).sort();
  await page.setInputFiles('#pick-files', names.map((n) => path.join(fixtures, dir, n)));
  await page.waitForFunction((n) => document.querySelectorAll('#file-list li').length >= n, names.length);
  await page.waitForFunction(() => /file\(s\) open/.test(document.getElementById('status').textContent));
  return names;
}

async function selectFile(page, name) {
  await page.locator('#file-list button.file', { hasText: name }).first().click();
}

async function tableRows(page) {
  return page.$$eval('#batches tbody tr', (trs) => trs.map((tr) => {
    const td = [...tr.children].map((c) => c.textContent.trim());
    return { cls: tr.className, index: Number(td[0]), position: Number(td[1]), baseOffset: Number(td[2]), lastOffset: Number(td[3]), count: Number(td[4]), codec: td[5], crc: td[7], producerId: Number(td[11]), producerEpoch: Number(td[12]), baseSequence: Number(td[13]), transactional: td[14] === 'yes', control: td[15] };
  }));
}

const hex8 = (n) => '0x' + (n >>> 0).toString(16).padStart(8, '0');

test('a klog partition: every segment\'s table equals what was written, indexes check clean', async () => {
  const { page, context, errors, late } = await openPage();
  await openDir(page, 'orders-0');
  for (const seg of manifest.segments) {
    const name = path.basename(seg.file);
    await selectFile(page, name);
    await page.waitForFunction((n) => document.querySelectorAll('#batches tbody tr').length === n, seg.batches.length);
    const rows = await tableRows(page);
    assert.equal(rows.length, seg.batches.length, name);
    rows.forEach((r, i) => {
      const w = seg.batches[i];
      assert.deepEqual([r.baseOffset, r.lastOffset, r.count, r.codec, r.producerId], [w.baseOffset, w.lastOffset, w.count, w.compression, w.producerId], `${name} row ${i}`);
      assert.equal(r.crc, `✓ ${hex8(w.crc)}`, `${name} row ${i} CRC`);
      assert.ok(!r.cls.includes('bad'));
    });
    const summary = await page.textContent('#view .summary');
    assert.match(summary, new RegExp(`${seg.batches.length} batches · ${seg.batches.reduce((a, b) => a + b.count, 0)} records`));
    assert.equal(await page.locator('#view details.problems').count(), 0, `${name}: no problems`);
  }
  // The first segment's indexes were checked against it.
  await selectFile(page, '00000000000000000000.index');
  await page.waitForSelector('#view .ok');
  assert.match(await page.textContent('#view'), /Every entry agrees with the segment/);
  await page.screenshot({ path: path.join(artifacts, 'index-view.png'), fullPage: false });
  await selectFile(page, manifest.segments[0].file.split('/')[1]);
  await page.waitForSelector('#batches tbody tr');
  await page.screenshot({ path: path.join(artifacts, 'batch-table.png') });
  // The producer snapshot lists the three idempotent producers.
  await selectFile(page, '00000000000000001100.snapshot');
  await page.waitForSelector('#other tbody tr');
  const pids = await page.$$eval('#other tbody tr td:first-child', (t) => t.map((x) => x.textContent));
  assert.deepEqual(pids, ['1000', '1001', '1002']);
  await selectFile(page, manifest.segments[0].file.split('/')[1]);
  await page.waitForSelector('#batches tbody tr');
  // Sorting by count puts the largest batch last (descending on a second click puts it first).
  await page.click('#batches th:nth-child(5) button');
  await page.click('#batches th:nth-child(5) button');
  const sorted = await tableRows(page);
  assert.equal(sorted[0].count, Math.max(...manifest.segments[0].batches.map((b) => b.count)));
  // Jump to an offset through the index: the batch holding it is selected.
  const target = manifest.segments[0].batches[7];
  await page.fill('#jump-offset', String(target.baseOffset + 1));
  await page.press('#jump-offset', 'Enter');
  await page.waitForSelector('#batches tr.selected');
  assert.equal(await page.getAttribute('#batches tr.selected', 'data-index'), '7');
  // Keyboard: ArrowDown in the table moves the selection.
  await page.focus('#view > .table-wrap');
  await page.keyboard.press('ArrowDown');
  await page.waitForSelector('#batches tr.selected[data-index="8"]');
  assert.deepEqual(errors, []);
  assert.deepEqual(late, [], 'no request leaves the page after load');
  await context.close();
});

test('a corrupted batch in the middle is marked and the batches after it are listed', async () => {
  const { page, context, errors, late } = await openPage();
  await openDir(page, 'corrupt-0');
  const c = manifest.corrupt;
  await selectFile(page, path.basename(c.file));
  await page.waitForFunction((n) => document.querySelectorAll('#batches tbody tr').length === n, c.batches);
  const rows = await tableRows(page);
  assert.equal(rows.length, c.batches);
  const bad = rows.filter((r) => r.cls.includes('bad'));
  assert.equal(bad.length, 1);
  assert.equal(bad[0].index, c.batch);
  assert.equal(bad[0].position, c.position);
  assert.match(bad[0].crc, /^✗ 0x[0-9a-f]{8} ≠ 0x[0-9a-f]{8}/);
  assert.ok(rows.slice(c.batch + 1).every((r) => r.crc.startsWith('✓')), 'later batches listed and valid');
  const problems = await page.textContent('#view details.problems');
  assert.match(problems, new RegExp(`@ byte ${c.position} crc: batch ${c.batch} .*CRC mismatch`));
  await page.screenshot({ path: path.join(artifacts, 'corrupt-batch.png') });
  assert.deepEqual(errors, []);
  assert.deepEqual(late, []);
  await context.close();
});

test('a record expands to its JSON view and the hex view highlights its bytes both ways', async () => {
  const { page, context, errors, late } = await openPage();
  await openDir(page, 'orders-0');
  const seg = manifest.segments[0];
  await selectFile(page, path.basename(seg.file));
  await page.waitForSelector('#batches tbody tr');
  // Batch 0 is uncompressed: record spans are file positions, shown in the stored bytes.
  await page.click('#batches tbody tr[data-index="0"]');
  await page.waitForSelector('#records tbody tr');
  await page.click('#records tbody tr[data-index="0"]');
  await page.waitForSelector('#record .value');
  const json = page.locator('#record .part').nth(1);
  assert.equal(await json.locator('[role=tab][aria-selected=true]').textContent(), 'JSON');
  const keys = await json.locator('.jkey').allTextContents();
  assert.deepEqual(keys.slice(0, 5), ['"order": ', '"line": ', '"item": ', '"price": ', '"nonce": ']);
  assert.match(await json.locator('.jnumber').first().textContent(), /^0$/);
  // Selecting the value highlights exactly its bytes in the hex view.
  await page.click('#record .part:nth-child(3) h5 button');
  await page.waitForFunction(() => /record 0 value/.test(document.getElementById('hex-selection').textContent));
  const sel = await page.textContent('#hex-selection');
  const [, start, end] = /\[(\d+), (\d+)\)/.exec(sel).map(Number);
  const hl = await page.$$eval('#hex .hexbytes .hl', (s) => s.map((x) => x.textContent));
  const text = Buffer.from(hl.join(''), 'hex').toString('utf8');
  assert.equal(hl.length, Math.min(end - start, 2048));
  assert.ok(text.startsWith('{"order":0,"line":0,'), text.slice(0, 40));
  const file = fs.readFileSync(path.join(fixtures, seg.file));
  assert.equal(file.subarray(start, start + hl.length).toString('hex'), hl.join(''));
  await page.screenshot({ path: path.join(artifacts, 'record-json-hex.png'), fullPage: true });
  // The reverse: clicking a byte of the CRC field selects the field.
  await page.click('#hex .hexbytes .b[data-p="18"]');
  await page.waitForFunction(() => /Selected: crc \[17, 21\)/.test(document.getElementById('hex-selection').textContent));
  assert.equal(await page.$$eval('#hex .hexbytes .hl', (s) => s.length), 4);
  // The 1.5 MB value: shown cut, with an explicit expand.
  let big = manifest.bigBatch, bigSeg = null;
  for (const s of manifest.segments) {
    if (big < s.batches.length) { bigSeg = s; break; }
    big -= s.batches.length;
  }
  await selectFile(page, path.basename(bigSeg.file));
  await page.waitForSelector('#batches tbody tr');
  await page.click(`#batches tbody tr[data-index="${big}"]`);
  await page.click('#records tbody tr[data-index="0"]');
  await page.waitForSelector('#record .value');
  assert.match(await page.textContent('#record .part:nth-child(3) .vmeta'), /\d{7} bytes · showing the first 4096/);
  const t0 = Date.now();
  await page.click('#record button:has-text("Show all")');
  await page.waitForSelector('#record button:has-text("Showing all")');
  assert.ok(Date.now() - t0 < 10000);
  assert.ok(await page.locator('#record .jnode').count() > 0, 'the expanded value is a JSON tree');
  await page.screenshot({ path: path.join(artifacts, 'big-value.png') });
  assert.deepEqual(errors, []);
  assert.deepEqual(late, []);
  await context.close();
});

test('a raw frame stream: API names, versions and correlation pairs; phone width and dark theme', async () => {
  const { page, context, errors, late } = await openPage({ width: 390, height: 844 }, 'dark');
  await page.setInputFiles('#pick-files', [path.join(fixtures, 'frames.bin')]);
  await page.waitForSelector('#frames tbody tr');
  const rows = await page.$$eval('#frames tbody tr', (trs) => trs.map((tr) => [...tr.children].map((c) => c.textContent)));
  assert.deepEqual(rows.map((r) => [r[2], r[3], Number(r[4]), Number(r[5])]), manifest.frames);
  assert.deepEqual(rows.map((r) => r[7]), ['1', '0', '4', '5', '2', '3']);
  await page.click('#frames tbody tr[data-index="3"]');
  await page.waitForSelector('#detail .jnode');
  assert.match(await page.textContent('#detail'), /topicData\[0\]\.partitionData\[0\]\.records · 2 batches/);
  // The field tree in Kafka's schema order.
  const keys = await page.$$eval('#detail .jnode > .jkids > .jleaf > .jkey, #detail .jnode > .jkids > details > summary > .jkey', (k) => k.map((x) => x.textContent));
  assert.deepEqual(keys.slice(0, 4), ['"transactionalId": ', '"acks": ', '"timeoutMs": ', '"topicData": ']);
  await page.screenshot({ path: path.join(artifacts, 'frames-phone-dark.png'), fullPage: true });
  // The record set opens in the batch view.
  await page.click('#detail button:has-text("records")');
  await page.waitForFunction(() => document.querySelectorAll('#batches tbody tr').length === 2);
  const bg = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
  assert.equal(bg, 'rgb(21, 23, 27)', 'dark theme follows the system');
  const width = await page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(width <= 390, `no horizontal page scroll at phone width (${width})`);
  assert.deepEqual(errors, []);
  assert.deepEqual(late, []);
  await context.close();
});

test('pasted hex of a batch is decoded', async () => {
  const { page, context, errors, late } = await openPage();
  const seg = manifest.segments[0];
  const file = fs.readFileSync(path.join(fixtures, seg.file));
  const size = file.readInt32BE(8) + 12;
  await page.click('#paste-toggle');
  await page.fill('#paste-text', file.subarray(0, size).toString('hex').replace(/(..)/g, '$1 '));
  await page.click('#paste-go');
  await page.waitForSelector('#batches tbody tr');
  const rows = await tableRows(page);
  assert.equal(rows.length, 1);
  assert.equal(rows[0].crc, `✓ ${hex8(seg.batches[0].crc)}`);
  assert.deepEqual(errors, []);
  assert.deepEqual(late, []);
  await context.close();
});

test('a capture: TCP connections listed, the Kafka one found on port 29092 and its frames paired', async () => {
  const { page, context, errors, late } = await openPage();
  await page.setInputFiles('#pick-files', [path.join(fixtures, 'capture.pcap')]);
  await page.waitForSelector('#connections tbody tr');
  const conns = await page.$$eval('#connections tbody tr', (trs) => trs.map((tr) => [...tr.children].map((c) => c.textContent)));
  assert.deepEqual(conns.map((r) => [r[1], r[2], r[3], r[7]]), [
    ['10.0.0.1:51000', '10.0.0.2:29092', 'yes', '1000'],
    ['10.0.0.1:51001', '10.0.0.3:8080', 'no', '0'],
  ]);
  assert.match(await page.textContent('#view'), /pcap · \d+ packets · \d+ TCP · 2 connections · 1 Kafka/);
  await page.screenshot({ path: path.join(artifacts, 'capture.png') });
  await page.click('#connections tbody tr:first-child');
  await page.waitForSelector('#frames tbody tr');
  const rows = await page.$$eval('#frames tbody tr', (trs) => trs.map((tr) => [...tr.children].map((c) => c.textContent)));
  assert.deepEqual(rows.map((r) => [r[2], r[3], Number(r[4]), Number(r[5])]), manifest.frames);
  assert.deepEqual(rows.map((r) => r[7]), ['1', '0', '4', '5', '2', '3']);
  assert.ok(rows.every((r) => r[9] === ''), 'no frame errors');
  assert.deepEqual(errors, []);
  assert.deepEqual(late, []);
  await context.close();
});

test('a tcpdump capture of kafka-python and a Kafka 4.4.0 broker: every connection\'s frames as kafka-python logged them', async () => {
  // Recorded by `cargo run -p web --example capture` (tcpdump -i lo, a real broker, kafka-python).
  const oracle = JSON.parse(fs.readFileSync(path.join(fixtures, 'kafka-python.json'), 'utf8'));
  const { page, context, errors, late } = await openPage();
  await page.setInputFiles('#pick-files', [path.join(fixtures, 'kafka-python.pcap')]);
  await page.waitForSelector('#connections tbody tr');
  const conns = await page.$$eval('#connections tbody tr', (trs) => trs.map((tr) => [...tr.children].map((c) => c.textContent)));
  const ports = [...new Set(oracle.frames.map((f) => f.port))].sort();
  const capturedPorts = conns.map((r) => Number(r[1].split(':').pop()));
  assert.ok(ports.every((p) => capturedPorts.includes(p)), 'every kafka-python connection was captured');
  // The other connections are the broker's own Java clients calling its listener (the
  // transaction coordinator's AddPartitionsToTxn and WriteTxnMarkers).
  const brokers = capturedPorts.filter((p) => !ports.includes(p));
  assert.ok(brokers.length >= 1, 'the broker-internal connections of the transactions');
  const apis = new Set();
  for (const port of brokers) {
    await page.click(`#file-list button.file:has-text(":${port} →")`);
    await page.waitForSelector('#frames tbody tr');
    const rows = await page.$$eval('#frames tbody tr', (trs) => trs.map((tr) => [...tr.children].map((c) => c.textContent)));
    for (const r of rows) {
      assert.equal(r[9], '', `port ${port}: no frame errors`);
      if (r[2] === 'request') { assert.match(r[6], /^(broker-1-txn-marker-sender|AddPartitionsManager-client-\d+)$/); apis.add(r[3]); }
      else assert.equal(rows[Number(r[7])][5], r[5], 'paired with its request');
    }
  }
  assert.ok(apis.has('WriteTxnMarkers'), [...apis].join());
  assert.ok(conns.every((r) => r[3] === 'yes' && r[9] === ''), 'every connection is Kafka and whole');
  await page.screenshot({ path: path.join(artifacts, 'kafka-python-capture.png') });
  const key = (f) => `${f.direction} ${f.api} v${f.version} #${f.correlationId}`;
  // The consumer's Fetch responses: their record sets hold every record produced (the aborted
  // transaction's too, as a broker serves them), both transaction markers, all five codecs.
  const fetched = [];
  for (const port of ports) {
    const want = oracle.frames.filter((f) => f.port === port).map(key).sort();
    const open = async () => {
      await page.click(`#file-list button.file:has-text(":${port} →")`);
      await page.waitForSelector('#frames tbody tr');
    };
    await open();
    const rows = await page.$$eval('#frames tbody tr', (trs) => trs.map((tr) => [...tr.children].map((c) => c.textContent)));
    const got = rows.map((r) => ({ direction: r[2], api: r[3], version: Number(r[4]), correlationId: Number(r[5]) }));
    assert.deepEqual(got.map(key).sort(), want, `connection from port ${port}`);
    assert.ok(rows.every((r) => r[9] === ''), `port ${port}: no frame errors`);
    // Each response is paired with the request of its correlation id.
    for (const r of rows.filter((r) => r[2] === 'response')) assert.equal(rows[Number(r[7])][5], r[5]);
    for (const [i, r] of rows.entries()) {
      if (r[2] !== 'response' || r[3] !== 'Fetch') continue;
      await page.click(`#frames tbody tr[data-index="${i}"]`);
      await page.waitForSelector('#detail h3');
      const sets = await page.$$eval('#detail li', (li) => li.map((x) => x.textContent));
      for (const [k, text] of sets.entries()) {
        if (/ · 0 batches/.test(text)) continue;
        await page.click(`#detail li:nth-child(${k + 1}) button`);
        await page.waitForSelector('#batches tbody tr');
        if (!fetched.length) await page.screenshot({ path: path.join(artifacts, 'kafka-python-fetch-batches.png') });
        fetched.push(...await tableRows(page));
        await open();
        await page.click(`#frames tbody tr[data-index="${i}"]`);
        await page.waitForSelector('#detail h3');
      }
    }
  }
  assert.ok(fetched.length > 0, 'the consumer\'s Fetch responses are in the capture');
  const data = fetched.filter((b) => !b.control);
  assert.equal(data.reduce((a, b) => a + b.count, 0), oracle.records, 'every record produced was fetched');
  assert.deepEqual([...new Set(data.map((b) => b.codec))].sort(), ['gzip', 'lz4', 'none', 'snappy', 'zstd']);
  assert.deepEqual(fetched.filter((b) => b.control).map((b) => b.control), ['COMMIT', 'ABORT']);
  assert.ok(fetched.every((b) => b.crc.startsWith('✓')));
  assert.deepEqual(errors, []);
  assert.deepEqual(late, []);
  await context.close();
});

test('a tcpdump capture of Kafka\'s Java client 4.4.0 and a Kafka 4.4.0 broker: ApiVersions first, every version the broker\'s max, every request paired, the records produced and fetched', async (t) => {
  // Recorded by `cargo run -p web --example capture`: a KafkaProducer with its defaults
  // (idempotent, acks=all) and a KafkaConsumer without a group. The Java client logs no
  // frames; java-client.json says what was produced and read back.
  const oracle = JSON.parse(fs.readFileSync(path.join(fixtures, 'java-client.json'), 'utf8'));
  const { page, context, errors, late } = await openPage();
  await page.setInputFiles('#pick-files', [path.join(fixtures, 'java-client.pcap')]);
  await page.waitForSelector('#connections tbody tr');
  const conns = await page.$$eval('#connections tbody tr', (trs) => trs.map((tr) => [...tr.children].map((c) => c.textContent)));
  assert.ok(conns.length >= 2, 'the producer\'s and the consumer\'s connections');
  assert.ok(conns.every((r) => r[3] === 'yes' && r[9] === ''), 'every connection is Kafka and whole');
  await page.screenshot({ path: path.join(artifacts, 'java-client-capture.png') });
  // The decoded capture as the page exports it (every frame's field tree and record sets).
  const [dl] = await Promise.all([page.waitForEvent('download'), page.click('#export')]);
  const report = JSON.parse(fs.readFileSync(await dl.path(), 'utf8'));
  assert.equal(report.connections.length, conns.length);
  const apis = new Set();
  let produced = 0;
  const fetchedOffsets = new Set();
  const sequences = new Map(); // producer id -> next base sequence
  for (const c of report.connections) {
    const port = Number(c.client.split(':').pop());
    await page.click(`#file-list button.file:has-text(":${port} →")`);
    await page.waitForSelector('#frames tbody tr');
    const rows = await page.$$eval('#frames tbody tr', (trs) => trs.map((tr) => [...tr.children].map((x) => x.textContent)));
    assert.equal(rows.length, c.frames.length, `port ${port}: every frame listed`);
    assert.ok(rows.every((r) => r[9] === ''), `port ${port}: no frame errors`);
    const requests = c.frames.filter((f) => f.direction === 'request');
    const responses = c.frames.filter((f) => f.direction === 'response');
    assert.equal(requests.length + responses.length, c.frames.length, `port ${port}: every frame decoded as a request or a response`);
    // The Java client asks for the broker's versions first on every connection...
    assert.equal(requests[0].apiName, 'ApiVersions', `port ${port}: ApiVersions first`);
    const av = c.frames[requests[0].pair];
    assert.equal(av.body.errorCode, 0);
    const max = new Map(av.body.apiKeys.map((k) => [k.apiKey, k.maxVersion]));
    for (const f of requests) {
      apis.add(`${f.apiName} v${f.apiVersion}`);
      assert.match(f.clientId, /^kpp-java-(producer|consumer)$/, `port ${port}: the Java driver's client ids`);
      // ...and then uses, for each API, the highest version both sides know: the broker's.
      assert.equal(f.apiVersion, max.get(f.apiKey), `port ${port}: ${f.apiName} v${f.apiVersion} is the broker's max`);
      // acks=all: every request has its response, with its correlation id, API and version.
      assert.notEqual(f.pair, null, `port ${port}: ${f.apiName} #${f.correlationId} has a response`);
      const r = c.frames[f.pair];
      assert.deepEqual([r.direction, r.correlationId, r.apiName, r.apiVersion, r.pair], ['response', f.correlationId, f.apiName, f.apiVersion, f.index]);
      assert.equal(rows[f.index][5], String(f.correlationId));
      for (const set of f.apiName === 'Produce' ? f.recordSets : []) {
        for (const b of set.batches) {
          assert.ok(b.crcOk && b.producerId >= 0, 'an idempotent producer\'s batch, CRC ok');
          const next = sequences.get(b.producerId) ?? 0;
          assert.equal(b.baseSequence, next, 'base sequences follow on');
          sequences.set(b.producerId, next + b.count);
          produced += b.count;
        }
      }
    }
    for (const r of responses) {
      assert.equal(c.frames[r.pair].pair, r.index, `port ${port}: response #${r.correlationId} paired`);
      for (const set of r.apiName === 'Fetch' ? r.recordSets : []) {
        for (const b of set.batches) {
          assert.ok(b.crcOk);
          for (let o = b.baseOffset; o <= b.lastOffset; o++) fetchedOffsets.add(o);
        }
      }
    }
  }
  t.diagnostic(`${report.connections.length} connections, ${report.connections.reduce((a, c) => a + c.frames.length, 0)} frames; requests: ${[...apis].sort().join(', ')}`);
  const names = new Set([...apis].map((a) => a.split(' ')[0]));
  for (const a of ['ApiVersions', 'Metadata', 'InitProducerId', 'Produce', 'ListOffsets', 'Fetch']) assert.ok(names.has(a), `${a} in ${[...apis].join()}`);
  assert.equal(produced, oracle.records, 'every record the producer sent is in its Produce requests');
  assert.deepEqual(oracle.offsets, [...Array(oracle.records).keys()], 'the broker gave offsets 0..n-1');
  assert.equal(oracle.consumed, oracle.records);
  assert.deepEqual([...fetchedOffsets].sort((a, b) => a - b), oracle.offsets, 'the Fetch responses hold every offset');
  assert.deepEqual(errors, []);
  assert.deepEqual(late, []);
  await context.close();
});

test('a partition written by a real Kafka 4.4.0 broker: the table equals DumpLogSegments\' output', async () => {
  // Copied by `cargo run -p web --example capture` after the broker's clean shutdown, with
  // `DumpLogSegments --deep-iteration` over its segments (idempotent producers with every
  // codec, a committed and an aborted transaction, two segments).
  const dump = JSON.parse(fs.readFileSync(path.join(fixtures, 'kafka-partition.json'), 'utf8'));
  assert.ok(dump.length >= 2, 'two segments at least');
  const { page, context, errors, late } = await openPage();
  await openDir(page, 'kafka-partition');
  const markers = [];
  for (const seg of dump) {
    await selectFile(page, seg.file);
    await page.waitForFunction((n) => document.querySelectorAll('#batches tbody tr').length === Math.min(n, 100), seg.batches.length);
    const rows = [];
    for (;;) {
      rows.push(...await tableRows(page));
      const next = page.locator('.pager button:has-text("Next")');
      if (await next.isDisabled()) break;
      await next.click();
    }
    assert.equal(rows.length, seg.batches.length, seg.file);
    rows.forEach((r, i) => {
      const k = seg.batches[i];
      assert.deepEqual(
        [r.position, r.baseOffset, r.lastOffset, r.count, r.codec, r.crc, r.producerId, r.producerEpoch, r.baseSequence, r.transactional],
        [Number(k.position), Number(k.baseOffset), Number(k.lastOffset), Number(k.count), k.compresscodec, `✓ ${hex8(Number(k.crc))}`,
          Number(k.producerId), Number(k.producerEpoch), Number(k.baseSequence), k.isTransactional === 'true'],
        `${seg.file} batch ${i}`);
      assert.equal(r.control, k.isControl === 'true' ? k.endTxnMarker : '', `${seg.file} batch ${i} control`);
      if (r.control) markers.push(r.control);
    });
    assert.equal(await page.locator('#view details.problems').count(), 0, `${seg.file}: indexes and batches agree`);
  }
  assert.deepEqual(markers, ['COMMIT', 'ABORT']);
  await page.screenshot({ path: path.join(artifacts, 'kafka-partition.png') });
  // The broker's aborted-transactions index holds the aborted transaction, ending at its marker.
  const abort = dump.flatMap((s) => s.batches).find((b) => b.endTxnMarker === 'ABORT');
  const txn = fs.readdirSync(path.join(fixtures, 'kafka-partition')).find((n) => n.endsWith('.txnindex'));
  await selectFile(page, txn);
  await page.waitForSelector('#other tbody tr');
  const aborted = await page.$$eval('#other tbody tr', (trs) => trs.map((tr) => [...tr.children].map((c) => c.textContent)));
  assert.deepEqual(aborted.map((r) => [r[1], r[3]]), [[abort.producerId, abort.baseOffset]]);
  assert.deepEqual(errors, []);
  assert.deepEqual(late, []);
  await context.close();
});
