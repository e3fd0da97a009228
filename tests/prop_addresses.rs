//! A property test of the header writer with names, subjects and lists as people type
//! them: random display names (ASCII specials, quotes, backslashes, comment and
//! encoded-word look-alikes, Korean, accents, emoji) in lists of up to 120 recipients,
//! and random subjects. Whatever they are: every header line is within 998 octets, and an
//! independent parser (mail-parser) reads back each name, address and the subject
//! exactly as given.

use proptest::prelude::*;

use missive::message::{build_limited, Draft};

const WORDS: &[&str] = &[
    "Ann",
    "O'Brien",
    "Doe,",
    "J.",
    "(Admin)",
    "\"quoted\"",
    "back\\slash",
    "a@b",
    "x;y",
    "<z>",
    "=?utf-8?b?SGFja2Vk?=",
    "=?",
    "?=",
    "캐럴",
    "총무팀",
    "Zoë",
    "Łukasz",
    "😀",
    "日本語",
    "mañana",
    "Smith",
    "-",
    "#1",
    "[dept]",
    "a:b",
    "Ünïcødé",
    "long-long-long-long-long-word",
];

fn name() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(WORDS), 1..6).prop_map(|w| w.join(" "))
}

fn subject() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![
            prop::sample::select(WORDS).prop_map(str::to_string),
            Just(" ".to_string()),
            Just("  ".to_string()),
            Just("x".repeat(90)),
            Just("회의".to_string()),
        ],
        0..40,
    )
    .prop_map(|p| p.concat())
}

/// A name as someone would type it in a list: a quoted string.
fn typed(name: &str, addr: &str) -> String {
    let q = name.replace('\\', "\\\\").replace('"', "\\\"");
    format!("\"{q}\" <{addr}>")
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn names_lists_and_subjects_read_back_exactly(
        names in prop::collection::vec(name(), 1..120),
        subj in subject(),
    ) {
        let addrs: Vec<String> = (0..names.len()).map(|i| format!("user{i}@example.com")).collect();
        let to: Vec<String> = names.iter().zip(&addrs).map(|(n, a)| typed(n, a)).collect();
        let half = to.len() / 2;
        let draft = Draft {
            to: vec![to[..half.max(1)].join(", ")],
            cc: to[half.max(1)..].to_vec(),
            subject: subj.clone(),
            text: Some("hi".into()),
            ..Default::default()
        };
        let built = build_limited(&draft, "Ada <ada@example.com>", false, 1 << 20)
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        let raw = &built.raw;
        let end = raw.windows(4).position(|w| w == b"\r\n\r\n").unwrap_or(raw.len());
        for line in raw[..end].split(|&b| b == b'\n') {
            prop_assert!(line.len() <= 999, "a header line of {} octets", line.len());
            prop_assert!(line.is_ascii(), "a raw 8-bit header line");
        }
        let m = mail_parser::MessageParser::default()
            .parse(raw)
            .ok_or_else(|| TestCaseError::fail("unparseable"))?;
        let mut got: Vec<(String, String)> = Vec::new();
        for list in [m.to(), m.cc()].into_iter().flatten() {
            for a in list.iter() {
                got.push((
                    a.name().unwrap_or("").to_string(),
                    a.address().unwrap_or("").to_string(),
                ));
            }
        }
        let want: Vec<(String, String)> = names.iter().cloned().zip(addrs.iter().cloned()).collect();
        prop_assert_eq!(got, want);
        prop_assert_eq!(m.subject().unwrap_or(""), subj.as_str());
    }
}
