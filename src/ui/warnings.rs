//! What is worth a second look before a send: no subject, or text that speaks of an
//! attachment when none is attached. The send confirmation shows these; it never refuses.

use crate::message::Draft;

/// Words that say something is attached, lowercased: English, Korean, Japanese, Chinese,
/// German, French, Spanish, Italian, Portuguese, Dutch.
const ATTACHMENT_WORDS: &[&str] = &[
    "attached",
    "attachment",
    "attaching",
    "enclosed",
    "첨부",
    "添付",
    "附件",
    "anhang",
    "angehängt",
    "pièce jointe",
    "ci-joint",
    "adjunto",
    "allegato",
    "em anexo",
    "bijlage",
];

/// The text the person wrote: quoted lines, the attribution line before a quote, a
/// forwarded message and the signature are someone else's words.
fn own_text(text: &str) -> String {
    let (body, _sig) = crate::signature::split(text);
    let mut out = String::with_capacity(body.len());
    let mut in_forward = false;
    let lines: Vec<&str> = body.lines().collect();
    for (i, line) in lines.iter().enumerate() {
        if line.starts_with(crate::signature::FORWARD_START) {
            in_forward = true;
        }
        let quoted = line.trim_start().starts_with('>');
        let attribution = lines
            .get(i + 1)
            .is_some_and(|n| n.trim_start().starts_with('>'))
            && line.trim_end().ends_with(':');
        if !in_forward && !quoted && !attribution {
            out.push_str(line);
            out.push('\n');
        }
        if line.starts_with(crate::signature::FORWARD_END) {
            in_forward = false;
        }
    }
    out
}

/// The word in `text` that speaks of an attachment, if any.
pub fn mentions_attachment(text: &str) -> Option<&'static str> {
    let own = own_text(text).to_lowercase();
    ATTACHMENT_WORDS.iter().find(|w| own.contains(*w)).copied()
}

/// The warnings for `draft`, in the order the confirmation shows them.
pub fn before_send(draft: &Draft) -> Vec<String> {
    let mut out = Vec::new();
    if draft.subject.trim().is_empty() {
        out.push("The subject is empty.".to_string());
    }
    if draft.attachments.is_empty() {
        let text = match (&draft.text, &draft.html) {
            (Some(t), _) if !t.trim().is_empty() => t.clone(),
            (_, Some(h)) => crate::reply::html_to_text(h),
            _ => String::new(),
        };
        if let Some(word) = mentions_attachment(&text) {
            out.push(format!(
                "The text mentions an attachment (\u{201c}{word}\u{201d}), but nothing is attached."
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_what_the_person_wrote_only() {
        assert_eq!(
            mentions_attachment("See the Attached report."),
            Some("attached")
        );
        assert_eq!(mentions_attachment("보고서를 첨부합니다."), Some("첨부"));
        assert_eq!(mentions_attachment("資料を添付します"), Some("添付"));
        assert_eq!(mentions_attachment("Hi,\nsee you soon.\n"), None);
        // Someone else's words: a quote, a forwarded message, the signature.
        assert_eq!(
            mentions_attachment("Thanks!\n\nOn Mon, Bob wrote:\n> the attached file\n"),
            None
        );
        assert_eq!(
            mentions_attachment("FYI\n\n----- Forwarded message -----\nSubject: x\n\nsee attachment\n----- End forwarded message -----\n"),
            None
        );
        assert_eq!(
            mentions_attachment("Hi\n\n-- \nAttachments welcome\n"),
            None
        );
    }

    #[test]
    fn empty_subject_and_missing_attachment() {
        let d = Draft {
            subject: " ".into(),
            text: Some("I attached the slides.".into()),
            ..Default::default()
        };
        let w = before_send(&d);
        assert_eq!(w.len(), 2, "{w:?}");
        let d = Draft {
            subject: "Slides".into(),
            text: Some("I attached the slides.".into()),
            attachments: vec![crate::message::AttachmentSpec::new("/x/slides.pdf")],
            ..Default::default()
        };
        assert!(before_send(&d).is_empty());
    }
}
