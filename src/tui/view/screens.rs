//! Full screens: search, statistics, help, and the welcome of an empty store.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Bar, BarChart, BarGroup, Paragraph, Wrap};

use super::block;
use super::main_panes::{age, fit, thousands};
use crate::sanitize::clean;
use crate::tui::app::App;
use crate::tui::theme::Theme;

pub fn search(f: &mut Frame<'_>, app: &App, theme: &Theme, area: Rect) {
    let s = &app.search;
    let [input, results] =
        Layout::vertical([Constraint::Length(3), Constraint::Min(1)]).areas(area);
    let scope = if s.archived {
        "search (archived too)"
    } else {
        "search"
    };
    let b = block(
        Line::styled(format!(" {scope} "), app_title(theme)),
        true,
        theme,
    );
    f.render_widget(
        Paragraph::new(Line::from(vec![
            Span::raw(clean(&s.input)),
            Span::styled("▏", theme.accent),
        ]))
        .block(b),
        input,
    );
    let stale = s.shown != s.generation;
    let count = if s.input.trim().is_empty() {
        " type to search every session ".to_string()
    } else if stale {
        " searching… ".to_string()
    } else {
        format!(" {} sessions ", s.results.len())
    };
    let b = block(Line::styled(count, theme.dim), false, theme);
    let body = b.inner(results);
    f.render_widget(b, results);
    if let Some(e) = &s.error {
        let lines: Vec<Line<'_>> = e
            .lines()
            .map(|l| Line::styled(clean(l), theme.error))
            .collect();
        f.render_widget(Paragraph::new(lines), body);
        return;
    }
    let per = 3usize;
    let rows = usize::from(body.height) / per;
    let first = s.selected.saturating_sub(rows.saturating_sub(1));
    let width = usize::from(body.width);
    let mut lines: Vec<Line<'_>> = Vec::new();
    for (i, hit) in s.results.iter().enumerate().skip(first).take(rows.max(1)) {
        let selected = i == s.selected;
        let mut head = vec![Span::styled(
            fit(&hit.session.name, width.saturating_sub(40).max(10)),
            if selected {
                theme.selected
            } else {
                theme.title
            },
        )];
        match &hit.message {
            Some(m) => {
                head.push(Span::raw(" "));
                head.push(Span::styled(
                    m.role.as_str().to_string(),
                    theme.role(m.role),
                ));
                head.push(Span::styled(
                    format!(" #{} · {}", m.seq, age(m.created_at, app.now)),
                    theme.dim,
                ));
            }
            None => head.push(Span::styled(" name, title or tags", theme.dim)),
        }
        if hit.other_hits > 0 {
            head.push(Span::styled(
                format!(" (+{} more)", hit.other_hits),
                theme.dim,
            ));
        }
        lines.push(Line::from(head));
        let mut spans = vec![Span::raw("  ")];
        let mut at = 0;
        for &[a, b] in &hit.highlights {
            if a < at || b > hit.snippet.len() {
                continue;
            }
            spans.push(Span::raw(clean(&hit.snippet[at..a])));
            spans.push(Span::styled(clean(&hit.snippet[a..b]), theme.highlight));
            at = b;
        }
        spans.push(Span::raw(clean(&hit.snippet[at..])));
        lines.push(Line::from(spans));
        lines.push(Line::raw(""));
    }
    if lines.is_empty() && !stale && !s.input.trim().is_empty() {
        lines.push(Line::styled("no matches", theme.dim));
    }
    f.render_widget(Paragraph::new(lines), body);
}

/// "2026-12" -> "2027-01".
fn next_month(ym: &str) -> String {
    let (y, m) = ym.split_once('-').unwrap_or(("0", "0"));
    let (y, m): (i32, u32) = (y.parse().unwrap_or(0), m.parse().unwrap_or(0));
    if m >= 12 {
        format!("{:04}-01", y + 1)
    } else {
        format!("{y:04}-{:02}", m + 1)
    }
}

fn app_title(theme: &Theme) -> Style {
    theme.title
}

