//! Reply, reply-all, forward, forward-attached and templates, end to end: the real
//! binary reads the original (a file or standard input), sends through the SMTP test
//! server, and two independent parsers (mail-parser and Python's `email`) read back.

mod common;

use common::*;
use mail_parser::{HeaderValue, MimeHeaders, PartType};

const SIG: &str = "Ada\nWork Inc.";

/// Identities `work` (signed) and `home` (the default), both on transport `t`; the
/// top-level from is ada@example.com.
fn setup() -> (Env, SmtpServer) {
    let server = SmtpServer::start(ServerOpts::new(Mode::Plain), None);
    let env = Env::new();
    let cfg = SmtpCfg::new(server.port, Mode::Plain, None)
        .line("from = \"Ada (relay) <ada@relay.example>\"")
        .toml();
    env.write_config(&format!(
        "{cfg}\n[identity.work]\nfrom = \"Ada Lovelace <ada@work.example>\"\ntransport = \"t\"\nsignature = {SIG:?}\n\n[identity.home]\nfrom = \"Ada <ada@home.example>\"\ntransport = \"t\"\ndefault = true\n"
    ));
    (env, server)
}

fn text_of(m: &Received) -> String {
    m.parsed().body_text(0).unwrap().replace("\r\n", "\n")
}

fn addrs(v: &serde_json::Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|a| a[1].as_str().unwrap().to_string())
        .collect()
}

fn header_text(p: &mail_parser::Message<'_>, name: &str) -> Vec<String> {
    match p.header(name) {
        Some(HeaderValue::Text(t)) => vec![t.to_string()],
        Some(HeaderValue::TextList(l)) => l.iter().map(|t| t.to_string()).collect(),
        _ => vec![],
    }
}

/// A Korean message as Korean mail programs still send it: EUC-KR encoded words in the
/// subject and the name, an EUC-KR base64 body, addressed to the `work` identity.
const KOREAN: &str = "From: =?euc-kr?B?yKux5rW/?= <gildong@example.kr>\r\n\
To: =?UTF-8?Q?Ada_Lovelace?= <ada@work.example>\r\n\
Subject: =?euc-kr?B?yLjAxyDA2rfh?=\r\n\
Date: Wed, 02 Dec 2026 10:00:00 +0900\r\n\
Message-ID: <korean-1@example.kr>\r\n\
MIME-Version: 1.0\r\n\
Content-Type: text/plain; charset=euc-kr\r\n\
Content-Transfer-Encoding: base64\r\n\
\r\n\
vsiz58fPvLy/5Cwgv6HAzLTZILTULg0KyLjAxyDA2rfhuKYgw7e6zsfVtM+02S4NCg0KPiDB9rOtILjewM8NCg==\r\n";

#[test]
fn reply_to_a_korean_message() {
    let (env, server) = setup();
    let orig = env.file("orig.eml", KOREAN);
    let answer = env.file("answer.txt", "네, 받았습니다.\n");
    env.run([
        "send",
        "--reply",
        orig.to_str().unwrap(),
        "--text",
        answer.to_str().unwrap(),
    ])
    .expect_code(0);
    let m = server.only_message();
    let p = m.parsed();
    // To the sender, name decoded from EUC-KR and written as UTF-8 encoded words.
    let to = p.to().unwrap().first().unwrap();
    assert_eq!(to.name(), Some("홍길동"));
    assert_eq!(to.address(), Some("gildong@example.kr"));
    assert_eq!(
        m.python["to"][0],
        serde_json::json!(["홍길동", "gildong@example.kr"])
    );
    assert_eq!(m.rcpt_tos, vec!["gildong@example.kr"]);
    assert_eq!(p.subject(), Some("Re: 회의 자료"));
    assert_eq!(m.python["subject"], "Re: 회의 자료");
    // Written as the identity it was addressed to.
    assert_eq!(m.python["from"][0][1], "ada@work.example");
    assert_eq!(m.mail_from, "ada@work.example");
    // Threaded.
    assert_eq!(m.python["in_reply_to"], "<korean-1@example.kr>");
    assert_eq!(m.python["references"], "<korean-1@example.kr>");
    assert_eq!(header_text(&p, "References"), vec!["korean-1@example.kr"]);
    // Attribution, quote (an already quoted line gets one more `>`), the answer, the
    // identity's signature once.
    let expected = format!(
        "On Wed, 2 Dec 2026 10:00:00 +0900, 홍길동 wrote:\n> 안녕하세요, 에이다 님.\n> 회의 자료를 첨부합니다.\n>\n>> 지난 메일\n\n네, 받았습니다.\n\n-- \n{SIG}\n"
    );
    assert_eq!(text_of(&m), expected);
    assert_eq!(
        m.python["text"].as_str().unwrap().replace("\r\n", "\n"),
        expected
    );
    assert!(m.raw.is_ascii());
}

