//! Reading the raw bytes the host gathered: Litestream's own files (its local
//! position) and SQLite's WAL index (what has been committed). Layouts:
//! docs/research/replication-positions.md.

use crate::model::{Position, WalPosition};

/// Litestream's local position and the end of the WAL it has taken in.
#[derive(Debug, Clone, PartialEq)]
pub struct Local {
    pub position: Position,
    /// The WAL offset where Litestream's view ends.
    pub wal_end: u64,
    /// The salts of that WAL (as the 8 bytes SQLite writes them).
    pub salts: [u8; 8],
    /// 0.5: when Litestream made its newest LTX file (Unix seconds).
    pub written_at: Option<f64>,
}

/// What SQLite's WAL index says has been committed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Committed {
    /// Frames in the WAL up to the last commit.
    pub frames: u64,
    /// The offset just past the last committed frame.
    pub end: u64,
    pub salts: [u8; 8],
}

const LTX_HEADER: usize = 80;
const WAL_HEADER: u64 = 32;
const FRAME_HEADER: u64 = 24;

fn be64(b: &[u8], at: usize) -> u64 {
    u64::from_be_bytes(b[at..at + 8].try_into().expect("8 bytes"))
}

fn salts(b: &[u8], at: usize) -> [u8; 8] {
    b[at..at + 8].try_into().expect("8 bytes")
}

/// 0.5: the highest L0 file, `MINTXID-MAXTXID.ltx`, and its header.
pub fn ltx(name: &str, header: &[u8]) -> Result<Local, String> {
    if header.len() < LTX_HEADER || &header[..4] != b"LTX1" {
        return Err(format!("Litestream's newest LTX file {name} has no LTX header"));
    }
    let txid = be64(header, 24);
    let millis = be64(header, 32) as i64;
    Ok(Local {
        position: Position::Txid(txid),
        wal_end: be64(header, 48).saturating_add(be64(header, 56)),
        salts: salts(header, 64),
        written_at: (millis > 0).then_some(millis as f64 / 1000.0),
    })
}

/// 0.3: the largest shadow WAL file (`<index:08x>.wal`), its size and its WAL header.
pub fn shadow(generation: &str, name: &str, size: u64, header: &[u8]) -> Result<Local, String> {
    let index = name
        .strip_suffix(".wal")
        .and_then(|hex| u64::from_str_radix(hex, 16).ok())
        .ok_or_else(|| format!("Litestream's shadow WAL file {name} is not named <index>.wal"))?;
    if header.len() < WAL_HEADER as usize {
        return Err(format!("Litestream's shadow WAL file {name} has no WAL header yet"));
    }
    let page = u32::from_be_bytes(header[8..12].try_into().expect("4 bytes")) as u64;
    let frame = FRAME_HEADER + if page == 1 { 65536 } else { page };
    // Litestream copies whole frames; a partial one would be mid-copy.
    let offset = match size {
        s if s < WAL_HEADER => 0,
        s => WAL_HEADER + (s - WAL_HEADER) / frame * frame,
    };
    Ok(Local {
        position: Position::Wal(WalPosition { generation: generation.trim().to_owned(), index, offset }),
        wal_end: offset,
        salts: salts(header, 16),
        written_at: None,
    })
}

/// The WAL index header (`-shm`, native byte order: both platforms we ship are
/// little-endian). SQLite writes two copies; they differ only mid-update, and then
/// this look has no evidence (the next one will).
pub fn committed(shm: &[u8]) -> Option<Committed> {
    const COPY: usize = 48;
    const VERSION: u32 = 3_007_000;
    if shm.len() < 2 * COPY || shm[..COPY] != shm[COPY..2 * COPY] {
        return None;
    }
    let le32 = |at: usize| u32::from_le_bytes(shm[at..at + 4].try_into().expect("4 bytes"));
    if le32(0) != VERSION || shm[12] != 1 {
        return None;
    }
    let page = match u16::from_le_bytes([shm[14], shm[15]]) as u64 {
        1 => 65536,
        p => p,
    };
    let frames = le32(16) as u64;
    let end = if frames == 0 { 0 } else { WAL_HEADER + frames * (FRAME_HEADER + page) };
    Some(Committed { frames, end, salts: salts(shm, 32) })
}

