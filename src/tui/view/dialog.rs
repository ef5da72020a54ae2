//! A dialog drawn over the panes from its [`View`](crate::tui::dialog::View):
//! title, information, fields, error. Any dialog is drawn by this function.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph};

use super::block;
use crate::sanitize::clean;
use crate::tui::dialog::{Dialog, FieldRef};
use crate::tui::theme::Theme;

pub fn draw(f: &mut Frame<'_>, dialog: &Dialog, theme: &Theme) {
    let form = dialog.view();
    let area = f.area();
    let rows_with = |gap: u16| -> u16 {
        form.fields
            .iter()
            .map(|fl| match fl {
                FieldRef::Text(_) => 6 + 2 * gap,
                _ => gap,
            })
            .sum()
    };
    let room = area.height.saturating_sub(2);
    // Fields one row apart when two would not fit; the information gives way first.
    let gap = if 2 + 1 + rows_with(2) + 2 + u16::try_from(form.info.len()).unwrap_or(10) > room {
        1
    } else {
        2
    };
    let text_rows = rows_with(gap);
    let info_rows = u16::try_from(form.info.len())
        .unwrap_or(10)
        .min(10)
        .min(room.saturating_sub(text_rows + 5).max(1));
    let want_h = 2 + info_rows + u16::from(!form.info.is_empty()) + text_rows + 2;
    let h = want_h.min(room).max(5);
    let w = area.width.saturating_sub(4).clamp(20, 76);
    let r = Rect {
        x: (area.width - w) / 2,
        y: (area.height.saturating_sub(h)) / 2,
        width: w,
        height: h,
    };
    f.render_widget(Clear, r);
    let b = block(
        Line::styled(format!(" {} ", clean(&form.title)), theme.title),
        true,
        theme,
    );
    let inner = b.inner(r);
    f.render_widget(b, r);
    let mut y = inner.y;
    let bottom = inner.y + inner.height;
    for line in form.info.iter().take(usize::from(info_rows)) {
        if y >= bottom {
            break;
        }
        f.render_widget(
            Paragraph::new(Line::raw(clean(line))),
            Rect {
                y,
                height: 1,
                ..inner
            },
        );
        y += 1;
    }
    if !form.info.is_empty() {
        y += 1;
    }
    for (i, field) in form.fields.iter().enumerate() {
        if y >= bottom {
            break;
        }
        let focused = i == form.focus;
        let label_style = if focused { theme.accent } else { theme.dim };
        let label = field.label();
        match field {
            FieldRef::Line(l) => {
                let label_w = u16::try_from(label.chars().count() + 2)
                    .unwrap_or(20)
                    .min(inner.width * 2 / 3);
                f.render_widget(
                    Paragraph::new(Span::styled(format!("{label}: "), label_style)),
                    Rect {
                        y,
                        height: 1,
                        width: label_w,
                        ..inner
                    },
                );
                let mut t = l.area().clone();
                t.set_cursor_line_style(Style::new());
                t.set_cursor_style(if focused {
                    theme.selected
                } else {
                    Style::new()
                });
                f.render_widget(
                    &t,
                    Rect {
                        x: inner.x + label_w,
                        y,
                        height: 1,
                        width: inner.width - label_w,
                    },
                );
                y += gap;
            }
            FieldRef::Text(text) => {
                f.render_widget(
                    Paragraph::new(Span::styled(label, label_style)),
                    Rect {
                        y,
                        height: 1,
                        ..inner
                    },
                );
                y += 1;
                let hgt = 6.min(bottom.saturating_sub(y + 1));
                let mut t = text.area().clone();
                t.set_cursor_line_style(Style::new());
                t.set_cursor_style(if focused {
                    theme.selected
                } else {
                    Style::new()
                });
                f.render_widget(
                    &t,
                    Rect {
                        y,
                        height: hgt,
                        ..inner
                    },
                );
                y += hgt + gap.min(1);
            }
            FieldRef::Choice(c) => {
                let mut spans = vec![Span::styled(format!("{label}: "), label_style)];
                let room = usize::from(inner.width).saturating_sub(label.chars().count() + 2);
                let (from, to) = choice_window(c.options(), c.index(), room);
                if from > 0 {
                    spans.push(Span::styled("‹", theme.dim));
                }
                for (j, o) in c.options().iter().enumerate().take(to).skip(from) {
                    let style = if j == c.index() {
                        if focused { theme.selected } else { theme.title }
                    } else {
                        theme.dim
                    };
                    spans.push(Span::styled(format!(" {o} "), style));
                }
                if to < c.options().len() {
                    spans.push(Span::styled("›", theme.dim));
                }
                f.render_widget(
                    Paragraph::new(Line::from(spans)),
                    Rect {
                        y,
                        height: 1,
                        ..inner
                    },
                );
                y += gap;
            }
            FieldRef::Check(c) => {
                let style = if focused {
                    theme.selected
                } else {
                    Style::new()
                };
                f.render_widget(
                    Paragraph::new(Line::from(vec![
                        Span::styled(format!("{label}: "), label_style),
                        Span::styled(if c.on { "[x]" } else { "[ ]" }, style),
                    ])),
                    Rect {
                        y,
                        height: 1,
                        ..inner
                    },
                );
                y += gap;
            }
        }
    }
    if let Some(e) = form.error {
        // Two rows, wrapped: an error must be read whole.
        let rows = 2.min(inner.height);
        let r = Rect {
            y: bottom.saturating_sub(rows),
            height: rows,
            ..inner
        };
        f.render_widget(Clear, r);
        f.render_widget(
            Paragraph::new(Span::styled(clean(e), theme.error))
                .wrap(ratatui::widgets::Wrap { trim: true }),
            r,
        );
    }
}

/// The options of a choice shown in `room` columns: all when they fit,
/// else a window around the chosen one (with room for the `‹` `›` marks).
fn choice_window(options: &[&str], chosen: usize, room: usize) -> (usize, usize) {
    let width = |o: &&str| o.chars().count() + 2;
    if options.iter().map(width).sum::<usize>() <= room {
        return (0, options.len());
    }
    let room = room.saturating_sub(2);
    let chosen = chosen.min(options.len().saturating_sub(1));
    let (mut from, mut to) = (chosen, chosen + 1);
    let mut used = options.get(chosen).map_or(0, width);
    loop {
        let mut grew = false;
        if to < options.len() && used + width(&options[to]) <= room {
            used += width(&options[to]);
            to += 1;
            grew = true;
        }
        if from > 0 && used + width(&options[from - 1]) <= room {
            from -= 1;
            used += width(&options[from]);
            grew = true;
        }
        if !grew {
            return (from, to);
        }
    }
}
