//! The templates Rapport ships, as data files (`templates/<id>.toml`, embedded in the engine), and
//! the loading of a template directory, so wording can change without a new build.
//!
//! Every file goes through [`register`] when it is loaded: a template that is malformed, fails
//! the tone check, or has a locale with no opt-out wording on an electronic channel is refused
//! with the file's name and every problem. The shipped set is loaded once; the tests load it too,
//! so a shipped file that would be refused fails the build's tests, not a customer's message.

use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use serde::Deserialize;

use super::*;

/// The shipped template files, in the order `ListTemplates` has always given them.
const SHIPPED_FILES: [(&str, &str); 8] = [
    (
        "first-contact-sms.toml",
        include_str!("../../templates/first-contact-sms.toml"),
    ),
    (
        "first-contact-email.toml",
        include_str!("../../templates/first-contact-email.toml"),
    ),
    (
        "first-contact-letter.toml",
        include_str!("../../templates/first-contact-letter.toml"),
    ),
    (
        "early-reminder-email.toml",
        include_str!("../../templates/early-reminder-email.toml"),
    ),
    (
        "early-reminder-sms.toml",
        include_str!("../../templates/early-reminder-sms.toml"),
    ),
    (
        "plan-confirmation-email.toml",
        include_str!("../../templates/plan-confirmation-email.toml"),
    ),
    (
        "missed-installment-checkin-sms.toml",
        include_str!("../../templates/missed-installment-checkin-sms.toml"),
    ),
    (
        "breathing-space-ack-letter.toml",
        include_str!("../../templates/breathing-space-ack-letter.toml"),
    ),
];

static SHIPPED: LazyLock<Vec<Template>> =
    LazyLock::new(|| load_shipped().unwrap_or_else(|refused| panic!("{refused}")));

/// The templates Rapport ships, each in English and Romanian; the first-contact ones also in
/// Spanish. Loaded from their embedded files and registered once; every one passes [`register`].
///
/// Placeholders: `{first_name}`, `{lender_name}` (who is writing), `{agent_phone}` (a person
/// answers), `{amount_due}` (Money, formatted by [`format_money`] for the text's locale, or a
/// caller's string), `{due_date}` (already formatted for the locale by the caller),
/// `{monthly_amount}`, `{first_payment_date}`, `{breathing_space_start}`.
pub fn shipped() -> &'static [Template] {
    &SHIPPED
}

/// Loads and registers the shipped templates from their embedded files. [`shipped`] keeps the
/// result; call this at start to turn a bad file into an error instead of a panic.
pub fn load_shipped() -> Result<Vec<Template>, LoadError> {
    let mut templates = Vec::with_capacity(SHIPPED_FILES.len());
    for (name, contents) in SHIPPED_FILES {
        let file = Path::new("templates").join(name);
        templates.push(parse(&file, contents)?);
    }
    Ok(templates)
}

/// Loads and registers every `*.toml` template file in `dir`, in file-name order. Each file
/// holds one template with its locales and is named after its id (`first-contact-sms.toml`),
/// in the format of the shipped files. The first file that cannot be read or parsed, or that
/// [`register`] refuses, is the error.
pub fn load_dir(dir: &Path) -> Result<Vec<Template>, LoadError> {
    let unreadable = |source| LoadError::ReadDir {
        dir: dir.to_owned(),
        source,
    };
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(unreadable)? {
        let path = entry.map_err(unreadable)?.path();
        if path.extension().is_some_and(|ext| ext == "toml") && path.is_file() {
            files.push(path);
        }
    }
    if files.is_empty() {
        return Err(LoadError::NoTemplates {
            dir: dir.to_owned(),
        });
    }
    files.sort();
    let mut templates = Vec::with_capacity(files.len());
    for file in files {
        let contents = std::fs::read_to_string(&file).map_err(|source| LoadError::Read {
            file: file.clone(),
            source,
        })?;
        templates.push(parse(&file, &contents)?);
    }
    Ok(templates)
}

