//! The wasm-bindgen API in headless Chromium (`wasm-bindgen-test-runner` with chromedriver):
//! files read through a JS callback in byte ranges, every codec decoded in the browser, pasted
//! bytes, frames, and errors as JS exceptions rather than panics.
#![cfg(target_arch = "wasm32")]

use kproto::records::{BatchBuilder, BatchConfig, Compression};
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use wasm_bindgen_test::*;
use web::wasm::Inspector;

wasm_bindgen_test_configure!(run_in_browser);

/// A segment of one batch per codec, 200 records of 2 KB JSON each.
fn segment() -> Vec<u8> {
    let mut out = Vec::new();
    let mut base = 0;
    for codec in Compression::ALL {
        let mut b = BatchBuilder::new(BatchConfig {
            compression: codec,
            base_offset: base,
            write_limit: 1 << 24,
            ..BatchConfig::default()
        });
        for i in 0..200 {
            let v = format!(
                "{{\"codec\":\"{}\",\"i\":{i},\"pad\":\"{}\"}}",
                codec.name(),
                "é".repeat(1000)
            );
            b.try_append(
                1_700_000_000_000 + i,
                Some(format!("k{i}").as_bytes()),
                Some(v.as_bytes()),
                &[("h", Some(b"x"))],
            )
            .unwrap();
        }
        out.extend(b.finish().unwrap());
        base += 200;
    }
    out
}

fn parse(s: &str) -> serde_json::Value {
    serde_json::from_str(s).unwrap()
}

