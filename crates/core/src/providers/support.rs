//! What a model is known not to take of a run's attachments, said before it is
//! called: a kind its wire format or server has no place for, a kind the price
//! table says the model does not read (`supports_vision`, `supports_pdf_input`
//! false), or more than its provider's documented limits. A model found here is
//! not called and its result says why ([`crate::contract::ModelOutcome::Unsupported`]);
//! anything else is sent, and a provider's own refusal comes back as its error.
//!
//! The limits are the providers' documented ones (decoded bytes):
//!
//! | format | per image | images | per PDF | all attachments |
//! |---|---|---|---|---|
//! | OpenAI | 20 MB | 500 | 32 MB | 50 MB |
//! | OpenAI-compatible | 20 MB | 500 | none taken | 50 MB |
//! | Anthropic | 5 MB | 100 | 32 MB | 32 MB |
//! | Gemini | 20 MB | 3,000 | 20 MB | 20 MB (inline data) |

use super::{Dialect, WireFormat};
use crate::attachments::{Kind, Part, human_size};
use crate::prices::ModelPrice;

const MB: u64 = 1024 * 1024;

struct Caps {
    image_bytes: u64,
    images: usize,
    /// `None`: the format has no place for a PDF.
    pdf_bytes: Option<u64>,
    total_bytes: u64,
}

fn caps(format: WireFormat, dialect: Dialect) -> Caps {
    match (format, dialect) {
        (WireFormat::Openai, Dialect::Native) => Caps {
            image_bytes: 20 * MB,
            images: 500,
            pdf_bytes: Some(32 * MB),
            total_bytes: 50 * MB,
        },
        (WireFormat::Openai, _) => Caps {
            image_bytes: 20 * MB,
            images: 500,
            pdf_bytes: None,
            total_bytes: 50 * MB,
        },
        (WireFormat::Anthropic, _) => Caps {
            image_bytes: 5 * MB,
            images: 100,
            pdf_bytes: Some(32 * MB),
            total_bytes: 32 * MB,
        },
        (WireFormat::Gemini, _) => Caps {
            image_bytes: 20 * MB,
            images: 3000,
            pdf_bytes: Some(20 * MB),
            total_bytes: 20 * MB,
        },
    }
}

/// Why `model` cannot be sent `parts`, or `None` when nothing is known
/// against it. `facts` is the model's entry in the price table, if any.
pub fn refusal(
    format: WireFormat,
    dialect: Dialect,
    model: &str,
    facts: Option<&ModelPrice>,
    parts: &[Part],
) -> Option<String> {
    let caps = caps(format, dialect);
    for part in parts {
        let what = part.describe();
        match part.kind {
            Kind::Text => {}
            Kind::Image => {
                if facts.and_then(|f| f.supports_vision) == Some(false) {
                    return Some(format!(
                        "attachment {what}: {model} does not read images (the price table \
                         says supports_vision: false)"
                    ));
                }
                if part.size > caps.image_bytes {
                    return Some(format!(
                        "attachment {what}: over the provider's limit of {} per image",
                        human_size(caps.image_bytes)
                    ));
                }
            }
            Kind::Pdf => {
                let Some(limit) = caps.pdf_bytes else {
                    return Some(format!(
                        "attachment {what}: an OpenAI-compatible server takes no PDF \
                         documents (attach the text instead)"
                    ));
                };
                if facts.and_then(|f| f.supports_pdf_input) == Some(false) {
                    return Some(format!(
                        "attachment {what}: {model} does not read PDFs (the price table \
                         says supports_pdf_input: false)"
                    ));
                }
                if part.size > limit {
                    return Some(format!(
                        "attachment {what}: over the provider's limit of {} per PDF",
                        human_size(limit)
                    ));
                }
            }
        }
    }
    let images = parts.iter().filter(|p| p.kind == Kind::Image).count();
    if images > caps.images {
        return Some(format!(
            "{images} images attached: the provider takes at most {}",
            caps.images
        ));
    }
    let total: u64 = parts.iter().map(|p| p.size).sum();
    if total > caps.total_bytes {
        return Some(format!(
            "the attachments hold {} in all: over the provider's limit of {} per request",
            human_size(total),
            human_size(caps.total_bytes)
        ));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn part(kind: Kind, size: u64) -> Part {
        let (name, media_type) = match kind {
            Kind::Image => ("chart.png", "image/png"),
            Kind::Pdf => ("contract.pdf", "application/pdf"),
            Kind::Text => ("notes.md", "text/markdown"),
        };
        Part {
            name: name.into(),
            media_type: media_type.into(),
            kind,
            base64: String::new(),
            text: None,
            size,
        }
    }

    #[test]
    fn a_compatible_server_takes_images_but_no_pdf() {
        let f = WireFormat::Openai;
        let img = [part(Kind::Image, 10_000)];
        assert_eq!(refusal(f, Dialect::Compatible, "llava", None, &img), None);
        let pdf = [part(Kind::Pdf, 10_000)];
        let why = refusal(f, Dialect::Compatible, "llava", None, &pdf).unwrap();
        assert!(
            why.starts_with("attachment 'contract.pdf' (application/pdf, 10 KB)"),
            "{why}"
        );
        assert_eq!(refusal(f, Dialect::Native, "gpt-4.1", None, &pdf), None);
    }

    #[test]
    fn the_price_table_says_who_reads_what() {
        let blind = ModelPrice {
            supports_vision: Some(false),
            ..Default::default()
        };
        let img = [part(Kind::Image, 10)];
        let why = refusal(
            WireFormat::Openai,
            Dialect::Native,
            "o3-mini",
            Some(&blind),
            &img,
        );
        assert!(why.unwrap().contains("o3-mini does not read images"));
        let text = [part(Kind::Text, 10)];
        assert_eq!(
            refusal(
                WireFormat::Openai,
                Dialect::Native,
                "o3-mini",
                Some(&blind),
                &text
            ),
            None
        );
    }

    #[test]
    fn provider_limits_hold() {
        let big = [part(Kind::Image, 6 * MB)];
        let why = refusal(WireFormat::Anthropic, Dialect::Native, "claude", None, &big).unwrap();
        assert!(why.contains("5.0 MB per image"), "{why}");
        assert_eq!(
            refusal(WireFormat::Gemini, Dialect::Native, "g", None, &big),
            None
        );
        let many = [part(Kind::Pdf, 15 * MB), part(Kind::Pdf, 15 * MB)];
        let why = refusal(WireFormat::Gemini, Dialect::Native, "g", None, &many).unwrap();
        assert!(why.contains("per request"), "{why}");
    }
}
