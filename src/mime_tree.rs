//! The MIME structure of built bytes, read back from the bytes themselves so the preview
//! shows exactly what leaves, not what we meant to build.

use mail_parser::{MessageParser, MimeHeaders};
use serde::Serialize;

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MimeNode {
    pub content_type: String,
    pub encoding: String,
    /// Encoded bytes of this part's body (for multiparts: everything between the headers
    /// and the end of the part).
    pub size: u64,
    pub filename: Option<String>,
    pub children: Vec<MimeNode>,
}

/// The root of a message: its header block plus the part tree.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MimeTree {
    /// Header name and value as they appear in the bytes, unfolded.
    pub headers: Vec<(String, String)>,
    pub root: MimeNode,
    pub total_size: u64,
}

impl MimeTree {
    pub fn parse(raw: &[u8]) -> Option<MimeTree> {
        let msg = MessageParser::default().parse(raw)?;
        let root = node(&msg, 0)?;
        Some(MimeTree {
            headers: raw_headers(raw),
            root,
            total_size: raw.len() as u64,
        })
    }

    /// `preview --json`: the root node with the root's headers as an object.
    pub fn to_json(&self) -> serde_json::Value {
        let mut v = serde_json::to_value(&self.root).unwrap_or(serde_json::Value::Null);
        let mut headers = serde_json::Map::new();
        for (k, val) in &self.headers {
            match headers.get_mut(k) {
                Some(serde_json::Value::String(prev)) => {
                    prev.push_str(", ");
                    prev.push_str(val);
                }
                _ => {
                    headers.insert(k.clone(), serde_json::Value::String(val.clone()));
                }
            }
        }
        if let serde_json::Value::Object(map) = &mut v {
            map.insert("headers".into(), serde_json::Value::Object(headers));
        }
        v
    }

    /// The indented tree printed by `missive preview` and drawn by the composer.
    pub fn render_lines(&self) -> Vec<String> {
        let mut out = Vec::new();
        render(&self.root, "", true, true, &mut out);
        out
    }
}

fn render(n: &MimeNode, prefix: &str, last: bool, root: bool, out: &mut Vec<String>) {
    let (branch, child_prefix) = if root {
        (String::new(), String::new())
    } else if last {
        (format!("{prefix}└─ "), format!("{prefix}   "))
    } else {
        (format!("{prefix}├─ "), format!("{prefix}│  "))
    };
    let mut line = format!("{branch}{}", n.content_type);
    if n.children.is_empty() {
        line.push_str(&format!("  [{}, {}]", n.encoding, human_size(n.size)));
    } else {
        line.push_str(&format!("  [{}]", human_size(n.size)));
    }
    if let Some(f) = &n.filename {
        line.push_str(&format!("  \"{f}\""));
    }
    out.push(line);
    for (i, c) in n.children.iter().enumerate() {
        render(c, &child_prefix, i + 1 == n.children.len(), false, out);
    }
}

pub fn human_size(bytes: u64) -> String {
    humansize::format_size(bytes, humansize::BINARY)
}

fn node(msg: &mail_parser::Message<'_>, id: u32) -> Option<MimeNode> {
    let part = msg.part(id)?;
    let content_type = match part.content_type() {
        Some(ct) => match ct.subtype() {
            Some(sub) => format!("{}/{}", ct.ctype(), sub),
            None => ct.ctype().to_string(),
        },
        None => "text/plain".to_string(),
    }
    .to_ascii_lowercase();
    let encoding = part
        .content_transfer_encoding()
        .unwrap_or("7bit")
        .to_ascii_lowercase();
    let children = match part.sub_parts() {
        Some(ids) => ids.iter().filter_map(|&c| node(msg, c)).collect(),
        None => Vec::new(),
    };
    Some(MimeNode {
        content_type,
        encoding,
        size: u64::from(part.raw_end_offset().saturating_sub(part.raw_body_offset())),
        filename: part.attachment_name().map(str::to_string),
        children,
    })
}

/// The top-level header block, unfolded, values kept encoded as sent.
fn raw_headers(raw: &[u8]) -> Vec<(String, String)> {
    let end = find(raw, b"\r\n\r\n").unwrap_or(raw.len());
    let block = String::from_utf8_lossy(&raw[..end]);
    let mut out: Vec<(String, String)> = Vec::new();
    for line in block.split("\r\n") {
        if line.starts_with([' ', '\t']) {
            if let Some(last) = out.last_mut() {
                last.1.push(' ');
                last.1.push_str(line.trim_start());
            }
        } else if let Some((k, v)) = line.split_once(':') {
            out.push((k.to_string(), v.trim_start().to_string()));
        }
    }
    out
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}
