//! The results as an SVG chart, built as a plain string: throughput per concurrency level on
//! the left, latency percentiles on the right (pending mode: memory with and without the
//! pending requests).

use crate::report::Report;
use std::fmt::Write as _;

const WIDTH: f64 = 960.0;
const HEIGHT: f64 = 420.0;
const PANEL_W: f64 = 400.0;
const PANEL_H: f64 = 280.0;
const TOP: f64 = 70.0;
const COLORS: [&str; 4] = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd"];

/// Text safe inside SVG.
fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// A "nice" axis maximum at or above `max`.
fn nice_max(max: f64) -> f64 {
    if max <= 0.0 {
        return 1.0;
    }
    let magnitude = 10f64.powf(max.log10().floor());
    [1.0, 2.0, 2.5, 5.0, 10.0]
        .iter()
        .map(|m| m * magnitude)
        .find(|v| *v >= max)
        .unwrap_or(10.0 * magnitude)
}

/// Axes with five horizontal grid lines, labelled, for a panel at `x`.
fn axes(svg: &mut String, x: f64, max: f64, title: &str, unit: &str) {
    let _ = write!(
        svg,
        r#"<text x="{tx}" y="{ty}" font-size="15" font-weight="bold">{title}</text>"#,
        tx = x,
        ty = TOP - 20.0,
        title = esc(title)
    );
    for i in 0..=5 {
        let v = max * f64::from(i) / 5.0;
        let y = TOP + PANEL_H - PANEL_H * f64::from(i) / 5.0;
        let _ = write!(
            svg,
            r##"<line x1="{x}" y1="{y}" x2="{x2}" y2="{y}" stroke="#ddd"/><text x="{lx}" y="{ly}" font-size="11" text-anchor="end">{v}</text>"##,
            x2 = x + PANEL_W,
            lx = x - 6.0,
            ly = y + 4.0,
            v = format_value(v)
        );
    }
    let _ = write!(
        svg,
        r#"<text x="{x}" y="{y}" font-size="11">{unit}</text>"#,
        y = TOP - 5.0,
        unit = esc(unit)
    );
}

fn format_value(v: f64) -> String {
    if v >= 100.0 || v == v.round() {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}

/// The chart of a report.
pub fn render(report: &Report) -> String {
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}" font-family="sans-serif"><rect width="100%" height="100%" fill="white"/>"#
    );
    let m = &report.machine;
    let _ = write!(
        svg,
        r#"<text x="20" y="22" font-size="13">Assent {mode}, {cores} cores, {mem} MiB, {cpu} (P-256 sign {sign:.0} us, check {check:.0} us), server: {server}</text>"#,
        mode = if report.pending.is_some() {
            "pending requests"
        } else {
            "complete flows"
        },
        cores = m.cores,
        mem = m.memory_mib,
        cpu = esc(&m.cpu_model),
        sign = report.calibration.p256_sign_us,
        check = report.calibration.p256_verify_us,
        server = esc(&report.server.mode),
    );
    match &report.pending {
        Some(_) => pending(&mut svg, report),
        None => flows(&mut svg, report),
    }
    svg.push_str("</svg>\n");
    svg
}

