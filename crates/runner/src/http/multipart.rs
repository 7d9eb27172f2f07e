//! `multipart/form-data` bodies as JMeter's HttpClient 4 sampler writes them (JMeter 2.13:
//! `HTTPHC4Impl.sendPostData` with httpmime 4.2's `MultipartEntity`; JMeter 5.x builds the same
//! parts with `MultipartEntityBuilder`): one part per argument (a `StringBody`: `Content-Type:
//! text/plain; charset=…`, `Content-Transfer-Encoding: 8bit`), then one per file (a `FileBody`:
//! `filename` = the file's last path component, its MIME type, `Content-Transfer-Encoding:
//! binary`). The STRICT mode writes those three headers per part; the browser-compatible mode
//! (`HTTPSampler.BROWSER_COMPATIBLE_MULTIPART`) only `Content-Disposition` and, for files,
//! `Content-Type`. Parts are separated by `--boundary` lines and closed by `--boundary--`, every
//! line ending in CRLF (RFC 7578).

/// One text part: an HTTP Request argument.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TextPart {
    /// `Argument.name`.
    pub name: String,
    /// `Argument.value`.
    pub value: String,
}

/// One file part: an `HTTPFileArg` whose file was read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FilePart {
    /// `File.paramname`.
    pub name: String,
    /// The file name sent (`File.getName()` of `File.path`).
    pub filename: String,
    /// `File.mimetype`; empty → `application/octet-stream` (JMeter 5's
    /// `ContentType.DEFAULT_BINARY`).
    pub mime_type: String,
    /// The file's bytes.
    pub content: Vec<u8>,
}

/// A whole multipart body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Multipart {
    /// The separator (without the leading `--`).
    pub boundary: String,
    /// `HTTPSampler.contentEncoding`; `None` when empty (the parts then say US-ASCII, as
    /// httpmime's default charset).
    pub charset: Option<String>,
    /// `HTTPSampler.BROWSER_COMPATIBLE_MULTIPART`.
    pub browser_compatible: bool,
    /// Arguments, in order.
    pub texts: Vec<TextPart>,
    /// Files, in order (after the arguments).
    pub files: Vec<FilePart>,
}

/// The characters httpmime draws a boundary from.
const BOUNDARY_CHARS: &[u8] = b"-_1234567890abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";

/// A boundary as httpmime's `generateBoundary`: 30 to 40 random characters of
/// [`BOUNDARY_CHARS`].
pub(crate) fn new_boundary() -> String {
    let len = fastrand::usize(30..=40);
    (0..len)
        .map(|_| char::from(BOUNDARY_CHARS[fastrand::usize(..BOUNDARY_CHARS.len())]))
        .collect()
}

impl Multipart {
    /// The request's `Content-Type`: `multipart/form-data; boundary=…` (`; charset=…` when a
    /// content encoding is set).
    pub(crate) fn content_type(&self) -> String {
        match &self.charset {
            Some(c) => format!(
                "multipart/form-data; boundary={}; charset={c}",
                self.boundary
            ),
            None => format!("multipart/form-data; boundary={}", self.boundary),
        }
    }

    /// The body bytes. Text values are written as UTF-8 when the charset is UTF-8, else with
    /// characters beyond ASCII (or Latin-1 for ISO-8859-1) as `?`, as Java's encoders do.
    pub(crate) fn body(&self) -> Vec<u8> {
        let charset = self.charset.as_deref().unwrap_or("US-ASCII");
        let mut out = Vec::new();
        let line = |out: &mut Vec<u8>, text: &str| {
            out.extend_from_slice(&encode(text, charset));
            out.extend_from_slice(b"\r\n");
        };
        for t in &self.texts {
            line(&mut out, &format!("--{}", self.boundary));
            line(
                &mut out,
                &format!("Content-Disposition: form-data; name=\"{}\"", t.name),
            );
            if !self.browser_compatible {
                line(
                    &mut out,
                    &format!("Content-Type: text/plain; charset={charset}"),
                );
                line(&mut out, "Content-Transfer-Encoding: 8bit");
            }
            line(&mut out, "");
            line(&mut out, &t.value);
        }
        for f in &self.files {
            line(&mut out, &format!("--{}", self.boundary));
            line(
                &mut out,
                &format!(
                    "Content-Disposition: form-data; name=\"{}\"; filename=\"{}\"",
                    f.name, f.filename
                ),
            );
            let mime = if f.mime_type.is_empty() {
                "application/octet-stream"
            } else {
                f.mime_type.as_str()
            };
            line(&mut out, &format!("Content-Type: {mime}"));
            if !self.browser_compatible {
                line(&mut out, "Content-Transfer-Encoding: binary");
            }
            line(&mut out, "");
            out.extend_from_slice(&f.content);
            out.extend_from_slice(b"\r\n");
        }
        line(&mut out, &format!("--{}--", self.boundary));
        out
    }
}

