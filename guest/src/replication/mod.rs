//! Replication lag from positions on both sides. Each look, the host reads
//! Litestream's local files, SQLite's WAL index and the replica's position (0.5: the
//! control socket; 0.3: its `wal segment written` lines); the rules keep a list of
//! changes seen locally and not yet on the replica, and the lag is the age of the
//! oldest. An idle database has none, however long ago its last write.

pub mod evidence;
mod verdict;

use crate::health::field;
use crate::model::{
    EvidencePaths, LagReport, LagState, LitestreamLine, LocalFiles, Observation, PendingChange, Position,
    ReplicationState, ShadowFiles, Tracked, WalPosition,
};
use std::collections::HashMap;

pub use verdict::{parse_max_lag, require_caught_up};

/// Litestream keeps its files in `.<file>-litestream` beside the database.
pub fn paths(line: LitestreamLine, path: &str) -> EvidencePaths {
    let (dir, file) = path.rsplit_once('/').unwrap_or((".", path));
    let meta = format!("{dir}/.{file}-litestream");
    let wal_index = format!("{path}-shm");
    match line {
        LitestreamLine::V05 => {
            EvidencePaths { position_source: format!("{meta}/ltx/0"), shadow_directory: None, wal_index }
        }
        LitestreamLine::V03 => EvidencePaths {
            position_source: format!("{meta}/generation"),
            shadow_directory: Some(format!("{meta}/generations/{{generation}}/wal")),
            wal_index,
        },
    }
}

/// At most this many waiting changes are remembered; older ones merge (keeping the
/// oldest time), so the lag can only be overstated, never understated.
const MAX_PENDING: usize = 64;

pub fn track(
    line: LitestreamLine,
    now: f64,
    output: &[String],
    observations: Vec<Observation>,
) -> Vec<Tracked> {
    let uploads = uploads(output);
    let tracked = |o| {
        let (report, state) = look(line, now, &uploads, o);
        Tracked { report, state }
    };
    observations.into_iter().map(tracked).collect()
}

/// 0.3's `wal segment written` lines: the newest end position per `db` field.
fn uploads(output: &[String]) -> HashMap<String, Position> {
    let mut out = HashMap::new();
    for line in output.iter().filter(|l| l.contains("wal segment written")) {
        let (Some(db), Some(position), Some(size)) =
            (field(line, "db"), field(line, "position"), field(line, "sz"))
        else {
            continue;
        };
        // position=GEN/IDX(8 hex):OFFSET is where the segment starts; it is `sz` bytes long.
        let parsed = position.split_once('/').and_then(|(generation, rest)| {
            let (index, offset) = rest.split_once(':')?;
            Some(Position::Wal(WalPosition {
                generation: generation.to_owned(),
                index: u64::from_str_radix(index, 16).ok()?,
                offset: offset.parse::<u64>().ok()?.checked_add(size.parse().ok()?)?,
            }))
        });
        if let Some(p) = parsed {
            out.insert(db, p);
        }
    }
    out
}

/// `{"status":…,"txid":N,"replicated_txid":M}` from `POST /sync`.
fn replicated_txid(body: &str) -> Result<u64, String> {
    let value: serde_json::Value = serde_json::from_str(body)
        .map_err(|e| format!("Litestream's control socket answered something that is not JSON ({e})"))?;
    match value.get("replicated_txid") {
        None => Ok(0),
        Some(v) => v
            .as_u64()
            .ok_or_else(|| format!("Litestream's control socket answered replicated_txid {v}, not a TXID")),
    }
}

fn local(line: LitestreamLine, files: &LocalFiles) -> Result<evidence::Local, String> {
    match (line, files) {
        (LitestreamLine::V05, LocalFiles::Ltx(None))
        | (LitestreamLine::V03, LocalFiles::Shadow(ShadowFiles { newest_file: None, .. })) => {
            Err("Litestream has not written its local position yet".into())
        }
        (LitestreamLine::V05, LocalFiles::Ltx(Some(f))) => evidence::ltx(&f.name, &f.head),
        (
            LitestreamLine::V03,
            LocalFiles::Shadow(ShadowFiles { generation, newest_file: Some(f), newest_size }),
        ) => {
            let generation = generation.as_deref().ok_or("Litestream has no current generation yet")?;
            evidence::shadow(generation, &f.name, *newest_size, &f.head)
        }
        _ => Err("the host read the local files of the other Litestream line".into()),
    }
}

/// The generation a position belongs to (0.3); 0.5 has none.
fn generation(p: &Position) -> Option<&str> {
    match p {
        Position::Txid(_) => None,
        Position::Wal(w) => Some(&w.generation),
    }
}

/// Whether the replica at `replica` holds the change at `p`. Positions of different
/// generations do not compare; a replica in the local generation has superseded
/// every older one (a new generation starts with a snapshot).
fn holds(replica: &Position, p: &Position, local_generation: Option<&str>) -> bool {
    match generation(replica) == generation(p) {
        true => at_or_after(replica, p),
        false => generation(replica).is_some() && local_generation == generation(replica),
    }
}

/// `a` is `b` or later (in the same generation).
fn at_or_after(a: &Position, b: &Position) -> bool {
    match (a, b) {
        (Position::Txid(a), Position::Txid(b)) => a >= b,
        (Position::Wal(a), Position::Wal(b)) => {
            a.generation == b.generation && (a.index, a.offset) >= (b.index, b.offset)
        }
        _ => false,
    }
}

