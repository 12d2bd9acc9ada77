//! Attachments: the files a request sends with its prompt (the `attachments`
//! extension), checked once when a run is prepared and then handed to every
//! model's call as [`Part`]s, each wire format putting them in its own shape
//! (`providers/<format>/request.rs`) and saying what it cannot take
//! (`providers::support`).
//!
//! Three kinds ([`Kind`]): images (PNG, JPEG, WebP, GIF), PDFs, and text files
//! (any `text/*` type, JSON, XML, YAML, TOML, …), which every model gets as text,
//! fenced and named ([`fenced`]). The bytes are never decoded as an image or a
//! document here: only their first bytes are read, to check that they are what
//! their media type says.
//!
//! A new kind: a variant of [`Kind`], its media types in [`Kind::of`], an arm in
//! each format's request builder and in `providers::support`.

use crate::contract::Attachment;
use crate::validate::ValidationError;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

/// The most one attached file may hold, by default (`[limits]
/// max_attachment_bytes`).
pub const DEFAULT_MAX_FILE_BYTES: u64 = 20 * 1024 * 1024;
/// The most all of a run's attachments may hold together, by default (`[limits]
/// max_run_attachment_bytes`).
pub const DEFAULT_MAX_RUN_BYTES: u64 = 50 * 1024 * 1024;
/// The most files one run may attach.
pub const MAX_FILES: usize = 100;
/// The most files a follow-up sends in all (its own and every earlier turn's,
/// sent again), by default (`[limits] max_thread_attachments`).
pub const DEFAULT_MAX_THREAD_FILES: usize = 100;
/// The most all the files a follow-up sends may hold together, by default
/// (`[limits] max_thread_attachment_bytes`): no more than one run may send.
pub const DEFAULT_MAX_THREAD_BYTES: u64 = DEFAULT_MAX_RUN_BYTES;

/// How much a run may attach, and a follow-up send with its earlier turns'.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AttachmentLimits {
    pub max_file_bytes: u64,
    pub max_run_bytes: u64,
    pub max_thread_files: usize,
    pub max_thread_bytes: u64,
}

impl Default for AttachmentLimits {
    fn default() -> Self {
        AttachmentLimits {
            max_file_bytes: DEFAULT_MAX_FILE_BYTES,
            max_run_bytes: DEFAULT_MAX_RUN_BYTES,
            max_thread_files: DEFAULT_MAX_THREAD_FILES,
            max_thread_bytes: DEFAULT_MAX_THREAD_BYTES,
        }
    }
}

/// Checks what a follow-up would send again: `sizes`, the decoded size of
/// every file of the conversation (each earlier turn's and its own), against
/// the thread's limits, before any earlier file is read. The error names the
/// limit (field `previous_id`: the conversation is what brings them).
pub fn check_thread(
    sizes: impl IntoIterator<Item = u64>,
    limits: &AttachmentLimits,
) -> Result<(), ValidationError> {
    let (mut files, mut bytes) = (0usize, 0u64);
    for size in sizes {
        files += 1;
        bytes = bytes.saturating_add(size);
    }
    if files > limits.max_thread_files {
        return Err(ValidationError::new(
            "previous_id",
            format!(
                "the conversation would send {files} files again with this turn: at most {} \
                 ([limits] max_thread_attachments); start a new conversation or attach fewer",
                limits.max_thread_files
            ),
        ));
    }
    if bytes > limits.max_thread_bytes {
        return Err(ValidationError::new(
            "previous_id",
            format!(
                "the conversation's files, {} with this turn's, pass the limit of {} sent at \
                 once ([limits] max_thread_attachment_bytes); start a new conversation or \
                 attach less",
                human_size(bytes),
                human_size(limits.max_thread_bytes)
            ),
        ));
    }
    Ok(())
}

/// What an attachment is, as far as a provider cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Image,
    Pdf,
    Text,
}

/// The image types every provider with vision takes.
pub const IMAGE_TYPES: [&str; 4] = ["image/png", "image/jpeg", "image/webp", "image/gif"];

