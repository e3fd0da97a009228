//! Input as the event loop hands it over: everything already read, in order, in one
//! batch before the next frame.

use std::collections::VecDeque;
use std::time::Instant;

use ratatui::crossterm::event::{Event, KeyCode, KeyEventKind, KeyModifiers};

use super::app::{App, Effect};

impl App {
    /// Handle input in order, up to a key that hands the terminal over (`$EDITOR`) or
    /// quits; the rest stays in `events`. A run of plain characters typed into a text
    /// field goes in as one insert, so a paste that arrives as keystrokes (a terminal
    /// without bracketed paste) costs one edit, not one per character.
    pub fn handle_events(&mut self, events: &mut VecDeque<Event>) {
        let mut run = String::new();
        while let Some(ev) = events.pop_front() {
            match self.typed_char(&ev) {
                Some(c) => run.push(c),
                None => {
                    if !run.is_empty() {
                        self.type_text(&run);
                        run.clear();
                    }
                    self.handle_event(ev);
                    let editor = self.effects.iter().any(|e| matches!(e, Effect::Editor(_)));
                    if editor || self.quit.is_some() {
                        break;
                    }
                }
            }
        }
        if !run.is_empty() {
            self.type_text(&run);
        }
    }

    /// The character an event types into the focused field, if that is all it does.
    fn typed_char(&self, ev: &Event) -> Option<char> {
        let Event::Key(key) = ev else {
            return None;
        };
        if key.kind == KeyEventKind::Release || !self.popups.is_empty() {
            return None;
        }
        if key
            .modifiers
            .intersects(KeyModifiers::CONTROL | KeyModifiers::ALT | KeyModifiers::SUPER)
        {
            return None;
        }
        match key.code {
            KeyCode::Char(c) if self.focus.is_line() || self.focus.is_body() => Some(c),
            KeyCode::Enter if self.focus.is_body() => Some('\n'),
            _ => None,
        }
    }

    /// Text typed (not pasted) into the focused field.
    fn type_text(&mut self, text: &str) {
        let focus = self.focus;
        let changed = match self.body_mut(focus) {
            Some(b) => b.type_text(text, Instant::now()),
            None => self.area_mut(focus).is_some_and(|t| t.insert_str(text)),
        };
        if changed {
            self.edited(Some(focus));
        }
        self.refresh_completion();
        self.relayout();
    }
}
