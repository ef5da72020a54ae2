//! The main screen: the session list, the history and the metadata pane.

use jiff::Timestamp;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use unicode_width::UnicodeWidthStr;

use super::block;
use crate::domain::Sort;
use crate::sanitize::clean;
use crate::tui::app::App;
use crate::tui::details;
use crate::tui::layout::{Areas, Pane, inner};
use crate::tui::text;
use crate::tui::theme::Theme;

pub fn draw(f: &mut Frame<'_>, app: &App, theme: &Theme, a: &Areas) {
    if let Some(r) = a.list {
        list(f, app, theme, r);
    }
    if let Some(r) = a.history {
        history(f, app, theme, r);
    }
    if let Some(r) = a.meta {
        meta(f, app, theme, r);
    }
}

/// 1234567 -> "1,234,567".
pub fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// "now", "5m", "3h", "2d", "4mo", "1y".
pub fn age(ts: Timestamp, now: Timestamp) -> String {
    let s = (now.as_second() - ts.as_second()).max(0);
    match s {
        0..60 => "now".into(),
        60..3_600 => format!("{}m", s / 60),
        3_600..86_400 => format!("{}h", s / 3_600),
        86_400..2_592_000 => format!("{}d", s / 86_400),
        2_592_000..31_536_000 => format!("{}mo", s / 2_592_000),
        _ => format!("{}y", s / 31_536_000),
    }
}

/// Cuts to `w` display columns with `…`, pads to exactly `w`.
pub fn fit(s: &str, w: usize) -> String {
    let s = clean(s);
    if s.width() <= w {
        return format!("{s}{}", " ".repeat(w - s.width()));
    }
    let mut out = String::new();
    let mut used = 0;
    for c in s.chars() {
        let cw = unicode_width::UnicodeWidthChar::width(c).unwrap_or(0);
        if used + cw + 1 > w {
            break;
        }
        out.push(c);
        used += cw;
    }
    out.push('…');
    used += 1;
    out + &" ".repeat(w.saturating_sub(used))
}

fn sort_label(s: Sort) -> &'static str {
    match s {
        Sort::Updated => "updated",
        Sort::Created => "created",
        Sort::Name => "name",
        Sort::Size => "size",
    }
}

fn list(f: &mut Frame<'_>, app: &App, theme: &Theme, r: Rect) {
    let l = &app.list;
    let focused = app.focus == Pane::List;
    let mut title = vec![Span::styled(
        format!(
            " {} ({}) ",
            crate::tui::list::state_name(l.query.state),
            thousands(l.total)
        ),
        if l.query.state == crate::domain::StateFilter::Live {
            theme.title
        } else {
            theme.marked
        },
    )];
    title.push(Span::styled(
        format!("· {} ", sort_label(l.query.sort)),
        theme.dim,
    ));
    if !l.marked.is_empty() {
        title.push(Span::styled(
            format!("· {} marked ", l.marked.len()),
            theme.marked,
        ));
    }
    if l.detached {
        title.push(Span::styled("· shown: not in this list ", theme.dim));
    }
    let b = block(Line::from(title), focused, theme);
    let body = b.inner(r);
    f.render_widget(b, r);
    let filter_row = l.filtering || !l.filter.is_empty();
    let (rows, width) = (
        usize::from(body.height).saturating_sub(usize::from(filter_row)),
        usize::from(body.width),
    );
    let mut lines: Vec<Line<'_>> = Vec::with_capacity(rows);
    if !l.loaded {
        lines.push(Line::styled("loading…", theme.dim));
    } else if l.total == 0 {
        lines.push(Line::styled(
            match l.query.state {
                crate::domain::StateFilter::Archived if l.filter.is_empty() => {
                    "nothing is archived (v: next view)"
                }
                crate::domain::StateFilter::Trashed if l.filter.is_empty() => {
                    "the trash is empty (v: next view)"
                }
                _ => "no sessions match the filter",
            },
            theme.dim,
        ));
    }
    let tags_w = if width >= 50 { 16 } else { 0 };
    let right_w = 11 + tags_w;
    let name_w = width.saturating_sub(2 + right_w).max(4);
    for i in 0..rows as u64 {
        let index = l.top + i;
        if index >= l.total {
            break;
        }
        let Some(s) = l.row(index) else {
            lines.push(Line::styled("  …", theme.dim));
            continue;
        };
        let marked = l.marked.contains_key(&s.id);
        let kind = if s.trashed {
            'T'
        } else if s.archived {
            'A'
        } else if s.parent.is_some() {
            '↳'
        } else {
            ' '
        };
        let mark = if marked { '●' } else { ' ' };
        let mut text = format!(
            "{mark}{kind}{} {:>5} {:>4}",
            fit(&s.name, name_w),
            thousands(s.message_count),
            age(s.updated_at, app.now)
        );
        if tags_w > 0 {
            let tags = s
                .tags
                .iter()
                .map(|t| format!("#{t}"))
                .collect::<Vec<_>>()
                .join(" ");
            text.push(' ');
            text.push_str(&fit(&tags, tags_w - 1));
        }
        let mut style = if marked { theme.marked } else { Style::new() };
        if l.highlighted() == Some(index) {
            style = style.patch(theme.selected);
            if !focused {
                style = style.patch(theme.dim);
            }
        }
        lines.push(Line::styled(text, style));
    }
    let mut list_area = body;
    if filter_row {
        list_area.height = list_area.height.saturating_sub(1);
        let fr = Rect {
            y: body.y + body.height.saturating_sub(1),
            height: 1,
            ..body
        };
        let cursor = if l.filtering { "▏" } else { "" };
        f.render_widget(
            Paragraph::new(Line::from(vec![
                Span::styled("filter: ", theme.accent),
                Span::raw(clean(&l.filter)),
                Span::raw(cursor),
            ])),
            fr,
        );
    }
    f.render_widget(Paragraph::new(lines), list_area);
}