/// `text` in `charset` (UTF-8, ISO-8859-1 / Latin-1, else ASCII), unmappable characters as `?`.
fn encode(text: &str, charset: &str) -> Vec<u8> {
    let limit = match charset.to_ascii_uppercase().as_str() {
        "UTF-8" | "UTF8" => return text.as_bytes().to_vec(),
        "ISO-8859-1" | "ISO8859-1" | "LATIN1" => 0xFF,
        _ => 0x7F,
    };
    text.chars()
        .map(|c| {
            u8::try_from(u32::from(c))
                .ok()
                .filter(|&b| u32::from(b) <= limit)
        })
        .map(|b| b.unwrap_or(b'?'))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(browser_compatible: bool, charset: Option<&str>) -> Multipart {
        Multipart {
            boundary: "B0und-ary_1".into(),
            charset: charset.map(str::to_string),
            browser_compatible,
            texts: vec![TextPart {
                name: "title".into(),
                value: "Grüße".into(),
            }],
            files: vec![FilePart {
                name: "file".into(),
                filename: "a.bin".into(),
                mime_type: String::new(),
                content: vec![0, 255, b'\r', b'\n'],
            }],
        }
    }

    /// The wire format written out by hand from httpmime 4.2's `HttpMultipart.doWriteTo`
    /// (STRICT) and `FormBodyPart.generate*` for a StringBody and a FileBody.
    #[test]
    fn strict_parts_carry_three_headers() {
        let m = sample(false, None);
        let want: &[u8] = b"--B0und-ary_1\r\n\
            Content-Disposition: form-data; name=\"title\"\r\n\
            Content-Type: text/plain; charset=US-ASCII\r\n\
            Content-Transfer-Encoding: 8bit\r\n\
            \r\n\
            Gr??e\r\n\
            --B0und-ary_1\r\n\
            Content-Disposition: form-data; name=\"file\"; filename=\"a.bin\"\r\n\
            Content-Type: application/octet-stream\r\n\
            Content-Transfer-Encoding: binary\r\n\
            \r\n\
            \x00\xff\r\n\r\n\
            --B0und-ary_1--\r\n";
        assert_eq!(m.body(), want);
        assert_eq!(
            m.content_type(),
            "multipart/form-data; boundary=B0und-ary_1"
        );
    }

    #[test]
    fn browser_compatible_parts_and_a_charset() {
        let m = sample(true, Some("UTF-8"));
        let want = "--B0und-ary_1\r\n\
            Content-Disposition: form-data; name=\"title\"\r\n\
            \r\n\
            Grüße\r\n\
            --B0und-ary_1\r\n\
            Content-Disposition: form-data; name=\"file\"; filename=\"a.bin\"\r\n\
            Content-Type: application/octet-stream\r\n\
            \r\n";
        let body = m.body();
        assert!(
            body.starts_with(want.as_bytes()),
            "{}",
            String::from_utf8_lossy(&body)
        );
        assert_eq!(
            m.content_type(),
            "multipart/form-data; boundary=B0und-ary_1; charset=UTF-8"
        );
        assert_eq!(encode("é€", "ISO-8859-1"), vec![0xE9, b'?']);
    }

    #[test]
    fn boundaries_are_httpmimes_alphabet_and_length() {
        for _ in 0..50 {
            let b = new_boundary();
            assert!((30..=40).contains(&b.len()), "{b}");
            assert!(b.bytes().all(|c| BOUNDARY_CHARS.contains(&c)), "{b}");
        }
    }
}