/// Text types outside `text/*`.
const TEXT_APPLICATION_TYPES: [&str; 9] = [
    "application/json",
    "application/xml",
    "application/yaml",
    "application/x-yaml",
    "application/toml",
    "application/javascript",
    "application/x-sh",
    "application/sql",
    "application/x-ndjson",
];

impl Kind {
    /// The kind of a media type, or `None` for one no provider takes.
    pub fn of(media_type: &str) -> Option<Kind> {
        let media_type = media_type.trim().to_ascii_lowercase();
        let essence = media_type.split(';').next().unwrap_or_default().trim();
        if IMAGE_TYPES.contains(&essence) {
            Some(Kind::Image)
        } else if essence == "application/pdf" {
            Some(Kind::Pdf)
        } else if essence.starts_with("text/") || TEXT_APPLICATION_TYPES.contains(&essence) {
            Some(Kind::Text)
        } else {
            None
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Image => "image",
            Kind::Pdf => "PDF",
            Kind::Text => "text file",
        }
    }
}

/// An attachment checked and ready to send.
#[derive(Debug, Clone, PartialEq)]
pub struct Part {
    pub name: String,
    /// The media type without parameters, lower case (`image/png`).
    pub media_type: String,
    pub kind: Kind,
    /// The bytes, base64, as the request gave them.
    pub base64: String,
    /// A text file's text.
    pub text: Option<String>,
    /// The decoded size in bytes.
    pub size: u64,
}

impl Part {
    /// `chart.png (image/png, 12 KB)`.
    pub fn describe(&self) -> String {
        format!(
            "'{}' ({}, {})",
            self.name,
            self.media_type,
            human_size(self.size)
        )
    }

    /// `data:image/png;base64,…`.
    pub fn data_url(&self) -> String {
        format!("data:{};base64,{}", self.media_type, self.base64)
    }
}

/// `12 KB`, `3.4 MB`.
pub fn human_size(bytes: u64) -> String {
    match bytes {
        b if b < 1024 => format!("{b} B"),
        b if b < 1024 * 1024 => format!("{} KB", b.div_ceil(1024)),
        b => format!("{:.1} MB", b as f64 / (1024.0 * 1024.0)),
    }
}

/// Checks a request's attachments and makes them ready to send. Every error
/// names the field (`attachments[1].data`) and what was wrong.
pub fn prepare(
    attachments: &[Attachment],
    limits: &AttachmentLimits,
) -> Result<Vec<Part>, ValidationError> {
    if attachments.len() > MAX_FILES {
        return Err(ValidationError::new(
            "attachments",
            format!(
                "{} files: at most {MAX_FILES} may be attached",
                attachments.len()
            ),
        ));
    }
    let mut total = 0u64;
    let mut parts = Vec::with_capacity(attachments.len());
    for (i, a) in attachments.iter().enumerate() {
        let field = |f: &str| format!("attachments[{i}].{f}");
        let name = a.name.trim();
        if name.is_empty() {
            return Err(ValidationError::new(field("name"), "must not be empty"));
        }
        if name.chars().count() > 255 || name.chars().any(char::is_control) {
            return Err(ValidationError::new(
                field("name"),
                "must be at most 255 characters, with no control characters",
            ));
        }
        let Some(kind) = Kind::of(&a.media_type) else {
            return Err(ValidationError::new(
                field("media_type"),
                format!(
                    "'{}' is not a type a model takes: expected an image ({}), \
                     application/pdf, or a text type (text/*, application/json, …)",
                    a.media_type,
                    IMAGE_TYPES.join(", ")
                ),
            ));
        };
        if a.data.is_empty() {
            return Err(ValidationError::new(field("data"), "must not be empty"));
        }
        // Checked on the encoded length first, so a huge value is refused
        // before it is decoded.
        let encoded_limit = limits.max_file_bytes.div_ceil(3) * 4;
        if a.data.len() as u64 > encoded_limit + 4 {
            return Err(too_big(field("data"), a.data.len() as u64 / 4 * 3, limits));
        }
        let bytes = STANDARD
            .decode(a.data.as_bytes())
            .map_err(|e| ValidationError::new(field("data"), format!("not valid base64: {e}")))?;
        let size = bytes.len() as u64;
        if size == 0 {
            return Err(ValidationError::new(field("data"), "the file is empty"));
        }
        if size > limits.max_file_bytes {
            return Err(too_big(field("data"), size, limits));
        }
        total += size;
        if total > limits.max_run_bytes {
            return Err(ValidationError::new(
                "attachments",
                format!(
                    "{} in all passes the limit of {} per run ([limits] \
                     max_run_attachment_bytes)",
                    human_size(total),
                    human_size(limits.max_run_bytes)
                ),
            ));
        }
        let media_type = a
            .media_type
            .split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase();
        let text = match kind {
            Kind::Text => Some(String::from_utf8(bytes).map_err(|_| {
                ValidationError::new(field("data"), format!("{} is not UTF-8 text", a.media_type))
            })?),
            Kind::Image | Kind::Pdf => {
                check_signature(&bytes, &media_type)
                    .map_err(|m| ValidationError::new(field("data"), m))?;
                None
            }
        };
        parts.push(Part {
            name: name.to_string(),
            media_type,
            kind,
            base64: a.data.clone(),
            text,
            size,
        });
    }
    Ok(parts)
}

