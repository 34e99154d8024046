//! The wasm-bindgen API the page's Web Worker calls: files opened by a read callback (the
//! worker reads `File.slice` ranges with `FileReaderSync`), answers as JSON strings or bytes.

use crate::error::InspectError;
use crate::frames::decode_stream;
use crate::index::{self, OffsetEntry, TimeEntry};
use crate::paste::{self, PasteKind};
use crate::records::{self, Part, RecordOptions};
use crate::segment::{self, ScanOptions, SegmentScan};
use crate::source::{ByteSource, SliceSource};
use crate::{ranges, value};
use serde::Serialize;
use wasm_bindgen::prelude::*;

/// A file the page holds: `read(start, end)` returns a `Uint8Array` of those bytes.
struct JsSource {
    name: String,
    len: u64,
    read: js_sys::Function,
}

impl ByteSource for JsSource {
    fn name(&self) -> &str {
        &self.name
    }

    fn len(&self) -> u64 {
        self.len
    }

    fn read_range(&mut self, start: u64, end: u64) -> Result<Vec<u8>, InspectError> {
        let err = |reason: String| InspectError::Read {
            file: self.name.clone(),
            start,
            end,
            reason,
        };
        let v = self
            .read
            .call2(
                &JsValue::NULL,
                &JsValue::from_f64(start as f64),
                &JsValue::from_f64(end as f64),
            )
            .map_err(|e| err(format!("{e:?}")))?;
        let a: js_sys::Uint8Array = v
            .dyn_into()
            .map_err(|_| err("the reader did not return a Uint8Array".into()))?;
        Ok(a.to_vec())
    }
}

struct Opened {
    name: String,
    src: Box<dyn ByteSource>,
    scan: Option<SegmentScan>,
    offsets: Vec<OffsetEntry>,
    times: Vec<TimeEntry>,
}

/// The files open in the page.
#[wasm_bindgen]
#[derive(Default)]
pub struct Inspector {
    files: Vec<Opened>,
}

fn js_err(e: impl ToString) -> JsError {
    JsError::new(&e.to_string())
}

fn json<T: Serialize>(v: &T) -> Result<String, JsError> {
    serde_json::to_string(v).map_err(js_err)
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ScanStep<'a> {
    file: u32,
    batches: &'a [crate::summary::BatchSummary],
    problems: &'a [crate::error::Problem],
    done: bool,
    position: u64,
    len: u64,
}

#[wasm_bindgen]
impl Inspector {
    /// No files open.
    #[wasm_bindgen(constructor)]
    pub fn new() -> Inspector {
        Inspector::default()
    }

    fn add(&mut self, name: String, src: Box<dyn ByteSource>) -> u32 {
        self.files.push(Opened {
            name,
            src,
            scan: None,
            offsets: Vec::new(),
            times: Vec::new(),
        });
        (self.files.len() - 1) as u32
    }

    fn get(&mut self, id: u32) -> Result<&mut Opened, JsError> {
        self.files
            .get_mut(id as usize)
            .ok_or_else(|| JsError::new(&format!("no file {id}")))
    }

    /// Opens a file of `len` bytes read through `read(start, end) -> Uint8Array`.
    #[wasm_bindgen(js_name = openFile)]
    pub fn open_file(&mut self, name: String, len: f64, read: js_sys::Function) -> u32 {
        let src = JsSource {
            name: name.clone(),
            len: len as u64,
            read,
        };
        self.add(name, Box::new(src))
    }

    /// Opens bytes held in memory.
    #[wasm_bindgen(js_name = openBytes)]
    pub fn open_bytes(&mut self, name: String, bytes: Vec<u8>) -> u32 {
        self.add(name.clone(), Box::new(SliceSource::new(name, bytes)))
    }

    /// Decodes pasted hex or base64 and opens it: `{"file": id, "kind": "records"|"frames"|"frame"}`.
    pub fn paste(&mut self, text: &str) -> Result<String, JsError> {
        let mut bytes = paste::decode_text(text).map_err(js_err)?;
        let kind = paste::classify(&bytes);
        if kind == PasteKind::Frame {
            let mut framed = (bytes.len() as u32).to_be_bytes().to_vec();
            framed.append(&mut bytes);
            bytes = framed;
        }
        let n = self
            .files
            .iter()
            .filter(|f| f.name.starts_with("pasted"))
            .count();
        let id = self.open_bytes(format!("pasted-{}", n + 1), bytes);
        Ok(serde_json::json!({ "file": id, "kind": kind }).to_string())
    }

    /// Lists about `budget` more bytes of a `.log` file's batches: the new rows and problems.
    pub fn scan(&mut self, id: u32, budget: f64) -> Result<String, JsError> {
        let f = self.get(id)?;
        let len = f.src.len();
        let scan = f
            .scan
            .get_or_insert_with(|| SegmentScan::new(f.name.clone(), len, ScanOptions::PAGE));
        let step = scan.step(f.src.as_mut(), budget as u64).map_err(js_err)?;
        json(&ScanStep {
            file: id,
            batches: &scan.batches[step.batches],
            problems: &scan.problems[step.problems],
            done: step.done,
            position: scan.position(),
            len,
        })
    }

