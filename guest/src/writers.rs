//! One writer per replica: two nodes replicating the same database to the same replica
//! interleave their histories silently (Litestream 0.5 adopts the replica's position
//! at start, `detected database behind replica`, and carries on; 0.3 starts a
//! generation of its own). A legitimate restore-then-replicate logs the same line, so
//! the evidence is the replica itself, compared with what this node wrote:
//!
//! - 0.5: a level-0 LTX file on the replica whose TXID range this node also wrote but
//!   whose size differs is another node's transaction; a replica ahead of every TXID
//!   this node wrote holds another node's (this node uploads only what it wrote, and
//!   the replica is listed before the local files). A node that restored from the
//!   replica starts from the replica's newest file, which it fetches: the same file.
//! - 0.3: another generation still written after this node's generation started.

use crate::model::{LitestreamLine, WritersEvidence, WritersVerdict};
use serde_json::Value;

/// How much later than this node's generation start another generation's last write
/// must be: the listing's times have whole seconds, and a restart's old generation
/// ends in the second the new one starts.
const GENERATION_SLACK_SECONDS: i64 = 1;

pub fn judge(line: LitestreamLine, e: &WritersEvidence) -> WritersVerdict {
    match line {
        LitestreamLine::V05 => judge_05(e),
        LitestreamLine::V03 => judge_03(e),
    }
}

/// (min TXID, max TXID, size).
type Ltx = (u64, u64, u64);

fn judge_05(e: &WritersEvidence) -> WritersVerdict {
    let replica = match replica_files(&e.listing) {
        Ok(files) => files,
        Err(why) => return WritersVerdict::Unknown(why),
    };
    let local: Vec<Ltx> = e
        .local_files
        .iter()
        .filter_map(|f| Some((range(&f.name)?, f.size)))
        .map(|((a, b), s)| (a, b, s))
        .collect();
    let Some(local_max) = local.iter().map(|f| f.1).max() else {
        return WritersVerdict::Unknown("this node has written no LTX file yet".into());
    };
    for (min, max, size) in &replica {
        if let Some((_, _, ours)) = local.iter().find(|(a, b, _)| a == min && b == max)
            && ours != size
        {
            return WritersVerdict::AnotherWriter(format!(
                "the replica's transaction {max} is not the one this node wrote ({size} bytes there, {ours} here)"
            ));
        }
    }
    match replica.iter().map(|f| f.1).max() {
        Some(newest) if newest > local_max => WritersVerdict::AnotherWriter(format!(
            "the replica holds transaction {newest}, but this node has written only up to {local_max}"
        )),
        _ => WritersVerdict::Alone,
    }
}

/// `litestream ltx -level 0 -json`: a JSON list of {min_txid, max_txid (hex), size}.
fn replica_files(listing: &str) -> Result<Vec<Ltx>, String> {
    let json: Value =
        serde_json::from_str(listing).map_err(|e| format!("the replica listing is not JSON: {e}"))?;
    let items = json.as_array().ok_or("the replica listing is not a JSON list")?;
    let hex = |v: Option<&Value>| v.and_then(Value::as_str).and_then(|t| u64::from_str_radix(t, 16).ok());
    items
        .iter()
        .map(|f| {
            match (hex(f.get("min_txid")), hex(f.get("max_txid")), f.get("size").and_then(Value::as_u64)) {
                (Some(a), Some(b), Some(s)) => Ok((a, b, s)),
                _ => Err(format!("an LTX file in the replica listing is unreadable: {f}")),
            }
        })
        .collect()
}

/// `0000000000000004-0000000000000006.ltx` → (4, 6).
fn range(name: &str) -> Option<(u64, u64)> {
    let (min, max) = name.strip_suffix(".ltx")?.split_once('-')?;
    Some((u64::from_str_radix(min, 16).ok()?, u64::from_str_radix(max, 16).ok()?))
}

fn judge_03(e: &WritersEvidence) -> WritersVerdict {
    let Some(ours) = e.generation.as_deref().map(str::trim).filter(|g| !g.is_empty()) else {
        return WritersVerdict::Unknown("this node has no generation yet".into());
    };
    // `name generation lag start end`, one line per replica and generation.
    let rows: Vec<(&str, i64, i64)> = e
        .listing
        .lines()
        .skip(1)
        .filter_map(|l| {
            let cols: Vec<&str> = l.split_whitespace().collect();
            let [_, generation, _, start, end] = cols.as_slice() else { return None };
            Some((*generation, seconds(start)?, seconds(end)?))
        })
        .collect();
    let Some(&(_, started, _)) = rows.iter().find(|(g, _, _)| *g == ours) else {
        return WritersVerdict::Unknown(format!(
            "the replica does not list this node's generation {ours} yet"
        ));
    };
    match rows.iter().find(|(g, _, end)| *g != ours && *end > started + GENERATION_SLACK_SECONDS) {
        Some((other, _, _)) => WritersVerdict::AnotherWriter(format!(
            "generation {other} on the replica was still written after this node's generation {ours} started"
        )),
        None => WritersVerdict::Alone,
    }
}

