//! Terminal events into the app: keys (through the keymap), pastes, the mouse, resizes.

use super::*;

impl App {
    pub fn handle_event(&mut self, ev: Event) {
        match ev {
            Event::Key(key) if key.kind != KeyEventKind::Release => self.handle_key(key),
            Event::Mouse(m) => self.handle_mouse(m),
            Event::Paste(text) => self.handle_paste(&text),
            Event::Resize(w, h) => self.resize(w, h),
            _ => {}
        }
    }

    pub fn resize(&mut self, w: u16, h: u16) {
        self.screen = Rect::new(0, 0, w, h);
        let screen = self.screen;
        for p in &mut self.popups {
            match p {
                Popup::Preview(pr) => pr.set_screen(screen),
                Popup::Help(hp) => hp.set_screen(screen),
                _ => {}
            }
        }
        self.relayout();
    }

    pub fn handle_key(&mut self, key: KeyEvent) {
        // Debug builds only: a way for the tests to check what a crash does.
        #[cfg(debug_assertions)]
        if key.code == KeyCode::F(12) && std::env::var_os("MISSIVE_DEBUG_PANIC").is_some() {
            panic!("panic requested with F12 (MISSIVE_DEBUG_PANIC, debug builds only)");
        }
        if let Some(popup) = self.popups.last_mut() {
            if let Some(action) = popup.handle_key(key) {
                self.apply(action);
            }
            return;
        }
        if !self.completion_key(&key) {
            match composer_keymap(&key, self.focus) {
                Some(action) => self.apply(action),
                None => self.pane_input(key),
            }
        }
        self.refresh_completion();
        self.relayout();
    }

    pub(super) fn pane_input(&mut self, key: KeyEvent) {
        let focus = self.focus;
        if focus == Pane::Attachments {
            match key.code {
                KeyCode::Home => self.attachment_sel = 0,
                KeyCode::End => self.attachment_sel = self.attachments.len().saturating_sub(1),
                _ => {}
            }
            return;
        }
        if let Some(b) = self.body_mut(focus) {
            if b.input(key, Instant::now()) {
                self.edited(Some(focus));
            }
            return;
        }
        let mut input = Input::from(key);
        // Our own addition to the textarea's emacs-like keys.
        if input.ctrl && !input.alt && input.key == Key::Char('v') {
            input = Input {
                key: Key::Paste,
                ..Input::default()
            };
        }
        if focus.is_line() && matches!(input.key, Key::Enter | Key::Char('\n' | '\r')) {
            return;
        }
        if focus.is_line() && input.ctrl && matches!(input.key, Key::Char('m' | 'j')) {
            return;
        }
        let changed = focus.is_line() && self.area_mut(focus).is_some_and(|t| t.input(input));
        if changed {
            if focus.is_line() {
                self.flatten_line(focus);
            }
            self.edited(Some(focus));
        }
    }

    /// A line field must stay one line (a yank of several lines is joined).
    pub(super) fn flatten_line(&mut self, pane: Pane) {
        if let Some(t) = self.area_mut(pane) {
            if t.lines().len() > 1 {
                let sep = if pane.is_recipients() { ", " } else { " " };
                let joined = t.lines().join(sep);
                let mut n = line_area(&joined, "");
                n.set_placeholder_text(t.placeholder_text().to_string());
                *t = n;
            }
        }
        self.refresh_cursor_styles();
    }

    pub fn handle_paste(&mut self, text: &str) {
        if let Some(popup) = self.popups.last_mut() {
            popup.handle_paste(text);
            return;
        }
        let focus = self.focus;
        let text = text.replace("\r\n", "\n").replace('\r', "\n");
        let text = if focus.is_line() {
            let sep = if focus.is_recipients() { ", " } else { " " };
            text.lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .collect::<Vec<_>>()
                .join(sep)
        } else {
            text
        };
        let changed = match self.body_mut(focus) {
            Some(b) => b.paste(&text),
            None => self.area_mut(focus).is_some_and(|t| t.insert_str(&text)),
        };
        if changed {
            self.edited(Some(focus));
        }
        self.refresh_completion();
        self.relayout();
    }

    pub fn handle_mouse(&mut self, m: MouseEvent) {
        if !self.popups.is_empty() {
            return;
        }
        if m.kind == MouseEventKind::Down(MouseButton::Left)
            && self.completion_click(m.column, m.row)
        {
            self.relayout();
            return;
        }
        let layout = crate::ui::view::layout(self.screen, self);
        match m.kind {
            MouseEventKind::Down(MouseButton::Left)
                if layout
                    .via
                    .contains(ratatui::layout::Position::new(m.column, m.row)) =>
            {
                // The "via transport" tag opens the switcher.
                self.apply(Action::OpenSwitcher);
            }
            MouseEventKind::Down(MouseButton::Left) => {
                if let Some(pane) = layout.pane_at(m.column, m.row) {
                    self.set_focus(pane);
                    if pane == Pane::Attachments {
                        let inner_top = layout.attachments.y + 1;
                        if m.row >= inner_top {
                            let first = crate::ui::popups::window_start(
                                self.attachment_sel,
                                layout.attachments.height.saturating_sub(2) as usize,
                                self.attachments.len(),
                            );
                            let idx = first + (m.row - inner_top) as usize;
                            if idx < self.attachments.len() {
                                self.attachment_sel = idx;
                            }
                        }
                    }
                }
            }
            MouseEventKind::ScrollDown | MouseEventKind::ScrollUp => {
                if let Some(pane) = layout.pane_at(m.column, m.row) {
                    if let Some(b) = self.body_mut(pane) {
                        b.scroll(if m.kind == MouseEventKind::ScrollDown {
                            1
                        } else {
                            -1
                        });
                    }
                }
            }
            _ => {}
        }
        self.relayout();
    }
}
