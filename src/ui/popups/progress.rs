//! The send in progress: the stage, and a progress bar of the bytes handed over.

use std::time::{Duration, Instant};

use ratatui::buffer::Buffer;
use ratatui::crossterm::event::KeyEvent;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Style};
use ratatui::text::Line;
use ratatui::widgets::{Gauge, Paragraph, Widget};

use super::{centered, frame};
use crate::mime_tree::human_size;
use crate::transport::Progress;
use crate::ui::app::Action;

pub struct Sending {
    pub id: u64,
    pub transport: String,
    pub kind: &'static str,
    pub total: u64,
    pub stage: Option<Progress>,
    pub started: Instant,
    pub elapsed: Duration,
}

impl Sending {
    pub fn new(id: u64, transport: &str, kind: &'static str, total: u64) -> Sending {
        Sending {
            id,
            transport: transport.to_string(),
            kind,
            total,
            stage: None,
            started: Instant::now(),
            elapsed: Duration::ZERO,
        }
    }

    pub fn update(&mut self, p: Progress) {
        self.stage = Some(p);
    }

    pub fn tick(&mut self, now: Instant) {
        self.elapsed = now.saturating_duration_since(self.started);
    }

    /// Nothing to do while a send runs: the result decides what comes next.
    pub fn handle_key(&mut self, _key: KeyEvent) -> Option<Action> {
        None
    }

    fn sent(&self) -> u64 {
        match &self.stage {
            Some(Progress::Sending { sent, .. }) => *sent,
            Some(Progress::Waiting | Progress::Submitted) => self.total,
            _ => 0,
        }
    }

    pub fn render(&self, screen: Rect, buf: &mut Buffer) {
        let w = (screen.width * 8 / 10).clamp(44.min(screen.width), 80);
        let area = centered(screen, w, 7);
        let inner = frame(
            area,
            buf,
            &format!("Sending via {} ({})", self.transport, self.kind),
            "",
            Color::Green,
        );
        let [stage_row, _, bar_row, time_row] = Layout::vertical([
            Constraint::Length(1),
            Constraint::Length(1),
            Constraint::Length(1),
            Constraint::Length(1),
        ])
        .areas(inner);
        let stage = match &self.stage {
            None => "starting…".to_string(),
            Some(Progress::Connecting) => "connecting…".to_string(),
            Some(Progress::Authenticating) => "authenticating…".to_string(),
            Some(Progress::Sending { sent, total }) => {
                format!("sending {} of {}", human_size(*sent), human_size(*total))
            }
            Some(Progress::Waiting | Progress::Submitted) => {
                "waiting for the server to accept…".to_string()
            }
        };
        Paragraph::new(Line::from(stage)).render(stage_row, buf);
        let total = match &self.stage {
            Some(Progress::Sending { total, .. }) if *total > 0 => *total,
            _ => self.total.max(1),
        };
        let ratio = (self.sent() as f64 / total as f64).clamp(0.0, 1.0);
        Gauge::default()
            .gauge_style(Style::default().fg(Color::Green).bg(Color::Black))
            .ratio(ratio)
            .label(format!("{:.0}%", ratio * 100.0))
            .render(bar_row, buf);
        Paragraph::new(Line::from(format!(
            "{:.1} s · your message stays here until the server answers",
            self.elapsed.as_secs_f64()
        )))
        .style(Style::default().fg(Color::DarkGray))
        .render(time_row, buf);
    }
}