#[wasm_bindgen_test]
fn a_file_read_by_a_js_callback_in_ranges_lists_every_codec() {
    let data = Rc::new(segment());
    let reads: Rc<RefCell<Vec<(f64, f64)>>> = Rc::default();
    let (d, r) = (data.clone(), reads.clone());
    let read = Closure::<dyn FnMut(f64, f64) -> js_sys::Uint8Array>::new(move |a: f64, b: f64| {
        r.borrow_mut().push((a, b));
        js_sys::Uint8Array::from(&d[a as usize..b as usize])
    });
    let mut insp = Inspector::new();
    let id = insp.open_file(
        "00000000000000000000.log".into(),
        data.len() as f64,
        read.as_ref().unchecked_ref::<js_sys::Function>().clone(),
    );
    let mut batches = Vec::new();
    loop {
        let step = parse(&insp.scan(id, 64.0 * 1024.0).map_err(JsValue::from).unwrap());
        batches.extend(step["batches"].as_array().unwrap().iter().cloned());
        assert!(step["problems"].as_array().unwrap().is_empty(), "{step}");
        if step["done"] == true {
            break;
        }
    }
    let codecs: Vec<_> = batches
        .iter()
        .map(|b| b["compression"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(codecs, ["none", "gzip", "snappy", "lz4", "zstd"]);
    assert!(batches
        .iter()
        .all(|b| b["crcOk"] == true && b["count"] == 200));
    // Read in ranges, none larger than the 1 MiB chunk or a batch.
    let largest = batches
        .iter()
        .map(|b| b["size"].as_u64().unwrap())
        .max()
        .unwrap() as f64;
    assert!(reads
        .borrow()
        .iter()
        .all(|(a, b)| b - a <= largest.max(1048576.0)));
    for (i, codec) in codecs.iter().enumerate() {
        let page = parse(
            &insp
                .records(id, i as u32, 190, 100, 64)
                .map_err(JsValue::from)
                .unwrap(),
        );
        let recs = page["records"]["records"].as_array().unwrap();
        assert_eq!(
            (page["records"]["total"].as_u64(), recs.len()),
            (Some(200), 10)
        );
        let v = &recs[0]["value"];
        assert_eq!(v["truncated"], true);
        let full = insp
            .record_part(id, i as u32, 195, "value")
            .map_err(JsValue::from)
            .unwrap()
            .unwrap();
        let text = String::from_utf8(full).unwrap();
        assert!(
            text.starts_with(&format!("{{\"codec\":\"{codec}\",\"i\":195,")),
            "{}",
            &text[..40]
        );
    }
    let jl = insp.export_records(id, 4).map_err(JsValue::from).unwrap();
    assert_eq!(jl.lines().count(), 200);
    assert_eq!(
        insp.jump_to_offset(id, 650.0, None)
            .map_err(JsValue::from)
            .unwrap(),
        Some(3)
    );
}

#[wasm_bindgen_test]
fn pasted_hex_and_frames_and_errors_as_exceptions() {
    let seg = segment();
    let size = i32::from_be_bytes(seg[8..12].try_into().unwrap()) as usize + 12;
    let hex: String = seg[..size].iter().map(|b| format!("{b:02x} ")).collect();
    let mut insp = Inspector::new();
    let p = parse(&insp.paste(&hex).map_err(JsValue::from).unwrap());
    assert_eq!(p["kind"], "records");
    let id = p["file"].as_u64().unwrap() as u32;
    let step = parse(&insp.scan(id, 1e9).map_err(JsValue::from).unwrap());
    assert_eq!(step["batches"][0]["count"], 200);
    // Not hex, not base64: an error, not a panic.
    assert!(insp.paste("¿what?").is_err());
    // A batch that was never listed.
    assert!(insp.records(id, 99, 0, 10, 10).is_err());
    // A frame stream with a truncated tail.
    let mut frames = Vec::new();
    kproto::frame::encode_request_frame(
        &kproto::messages::RequestHeader {
            request_api_key: 18,
            request_api_version: 3,
            correlation_id: 5,
            client_id: Some("w".into()),
            ..Default::default()
        },
        &kproto::RequestBody::ApiVersions(Box::default()),
        &mut frames,
    )
    .unwrap();
    frames.extend_from_slice(&[0, 0, 0, 9, 1]);
    let fid = insp.open_bytes("raw.bin".into(), frames);
    let r = parse(&insp.frames(fid).map_err(JsValue::from).unwrap());
    assert_eq!(r["frames"][0]["apiName"], "ApiVersions");
    assert_eq!(r["frames"][0]["correlationId"], 5);
    assert_eq!(r["problems"][0]["kind"], "tail");
}

mod fixture;

#[wasm_bindgen_test]
fn a_capture_through_the_api_lists_its_kafka_connection() {
    use fixture::pcap::{v4, Capture, Link};
    let mut cap = Capture::new(Link::EthernetV4);
    let (mut c, mut s) = (v4(1, 40_001, 1), v4(2, 9092, 2));
    cap.packet(&c, &s, c.seq, 1, &[]);
    c.seq += 1;
    cap.packet(&s, &c, s.seq, 2, &[]);
    s.seq += 1;
    let mut req = Vec::new();
    kproto::frame::encode_request_frame(
        &kproto::messages::RequestHeader {
            request_api_key: 18,
            request_api_version: 4,
            correlation_id: 9,
            client_id: Some("w".into()),
            ..Default::default()
        },
        &kproto::RequestBody::ApiVersions(Box::default()),
        &mut req,
    )
    .unwrap();
    let mut resp = Vec::new();
    kproto::frame::encode_response_frame(
        9,
        &kproto::ResponseBody::ApiVersions(Box::default()),
        4,
        &mut resp,
    )
    .unwrap();
    cap.send(&mut c, &s, &req, 10);
    cap.send(&mut s, &c, &resp, 10);
    let mut insp = Inspector::new();
    let id = insp.open_bytes("lo.pcap".into(), cap.pcap());
    let r = parse(&insp.capture(id).map_err(JsValue::from).unwrap());
    let k = &r["connections"][0];
    assert_eq!(
        (k["kafka"].as_bool(), k["server"].as_str()),
        (Some(true), Some("10.0.0.2:9092"))
    );
    assert_eq!(k["frames"][1]["apiName"], "ApiVersions");
    assert_eq!(k["frames"][1]["direction"], "response");
    assert_eq!(k["frames"][1]["pair"], 0);
}