/// Why a template file was not loaded; every message starts with the file.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("{}: cannot read the template directory: {source}", dir.display())]
    ReadDir {
        dir: PathBuf,
        source: std::io::Error,
    },
    #[error("{}: no template files (*.toml)", dir.display())]
    NoTemplates { dir: PathBuf },
    #[error("{}: cannot read the template file: {source}", file.display())]
    Read {
        file: PathBuf,
        source: std::io::Error,
    },
    #[error("{}: not a template file: {message}", file.display())]
    Parse { file: PathBuf, message: String },
    #[error("{}: {field} {value:?} is not one of the proto's names, such as {example}", file.display())]
    UnknownName {
        file: PathBuf,
        field: &'static str,
        value: String,
        example: &'static str,
    },
    /// File names are template ids, so a directory cannot hold two templates with one id.
    #[error("{}: the file of template {id:?} must be named {id}.toml", file.display())]
    FileName { file: PathBuf, id: String },
    #[error("{}: {refused}: {}", file.display(), problems(refused))]
    Refused {
        file: PathBuf,
        refused: ToneViolations,
    },
}

impl LoadError {
    /// The registration refusal, when the file parsed but the template was refused.
    pub fn refusal(&self) -> Option<&ToneViolations> {
        match self {
            Self::Refused { refused, .. } => Some(refused),
            _ => None,
        }
    }
}

fn problems(refused: &ToneViolations) -> String {
    refused
        .violations
        .iter()
        .map(|v| format!("{} ({})", v.code, v.message))
        .collect::<Vec<_>>()
        .join("; ")
}

/// One template file as written; the enums by their proto names (`CHANNEL_SMS`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TemplateFile {
    pub(super) id: String,
    pub(super) name: String,
    pub(super) channel: String,
    pub(super) stage: String,
    pub(super) purpose: String,
    pub(super) version: u32,
    #[serde(default)]
    pub(super) texts: Vec<TextFile>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TextFile {
    pub(super) locale: String,
    pub(super) subject: Option<String>,
    pub(super) body: String,
}

/// Parses one file and registers its template.
fn parse(file: &Path, contents: &str) -> Result<Template, LoadError> {
    let raw: TemplateFile = toml::from_str(contents).map_err(|e| LoadError::Parse {
        file: file.to_owned(),
        message: e.to_string(),
    })?;
    let unknown = |field, value: &str, example| LoadError::UnknownName {
        file: file.to_owned(),
        field,
        value: value.to_owned(),
        example,
    };
    let channel = Channel::from_str_name(&raw.channel)
        .ok_or_else(|| unknown("channel", &raw.channel, "CHANNEL_SMS"))?;
    let stage = TemplateStage::from_str_name(&raw.stage)
        .ok_or_else(|| unknown("stage", &raw.stage, "TEMPLATE_STAGE_FIRST_CONTACT"))?;
    let purpose = ContactPurpose::from_str_name(&raw.purpose)
        .ok_or_else(|| unknown("purpose", &raw.purpose, "CONTACT_PURPOSE_SUPPORT"))?;
    if file.file_stem().and_then(|stem| stem.to_str()) != Some(raw.id.as_str()) {
        return Err(LoadError::FileName {
            file: file.to_owned(),
            id: raw.id,
        });
    }
    let template = Template {
        id: lasting(raw.id),
        name: raw.name,
        channel,
        stage,
        purpose,
        version: raw.version,
        texts: raw
            .texts
            .into_iter()
            .map(|text| Text {
                locale: lasting(text.locale),
                subject: text.subject,
                body: text.body,
            })
            .collect(),
    };
    register(template).map_err(|refused| LoadError::Refused {
        file: file.to_owned(),
        refused,
    })
}

/// Template ids and locales are `&'static str` (they are copied into every reason and response).
/// Templates are loaded once, at start, so the few bytes of each id and locale are kept for the
/// life of the process.
fn lasting(text: String) -> &'static str {
    Box::leak(text.into_boxed_str())
}
