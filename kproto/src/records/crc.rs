//! The checksums of record batches: CRC-32C (Castagnoli) for magic 2, CRC-32 (IEEE) for the
//! legacy magic 0 and 1 and for gzip trailers.
//!
//! With the `std` feature CRC-32C uses the `crc32c` crate (SSE4.2 / ARMv8 instructions when the
//! CPU has them); without it, the portable `crc` crate with a 16-way slicing table, which also
//! is what wasm32 and thumbv7em get.

use crc::{Crc, Table, CRC_32_ISCSI, CRC_32_ISO_HDLC};

#[cfg(not(feature = "std"))]
use PORTABLE as CASTAGNOLI;
static IEEE: Crc<u32, Table<16>> = Crc::<u32, Table<16>>::new(&CRC_32_ISO_HDLC);

/// CRC-32C of `data` (Kafka's `Crc32C.compute`).
#[inline]
pub fn crc32c(data: &[u8]) -> u32 {
    #[cfg(feature = "std")]
    {
        crc32c::crc32c(data)
    }
    #[cfg(not(feature = "std"))]
    {
        CASTAGNOLI.checksum(data)
    }
}

/// Continues a CRC-32C: `crc32c_append(crc32c(a), b) == crc32c(a ++ b)`.
#[inline]
pub fn crc32c_append(crc: u32, data: &[u8]) -> u32 {
    #[cfg(feature = "std")]
    {
        crc32c::crc32c_append(crc, data)
    }
    #[cfg(not(feature = "std"))]
    {
        append(&CASTAGNOLI, crc, data)
    }
}

/// Continues a reflected 32-bit CRC: the `crc` crate takes the register before its final xor,
/// in unreflected bit order.
fn append(c: &Crc<u32, Table<16>>, crc: u32, data: &[u8]) -> u32 {
    let mut d = c.digest_with_initial((crc ^ 0xffff_ffff).reverse_bits());
    d.update(data);
    d.finalize()
}

/// The portable (table) CRC-32C, whatever the features: for tests and benchmarks that compare
/// the two paths.
pub fn crc32c_portable(data: &[u8]) -> u32 {
    PORTABLE.checksum(data)
}

static PORTABLE: Crc<u32, Table<16>> = Crc::<u32, Table<16>>::new(&CRC_32_ISCSI);

/// CRC-32 (IEEE 802.3, zlib's `crc32`) of `data`: legacy messages and gzip.
#[inline]
pub fn crc32_ieee(data: &[u8]) -> u32 {
    IEEE.checksum(data)
}

/// Continues a CRC-32 (IEEE).
#[inline]
pub fn crc32_ieee_append(crc: u32, data: &[u8]) -> u32 {
    append(&IEEE, crc, data)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_answers() {
        assert_eq!(crc32c(b"123456789"), 0xE306_9283);
        assert_eq!(crc32c_portable(b"123456789"), 0xE306_9283);
        // Kafka's Crc32CTest.
        assert_eq!(crc32c(b"Some String"), 608_512_271);
        assert_eq!(crc32c_portable(b"Some String"), 608_512_271);
        assert_eq!(crc32c(b""), 0);
        assert_eq!(crc32_ieee(b"123456789"), 0xCBF4_3926);
        // zlib.crc32(b"Some String").
        assert_eq!(crc32_ieee(b"Some String"), 2_021_503_672);
    }

    #[test]
    fn append_continues() {
        let data = b"The quick brown fox jumps over the lazy dog";
        for split in 0..data.len() {
            let (a, b) = data.split_at(split);
            assert_eq!(crc32c_append(crc32c(a), b), crc32c(data));
            assert_eq!(crc32_ieee_append(crc32_ieee(a), b), crc32_ieee(data));
            assert_eq!(append(&PORTABLE, crc32c_portable(a), b), crc32c(data));
        }
    }

    #[test]
    fn hardware_and_portable_agree() {
        let data: alloc::vec::Vec<u8> = (0..5000u32).map(|i| (i * 31 + 7) as u8).collect();
        for len in [0, 1, 7, 8, 15, 16, 63, 64, 1000, 5000] {
            assert_eq!(crc32c(&data[..len]), crc32c_portable(&data[..len]), "{len}");
        }
    }
}