    fn batch(
        &mut self,
        id: u32,
        batch: u32,
    ) -> Result<(&mut Opened, crate::summary::BatchSummary), JsError> {
        let f = self.get(id)?;
        let b = f
            .scan
            .as_ref()
            .and_then(|s| s.batches.get(batch as usize))
            .cloned()
            .ok_or_else(|| JsError::new(&format!("file {id} has no batch {batch} listed")))?;
        Ok((f, b))
    }

    /// A page of a batch's records with the byte ranges of the header and of each record.
    pub fn records(
        &mut self,
        id: u32,
        batch: u32,
        skip: u32,
        limit: u32,
        preview: u32,
    ) -> Result<String, JsError> {
        let (f, b) = self.batch(id, batch)?;
        let opts = RecordOptions {
            skip: skip as usize,
            limit: limit as usize,
            preview: preview as usize,
            ..RecordOptions::default()
        };
        let recs = records::batch_records(f.src.as_mut(), &b, &opts).map_err(js_err)?;
        let header = ranges::header_fields(&b);
        let rr = ranges::record_ranges(&recs);
        json(
            &serde_json::json!({ "batch": b, "records": recs, "headerRanges": header, "recordRanges": rr }),
        )
    }

    /// The whole key, value or header value (`key`, `value`, `header:N`) of a record; `None`
    /// when null.
    #[wasm_bindgen(js_name = recordPart)]
    pub fn record_part(
        &mut self,
        id: u32,
        batch: u32,
        record: u32,
        part: &str,
    ) -> Result<Option<Vec<u8>>, JsError> {
        let part = match part {
            "key" => Part::Key,
            "value" => Part::Value,
            p => Part::Header(
                p.strip_prefix("header:")
                    .and_then(|n| n.parse().ok())
                    .ok_or_else(|| JsError::new(&format!("unknown record part {p}")))?,
            ),
        };
        let (f, b) = self.batch(id, batch)?;
        records::record_part(
            f.src.as_mut(),
            &b,
            record as usize,
            part,
            kproto::records::DEFAULT_MAX_UNCOMPRESSED,
        )
        .map_err(js_err)
    }

    /// A batch's bytes as stored.
    #[wasm_bindgen(js_name = batchBytes)]
    pub fn batch_bytes(&mut self, id: u32, batch: u32) -> Result<Vec<u8>, JsError> {
        let (f, b) = self.batch(id, batch)?;
        segment::batch_bytes(f.src.as_mut(), &b).map_err(js_err)
    }

    /// A batch's records section, uncompressed.
    #[wasm_bindgen(js_name = uncompressedRecords)]
    pub fn uncompressed_records(&mut self, id: u32, batch: u32) -> Result<Vec<u8>, JsError> {
        let (f, b) = self.batch(id, batch)?;
        records::uncompressed_records(
            f.src.as_mut(),
            &b,
            kproto::records::DEFAULT_MAX_UNCOMPRESSED,
        )
        .map_err(js_err)
    }

    /// Reads and checks an `.index` or `.timeindex` file against the (scanned) `.log` `log`;
    /// a time index uses the offset index `offsets` when given.
    #[wasm_bindgen(js_name = checkIndex)]
    pub fn check_index(
        &mut self,
        id: u32,
        log: u32,
        offsets: Option<u32>,
    ) -> Result<String, JsError> {
        let name = self.get(id)?.name.clone();
        let base = name
            .rsplit('/')
            .next()
            .and_then(klog::parse_file_name)
            .map_or(0, |(b, _)| b as i64);
        let data = index::read_index(self.get(id)?.src.as_mut()).map_err(js_err)?;
        let batches = self
            .get(log)?
            .scan
            .as_ref()
            .map(|s| s.batches.clone())
            .unwrap_or_default();
        if name.ends_with(".timeindex") {
            let offs = match offsets {
                Some(o) => self.get(o)?.offsets.clone(),
                None => Vec::new(),
            };
            let r = index::check_time_index(&name, &data, base, &offs, &batches);
            self.get(id)?.times = r.entries.clone();
            json(&r)
        } else {
            let r = index::check_offset_index(&name, &data, base, &batches);
            self.get(id)?.offsets = r.entries.clone();
            json(&r)
        }
    }