pub fn stats(f: &mut Frame<'_>, app: &App, theme: &Theme, area: Rect) {
    let b = block(Line::styled(" statistics ", theme.title), true, theme);
    let body = b.inner(area);
    f.render_widget(b, area);
    let Some((st, largest)) = &app.stats else {
        f.render_widget(Paragraph::new(Line::styled("loading…", theme.dim)), body);
        return;
    };
    let chart_h = (body.height / 2).clamp(5, 14);
    let [summary, chart, lists] = Layout::vertical([
        Constraint::Length(2),
        Constraint::Length(chart_h),
        Constraint::Min(1),
    ])
    .areas(body);
    f.render_widget(
        Paragraph::new(vec![
            Line::from(vec![
                Span::styled(format!("{} sessions", thousands(st.sessions)), theme.title),
                Span::raw(format!(
                    " ({} live, {} archived, {} in the trash) · ",
                    thousands(st.live),
                    thousands(st.archived),
                    thousands(st.trashed)
                )),
                Span::styled(format!("{} messages", thousands(st.messages)), theme.title),
                Span::raw(format!(" · {} characters", thousands(st.chars))),
            ]),
            Line::styled(
                {
                    let c = &st.compressed;
                    if c.messages > 0 {
                        format!(
                            "messages per month · {} compressed messages save {} MB ({}%)",
                            thousands(c.messages),
                            thousands(c.saved_bytes.div_ceil(1_000_000)),
                            c.saved_bytes * 100 / c.original_bytes.max(1)
                        )
                    } else {
                        "messages per month".to_string()
                    }
                },
                theme.dim,
            ),
        ]),
        summary,
    );
    // Messages per month, the last months that fit.
    let mut months: Vec<(String, u64)> = Vec::new();
    for d in &st.days {
        let m = d.name.get(..7).unwrap_or(&d.name).to_string();
        match months.last_mut() {
            Some((last, n)) if *last == m => *n += d.count,
            _ => months.push((m, d.count)),
        }
    }
    // Months without messages are shown as empty bars, so time reads true.
    let mut filled: Vec<(String, u64)> = Vec::with_capacity(months.len());
    for (m, n) in months {
        while let Some(next) = filled
            .last()
            .map(|(last, _)| next_month(last))
            .filter(|next| *next < m)
        {
            filled.push((next, 0));
        }
        filled.push((m, n));
    }
    let months = filled;
    let fit_n = usize::from(chart.width / 8).max(1);
    let shown = &months[months.len().saturating_sub(fit_n)..];
    let bars: Vec<Bar<'_>> = shown
        .iter()
        .map(|(m, n)| {
            Bar::default()
                .value(*n)
                .label(Line::raw(m.get(2..).unwrap_or(m).to_string()))
                .style(theme.accent)
        })
        .collect();
    f.render_widget(
        BarChart::default()
            .data(BarGroup::default().bars(&bars))
            .bar_width(7)
            .bar_gap(1),
        chart,
    );
    let [a, b2, c] = Layout::horizontal([
        Constraint::Ratio(1, 3),
        Constraint::Ratio(1, 3),
        Constraint::Ratio(1, 3),
    ])
    .areas(lists);
    let col = |title: &str, items: Vec<(String, u64)>| {
        let mut lines = vec![Line::styled(title.to_string(), theme.title)];
        lines.extend(
            items
                .into_iter()
                .map(|(n, c)| Line::raw(format!("{:>7}  {}", thousands(c), clean(&n)))),
        );
        lines
    };
    let tags = st
        .tags
        .iter()
        .take(8)
        .map(|c| (format!("#{}", c.name), c.count))
        .collect();
    let mut sources: Vec<(String, u64)> = st
        .sources
        .iter()
        .take(4)
        .map(|c| (c.name.clone(), c.count))
        .collect();
    sources.push((String::new(), 0));
    let models = st.models.iter().take(4).map(|c| (c.name.clone(), c.count));
    let mut mid = col("sources (sessions)", sources);
    mid.pop();
    mid.push(Line::styled("models (messages)", theme.title));
    mid.extend(models.map(|(n, c)| Line::raw(format!("{:>7}  {}", thousands(c), clean(&n)))));
    mid.push(Line::raw(""));
    mid.push(Line::styled("roles (messages)", theme.title));
    mid.extend(
        st.roles
            .iter()
            .map(|c| Line::raw(format!("{:>7}  {}", thousands(c.count), clean(&c.name)))),
    );
    f.render_widget(
        Paragraph::new(col("top tags", tags)).scroll((app.help_scroll, 0)),
        a,
    );
    f.render_widget(Paragraph::new(mid).scroll((app.help_scroll, 0)), b2);
    let big = largest
        .iter()
        .map(|s| (s.name.clone(), s.message_count))
        .collect();
    f.render_widget(
        Paragraph::new(col("largest (messages)", big)).scroll((app.help_scroll, 0)),
        c,
    );
}