/// Seconds since the epoch of a `2026-12-02T05:37:29Z` time (UTC, whole seconds).
fn seconds(text: &str) -> Option<i64> {
    let (date, time) = text.strip_suffix('Z')?.split_once('T')?;
    let d: Vec<i64> = date.split('-').map(|p| p.parse().ok()).collect::<Option<_>>()?;
    let t: Vec<i64> = time.split(':').map(|p| p.parse().ok()).collect::<Option<_>>()?;
    let ([y, m, day], [h, min, s]) = (d.as_slice(), t.as_slice()) else { return None };
    // Days from the civil date (Howard Hinnant's algorithm).
    let (y, m) = if *m <= 2 { (y - 1, m + 9) } else { (*y, m - 3) };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * m + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(days * 86_400 + h * 3600 + min * 60 + s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::LocalFile;

    fn listing(files: &[(u64, u64, u64)]) -> String {
        let items: Vec<String> = files
            .iter()
            .map(|(a, b, s)| format!(r#"{{"level":0,"min_txid":"{a:016x}","max_txid":"{b:016x}","size":{s},"timestamp":"2026-12-02T05:36:59Z"}}"#))
            .collect();
        format!("[{}]", items.join(","))
    }

    fn local(files: &[(u64, u64, u64)]) -> Vec<LocalFile> {
        files.iter().map(|(a, b, s)| LocalFile { name: format!("{a:016x}-{b:016x}.ltx"), size: *s }).collect()
    }

    fn v05(replica: &[(u64, u64, u64)], ours: &[(u64, u64, u64)]) -> WritersVerdict {
        judge(
            LitestreamLine::V05,
            &WritersEvidence { listing: listing(replica), local_files: local(ours), generation: None },
        )
    }

    /// Seen on this machine: node B started on A's replica (TXIDs 1-3), both wrote.
    #[test]
    fn a_second_writer_is_seen_from_both_sides() {
        let replica = [
            (1, 1, 589),
            (2, 2, 229),
            (3, 3, 367),
            (4, 4, 457),
            (5, 5, 544),
            (6, 6, 566),
            (7, 7, 358),
            (8, 8, 367),
        ];
        let b = [(3, 3, 367), (4, 4, 589), (5, 5, 191), (6, 6, 267), (7, 7, 358), (8, 8, 367)];
        let a = [(4, 4, 457), (5, 5, 544), (6, 6, 566)];
        assert!(
            matches!(v05(&replica, &b), WritersVerdict::AnotherWriter(w) if w.contains("transaction 4 is not the one"))
        );
        assert!(
            matches!(v05(&replica, &a), WritersVerdict::AnotherWriter(w) if w.contains("holds transaction 8") && w.contains("up to 6"))
        );
    }

    #[test]
    fn a_node_that_restored_and_replicates_alone_is_alone() {
        // It fetched the replica's newest file at start, then wrote its own.
        let replica = [(1, 1, 589), (2, 2, 229), (3, 3, 367), (4, 4, 100)];
        assert_eq!(v05(&replica, &[(3, 3, 367), (4, 4, 100)]), WritersVerdict::Alone);
        // Listed before this node's newest upload: the replica behind is normal.
        assert_eq!(v05(&replica[..3], &[(3, 3, 367), (4, 4, 100)]), WritersVerdict::Alone);
        assert!(matches!(v05(&replica, &[]), WritersVerdict::Unknown(_)));
        let broken =
            WritersEvidence { listing: "nope".into(), local_files: local(&[(1, 1, 1)]), generation: None };
        assert!(matches!(judge(LitestreamLine::V05, &broken), WritersVerdict::Unknown(_)));
    }

    const GENERATIONS: &str = "name  generation        lag     start                 end
file  638483198e2a7fe9  -885ms  2026-12-02T05:37:29Z  2026-12-02T05:37:33Z
file  a090265f572668d3  -833ms  2026-12-02T05:37:25Z  2026-12-02T05:37:33Z
";

    fn v03(listing: &str, ours: &str) -> WritersVerdict {
        judge(
            LitestreamLine::V03,
            &WritersEvidence {
                listing: listing.into(),
                local_files: vec![],
                generation: Some(format!("{ours}\n")),
            },
        )
    }

    /// Seen on this machine with 0.3.13: A's generation a09… written on after B's began.
    #[test]
    fn on_03_another_generation_written_after_ours_began_is_another_writer() {
        assert!(
            matches!(v03(GENERATIONS, "638483198e2a7fe9"), WritersVerdict::AnotherWriter(w) if w.contains("a090265f572668d3"))
        );
        // From A's side, B's generation began after A's and is written on: also seen.
        assert!(matches!(v03(GENERATIONS, "a090265f572668d3"), WritersVerdict::AnotherWriter(_)));
        // An old generation that ended before ours began (a restore, a restart) is history.
        let handover = "name generation lag start end
file aaaaaaaaaaaaaaaa 0s 2026-12-02T05:30:00Z 2026-12-02T05:37:00Z
file bbbbbbbbbbbbbbbb 0s 2026-12-02T05:37:01Z 2026-12-02T05:40:00Z
";
        assert_eq!(v03(handover, "bbbbbbbbbbbbbbbb"), WritersVerdict::Alone);
        assert!(matches!(v03(handover, "cccccccccccccccc"), WritersVerdict::Unknown(_)));
    }

    #[test]
    fn times_are_seconds_since_the_epoch() {
        assert_eq!(seconds("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(seconds("2026-12-02T05:37:29Z"), Some(1_796_189_849));
        assert_eq!(seconds("2026-12-02"), None);
    }
}