fn history(f: &mut Frame<'_>, app: &App, theme: &Theme, r: Rect) {
    let focused = app.focus == Pane::History;
    let Some(h) = &app.history else {
        let b = block(Line::styled(" history ", theme.title), focused, theme);
        let msg = if app.list.total > 0 {
            "select a session and press enter"
        } else {
            ""
        };
        f.render_widget(Paragraph::new(Line::styled(msg, theme.dim)).block(b), r);
        return;
    };
    let total = h.session.message_count;
    let pos = if !h.loaded {
        "loading…".to_string()
    } else if total == 0 {
        "empty".to_string()
    } else {
        format!("msg {}/{}", thousands(h.cursor + 1), thousands(total))
    };
    let mut title = vec![
        Span::styled(format!(" {} ", clean(&h.session.name)), theme.title),
        Span::styled(format!("· {pos} "), theme.dim),
    ];
    if h.new_below > 0 {
        title.push(Span::styled(
            format!("↓ {} new (G) ", thousands(h.new_below)),
            theme.accent,
        ));
    }
    if !h.session.title.is_empty() {
        let room = usize::from(r.width).saturating_sub(h.session.name.len() + pos.len() + 10);
        if room > 8 {
            title.push(Span::styled(
                format!("· {} ", fit(&h.session.title, room).trim_end()),
                theme.dim,
            ));
        }
    }
    let title = Line::from(title);
    let b = block(title, focused, theme);
    let body = b.inner(r);
    f.render_widget(b, r);
    let (rows, cols) = (usize::from(body.height), usize::from(body.width));
    let mut lines: Vec<Line<'_>> = Vec::with_capacity(rows);
    let mut seq = h.top;
    if let Some(e) = &h.error {
        lines.push(Line::styled(clean(e), theme.error));
    }
    while lines.len() < rows && (seq < total || !h.loaded) {
        let Some(m) = h.message(seq) else {
            if h.loading() || !h.loaded {
                lines.push(Line::styled("loading…", theme.dim));
            }
            break;
        };
        let expanded = h.expanded.contains(&seq);
        let mut head = vec![
            Span::styled(if seq == h.cursor { "▌" } else { " " }, theme.accent),
            Span::styled(m.role.as_str().to_string(), theme.role(m.role)),
        ];
        if m.kind != crate::domain::Kind::Text {
            head.push(Span::styled(
                format!(" {}", m.kind.as_str().replace('_', " ")),
                theme.accent,
            ));
        }
        let mut rest = String::new();
        if let Some(model) = &m.model {
            rest.push_str(&format!(" · {}", clean(model)));
        }
        rest.push_str(&format!(" · {}", m.created_at.strftime("%Y-%m-%d %H:%M")));
        if let Some(t) = m.tokens {
            rest.push_str(&format!(" · {}/{} tok", t.input, t.output));
        }
        rest.push_str(&format!("  #{seq}"));
        head.push(Span::styled(rest, theme.dim));
        let mut head_line = Line::from(head);
        if seq == h.cursor && focused {
            head_line =
                head_line.patch_style(Style::new().add_modifier(ratatui::style::Modifier::BOLD));
        }
        lines.push(head_line);
        let (body_lines, hidden) = text::body(m, cols.saturating_sub(1), expanded);
        for bl in body_lines {
            if lines.len() >= rows {
                break;
            }
            let mut spans = vec![Span::raw(" ")];
            if bl.code {
                spans.push(Span::styled("│ ", theme.dim));
                spans.extend(highlighted(&bl.text, &h.terms, theme.code, theme.highlight));
            } else {
                spans.extend(highlighted(
                    &bl.text,
                    &h.terms,
                    Style::new(),
                    theme.highlight,
                ));
            }
            lines.push(Line::from(spans));
        }
        if hidden > 0 && lines.len() < rows {
            lines.push(Line::styled(
                format!(" … {hidden} more lines (z to expand)"),
                theme.dim,
            ));
        }
        if lines.len() < rows {
            lines.push(Line::raw(""));
        }
        seq += 1;
    }
    if total == 0 && h.loaded {
        lines.push(Line::styled(
            "no messages yet: press a to add one",
            theme.dim,
        ));
    }
    f.render_widget(Paragraph::new(lines), body);
}