pub fn help(f: &mut Frame<'_>, app: &App, theme: &Theme, area: Rect) {
    let b = block(Line::styled(" keys ", theme.title), true, theme);
    let mut lines: Vec<Line<'_>> = Vec::new();
    for (layer, actions) in app.keymap.help() {
        lines.push(Line::styled(layer.title().to_string(), theme.title));
        for (action, keys) in actions {
            lines.push(Line::from(vec![
                Span::styled(format!("  {:<18}", keys.join(", ")), theme.accent),
                Span::raw(action.describe()),
            ]));
        }
        lines.push(Line::raw(""));
    }
    lines.push(Line::styled(
        "commands (after :, tab completes)",
        theme.title,
    ));
    lines.push(Line::from(vec![
        Span::styled(format!("  {:<18}", ":42"), theme.accent),
        Span::raw("jump to message 42 (as numbered in the headers)"),
    ]));
    for (verb, args, what) in crate::tui::cmdline::VERBS {
        lines.push(Line::from(vec![
            Span::styled(format!("  {:<18}", format!(":{verb} {args}")), theme.accent),
            Span::raw(*what),
        ]));
    }
    lines.push(Line::from(vec![
        Span::styled(format!("  {:<18}", ":ACTION"), theme.accent),
        Span::raw("any action by its config name: :page_down, :toggle_mouse, :view_state"),
    ]));
    lines.push(Line::raw(""));
    lines.push(Line::styled(
        "dialogs: esc cancels (asking first if you typed), tab moves between fields (completes a path), enter confirms (ctrl-s in a text box)",
        theme.dim,
    ));
    lines.push(Line::styled(
        "rebind any key in the config: [ui.keys] down = [\"j\", \"down\"]",
        theme.dim,
    ));
    f.render_widget(
        Paragraph::new(lines).block(b).scroll((app.help_scroll, 0)),
        area,
    );
}

pub fn welcome(f: &mut Frame<'_>, app: &App, theme: &Theme, area: Rect) {
    let b = block(
        Line::styled(" welcome to scrollback ", theme.title),
        true,
        theme,
    );
    let mut lines = vec![
        Line::raw("This store is empty. scrollback keeps your AI chat sessions in one place,"),
        Line::raw("finds any sentence in them in milliseconds, and lets you branch, merge,"),
        Line::raw("tag, export and clean them up."),
        Line::raw(""),
    ];
    if app.found_folders.is_empty() {
        lines.push(Line::styled(
            "No session folders of other tools were found on this machine.",
            theme.dim,
        ));
    } else {
        lines.push(Line::styled(
            "Session folders found on this machine:",
            theme.title,
        ));
        for (what, p) in &app.found_folders {
            lines.push(Line::raw(format!(
                "  {what:<14} {}",
                clean(&p.display().to_string())
            )));
        }
    }
    lines.push(Line::raw(""));
    lines.push(Line::styled(
        "What the store can import now (i):",
        theme.title,
    ));
    let mut line = String::from(" ");
    for (i, (_, name)) in crate::import::Format::ALL.iter().enumerate() {
        if line.len() + name.len() + 2 > 72 {
            lines.push(Line::raw(std::mem::replace(&mut line, String::from(" "))));
        }
        line.push(' ');
        line.push_str(name);
        if i + 1 < crate::import::Format::ALL.len() {
            line.push(',');
        }
    }
    lines.push(Line::raw(line));
    lines.push(Line::raw(""));
    if !app.found_folders.is_empty() {
        lines.push(Line::from(vec![
            Span::styled("  I", theme.accent),
            Span::raw("  sync the folders above now (again later, only what is new is read)"),
        ]));
    }
    lines.push(Line::from(vec![
        Span::styled("  i", theme.accent),
        Span::raw("  import a file or folder"),
    ]));
    lines.push(Line::from(vec![
        Span::styled("  +", theme.accent),
        Span::raw("  start a new session"),
    ]));
    lines.push(Line::from(vec![
        Span::styled("  q", theme.accent),
        Span::raw("  quit, then try `scrollback --demo` for the bundled demo sessions"),
    ]));
    f.render_widget(
        Paragraph::new(lines).block(b).wrap(Wrap { trim: false }),
        area,
    );
}
