// The inspector's Web Worker: all decoding happens here, in wasm. Files are read a slice at a
// time with FileReaderSync (File.slice), so a large segment is never loaded whole.
import init, { Inspector } from './inspector.js';

const ready = init();
let insp = null;
const reader = new FileReaderSync();
const files = [];

function kindOf(name) {
  if (name.endsWith('.log')) return 'log';
  if (name.endsWith('.timeindex')) return 'timeindex';
  if (name.endsWith('.index')) return 'index';
  if (name.endsWith('.txnindex') || name.endsWith('.snapshot') || name.endsWith('.deleted') ||
      name.endsWith('leader-epoch-checkpoint') || name.endsWith('partition.metadata') ||
      name.endsWith('checkpoint')) return 'other';
  if (name.endsWith('.pcap') || name.endsWith('.pcapng')) return 'capture';
  return 'frames';
}

const ops = {
  open({ list }) {
    return list.map(({ file, path }) => {
      const name = path || file.name;
      const id = insp.openFile(name, file.size, (a, b) =>
        new Uint8Array(reader.readAsArrayBuffer(file.slice(a, b))));
      files[id] = { name, kind: kindOf(name), size: file.size };
      return { id, ...files[id] };
    });
  },
  scan({ id }, post) {
    // Budgeted steps: the first rows are posted before the rest of the file is read.
    let total = 0;
    let budget = 1; // the first step is one slice: the first rows are shown at once
    for (;;) {
      const step = JSON.parse(insp.scan(id, budget));
      budget = 8 << 20;
      total += step.batches.length;
      post({ progress: step });
      if (step.done) return { batches: total };
    }
  },
  records({ id, batch, skip, limit, preview }) {
    return JSON.parse(insp.records(id, batch, skip, limit, preview));
  },
  part({ id, batch, record, part }) { return insp.recordPart(id, batch, record, part) ?? null; },
  batchBytes({ id, batch }) { return insp.batchBytes(id, batch); },
  uncompressed({ id, batch }) { return insp.uncompressedRecords(id, batch); },
  checkIndex({ id, log, offsets }) { return JSON.parse(insp.checkIndex(id, log, offsets ?? undefined)); },
  jumpOffset({ log, offset, index }) { return insp.jumpToOffset(log, offset, index ?? undefined) ?? null; },
  jumpTime({ log, ts, time, index }) {
    return insp.jumpToTimestamp(log, ts, time ?? undefined, index ?? undefined) ?? null;
  },
  frames({ id }) {
    const r = JSON.parse(insp.frames(id));
    for (const f of r.frames) for (const s of f.recordSets) {
      files[s.file] = { name: `${files[id].name} #${f.index} ${s.path}`, kind: 'log', size: s.len };
    }
    return r;
  },
  other({ id }) { return JSON.parse(insp.other(id)); },
  capture({ id }) { return JSON.parse(insp.capture(id)); },
  paste({ text }) {
    const r = JSON.parse(insp.paste(text));
    const name = `pasted-${r.file}`;
    files[r.file] = { name, kind: r.kind === 'records' ? 'log' : 'frames', size: 0 };
    return { id: r.file, ...files[r.file] };
  },
  exportListing({ id }) { return insp.exportListing(id); },
  exportRecords({ id, batch }) { return insp.exportRecords(id, batch); },
};

self.onmessage = async (ev) => {
  const { seq, op, args } = ev.data;
  try {
    await ready;
    if (!insp) insp = new Inspector();
    const result = ops[op](args, (partial) => self.postMessage({ seq, partial }));
    self.postMessage({ seq, ok: true, result });
  } catch (e) {
    self.postMessage({ seq, ok: false, error: String(e && e.message || e) });
  }
};
self.postMessage({ hello: true });
