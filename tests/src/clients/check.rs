//! Compares what producers sent with what a consumer read back, as a broker test needs it: every
//! record read exactly once with its key, value and headers; offsets dense from 0 in every
//! partition; a producer's records in its send order within a partition; a record that named
//! its partition in that partition; and each delivery report naming where the record is.

use super::{Consumed, Delivery, Header, Record};
use std::collections::{BTreeMap, HashMap};

/// What a producer run reported about where its records went.
#[derive(Debug, Clone, Copy)]
pub enum Reports<'a> {
    /// The client reports nothing (kcat `-P`).
    None,
    /// One report per record with its partition; the offset is `-1` (unknown, acks=0) or
    /// the record's offset.
    Partitions(&'a [Delivery]),
    /// One report per record with its partition and offset, and for each partition this run's
    /// offsets form one contiguous range (dense).
    Offsets(&'a [Delivery]),
}

/// One producer run: its name (for messages), the records it was given in send order, and its
/// reports.
#[derive(Debug, Clone, Copy)]
pub struct Run<'a> {
    /// Names the run in error messages.
    pub name: &'a str,
    /// The records, in the order the client was given them.
    pub records: &'a [Record],
    /// What it reported.
    pub reports: Reports<'a>,
}

/// What a successful comparison counted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    /// Records read per partition.
    pub per_partition: BTreeMap<i32, usize>,
    /// Records in all.
    pub records: usize,
    /// Bytes of keys, values and headers in all.
    pub bytes: usize,
}

type Content<'a> = (&'a Option<Vec<u8>>, &'a Option<Vec<u8>>, &'a Vec<Header>);

fn content(r: &Record) -> Content<'_> {
    (&r.key, &r.value, &r.headers)
}

fn size(r: &Record) -> usize {
    let n = |b: &Option<Vec<u8>>| b.as_ref().map_or(0, Vec::len);
    n(&r.key)
        + n(&r.value)
        + r.headers
            .iter()
            .map(|h| h.key.len() + n(&h.value))
            .sum::<usize>()
}

fn describe(r: &Consumed) -> String {
    let key = r.key.as_deref().map(|k| {
        String::from_utf8_lossy(k)
            .chars()
            .take(60)
            .collect::<String>()
    });
    format!(
        "partition {} offset {} key {key:?} ({} value bytes, {} headers)",
        r.partition,
        r.offset,
        r.value.as_ref().map_or(0, Vec::len),
        r.headers.len()
    )
}