/// The first position after `p`: a change committed past it but not yet taken in.
fn next(p: &Position) -> Position {
    match p {
        Position::Txid(t) => Position::Txid(t + 1),
        Position::Wal(w) => Position::Wal(WalPosition { offset: w.offset + 1, ..w.clone() }),
    }
}

/// How far `local` is ahead of `replica`, in the line's unit, when they compare.
fn behind_by(local: &Position, replica: &Position) -> Option<u64> {
    match (local, replica) {
        (Position::Txid(l), Position::Txid(r)) => Some(l.saturating_sub(*r)),
        (Position::Wal(l), Position::Wal(r)) if l.generation == r.generation && l.index == r.index => {
            Some(l.offset.saturating_sub(r.offset))
        }
        _ => None,
    }
}

fn look(
    line: LitestreamLine,
    now: f64,
    uploads: &HashMap<String, Position>,
    o: Observation,
) -> (LagReport, LagState) {
    let mut s = o.state;
    let local = local(line, &o.files);
    // The replica's position seen in this look, or why the evidence is unreadable.
    let (seen, mut unknown) = match (line, &o.socket) {
        (LitestreamLine::V05, Some(Ok(body))) => match replicated_txid(body) {
            // 0 means "not known yet" (or reset by a replica error): keep the last known.
            Ok(txid) => ((txid > 0).then_some(Position::Txid(txid)), None),
            Err(e) => (None, Some(e)),
        },
        (LitestreamLine::V05, Some(Err(e))) => (None, Some(e.clone())),
        (LitestreamLine::V05, None) => (None, Some("Litestream's control socket was not asked".to_owned())),
        (LitestreamLine::V03, _) => {
            let file = o.path.rsplit('/').next().unwrap_or(&o.path);
            (uploads.get(&o.path).or_else(|| uploads.get(file)).cloned(), None)
        }
    };
    // 0.3 says nothing about a replica it has nothing to upload to: at its first sync it
    // uploads any difference (and logs it), so its starting position is the baseline.
    let seen = match (line, seen, &s.replica, &local) {
        (LitestreamLine::V03, None, None, Ok(l)) => Some(l.position.clone()),
        (_, seen, _, _) => seen,
    };
    if let Some(r) = seen
        && s.replica.as_ref() != Some(&r)
    {
        s.replica = Some(r);
        s.replicated_at = Some(now);
    }
    let local_generation = local.as_ref().ok().and_then(|l| generation(&l.position));
    if let Some(r) = &s.replica {
        s.pending.retain(|p| !holds(r, &p.position, local_generation));
    }
    match &local {
        Ok(l) => note_pending(&mut s, l, evidence::committed(&o.wal_index), now),
        Err(e) if unknown.is_none() => unknown = Some(e.clone()),
        Err(_) => {}
    }
    s.unknown_since = unknown.as_ref().map(|_| s.unknown_since.unwrap_or(now));
    let report = report(o.name, &s, local.ok(), unknown, now);
    (report, s)
}

/// Records the newest local change when the replica does not hold it and no change
/// already waiting reaches as far. SQLite commits that Litestream has not taken in
/// yet (a frozen or stuck Litestream) count as one step past its position.
fn note_pending(s: &mut LagState, l: &evidence::Local, committed: Option<evidence::Committed>, now: f64) {
    let beyond = evidence::committed_beyond(l, committed);
    let target = if beyond { next(&l.position) } else { l.position.clone() };
    if s.replica.as_ref().is_some_and(|r| holds(r, &target, generation(&l.position))) {
        return;
    }
    if s.pending.last().is_some_and(|p| at_or_after(&p.position, &target)) {
        return;
    }
    // Litestream 0.5 stamps each LTX file when it makes it: earlier than our look. Only
    // against a known replica: an old file before the first replica answer is not news.
    let since = match (beyond, l.written_at, &s.replica) {
        (false, Some(at), Some(_)) => at.min(now),
        _ => now,
    };
    s.pending.push(PendingChange { position: target, since });
    if s.pending.len() > MAX_PENDING {
        let oldest = s.pending.remove(0);
        s.pending[0].since = oldest.since;
    }
}

fn report(
    name: String,
    s: &LagState,
    local: Option<evidence::Local>,
    unknown: Option<String>,
    now: f64,
) -> LagReport {
    let local = local.map(|l| l.position);
    let lag_seconds = s.pending.first().map_or(0.0, |p| (now - p.since).max(0.0));
    let behind_by = match (&local, &s.replica) {
        (Some(l), Some(r)) => behind_by(l, r),
        _ => None,
    };
    let (state, reason) = match (unknown, s.pending.is_empty()) {
        (Some(why), _) => (ReplicationState::Unknown, why),
        (None, true) => (
            ReplicationState::CaughtUp,
            format!("caught up at {}", local.as_ref().map_or_else(String::new, show)),
        ),
        (None, false) => (ReplicationState::Behind, verdict::behind_words(lag_seconds, s.replicated_at)),
    };
    LagReport {
        name,
        state,
        lag_seconds,
        local,
        replica: s.replica.clone(),
        behind_by,
        replicated_at: s.replicated_at,
        unknown_since: s.unknown_since,
        observed_at: now,
        reason,
    }
}

/// `txid 42` (0.5) or `e4ee4096aa45a8bc/00000001:4152` (0.3, as Litestream logs it).
pub fn show(p: &Position) -> String {
    match p {
        Position::Txid(t) => format!("txid {t}"),
        Position::Wal(w) => format!("{}/{:08x}:{}", w.generation, w.index, w.offset),
    }
}

#[cfg(test)]
mod tests;
