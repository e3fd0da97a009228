//! Issue 8: a property test of the flags → draft → builder path (`--from --to --cc --bcc
//! --subject --header --reply-to`) with hostile pieces (CR, LF, NUL, ESC, quotes,
//! brackets, commas, encoded-word syntax, injected header lines, non-ASCII, long words).
//! Whatever is typed: no panic; an error, or a message that an independent parser
//! reads, with CRLF line ends only, lines within 998 octets, no header but the ones
//! asked for (no Bcc, nothing injected), and the subject read back as typed.

use proptest::prelude::*;

use missive::args::MessageArgs;

/// Pieces that may well be typed.
const SAFE: &[&str] = &[
    "a",
    "bob",
    "Bob",
    "O'Brien",
    " ",
    "  ",
    "\t",
    ",",
    ";",
    ":",
    "<",
    ">",
    "\"",
    "\\",
    "(",
    ")",
    "@",
    ".",
    "=?",
    "?=",
    "=?utf-8?q?x?=",
    "é",
    "日本語",
    "Ünïcødé",
    "😀",
    "group:",
    "xn--",
    "Re:",
    "-- ",
    "verylongwordwithoutanyspaceverylongwordwithoutanyspaceverylongwordwithoutanyspace",
];
/// Pieces an attacker puts in a mailto: link or a script passes on.
const HOSTILE: &[&str] = &[
    "\r",
    "\n",
    "\r\n",
    "\r\nBcc: evil@example.net",
    "\nX-Injected: 1",
    "\r\nX-Injected: 1\r\n",
    "\0",
    "\u{1b}]0;t\u{7}",
    "\u{7f}",
    "\u{9b}",
    "\u{202e}",
];
const ADDRS: &[&str] = &[
    "b@example.net",
    "ada@example.com",
    "c.d+tag@sub.example.org",
    "ü@bücher.example",
    "\"odd local\"@example.net",
];

fn text(max: usize) -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        40 => prop::sample::select(SAFE),
        1 => prop::sample::select(HOSTILE),
    ];
    prop::collection::vec(piece, 0..max).prop_map(|v| v.concat())
}

fn address() -> impl Strategy<Value = String> {
    let addr = prop::sample::select(ADDRS).prop_map(str::to_string);
    prop_oneof![
        3 => addr.clone(),
        3 => (text(5), addr.clone()).prop_map(|(n, a)| format!("{n} <{a}>")),
        2 => (text(5), addr.clone()).prop_map(|(n, a)| format!("\"{}\" <{a}>", n.replace('"', ""))),
        1 => (addr, text(4)).prop_map(|(a, c)| format!("{a} ({})", c.replace(['(', ')'], ""))),
        1 => text(6),
    ]
}

fn entries() -> impl Strategy<Value = Vec<String>> {
    prop::collection::vec(
        prop::collection::vec(address(), 1..3).prop_map(|v| v.join(", ")),
        0..3,
    )
}

fn header_arg() -> impl Strategy<Value = String> {
    (
        prop::sample::select(
            &[
                "X-Test", "X-Mailer", "Comments", "Keywords", "X-Te st", "Bcc",
            ][..],
        ),
        text(10),
    )
        .prop_map(|(n, v)| format!("{n}: {v}"))
}

fn args() -> impl Strategy<Value = MessageArgs> {
    (
        prop::option::of(address()),
        entries(),
        entries(),
        entries(),
        prop::option::of(text(40)),
        prop::collection::vec(header_arg(), 0..3),
        entries(),
    )
        .prop_map(
            |(from, to, cc, bcc, subject, header, reply_to)| MessageArgs {
                from,
                to: if to.is_empty() {
                    vec!["b@example.net".into()]
                } else {
                    to
                },
                cc,
                bcc,
                subject,
                header,
                reply_to,
                ..Default::default()
            },
        )
}

/// The header block's field names, folded lines joined.
fn header_names(head: &str) -> Vec<String> {
    head.split("\r\n")
        .filter(|l| !l.starts_with([' ', '\t']) && !l.is_empty())
        .map(|l| l.split(':').next().unwrap_or("").to_ascii_lowercase())
        .collect()
}

const BUILDER_HEADERS: &[&str] = &[
    "from",
    "to",
    "cc",
    "reply-to",
    "subject",
    "message-id",
    "date",
    "user-agent",
    "mime-version",
    "content-type",
    "content-transfer-encoding",
];

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 2000,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn typed_flags_never_break_the_message(a in args()) {
        let Ok(draft) = a.to_draft() else { return Ok(()) };
        let Ok(built) = missive::message::build(&draft, "Ada <ada@example.com>") else {
            return Ok(());
        };
        let raw = &built.raw;
        // CRLF only, each line within RFC 5322's limit.
        let text = String::from_utf8_lossy(raw);
        prop_assert!(!text.replace("\r\n", "").contains(['\r', '\n']), "bare CR or LF: {text:?}");
        for line in raw.split(|&b| b == b'\n') {
            prop_assert!(line.len() <= 999, "line of {} octets", line.len());
        }
        // Only the headers the builder writes and the ones asked for.
        let end = text.find("\r\n\r\n").unwrap_or(text.len());
        let asked: Vec<String> = draft.headers.iter().map(|(n, _)| n.to_ascii_lowercase()).collect();
        for name in header_names(&text[..end]) {
            prop_assert!(
                BUILDER_HEADERS.contains(&name.as_str()) || asked.contains(&name),
                "unexpected header {name:?} in {:?}", &text[..end]
            );
            prop_assert!(name != "bcc" && name != "x-injected", "injected {name:?}");
        }
        // An independent parser reads it, and reads the subject back as typed.
        let parsed = mail_parser::MessageParser::default().parse(&raw[..]);
        prop_assert!(parsed.is_some(), "mail-parser cannot read {text:?}");
        let parsed = parsed.unwrap();
        let want = draft.subject.as_str();
        if !want.is_empty() {
            prop_assert_eq!(parsed.subject().unwrap_or(""), want);
        }
    }
}

/// Found by the property above: a subject folded inside a run of two spaces was read
/// back with one.
#[test]
fn a_fold_never_falls_inside_a_run_of_blanks() {
    let long = "verylongwordwithoutanyspace".repeat(3);
    for subject in [
        format!("aa{long}  a"),
        format!("{long}   {long} \t{long}\t {long}"),
    ] {
        let draft = missive::message::Draft {
            to: vec!["b@example.net".into()],
            subject: subject.clone(),
            ..Default::default()
        };
        let built = missive::message::build(&draft, "ada@example.com").expect("builds");
        let parsed = mail_parser::MessageParser::default()
            .parse(&built.raw[..])
            .expect("parses");
        assert_eq!(parsed.subject(), Some(subject.as_str()));
    }
}
