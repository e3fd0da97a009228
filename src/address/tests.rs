use super::*;

/// (name, address as sent) of each mailbox an input stands for.
type Want<'a> = &'a [(Option<&'a str>, &'a str)];

/// Each form → the mailboxes it stands for (name, address as sent), or the refusal.
#[test]
fn parses_what_mail_programs_write() {
    let ok: &[(&str, Want)] = &[
        ("a@example.com", &[(None, "a@example.com")]),
        ("Bob <bob@example.net>", &[(Some("Bob"), "bob@example.net")]),
        (
            "Carol (Admin) <c@example.com>",
            &[(Some("Carol (Admin)"), "c@example.com")],
        ),
        ("c@example.com (Carol)", &[(Some("Carol"), "c@example.com")]),
        (
            "캐럴 (총무팀) <carol@example.com>",
            &[(Some("캐럴 (총무팀)"), "carol@example.com")],
        ),
        (
            "\"Doe, John\" <j@example.com>",
            &[(Some("Doe, John"), "j@example.com")],
        ),
        (
            "O'Brien <ob@example.com>",
            &[(Some("O'Brien"), "ob@example.com")],
        ),
        (
            "\"a@b; <c>\" <x@example.com>",
            &[(Some("a@b; <c>"), "x@example.com")],
        ),
        (
            "John Q. Public <jqp@example.com>",
            &[(Some("John Q. Public"), "jqp@example.com")],
        ),
        (
            "\"john doe\"@example.com",
            &[(None, "\"john doe\"@example.com")],
        ),
        ("a@[127.0.0.1]", &[(None, "a@[127.0.0.1]")]),
        (
            "user@bücher.example",
            &[(None, "user@xn--bcher-kva.example")],
        ),
        (
            "=?utf-8?b?7ZmN6ri464+Z?= <g@example.com>",
            &[(Some("홍길동"), "g@example.com")],
        ),
        (
            "=?utf-8?q?Caf=C3=A9?= =?utf-8?q?_Bar?= <c@example.com>",
            &[(Some("Café Bar"), "c@example.com")],
        ),
        (
            "a@x.example, , b@y.example,",
            &[(None, "a@x.example"), (None, "b@y.example")],
        ),
        ("<@relay.example:u@example.com>", &[(None, "u@example.com")]),
        (
            "Team: a@example.com, b@example.com;",
            &[(None, "a@example.com"), (None, "b@example.com")],
        ),
        ("undisclosed-recipients:;", &[]),
        (
            "Team: a@example.com; c@example.com",
            &[(None, "a@example.com"), (None, "c@example.com")],
        ),
        (
            "  spaced   name   <s@example.com>  ",
            &[(Some("spaced name"), "s@example.com")],
        ),
    ];
    for (input, want) in ok {
        let list = parse_list(input).unwrap_or_else(|e| panic!("{input}: {e}"));
        let got: Vec<(Option<String>, String)> = list
            .iter()
            .flat_map(|a| a.mailboxes())
            .map(|m| (m.name.clone(), m.email.to_string()))
            .collect();
        let want: Vec<(Option<String>, String)> = want
            .iter()
            .map(|(n, a)| (n.map(str::to_string), a.to_string()))
            .collect();
        assert_eq!(got, want, "{input}");
    }
}

#[test]
fn refuses_with_the_reason() {
    let bad: &[(&str, &str)] = &[
        (
            "Smith, John <js@example.com>",
            "quote it: \"Smith, John\" <js@example.com>",
        ),
        ("bob", "\"bob\" is not an address"),
        ("Bob <bob>", "is not an address"),
        ("a@b c@d", "without a comma"),
        ("\"open <a@b>", "not closed"),
        ("Team: a@example.com", "not closed with ';'"),
        ("a@", "no domain"),
        ("<>", "empty"),
        ("a@b..c", "empty label"),
        ("john doe@example.com", "quote the part before '@'"),
        ("a\u{1}b@example.com", "control character"),
    ];
    for (input, want) in bad {
        let e = parse_list(input).expect_err(input);
        assert!(e.contains(want), "{input}: {e}");
    }
}

fn header(input: &str) -> String {
    crate::message::header::fold_pieces("To", &list_pieces(&parse_list(input).unwrap()))
}

#[test]
fn writes_the_conventional_form() {
    let cases = [
        ("Bob <b@example.com>", "To: Bob <b@example.com>\r\n"),
        (
            "\"O'Brien\" <o@example.com>",
            "To: O'Brien <o@example.com>\r\n",
        ),
        (
            "\"Doe, John\" <j@example.com>",
            "To: \"Doe, John\" <j@example.com>\r\n",
        ),
        (
            "John Q. Public <j@example.com>",
            "To: \"John Q. Public\" <j@example.com>\r\n",
        ),
        (
            "Carol (Admin) <c@example.com>",
            "To: \"Carol (Admin)\" <c@example.com>\r\n",
        ),
        (
            "\"a \\\"q\\\" b\" <c@example.com>",
            "To: \"a \\\"q\\\" b\" <c@example.com>\r\n",
        ),
        (
            "undisclosed-recipients:;",
            "To: undisclosed-recipients:;\r\n",
        ),
        (
            "Team: a@example.com, B <b@example.com>;",
            "To: Team: a@example.com, B <b@example.com>;\r\n",
        ),
        (
            "\"=?utf-8?b?SGFja2Vk?=\" <h@example.com>",
            "To: =?utf-8?b?PT91dGYtOD9iP1NHRmphMlZrPz0=?= <h@example.com>\r\n",
        ),
        ("x@bücher.example", "To: x@xn--bcher-kva.example\r\n"),
        (
            "\"john doe\"@example.com",
            "To: <\"john doe\"@example.com>\r\n",
        ),
    ];
    for (input, want) in cases {
        assert_eq!(header(input), want, "{input}");
    }
    let h = header("홍길동 <g@example.com>");
    assert!(
        h.starts_with("To: =?utf-8?b?") && h.ends_with(" <g@example.com>\r\n"),
        "{h}"
    );
}

#[test]
fn long_lists_fold_between_addresses() {
    let list: Vec<String> = (0..200)
        .map(|i| format!("Person {i} <p{i}@example.com>"))
        .collect();
    let h = header(&list.join(", "));
    assert!(h.split("\r\n").all(|l| l.len() <= 78), "{h}");
    let back = parse_list(h.trim_start_matches("To:").replace("\r\n", "").trim()).unwrap();
    assert_eq!(back.len(), 200);
}

#[test]
fn smtputf8_only_for_non_ascii_local_parts() {
    let l = parse_list("x@bücher.example, 홍@example.com").unwrap();
    let m: Vec<_> = l.iter().flat_map(|a| a.mailboxes()).collect();
    assert!(!m[0].email.needs_smtputf8());
    assert!(m[1].email.needs_smtputf8());
}
