//! A small XML writer: AWS Query responses are flat enough that a string builder with escaping is clearer
//! than an event writer.

use quick_xml::escape::escape;

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
        self.buf.push_str(&escape(text));
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