fn flows(svg: &mut String, report: &Report) {
    let levels = &report.levels;
    if levels.is_empty() {
        return;
    }
    let n = levels.len() as f64;
    let slot = PANEL_W / n;
    let label = |svg: &mut String, x0: f64, i: usize, c: usize| {
        let _ = write!(
            svg,
            r#"<text x="{x}" y="{y}" font-size="11" text-anchor="middle">c={c}</text>"#,
            x = x0 + slot * (i as f64 + 0.5),
            y = TOP + PANEL_H + 16.0
        );
    };

    // Throughput.
    let x0 = 70.0;
    let max = nice_max(
        levels
            .iter()
            .flat_map(|l| [Some(l.flows_per_s), l.cpu_bound_flows_per_s])
            .flatten()
            .fold(0.0, f64::max),
    );
    axes(svg, x0, max, "Complete flows per second", "flows/s");
    // What the cores would allow at the measured CPU per flow: a dashed mark above each bar.
    let mut bounded = false;
    for (i, l) in levels.iter().enumerate() {
        let Some(bound) = l.cpu_bound_flows_per_s else {
            continue;
        };
        bounded = true;
        let y = TOP + PANEL_H - PANEL_H * bound / max;
        let _ = write!(
            svg,
            r##"<line x1="{x1}" y1="{y}" x2="{x2}" y2="{y}" stroke="#555" stroke-width="2" stroke-dasharray="4 3"/>"##,
            x1 = x0 + slot * i as f64 + slot * 0.1,
            x2 = x0 + slot * i as f64 + slot * 0.9,
        );
    }
    if bounded {
        let _ = write!(
            svg,
            r##"<line x1="{x}" y1="{y}" x2="{x2}" y2="{y}" stroke="#555" stroke-width="2" stroke-dasharray="4 3"/><text x="{tx}" y="{ty}" font-size="11">what the cores allow at this CPU per flow</text>"##,
            x = x0 + 10.0,
            x2 = x0 + 30.0,
            y = TOP + 11.0,
            tx = x0 + 35.0,
            ty = TOP + 15.0
        );
    }
    for (i, l) in levels.iter().enumerate() {
        let h = PANEL_H * l.flows_per_s / max;
        let x = x0 + slot * i as f64 + slot * 0.2;
        let _ = write!(
            svg,
            r#"<rect x="{x}" y="{y}" width="{w}" height="{h}" fill="{c}"/><text x="{tx}" y="{ty}" font-size="11" text-anchor="middle">{v:.0}</text>"#,
            y = TOP + PANEL_H - h,
            w = slot * 0.6,
            c = COLORS[0],
            tx = x + slot * 0.3,
            ty = TOP + PANEL_H - h - 4.0,
            v = l.flows_per_s
        );
        label(svg, x0, i, l.concurrency);
    }

    // Latency percentiles.
    let x0 = 530.0;
    type Pick = fn(&crate::report::Level) -> f64;
    let series: [(&str, Pick); 4] = [
        ("flow p50", |l| l.latency.flow.p50_ms),
        ("flow p99", |l| l.latency.flow.p99_ms),
        ("answer to result p99", |l| {
            l.latency.answer_to_result.p99_ms
        }),
        ("create p99", |l| l.latency.create.p99_ms),
    ];
    let max = nice_max(
        levels
            .iter()
            .flat_map(|l| series.iter().map(move |(_, f)| f(l)))
            .fold(0.0, f64::max),
    );
    axes(svg, x0, max, "Latency percentiles", "ms");
    for (k, (name, pick)) in series.iter().enumerate() {
        let points: Vec<String> = levels
            .iter()
            .enumerate()
            .map(|(i, l)| {
                format!(
                    "{:.1},{:.1}",
                    x0 + slot * (i as f64 + 0.5),
                    TOP + PANEL_H - PANEL_H * pick(l) / max
                )
            })
            .collect();
        let color = COLORS[k % COLORS.len()];
        let _ = write!(
            svg,
            r#"<polyline points="{p}" fill="none" stroke="{color}" stroke-width="2"/>"#,
            p = points.join(" ")
        );
        for p in &points {
            if let Some((x, y)) = p.split_once(',') {
                let _ = write!(svg, r#"<circle cx="{x}" cy="{y}" r="3" fill="{color}"/>"#);
            }
        }
        let _ = write!(
            svg,
            r#"<rect x="{x}" y="{y}" width="10" height="10" fill="{color}"/><text x="{tx}" y="{ty}" font-size="11">{name}</text>"#,
            x = x0 + 10.0,
            y = TOP + 6.0 + 16.0 * k as f64,
            tx = x0 + 25.0,
            ty = TOP + 15.0 + 16.0 * k as f64
        );
    }
    for (i, l) in levels.iter().enumerate() {
        label(svg, x0, i, l.concurrency);
    }
    let _ = write!(
        svg,
        r#"<text x="20" y="{y}" font-size="11">Closed loop, {users} users, one request per user at a time; c = concurrent relying-party workers.</text>"#,
        y = HEIGHT - 20.0,
        users = report.setup.users
    );
}

fn pending(svg: &mut String, report: &Report) {
    let Some(p) = &report.pending else { return };
    let x0 = 70.0;
    let idle = p.server_rss_idle_mib.unwrap_or(0.0);
    let holding = p.server_rss_holding_mib.unwrap_or(0.0);
    let peak = p.server_peak_rss_mib.unwrap_or(0.0);
    let max = nice_max(idle.max(holding).max(peak));
    axes(svg, x0, max, "Server resident memory", "MiB");
    let bars = [("idle", idle), ("holding", holding), ("peak", peak)];
    let slot = PANEL_W / bars.len() as f64;
    for (i, (name, v)) in bars.iter().enumerate() {
        let h = PANEL_H * v / max;
        let x = x0 + slot * i as f64 + slot * 0.2;
        let _ = write!(
            svg,
            r#"<rect x="{x}" y="{y}" width="{w}" height="{h}" fill="{c}"/><text x="{tx}" y="{ty}" font-size="11" text-anchor="middle">{v:.0}</text><text x="{tx}" y="{ly}" font-size="11" text-anchor="middle">{name}</text>"#,
            y = TOP + PANEL_H - h,
            w = slot * 0.6,
            c = COLORS[i % COLORS.len()],
            tx = x + slot * 0.3,
            ty = TOP + PANEL_H - h - 4.0,
            ly = TOP + PANEL_H + 16.0
        );
    }
    let lines = [
        format!(
            "{} requests pending at once, each with an open relying-party wait",
            p.created
        ),
        format!(
            "{} of {} waits returned approved with a receipt",
            p.completed, p.requested
        ),
        match p.server_bytes_per_pending {
            Some(b) => format!("server memory per pending request: {:.1} KiB", b / 1024.0),
            None => "server memory per pending request: not observed".into(),
        },
        format!(
            "created in {:.1} s, all answered in {:.1} s",
            p.create_seconds, p.answer_seconds
        ),
        format!(
            "answer to result: p50 {:.1} ms, p99 {:.1} ms",
            p.answer_to_result.p50_ms, p.answer_to_result.p99_ms
        ),
        format!("errors: {}", p.errors.total()),
    ];
    for (i, line) in lines.iter().enumerate() {
        let _ = write!(
            svg,
            r#"<text x="530" y="{y}" font-size="13">{t}</text>"#,
            y = TOP + 20.0 + 24.0 * i as f64,
            t = esc(line)
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nice_maxima() {
        assert_eq!(nice_max(0.0), 1.0);
        assert_eq!(nice_max(3.2), 5.0);
        assert_eq!(nice_max(1800.0), 2000.0);
        assert_eq!(nice_max(2400.0), 2500.0);
        assert_eq!(esc("a<b&c"), "a&lt;b&amp;c");
    }
}