fn too_big(field: String, size: u64, limits: &AttachmentLimits) -> ValidationError {
    ValidationError::new(
        field,
        format!(
            "the file holds {}, over the limit of {} per file ([limits] \
             max_attachment_bytes)",
            human_size(size),
            human_size(limits.max_file_bytes)
        ),
    )
}

/// Checks that an image's or a PDF's first bytes are what its media type says
/// (a provider refuses a mislabelled file with a less helpful error).
fn check_signature(bytes: &[u8], media_type: &str) -> Result<(), String> {
    let found = infer::get(bytes).map(|t| t.mime_type());
    match found {
        Some(found) if found == media_type => Ok(()),
        Some(found) => Err(format!("the bytes are {found}, not {media_type}")),
        None => Err(format!("the bytes are not {media_type}")),
    }
}

/// A text file as a model gets it: its name, then its text in a code fence
/// longer than any run of backticks inside it.
pub fn fenced(name: &str, text: &str) -> String {
    let longest = text.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest.max(2) + 1);
    let language = name.rsplit_once('.').map_or("", |(_, ext)| ext);
    let language = if language.chars().all(|c| c.is_ascii_alphanumeric()) {
        language
    } else {
        ""
    };
    let newline = if text.ends_with('\n') { "" } else { "\n" };
    format!("File: {name}\n{fence}{language}\n{text}{newline}{fence}")
}

/// The names of a request's attachments, for a model that gets no bytes (the
/// summary model): `attached to the question: 'chart.png' (image/png, 12 KB), …`.
/// Works on a stored request too, whose bytes are elsewhere.
pub fn listing(attachments: &[Attachment]) -> Option<String> {
    (!attachments.is_empty()).then(|| {
        let names: Vec<_> = attachments
            .iter()
            .map(|a| {
                let size = a.size.unwrap_or_else(|| decoded_len(&a.data));
                format!("'{}' ({}, {})", a.name, a.media_type, human_size(size))
            })
            .collect();
        format!("attached to the question: {}", names.join(", "))
    })
}

/// [`listing`] of checked parts: `attachments 'chart.png' (image/png, 12 KB), …`.
pub fn listing_of(parts: &[Part]) -> Option<String> {
    (!parts.is_empty()).then(|| {
        let names: Vec<_> = parts.iter().map(Part::describe).collect();
        format!("attachments {}", names.join(", "))
    })
}

/// The decoded length of padded base64 text.
fn decoded_len(b64: &str) -> u64 {
    let padding = b64.bytes().rev().take_while(|&b| b == b'=').count() as u64;
    (b64.len() as u64 / 4 * 3).saturating_sub(padding)
}

