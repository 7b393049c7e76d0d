//! The status page: plain server-rendered HTML in Datasette's look, no scripts.

use super::Report;
use std::fmt::Write;

/// Datasette's palette and type, enough to feel at home beside its pages.
const STYLE: &str = "body{margin:0;font-family:\"Helvetica Neue\",sans-serif;font-size:1rem;color:#111a35;line-height:1.5}\
header.hd{background:#276890;color:#fff;padding:0.6rem 1rem}header.hd a{color:#fff;text-decoration:none;font-weight:bold}\
section.content{padding:1rem 1.5rem;max-width:70rem}h1{font-size:2rem;margin:0.5rem 0}h2{font-size:1.4rem;margin-top:1.8rem}\
table{border-collapse:collapse}td,th{border-bottom:1px solid #ddd;padding:0.3rem 0.8rem;text-align:left;vertical-align:top}\
th{background:#f7f7f7}pre{background:#f5f5f5;padding:0.8rem;overflow:auto;font-size:0.85rem}\
.ok{color:#1a7f37;font-weight:bold}.bad{color:#b3261e;font-weight:bold}.note{color:#555}";

pub fn page(r: &Report) -> String {
    let mut o = String::with_capacity(16 * 1024);
    let _ = write!(
        o,
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Litestream status</title>\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><style>{STYLE}</style></head>\
         <body><header class=\"hd\"><a href=\"/\">home</a></header><section class=\"content\">"
    );
    body(&mut o, r);
    o.push_str("</section></body></html>");
    o
}

/// Databases whose own config was refused: not replicated until fixed or removed.
fn refused(o: &mut String, r: &Report) {
    if r.refused.is_empty() {
        return;
    }
    o.push_str(
        "<h2 id=\"refused\" class=\"bad\">Not replicated: configuration refused</h2>\
         <table><tr><th>database</th><th>key</th><th>problem</th><th>fix</th></tr>",
    );
    for e in &r.refused {
        let _ = write!(
            o,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(e.database.as_deref().unwrap_or("-")),
            esc(&e.key),
            esc(&e.problem),
            esc(e.hint.as_deref().unwrap_or("-"))
        );
    }
    o.push_str("</table>");
}

