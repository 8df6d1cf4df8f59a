//! The Query-protocol form decoder IAM and STS read every request with: `Params::parse`, list members
//! (`ClientIDList.member.N`), tag pairs (`Tags.member.N.Key`/`.Value`), integers and booleans, IAM's input
//! rules over them, and the `<ErrorResponse>` document an error becomes.
//!
//! Checks, beyond "no panic": list and tag accessors return exactly the members present, in order, up to the
//! first gap; every error document is well-formed XML 1.0 whose `Message` reads back as the error's message
//! (as an XML 1.0 parser such as botocore's reads it), characters XML cannot carry replaced by U+FFFD.
#![no_main]

use irsa_emulator::fuzzing::{Query, QueryError};
use libfuzzer_sys::fuzz_target;

/// Members the IAM and STS handlers read with `int`, `bool` or `required`.
const SCALARS: &[&str] = &[
    "Action",
    "Version",
    "RoleName",
    "PolicyArn",
    "MaxItems",
    "MaxSessionDuration",
    "DurationSeconds",
    "OnlyAttached",
    "SetAsDefault",
    "Url",
];

/// Prefixes read with `list` or `tags`.
const LISTS: &[&str] = &["ClientIDList", "ThumbprintList", "TagKeys", "Tags"];

fuzz_target!(|data: &[u8]| {
    let query = Query::parse(data);
    let names = query.names();

    for name in names
        .iter()
        .map(String::as_str)
        .chain(SCALARS.iter().copied())
    {
        match query.required(name) {
            Ok(value) => assert_eq!(Some(value), query.get(name)),
            Err(e) => {
                assert!(query.get(name).is_none());
                check_error(&e);
            }
        }
        match query.int(name) {
            Ok(Some(n)) => assert_eq!(query.get(name).map(|v| v.trim().parse()), Some(Ok(n))),
            Ok(None) => assert!(query.get(name).is_none()),
            Err(e) => check_error(&e),
        }
        match query.bool(name) {
            Ok(Some(b)) => assert!(query
                .get(name)
                .unwrap()
                .eq_ignore_ascii_case(&b.to_string())),
            Ok(None) => assert!(query.get(name).is_none()),
            Err(e) => check_error(&e),
        }
    }

    // Every prefix a `.member.` key could belong to, nested ones included.
    let mut prefixes: Vec<String> = LISTS.iter().map(|s| s.to_string()).collect();
    for name in &names {
        let mut rest = name.as_str();
        let mut consumed = 0;
        while let Some(at) = rest.find(".member.") {
            prefixes.push(name[..consumed + at].to_string());
            consumed += at + ".member.".len();
            rest = &name[consumed..];
        }
    }
    prefixes.sort();
    prefixes.dedup();
    for prefix in &prefixes {
        let list = query.list(prefix);
        for (i, value) in list.iter().enumerate() {
            let member = format!("{prefix}.member.{}", i + 1);
            assert_eq!(query.get(&member), Some(value.as_str()), "{member}");
        }
        let next = format!("{prefix}.member.{}", list.len() + 1);
        assert!(
            query.get(&next).is_none(),
            "list {prefix} stopped before {next}"
        );

        match query.tags(prefix) {
            Ok(tags) => {
                for (i, (key, value)) in tags.iter().enumerate() {
                    let member = format!("{prefix}.member.{}", i + 1);
                    assert_eq!(query.get(&format!("{member}.Key")), Some(key.as_str()));
                    assert_eq!(
                        query.get(&format!("{member}.Value")).unwrap_or_default(),
                        value
                    );
                }
                let next = format!("{prefix}.member.{}", tags.len() + 1);
                assert!(query.get(&format!("{next}.Key")).is_none());
                assert!(query.get(&format!("{next}.Value")).is_none());
            }
            Err(e) => check_error(&e),
        }
    }

    for e in query.validate_iam() {
        check_error(&e);
    }
});

/// XML 1.0's `Char` production.
fn xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

fn check_error(e: &QueryError) {
    let xml = &e.xml;
    if let Some(bad) = xml.chars().find(|c| !xml_char(*c)) {
        panic!("error document has {bad:?}, which XML 1.0 forbids: {xml:?}");
    }
    let mut reader = quick_xml::Reader::from_str(xml);
    let mut depth = 0usize;
    loop {
        match reader.read_event() {
            Ok(quick_xml::events::Event::Eof) => break,
            Ok(quick_xml::events::Event::Start(_)) => depth += 1,
            Ok(quick_xml::events::Event::End(_)) => depth -= 1,
            Ok(_) => {}
            Err(err) => panic!("error document is not well-formed ({err}): {xml:?}"),
        }
    }
    assert_eq!(depth, 0, "unclosed elements: {xml:?}");

    let raw = xml
        .split_once("<Message>")
        .and_then(|(_, rest)| rest.split_once("</Message>"))
        .map(|(message, _)| message)
        .unwrap_or_else(|| panic!("no Message element: {xml:?}"));
    // A conforming parser normalises literal line ends before it resolves references.
    let normalised = raw.replace("\r\n", "\n").replace('\r', "\n");
    let read_back = quick_xml::escape::unescape(&normalised)
        .unwrap_or_else(|err| panic!("Message does not unescape ({err}): {xml:?}"));
    // Characters XML cannot carry at all are sent as U+FFFD; everything else reads back as it was.
    let expected: String = e
        .message
        .chars()
        .map(|c| if xml_char(c) { c } else { '\u{FFFD}' })
        .collect();
    assert_eq!(read_back, expected, "Message does not read back: {xml:?}");
}