/// Checks `read` (what a consumer read, in any order) against `runs` (everything produced to
/// the topic, which was empty before); the error names the first difference.
pub fn read_back(runs: &[Run<'_>], read: &[Consumed]) -> Result<Summary, String> {
    // Offsets dense from 0 in every partition, none twice.
    let mut by_partition: BTreeMap<i32, Vec<&Consumed>> = BTreeMap::new();
    for r in read {
        by_partition.entry(r.partition).or_default().push(r);
    }
    for (p, rs) in &mut by_partition {
        rs.sort_by_key(|r| r.offset);
        for (i, r) in rs.iter().enumerate() {
            if r.offset != i as i64 {
                return Err(format!(
                    "partition {p}: the record read at position {i} has offset {} (offsets are \
                     not dense from 0; {} records read in this partition)",
                    r.offset,
                    rs.len()
                ));
            }
        }
    }

    // Every record sent, by content, once.
    let mut sent: HashMap<Content<'_>, (usize, usize)> = HashMap::new();
    for (ri, run) in runs.iter().enumerate() {
        for (i, r) in run.records.iter().enumerate() {
            if let Some((rj, j)) = sent.insert(content(r), (ri, i)) {
                return Err(format!(
                    "{} record {i} and {} record {j} are equal: records must be unique to be \
                     told apart",
                    run.name, runs[rj].name
                ));
            }
        }
    }
    // (run, index) -> the record read.
    let mut found: HashMap<(usize, usize), &Consumed> = HashMap::new();
    for r in read {
        let Some(&(ri, i)) = sent.get(&(&r.key, &r.value, &r.headers)) else {
            return Err(format!("read a record nobody sent: {}", describe(r)));
        };
        if let Some(first) = found.insert((ri, i), r) {
            return Err(format!(
                "{} record {i} was read twice: {} and {}",
                runs[ri].name,
                describe(first),
                describe(r)
            ));
        }
    }

    let mut bytes = 0;
    for (ri, run) in runs.iter().enumerate() {
        let mut last: BTreeMap<i32, (usize, i64)> = BTreeMap::new();
        for (i, r) in run.records.iter().enumerate() {
            bytes += size(r);
            let Some(got) = found.get(&(ri, i)) else {
                let missing = (0..run.records.len())
                    .filter(|j| !found.contains_key(&(ri, *j)))
                    .count();
                return Err(format!(
                    "{}: record {i} (key {:?}) was not read back; {missing} of its {} records \
                     are missing",
                    run.name,
                    r.key.as_deref().map(String::from_utf8_lossy),
                    run.records.len()
                ));
            };
            if let Some(p) = r.partition {
                if got.partition != p {
                    return Err(format!(
                        "{}: record {i} was sent to partition {p}, read from {}",
                        run.name,
                        describe(got)
                    ));
                }
            }
            if let Some(&(j, offset)) = last.get(&got.partition) {
                if got.offset <= offset {
                    return Err(format!(
                        "{}: record {i} is at offset {} of partition {}, before record {j} \
                         (offset {offset}) that was sent before it",
                        run.name, got.offset, got.partition
                    ));
                }
            }
            last.insert(got.partition, (i, got.offset));
        }
        check_reports(run, ri, &found)?;
    }
    if found.len() != read.len() {
        return Err(format!(
            "{} records read, {} of them sent",
            read.len(),
            found.len()
        ));
    }
    Ok(Summary {
        per_partition: by_partition.iter().map(|(p, rs)| (*p, rs.len())).collect(),
        records: read.len(),
        bytes,
    })
}

/// Checks a consumer's end offsets against what [`read_back`] counted: one per partition of
/// the topic (`partitions` of them), each the number of records read there (the topic's offsets
/// are dense from 0).
pub fn end_offsets(ends: &[(i32, i64)], partitions: i32, summary: &Summary) -> Result<(), String> {
    let mut got: Vec<(i32, i64)> = ends.to_vec();
    got.sort_unstable();
    let want: Vec<(i32, i64)> = (0..partitions)
        .map(|p| {
            (
                p,
                summary.per_partition.get(&p).copied().unwrap_or(0) as i64,
            )
        })
        .collect();
    if got != want {
        return Err(format!(
            "end offsets {got:?}, but the records read say {want:?}"
        ));
    }
    Ok(())
}

fn check_reports(
    run: &Run<'_>,
    ri: usize,
    found: &HashMap<(usize, usize), &Consumed>,
) -> Result<(), String> {
    let (reports, offsets) = match run.reports {
        Reports::None => return Ok(()),
        Reports::Partitions(d) => (d, false),
        Reports::Offsets(d) => (d, true),
    };
    let name = run.name;
    if reports.len() != run.records.len() {
        return Err(format!(
            "{name}: {} delivery reports for {} records",
            reports.len(),
            run.records.len()
        ));
    }
    let mut seen = vec![false; run.records.len()];
    let mut ranges: BTreeMap<i32, Vec<i64>> = BTreeMap::new();
    for d in reports {
        let Some(slot) = seen.get_mut(d.index) else {
            return Err(format!("{name}: a delivery report for record {}", d.index));
        };
        if std::mem::replace(slot, true) {
            return Err(format!(
                "{name}: two delivery reports for record {}",
                d.index
            ));
        }
        let got = found[&(ri, d.index)];
        if d.partition != got.partition {
            return Err(format!(
                "{name}: record {} reported in partition {}, read from {}",
                d.index,
                d.partition,
                describe(got)
            ));
        }
        if d.offset == -1 && !offsets {
            continue;
        }
        if d.offset != got.offset {
            return Err(format!(
                "{name}: record {} reported at offset {}, read from {}",
                d.index,
                d.offset,
                describe(got)
            ));
        }
        ranges.entry(d.partition).or_default().push(d.offset);
    }
    if offsets {
        for (p, mut os) in ranges {
            os.sort_unstable();
            if let Some(w) = os.windows(2).find(|w| w[1] != w[0] + 1) {
                return Err(format!(
                    "{name}: its delivery reports in partition {p} are not dense: offset {} \
                     is followed by {}",
                    w[0], w[1]
                ));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clients::payload::{records, Shape};

    const SHAPE: Shape = Shape {
        text_only: false,
        nulls: true,
        null_header_values: true,
        same_headers: false,
        partitions: Some(2),
    };

    /// What a broker would do: partition as named, else by index parity; offsets in order.
    fn produce(runs: &[&[Record]]) -> (Vec<Vec<Delivery>>, Vec<Consumed>) {
        let mut next = [0i64; 2];
        let mut read = Vec::new();
        let mut reports = Vec::new();
        for records in runs {
            let mut ds = Vec::new();
            for (i, r) in records.iter().enumerate() {
                let p = r.partition.unwrap_or((i % 2) as i32);
                let offset = next[p as usize];
                next[p as usize] += 1;
                ds.push(Delivery {
                    index: i,
                    partition: p,
                    offset,
                });
                read.push(Consumed {
                    partition: p,
                    offset,
                    timestamp: 1,
                    key: r.key.clone(),
                    value: r.value.clone(),
                    headers: r.headers.clone(),
                });
            }
            reports.push(ds);
        }
        (reports, read)
    }

    fn runs<'a>(a: &'a [Record], b: &'a [Record], d: &'a [Vec<Delivery>]) -> [Run<'a>; 2] {
        [
            Run {
                name: "a",
                records: a,
                reports: Reports::Offsets(&d[0]),
            },
            Run {
                name: "b",
                records: b,
                reports: Reports::Partitions(&d[1]),
            },
        ]
    }

    #[test]
    fn a_faithful_read_back_passes_and_every_fault_is_named() {
        let a = records("a", 300, 1, SHAPE);
        let b = records("b", 200, 2, SHAPE);
        let (d, read) = produce(&[&a, &b]);
        let s = read_back(&runs(&a, &b, &d), &read).unwrap();
        assert_eq!(s.records, 500);
        assert_eq!(s.per_partition.values().sum::<usize>(), 500);

        let err =
            |read: &[Consumed], d: &[Vec<Delivery>]| read_back(&runs(&a, &b, d), read).unwrap_err();
        let mut lost = read.clone();
        lost.pop();
        assert!(
            err(&lost, &d).contains("was not read back"),
            "{}",
            err(&lost, &d)
        );

        let mut twice = read.clone();
        twice.push(Consumed {
            offset: 1_000,
            ..read[0].clone()
        });
        assert!(err(&twice, &d).contains("not dense"), "{}", err(&twice, &d));

        let mut changed = read.clone();
        changed[7].key = Some(b"not sent".to_vec());
        assert!(err(&changed, &d).contains("nobody sent"));

        let mut swapped = read.clone();
        let (x, y) = (swapped[0].offset, swapped[2].offset);
        swapped[0].offset = y;
        swapped[2].offset = x;
        assert!(
            err(&swapped, &d).contains("before record"),
            "{}",
            err(&swapped, &d)
        );

        let mut bad = d.clone();
        bad[0][5].offset += 2;
        assert!(err(&read, &bad).contains("reported at offset"));
        let mut unknown = d.clone();
        unknown[1][3].offset = -1;
        read_back(&runs(&a, &b, &unknown), &read).expect("-1 is an unknown offset");
        let ends: Vec<(i32, i64)> = s
            .per_partition
            .iter()
            .map(|(p, n)| (*p, *n as i64))
            .collect();
        end_offsets(&ends, 2, &s).unwrap();
        assert!(end_offsets(&ends[..1], 2, &s).is_err());
        assert!(end_offsets(&ends, 3, &s).is_err());
        let mut short = d.clone();
        short[0].pop();
        assert!(err(&read, &short).contains("delivery reports for 300 records"));
    }
}