/// Splits a line into spans with the search terms marked (case-insensitive).
fn highlighted<'a>(line: &str, terms: &[String], base: Style, mark: Style) -> Vec<Span<'a>> {
    let lower = line.to_lowercase();
    if terms.is_empty() || lower.len() != line.len() {
        return vec![Span::styled(line.to_string(), base)];
    }
    let mut marks: Vec<(usize, usize)> = Vec::new();
    for t in terms.iter().filter(|t| !t.is_empty()) {
        let mut from = 0;
        while let Some(i) = lower[from..].find(t.as_str()) {
            let a = from + i;
            marks.push((a, a + t.len()));
            from = a + t.len();
        }
    }
    marks.sort_unstable();
    let mut spans = Vec::new();
    let mut at = 0;
    for (a, b) in marks {
        if a < at || !line.is_char_boundary(a) || !line.is_char_boundary(b) {
            continue;
        }
        spans.push(Span::styled(line[at..a].to_string(), base));
        spans.push(Span::styled(line[a..b].to_string(), mark));
        at = b;
    }
    spans.push(Span::styled(line[at..].to_string(), base));
    spans
}

fn meta(f: &mut Frame<'_>, app: &App, theme: &Theme, r: Rect) {
    let focused = app.focus == Pane::Meta;
    let Some(m) = &app.meta else {
        let b = block(Line::styled(" details ", theme.title), focused, theme);
        let text = if app.history.is_some() {
            "loading…"
        } else {
            ""
        };
        f.render_widget(Paragraph::new(Line::styled(text, theme.dim)).block(b), r);
        return;
    };
    let all = details::lines(m);
    let (rows, cols) = inner(r);
    let more = all.len().saturating_sub(app.meta_top + rows);
    let mut title = vec![Span::styled(" details ", theme.title)];
    if app.meta_top > 0 || more > 0 {
        title.push(Span::styled(
            format!(
                "· {}-{} of {} ",
                app.meta_top + 1,
                (app.meta_top + rows).min(all.len()),
                all.len()
            ),
            theme.dim,
        ));
    }
    let b = block(Line::from(title), focused, theme);
    let body = b.inner(r);
    f.render_widget(b, r);
    let lines: Vec<Line<'_>> = all
        .iter()
        .enumerate()
        .skip(app.meta_top)
        .take(rows)
        .map(|(i, l)| {
            let style = if focused && i == app.meta_cursor {
                theme.selected
            } else {
                Style::new()
            };
            Line::from(vec![
                Span::styled(format!("{:<9}", l.label), theme.dim),
                Span::styled(fit(&l.value, cols.saturating_sub(9)), style),
            ])
        })
        .collect();
    f.render_widget(Paragraph::new(lines), body);
}