#[test]
fn reply_all_leaves_out_own_addresses_and_keeps_one_re() {
    let (env, server) = setup();
    let orig = env.file(
        "orig.eml",
        "From: Bob <bob@example.com>\r\n\
Reply-To: Project List <list@lists.example>\r\n\
To: Ada <ADA@home.example>, Carol <carol@example.com>, ada@relay.example\r\n\
Cc: \"Doe, John\" <john@example.com>, ada@work.example, Ada <ada@example.com>, carol@example.com\r\n\
Subject: RE: Aw: Re: Budget\r\n\
Date: Tue, 01 Dec 2026 09:30:00 +0000\r\n\
Message-ID: <c3@example.com>\r\n\
References: <a1@example.com>\r\n <b2@example.com>\r\n\
In-Reply-To: <b2@example.com>\r\n\
\r\n\
Numbers attached.\r\n",
    );
    env.run(["send", "--reply-all", orig.to_str().unwrap()])
        .expect_code(0);
    let m = server.only_message();
    // Reply-To wins over From; the original's To follow; every own address (identities,
    // the transport's and the top-level from, in any case) is gone; no one twice.
    assert_eq!(
        addrs(&m.python["to"]),
        vec!["list@lists.example", "carol@example.com"]
    );
    assert_eq!(addrs(&m.python["cc"]), vec!["john@example.com"]);
    assert_eq!(m.python["cc"][0][0], "Doe, John");
    let mut rcpt = m.rcpt_tos.clone();
    rcpt.sort();
    assert_eq!(
        rcpt,
        vec![
            "carol@example.com",
            "john@example.com",
            "list@lists.example"
        ]
    );
    assert_eq!(m.python["subject"], "Re: Budget");
    assert_eq!(m.parsed().subject(), Some("Re: Budget"));
    assert_eq!(m.python["in_reply_to"], "<c3@example.com>");
    assert_eq!(
        m.python["references"],
        "<a1@example.com> <b2@example.com> <c3@example.com>"
    );
    assert_eq!(
        header_text(&m.parsed(), "References"),
        vec!["a1@example.com", "b2@example.com", "c3@example.com"]
    );
    // Addressed to the home identity first (To before Cc): its From, no signature.
    assert_eq!(m.python["from"][0][1], "ada@home.example");
    assert_eq!(
        text_of(&m),
        "On Tue, 1 Dec 2026 09:30:00 +0000, Bob wrote:\n> Numbers attached.\n"
    );

    // A plain reply goes to Reply-To only; a reply to one's own message goes to its
    // recipients.
    let own = env.file(
        "own.eml",
        "From: Ada <ada@home.example>\r\nTo: Dan <dan@example.com>\r\nSubject: Re: Re: hi\r\nMessage-ID: <own@home.example>\r\n\r\nhi\r\n",
    );
    let r = env.run(["preview", "--raw", "--reply", orig.to_str().unwrap()]);
    r.expect_code(0);
    let raw = r.0.stdout.clone();
    let p = parse(&raw);
    assert_eq!(
        p.to().unwrap().first().unwrap().address(),
        Some("list@lists.example")
    );
    assert!(p.cc().is_none());
    let r = env.run(["preview", "--raw", "--reply", own.to_str().unwrap()]);
    r.expect_code(0);
    let raw = r.0.stdout.clone();
    let p = parse(&raw);
    assert_eq!(
        p.to().unwrap().first().unwrap().address(),
        Some("dan@example.com")
    );
    assert_eq!(p.subject(), Some("Re: hi"));
    // No date in the original: the attribution names the author only.
    assert_eq!(
        p.body_text(0).unwrap().replace("\r\n", "\n"),
        "Ada wrote:\n> hi\n"
    );
}