    /// The batch holding `offset` (or the first after it), through the offset index when one
    /// was checked (`index`), else by a search of the listing.
    #[wasm_bindgen(js_name = jumpToOffset)]
    pub fn jump_to_offset(
        &mut self,
        log: u32,
        offset: f64,
        index: Option<u32>,
    ) -> Result<Option<u32>, JsError> {
        let offs = match index {
            Some(i) => self.get(i)?.offsets.clone(),
            None => Vec::new(),
        };
        let f = self.get(log)?;
        let batches = f.scan.as_ref().map_or(&[][..], |s| &s.batches[..]);
        Ok(index::jump_to_offset(&offs, batches, offset as i64).map(|i| i as u32))
    }

    /// The first batch with a record at or after `ts`, through the time and offset indexes
    /// when they were checked.
    #[wasm_bindgen(js_name = jumpToTimestamp)]
    pub fn jump_to_timestamp(
        &mut self,
        log: u32,
        ts: f64,
        time: Option<u32>,
        index: Option<u32>,
    ) -> Result<Option<u32>, JsError> {
        let times = match time {
            Some(i) => self.get(i)?.times.clone(),
            None => Vec::new(),
        };
        let offs = match index {
            Some(i) => self.get(i)?.offsets.clone(),
            None => Vec::new(),
        };
        let f = self.get(log)?;
        let batches = f.scan.as_ref().map_or(&[][..], |s| &s.batches[..]);
        Ok(index::jump_to_timestamp(&times, &offs, batches, ts as i64).map(|i| i as u32))
    }

    /// Decodes a raw stream of size-prefixed frames; each record set inside is opened as a
    /// file of its own (its id in `recordSets[].file`) so that the batch view can list it.
    pub fn frames(&mut self, id: u32) -> Result<String, JsError> {
        let f = self.get(id)?;
        let len = f.src.len();
        let data = f.src.read_range(0, len).map_err(js_err)?;
        let name = f.name.clone();
        let mut report = decode_stream(&name, &data);
        for (i, fr) in report.frames.iter_mut().enumerate() {
            for set in &mut fr.record_sets {
                let set_name = format!("{name} frame {i} {}", set.path);
                set.file = Some(self.open_bytes(set_name, core::mem::take(&mut set.bytes)));
            }
        }
        // Straight to text: a serde_json::Value would sort the tree's keys.
        json(&report)
    }

    /// Reads a pcap or pcapng capture: its TCP connections, and for Kafka ones their frames;
    /// record sets are opened as files as [`Inspector::frames`] does.
    pub fn capture(&mut self, id: u32) -> Result<String, JsError> {
        let f = self.get(id)?;
        let name = f.name.clone();
        let mut report = crate::pcap::read_capture(f.src.as_mut());
        for c in &mut report.connections {
            for (i, fr) in c.frames.iter_mut().enumerate() {
                for set in &mut fr.record_sets {
                    let set_name = format!("{name} {} frame {i} {}", c.client, set.path);
                    set.file = Some(self.open_bytes(set_name, core::mem::take(&mut set.bytes)));
                }
            }
        }
        json(&report)
    }

    /// A producer snapshot, `.txnindex`, `leader-epoch-checkpoint` or `partition.metadata` as a
    /// table (`null` for a file of another kind).
    pub fn other(&mut self, id: u32) -> Result<String, JsError> {
        let f = self.get(id)?;
        if f.src.len() > index::MAX_INDEX_BYTES {
            return Err(JsError::new(&format!(
                "{}: {} bytes is too large for this kind of file",
                f.name,
                f.src.len()
            )));
        }
        let len = f.src.len();
        let data = f.src.read_range(0, len).map_err(js_err)?;
        json(&crate::other::read_other(&f.name, &data))
    }

    /// The listing of a scanned `.log` file as JSON (the page's export).
    #[wasm_bindgen(js_name = exportListing)]
    pub fn export_listing(&mut self, id: u32) -> Result<String, JsError> {
        let f = self.get(id)?;
        let s = f
            .scan
            .as_ref()
            .ok_or_else(|| JsError::new("the file was not scanned"))?;
        let v = serde_json::json!({ "file": f.name, "batches": s.batches, "problems": s.problems, "complete": s.is_done() });
        serde_json::to_string_pretty(&v).map_err(js_err)
    }

    /// A batch's records as JSON lines: offset, timestamp, key and value (UTF-8 when they are,
    /// else base64), headers.
    #[wasm_bindgen(js_name = exportRecords)]
    pub fn export_records(&mut self, id: u32, batch: u32) -> Result<String, JsError> {
        let (f, b) = self.batch(id, batch)?;
        let opts = RecordOptions {
            preview: usize::MAX,
            limit: usize::MAX,
            ..RecordOptions::default()
        };
        let recs = records::batch_records(f.src.as_mut(), &b, &opts).map_err(js_err)?;
        Ok(records::json_lines(&recs))
    }

    /// A hex dump of bytes (for copying).
    #[wasm_bindgen(js_name = hexDump)]
    pub fn hex_dump(bytes: &[u8], base: f64) -> String {
        value::hex_dump(bytes, base as u64)
    }
}