/// Whether SQLite has committed changes that Litestream has not taken in yet: more
/// frames of the same WAL, or any frame of a WAL restarted since.
pub fn committed_beyond(local: &Local, committed: Option<Committed>) -> bool {
    match committed {
        Some(c) if c.salts == local.salts => c.end > local.wal_end,
        Some(c) => c.frames > 0,
        None => false,
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    pub fn ltx_header(txid: u64, millis: u64, wal_offset: u64, wal_size: u64, salt: [u8; 8]) -> Vec<u8> {
        let mut h = vec![0u8; 100];
        h[..4].copy_from_slice(b"LTX1");
        h[16..24].copy_from_slice(&txid.to_be_bytes());
        h[24..32].copy_from_slice(&txid.to_be_bytes());
        h[32..40].copy_from_slice(&millis.to_be_bytes());
        h[48..56].copy_from_slice(&wal_offset.to_be_bytes());
        h[56..64].copy_from_slice(&wal_size.to_be_bytes());
        h[64..72].copy_from_slice(&salt);
        h
    }

    pub fn shm(frames: u32, page: u16, salt: [u8; 8]) -> Vec<u8> {
        let mut copy = vec![0u8; 48];
        copy[..4].copy_from_slice(&3_007_000u32.to_le_bytes());
        copy[12] = 1;
        copy[14..16].copy_from_slice(&page.to_le_bytes());
        copy[16..20].copy_from_slice(&frames.to_le_bytes());
        copy[32..40].copy_from_slice(&salt);
        [copy.clone(), copy].concat()
    }

    #[test]
    fn ltx_header_gives_txid_wal_end_and_time() {
        let l =
            ltx("0000000000000005-0000000000000005.ltx", &ltx_header(5, 1_700_000_000_500, 32, 8240, [7; 8]))
                .unwrap();
        assert_eq!((l.position, l.wal_end, l.salts), (Position::Txid(5), 8272, [7; 8]));
        assert_eq!(l.written_at, Some(1_700_000_000.5));
        assert!(ltx("x.ltx", b"nope").unwrap_err().contains("x.ltx"));
    }

    #[test]
    fn shadow_offset_is_frame_aligned() {
        let mut h = vec![0u8; 32];
        h[8..12].copy_from_slice(&4096u32.to_be_bytes());
        h[16..24].copy_from_slice(&[3; 8]);
        let l = shadow("e4ee4096aa45a8bc\n", "00000001.wal", 32 + 2 * 4120 + 100, &h).unwrap();
        assert_eq!(
            l.position,
            Position::Wal(WalPosition { generation: "e4ee4096aa45a8bc".into(), index: 1, offset: 8272 })
        );
        assert!(shadow("g", "zz.wal", 32, &h).is_err());
    }

    #[test]
    fn the_wal_index_shows_commits_litestream_has_not_taken_in() {
        let local = ltx("a", &ltx_header(5, 0, 32, 4120, [1; 8])).unwrap();
        assert!(!committed_beyond(&local, committed(&shm(1, 4096, [1; 8]))));
        assert!(committed_beyond(&local, committed(&shm(2, 4096, [1; 8]))));
        // Restarted WAL (new salts): any frame is new; none is not.
        assert!(committed_beyond(&local, committed(&shm(1, 4096, [2; 8]))));
        assert!(!committed_beyond(&local, committed(&shm(0, 4096, [2; 8]))));
        // Torn read (copies differ) or no index: no evidence.
        let mut torn = shm(2, 4096, [1; 8]);
        torn[16] = 9;
        assert_eq!(committed(&torn), None);
        assert_eq!(committed(&[]), None);
    }
}