#[test]
fn an_html_only_original_is_quoted_as_text() {
    let (env, server) = setup();
    let orig = env.file(
        "html.eml",
        "From: Eve <eve@example.org>\r\n\
To: ada@home.example\r\n\
Subject: Launch\r\n\
Date: Mon, 30 Nov 2026 08:00:00 -0500\r\n\
Message-ID: <h1@example.org>\r\n\
MIME-Version: 1.0\r\n\
Content-Type: text/html; charset=utf-8\r\n\
Content-Transfer-Encoding: quoted-printable\r\n\
\r\n\
<html><head><style>p {color: red}</style></head><body><p>Hello <b>Ada</b>,</p>=\r\n\
<p>the launch is on <i>Friday</i> =E2=80=94 caf=C3=A9 at 9.</p></body></html>\r\n",
    );
    env.run(["send", "--reply", orig.to_str().unwrap()])
        .expect_code(0);
    let m = server.only_message();
    let text = text_of(&m);
    assert!(
        text.starts_with("On Mon, 30 Nov 2026 08:00:00 -0500, Eve wrote:\n> "),
        "{text}"
    );
    for line in text.lines().skip(1) {
        assert!(
            line.starts_with('>'),
            "an unquoted line {line:?} in\n{text}"
        );
    }
    assert!(text.contains("Hello **Ada**,"), "{text}");
    assert!(
        text.contains("the launch is on Friday — café at 9."),
        "{text}"
    );
    assert!(
        !text.contains('<') && !text.contains("color"),
        "HTML left in\n{text}"
    );
    // A text reply: no HTML part.
    assert!(m.python["html"].is_null());
}