/// The page's content. (The Datasette plugin renders its own page from the same JSON,
/// in Datasette's chrome; one renderer for both is still to come.)
pub fn body(o: &mut String, r: &Report) {
    let s = &r.litestream.status;
    let _ = write!(o, "<h1>Litestream status</h1>");
    let (class, word) = if r.health.ok { ("ok", "healthy") } else { ("bad", "unhealthy") };
    let _ =
        write!(o, "<p id=\"health\"><span class=\"{class}\">{word}</span>: {}</p>", esc(&r.health.reason));
    if !r.health.behind.is_empty() {
        o.push_str("<ul>");
        for b in &r.health.behind {
            let _ = write!(o, "<li>{}</li>", esc(b));
        }
        o.push_str("</ul>");
    }
    refused(o, r);
    o.push_str("<h2 id=\"process\">Process</h2>");
    if let Some(reason) = &r.reason {
        let _ = write!(o, "<p>Litestream is not running: {}</p>", esc(reason));
    } else {
        o.push_str("<table>");
        let mut row = |k: &str, v: String| {
            let _ = write!(o, "<tr><th>{k}</th><td>{}</td></tr>", esc(&v));
        };
        row("state", s.state.to_string());
        row("pid", s.pid.map_or("-".into(), |p| p.to_string()));
        row("uptime", r.litestream.uptime_seconds.map_or("-".into(), |u| format!("{u:.0} s")));
        row("replicating", if s.replicating { "confirmed".into() } else { "not confirmed".into() });
        row("restarts", s.restarts.to_string());
        row("reloads", s.reloads.to_string());
        row("credential rotations", s.rotations.to_string());
        row("last exit", s.last_exit.clone().unwrap_or_else(|| "-".into()));
        row("version", format!("{} ({})", s.version, s.binary));
        o.push_str("</table>");
    }
    o.push_str("<h2 id=\"databases\">Databases</h2><table><tr><th>name</th><th>path</th><th>replicated</th><th>last verification</th></tr>");
    for d in &r.databases {
        let verified = d.last_verification.as_ref().map_or("never".to_owned(), |v| {
            format!("{} {:.0} s ago: {}", v.outcome, crate::clock::now() - v.at, v.reason)
        });
        let _ = write!(
            o,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&d.name),
            esc(&d.path),
            if d.replicated { "yes" } else { "no" },
            esc(&verified)
        );
    }
    o.push_str("</table>");
    replication(o, r);
    for w in &r.warnings {
        let _ = write!(o, "<p class=\"note\">warning: {}</p>", esc(w));
    }
    o.push_str("<h2 id=\"metrics\">Metrics</h2>");
    match (&r.metrics, &r.metrics_note) {
        (Some(m), _) => {
            o.push_str("<table>");
            for (k, v) in &m.go {
                let _ = write!(o, "<tr><th>{k}</th><td>{v}</td></tr>");
            }
            o.push_str("</table><h3>Replica operations</h3><table><tr><th>measure</th><th>replica type</th><th>operation</th><th>value</th></tr>");
            if m.replica_operations.values().all(Vec::is_empty) {
                o.push_str("<tr><td colspan=\"4\" class=\"note\">none yet (file:// replicas never count operations)</td></tr>");
            }
            for (measure, ops) in &m.replica_operations {
                for op in ops {
                    let _ = write!(
                        o,
                        "<tr><td>{measure}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                        esc(&op.replica_type),
                        esc(&op.operation),
                        op.value
                    );
                }
            }
            o.push_str("</table>");
            for (db, values) in &m.databases {
                let _ = write!(o, "<h3>{}</h3><table>", esc(db));
                for (k, v) in values {
                    let _ = write!(o, "<tr><th>{}</th><td>{v}</td></tr>", esc(k));
                }
                o.push_str("</table>");
            }
        }
        (None, Some(note)) => {
            let _ = write!(o, "<p class=\"note\">{}</p>", esc(note));
        }
        (None, None) => o.push_str("<p class=\"note\">No metrics available.</p>"),
    }
    o.push_str("<h2 id=\"config\">Configuration</h2>");
    match &r.config {
        Some(c) => {
            let _ = write!(o, "<pre>{}</pre>", esc(c));
        }
        None => o.push_str("<p class=\"note\">No Litestream configuration: nothing is replicated.</p>"),
    }
    o.push_str("<h2 id=\"logs\">Recent Litestream output</h2><pre>");
    for l in &r.logs {
        let _ = writeln!(o, "{}", esc(&l.text));
    }
    o.push_str("</pre>");
}

fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Each replicated database's lag: positions on both sides and how long changes waited.
fn replication(o: &mut String, r: &Report) {
    let rows: Vec<_> = r.databases.iter().filter_map(|d| Some((d, d.replication.as_ref()?))).collect();
    if rows.is_empty() {
        return;
    }
    o.push_str("<h2 id=\"replication\">Replication</h2><table><tr><th>name</th><th>state</th><th>lag</th><th>local position</th><th>replica position</th><th>behind by</th><th>last replicated</th><th>why</th></tr>");
    let position = |p: &Option<super::PositionReport>| match p {
        None => "-".to_owned(),
        Some(p) if p.generation.is_empty() => format!("txid {}", p.index),
        Some(p) => format!("{}/{:08x}:{}", p.generation, p.index, p.offset),
    };
    for (d, rep) in rows {
        let class = if rep.state == super::LagState::CaughtUp { "ok" } else { "bad" };
        let _ = write!(
            o,
            "<tr><td>{}</td><td class=\"{class}\">{}</td><td>{:.1} s</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&d.name),
            rep.state,
            rep.lag_seconds,
            esc(&position(&rep.local_position)),
            esc(&position(&rep.replica_position)),
            rep.behind_by.map_or("-".to_owned(), |b| b.to_string()),
            esc(rep.last_replicated_at.as_deref().unwrap_or("-")),
            esc(&rep.reason)
        );
    }
    o.push_str("</table>");
}