#[cfg(test)]
mod tests {
    use super::*;

    const PNG: &[u8] =
        b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89";

    fn att(name: &str, media_type: &str, bytes: &[u8]) -> Attachment {
        Attachment {
            name: name.into(),
            media_type: media_type.into(),
            data: STANDARD.encode(bytes),
            ..Default::default()
        }
    }

    #[test]
    fn kinds_by_media_type() {
        assert_eq!(Kind::of("image/png"), Some(Kind::Image));
        assert_eq!(Kind::of("IMAGE/JPEG"), Some(Kind::Image));
        assert_eq!(Kind::of("application/pdf"), Some(Kind::Pdf));
        assert_eq!(Kind::of("text/markdown; charset=utf-8"), Some(Kind::Text));
        assert_eq!(Kind::of("application/json"), Some(Kind::Text));
        assert_eq!(Kind::of("image/tiff"), None);
        assert_eq!(Kind::of("application/zip"), None);
    }

    #[test]
    fn prepares_each_kind() {
        let parts = prepare(
            &[
                att("a.png", "image/png", PNG),
                att("notes.md", "text/markdown", "# Hi\n".as_bytes()),
                att("doc.pdf", "application/pdf", b"%PDF-1.7\n%\xe2\xe3\n"),
            ],
            &AttachmentLimits::default(),
        )
        .unwrap();
        assert_eq!(parts[0].kind, Kind::Image);
        assert_eq!(parts[0].size, PNG.len() as u64);
        assert_eq!(parts[1].text.as_deref(), Some("# Hi\n"));
        assert_eq!(parts[2].kind, Kind::Pdf);
    }

    #[test]
    fn every_error_names_its_field() {
        let limits = AttachmentLimits {
            max_thread_files: DEFAULT_MAX_THREAD_FILES,
            max_thread_bytes: DEFAULT_MAX_THREAD_BYTES,
            max_file_bytes: 64,
            max_run_bytes: 100,
        };
        let check = |a: Vec<Attachment>| prepare(&a, &limits).unwrap_err();
        let e = check(vec![att("x.tiff", "image/tiff", PNG)]);
        assert_eq!(e.field, "attachments[0].media_type");
        let mut bad = att("a.png", "image/png", PNG);
        bad.data = "not base64!".into();
        let e = check(vec![bad]);
        assert_eq!(e.field, "attachments[0].data");
        assert!(e.message.contains("base64"), "{e}");
        let e = check(vec![att("a.png", "image/png", &[0u8; 65])]);
        assert!(e.message.contains("per file"), "{e}");
        let e = check(vec![att("a.png", "image/png", &[0u8; 6_000])]);
        assert!(e.message.contains("per file"), "{e}");
        let e = check(vec![
            att("a.txt", "text/plain", &[b'a'; 60]),
            att("b.txt", "text/plain", &[b'b'; 60]),
        ]);
        assert_eq!(e.field, "attachments");
        let e = check(vec![att("a.png", "image/jpeg", PNG)]);
        assert_eq!(e.message, "the bytes are image/png, not image/jpeg");
        let e = check(vec![att("a.txt", "text/plain", &[0xff, 0xfe, 0x00])]);
        assert!(e.message.contains("not UTF-8"), "{e}");
        let e = check(vec![att(" ", "text/plain", b"a")]);
        assert_eq!(e.field, "attachments[0].name");
    }

    #[test]
    fn fences_outlast_the_backticks_inside() {
        assert_eq!(fenced("a.md", "hi"), "File: a.md\n```md\nhi\n```");
        let inner = "x\n````\ncode\n````\n";
        let out = fenced("b.txt", inner);
        assert!(out.starts_with("File: b.txt\n`````txt\n"), "{out}");
        assert!(out.ends_with("\n`````"), "{out}");
        assert_eq!(
            fenced("weird name.c++", "x"),
            "File: weird name.c++\n```\nx\n```"
        );
    }
}
