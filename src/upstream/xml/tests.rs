//! The schema reader and the SDK-compatible error reader. The verifier's
//! tests (`auth::response::tests`) cover every refusal on the
//! `GetCallerIdentity` schema; these cover what the schema adds.

use super::*;

const SCHEMA: [Element; 4] = [
    Element::root("R"),
    Element::node("A", 0),
    Element::leaf("L", 1),
    Element::leaf("L", 0),
];

fn doc(inner: &str) -> String {
    format!("<R xmlns=\"{STS_NAMESPACE}\">{inner}</R>")
}

#[test]
fn the_same_name_is_told_apart_by_its_parent() {
    let d = read_strict(&doc("<A><L>in</L></A><L>out</L>"), &SCHEMA).unwrap();
    assert_eq!(d.text[2].as_deref(), Some("in"));
    assert_eq!(d.text[3].as_deref(), Some("out"));
    assert_eq!(d.seen, [true; 4]);
    let d = read_strict(&doc(""), &SCHEMA).unwrap();
    assert_eq!(d.seen, [true, false, false, false]);
}

#[test]
fn leaves_hold_no_elements_and_nodes_no_text() {
    assert_eq!(
        read_strict(&doc("<L><A/></L>"), &SCHEMA).unwrap_err(),
        XmlError::UnexpectedElement
    );
    assert_eq!(
        read_strict(&doc("<A>x</A>"), &SCHEMA).unwrap_err(),
        XmlError::Malformed
    );
    assert_eq!(
        read_strict(&format!("{}{}", doc(""), doc("")), &SCHEMA).unwrap_err(),
        XmlError::Malformed
    );
}

#[test]
fn error_fields_follow_the_sdk() {
    let f = error_fields("<ErrorResponse><Error><Code>C&amp;</Code><Message>&#65;b</Message><X/></Error></ErrorResponse>");
    assert_eq!(f.code.as_deref(), Some("C&"));
    assert_eq!(f.message.as_deref(), Some("Ab"));
    // Code deeper than root/Error, too deep, unterminated or with a DTD: nothing.
    for body in [
        "<R><Errors><Error><Code>C</Code></Error></Errors></R>",
        "<R><Error><Code><B>C</B></Code></Error></R>",
        "<a><b><c><d><e>x</e></d></c></b></a>",
        "<R><Error><Code>C</Code></Error>",
        "<!DOCTYPE R><R><Error><Code>C</Code></Error></R>",
        "<?pi x?><R><Error><Code>C</Code></Error></R>",
    ] {
        let f = error_fields(body);
        assert_ne!(f.code.as_deref(), Some("C"), "{body}");
    }
}
