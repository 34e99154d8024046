//! klog's offset checkpoint reader (`recovery-point-offset-checkpoint`, Kafka's text format)
//! over arbitrary bytes, directly and through storage: what parses must render to text that
//! parses to the same entries.
#![no_main]

use klog::checkpoint;
use klog::MemStorage;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut st = MemStorage::new();
    st.put("recovery-point-offset-checkpoint", data);
    let through_storage = checkpoint::read(&mut st, "recovery-point-offset-checkpoint");
    let Ok(text) = core::str::from_utf8(data) else {
        return;
    };
    let parsed = checkpoint::parse("recovery-point-offset-checkpoint", text);
    if let (Ok(a), Ok(b)) = (&parsed, &through_storage) {
        assert_eq!(a, b, "read and parse agree");
    }
    if let Ok(entries) = parsed {
        let rendered = checkpoint::render(&entries);
        let back = checkpoint::parse("again", &rendered).expect("rendered entries parse");
        assert_eq!(back, entries, "checkpoint round trip");
    }
});