#[test]
fn forward_reattaches_every_attachment_byte_for_byte() {
    let (env, server) = setup();
    let pdf = random_bytes(70_000);
    let korean_name = "분기 보고서 (최종).pdf";
    let notes = "plain notes ✓\n";
    let b64 = |b: &[u8]| {
        use base64::Engine as _;
        let s = base64::engine::general_purpose::STANDARD.encode(b);
        s.as_bytes()
            .chunks(76)
            .map(|c| std::str::from_utf8(c).unwrap())
            .collect::<Vec<_>>()
            .join("\r\n")
    };
    let orig = format!(
        "From: =?UTF-8?B?7ZmN6ri464+Z?= <gildong@example.kr>\r\n\
To: Ada <ada@work.example>\r\n\
Cc: bob@example.com\r\n\
Subject: =?UTF-8?B?67O06rOg7ISc?=\r\n\
Date: Wed, 02 Dec 2026 11:00:00 +0900\r\n\
Message-ID: <fwd-1@example.kr>\r\n\
MIME-Version: 1.0\r\n\
Content-Type: multipart/mixed; boundary=\"outer\"\r\n\
\r\n\
--outer\r\n\
Content-Type: multipart/alternative; boundary=\"alt\"\r\n\
\r\n\
--alt\r\n\
Content-Type: text/plain; charset=utf-8\r\n\
Content-Transfer-Encoding: 8bit\r\n\
\r\n\
보고서를 보냅니다.\r\n\
-- \r\n\
홍길동\r\n\
--alt\r\n\
Content-Type: text/html; charset=utf-8\r\n\
\r\n\
<p>보고서를 보냅니다.</p>\r\n\
--alt--\r\n\
--outer\r\n\
Content-Type: application/pdf\r\n\
Content-Disposition: attachment; filename*=utf-8''{}\r\n\
Content-Transfer-Encoding: base64\r\n\
\r\n\
{}\r\n\
--outer\r\n\
Content-Type: text/plain; charset=utf-8\r\n\
Content-Disposition: attachment; filename=\"notes.txt\"\r\n\
Content-Transfer-Encoding: base64\r\n\
\r\n\
{}\r\n\
--outer--\r\n",
        percent_encoding::utf8_percent_encode(korean_name, percent_encoding::NON_ALPHANUMERIC),
        b64(&pdf),
        b64(notes.as_bytes()),
    );
    let orig = env.file("fwd.eml", orig);
    let note = env.file("note.txt", "FYI, see below.\n");
    env.run([
        "send",
        "--forward",
        orig.to_str().unwrap(),
        "--to",
        "Carol <carol@example.com>",
        "--text",
        note.to_str().unwrap(),
    ])
    .expect_code(0);
    let m = server.only_message();
    assert_eq!(m.python["subject"], "Fwd: 보고서");
    assert_eq!(m.rcpt_tos, vec!["carol@example.com"]);
    assert!(m.python["in_reply_to"].is_null());
    // Written as the identity the original was addressed to, signed below the block; the
    // forwarded message's own signature stays inside it.
    assert_eq!(m.python["from"][0][1], "ada@work.example");
    assert_eq!(
        text_of(&m),
        format!(
            "FYI, see below.\n\n----- Forwarded message -----\nFrom: 홍길동 <gildong@example.kr>\nDate: Wed, 2 Dec 2026 11:00:00 +0900\nSubject: 보고서\nTo: Ada <ada@work.example>\nCc: bob@example.com\n\n보고서를 보냅니다.\n-- \n홍길동\n----- End forwarded message -----\n\n-- \n{SIG}\n"
        )
    );
    // Both parsers find the same attachments, byte for byte.
    let atts = m.python["attachments"].as_array().unwrap();
    assert_eq!(atts.len(), 2, "{}", m.python);
    assert_eq!(atts[0]["filename"], korean_name);
    assert_eq!(atts[0]["content_type"], "application/pdf");
    assert_eq!(atts[0]["sha256"], sha256_hex(&pdf));
    assert_eq!(atts[1]["filename"], "notes.txt");
    assert_eq!(atts[1]["sha256"], sha256_hex(notes.as_bytes()));
    let p = m.parsed();
    let got: Vec<(String, Vec<u8>)> = p
        .attachments()
        .map(|a| {
            (
                a.attachment_name().unwrap().to_string(),
                a.contents().to_vec(),
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            (korean_name.to_string(), pdf.clone()),
            ("notes.txt".to_string(), notes.as_bytes().to_vec())
        ]
    );
    // The copies kept for the draft are gone once it was delivered.
    let staged = env.data_home.join("missive/attachments");
    let left: Vec<_> = std::fs::read_dir(&staged)
        .map(|rd| rd.filter_map(Result::ok).map(|e| e.path()).collect())
        .unwrap_or_default();
    assert!(left.is_empty(), "staged attachments left behind: {left:?}");
}

#[test]
fn forward_attached_sends_the_original_unchanged() {
    let (env, server) = setup();
    let orig = env.file("orig.eml", KOREAN);
    env.run([
        "send",
        "--forward-attached",
        orig.to_str().unwrap(),
        "--to",
        "carol@example.com",
    ])
    .expect_code(0);
    let m = server.only_message();
    assert_eq!(m.python["subject"], "Fwd: 회의 자료");
    let p = m.parsed();
    let att = p.attachments().next().expect("an attached message");
    assert_eq!(
        att.content_type()
            .map(|c| format!("{}/{}", c.ctype(), c.subtype().unwrap_or(""))),
        Some("message/rfc822".to_string())
    );
    let PartType::Message(inner) = &att.body else {
        panic!("not read as a message: {:?}", att.body);
    };
    // Byte for byte (the original already had CRLF line ends).
    assert_eq!(inner.raw_message(), KOREAN.as_bytes());
    assert_eq!(inner.subject(), Some("회의 자료"));
    let text = m.text();
    assert!(
        text.contains("Content-Type: message/rfc822")
            && !text
                .to_ascii_lowercase()
                .contains("message/rfc822\r\ncontent-transfer-encoding: base64"),
        "{text}"
    );
    // Python sees the same attached message.
    let py = &m.python["attachments"][0];
    assert_eq!(py["content_type"], "message/rfc822", "{}", m.python);
}

#[test]
fn a_template_prefills_everything() {
    let (env, server) = setup();
    let template = "From: Ada Lovelace <ada@work.example>\n\
To: =?UTF-8?B?7ZmN6ri464+Z?= <gildong@example.kr>, team@example.com\n\
Cc: \"Doe, John\" <john@example.com>\n\
Bcc: archive@example.com\n\
Reply-To: Team <team@work.example>\n\
Subject: 주간 보고 =?UTF-8?Q?(draft)?=\n\
X-Project: Apollo\n\
Date: Mon, 01 Jan 2024 00:00:00 +0000\n\
Message-ID: <old@example.com>\n\
\n\
이번 주 보고입니다.\n\
\n\
-- \n\
Ada\n\
Work Inc.\n";
    let out = env
        .cmd()
        .args(["send", "--template", "-", "--cc", "extra@example.com"])
        .write_stdin(template)
        .output()
        .unwrap();
    Run(out).expect_code(0);
    let m = server.only_message();
    let py = &m.python;
    assert_eq!(py["from"][0][1], "ada@work.example");
    assert_eq!(
        py["to"][0],
        serde_json::json!(["홍길동", "gildong@example.kr"])
    );
    assert_eq!(
        addrs(&py["to"]),
        vec!["gildong@example.kr", "team@example.com"]
    );
    assert_eq!(
        addrs(&py["cc"]),
        vec!["john@example.com", "extra@example.com"]
    );
    assert_eq!(
        py["reply_to"][0],
        serde_json::json!(["Team", "team@work.example"])
    );
    assert_eq!(py["subject"], "주간 보고 (draft)");
    assert_eq!(py["bcc_header"], false);
    assert!(m.rcpt_tos.contains(&"archive@example.com".to_string()));
    assert_ne!(py["message_id"], "<old@example.com>");
    let p = m.parsed();
    assert_eq!(header_text(&p, "X-Project"), vec!["Apollo"]);
    assert!(!m.text().contains("2024"), "the template's Date was kept");
    // The body as written: the template already carries the identity's signature, so
    // it is not added again.
    assert_eq!(text_of(&m), format!("이번 주 보고입니다.\n\n-- \n{SIG}\n"));
}

#[test]
fn bad_originals_are_refused_with_the_reason() {
    let (env, server) = setup();
    let r = env.run(["send", "--reply", "missing.eml"]);
    r.expect_code(2);
    assert!(
        r.stderr().contains("--reply missing.eml: no such file"),
        "{}",
        r.describe()
    );
    let empty = env.file("empty.eml", "");
    let r = env.run([
        "send",
        "--forward",
        empty.to_str().unwrap(),
        "--to",
        "a@example.com",
    ]);
    r.expect_code(2);
    assert!(
        r.stderr().contains("empty, not a message"),
        "{}",
        r.describe()
    );
    let r = env.run(["send", "--reply", env.path().to_str().unwrap()]);
    r.expect_code(2);
    assert!(r.stderr().contains("directory"), "{}", r.describe());
    let out = env
        .cmd()
        .args(["send", "--reply", "-", "--text", "-"])
        .write_stdin(KOREAN)
        .output()
        .unwrap();
    let r = Run(out);
    r.expect_code(2);
    assert!(r.stderr().contains("standard input"), "{}", r.describe());
    let r = env.run(["preview", "--reply", "a.eml", "--forward", "b.eml"]);
    r.expect_code(2);
    assert!(server.received().is_empty());
}

#[test]
fn preview_raw_shows_the_reply_read_from_stdin() {
    let (env, _server) = setup();
    let out = env
        .cmd()
        .args(["preview", "--raw", "--reply", "-"])
        .write_stdin(KOREAN)
        .output()
        .unwrap();
    let r = Run(out);
    r.expect_code(0);
    let p = parse(&r.0.stdout);
    assert_eq!(p.subject(), Some("Re: 회의 자료"));
    assert_eq!(p.in_reply_to().as_text(), Some("korean-1@example.kr"));
    assert_eq!(
        p.from().unwrap().first().unwrap().address(),
        Some("ada@work.example")
    );
}
