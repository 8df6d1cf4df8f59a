//! A small XML writer: AWS Query responses are flat enough that a string builder with escaping is clearer
//! than an event writer.

use quick_xml::escape::escape;

/// Characters XML 1.0 allows in a document (its `Char` production; Rust strings hold no surrogates).
fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

/// Appends `text` as character data that an XML 1.0 parser reads back as `text`: markup characters escaped,
/// `\r` as a reference (a literal one would be read as a line end), and the characters XML 1.0 cannot carry
/// at all (NUL and the other C0 controls, U+FFFE, U+FFFF) as U+FFFD. Error messages echo request values, and
/// one control character must not make the whole response unparseable.
fn push_text(buf: &mut String, text: &str) {
    let escaped = escape(text);
    // Almost every value is plain text: copy it whole; only rare ones need the character-by-character pass.
    if escaped.chars().all(|c| c != '\r' && is_xml_char(c)) {
        buf.push_str(&escaped);
        return;
    }
    for c in escaped.chars() {
        match c {
            '\r' => buf.push_str("&#xD;"),
            c if is_xml_char(c) => buf.push(c),
            _ => buf.push(char::REPLACEMENT_CHARACTER),
        }
    }
}

#[derive(Debug, Default)]
pub struct XmlWriter {
    buf: String,
}

impl XmlWriter {
    pub fn new() -> Self {
        XmlWriter::default()
    }

    pub fn document() -> Self {
        XmlWriter {
            buf: String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"),
        }
    }

    pub fn open(&mut self, name: &str) -> &mut Self {
        self.buf.push('<');
        self.buf.push_str(name);
        self.buf.push('>');
        self
    }

    pub fn open_ns(&mut self, name: &str, namespace: &str) -> &mut Self {
        self.buf
            .push_str(&format!("<{name} xmlns=\"{}\">", escape(namespace)));
        self
    }

    pub fn close(&mut self, name: &str) -> &mut Self {
        self.buf.push_str("</");
        self.buf.push_str(name);
        self.buf.push('>');
        self
    }

    pub fn text_element(&mut self, name: &str, text: &str) -> &mut Self {
        self.open(name);
        push_text(&mut self.buf, text);
        self.close(name)
    }

    /// Writes the element only when there is a value: AWS omits absent optional members.
    pub fn optional(&mut self, name: &str, text: Option<&str>) -> &mut Self {
        if let Some(text) = text {
            self.text_element(name, text);
        }
        self
    }

    pub fn raw_element(&mut self, name: &str, inner_xml: &str) -> &mut Self {
        self.open(name);
        self.buf.push_str(inner_xml);
        self.close(name)
    }

    pub fn finish(self) -> String {
        self.buf
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped_into_characters_xml_allows() {
        let mut xml = XmlWriter::new();
        xml.text_element(
            "Message",
            "a\0b\r\nc&<>\"'\u{1}\u{8}\u{b}\u{1f}\u{fffe}\u{ffff}\té\u{10000}",
        );
        assert_eq!(
            xml.finish(),
            "<Message>a\u{fffd}b&#xD;\nc&amp;&lt;&gt;&quot;&apos;\u{fffd}\u{fffd}\u{fffd}\u{fffd}\u{fffd}\u{fffd}\té\u{10000}</Message>"
        );
    }
}
