//! The operator's explorer configuration: a JSON file (`vein-node run --explorer-config FILE`,
//! or `VEIN_EXPLORER_CONFIG`) read once at start and served to the page as
//! `GET /explorer/config`. Editing it needs a restart of the node, not a rebuild: the page
//! reads the title, theme, panels and links from that route at every load.
//!
//! A file that does not parse or breaks a rule stops the node at start with a typed error
//! naming the file and the problem (a typo in a panel name must not silently hide a panel).
//! Links must be `http://` or `https://`: the page puts them in `href`, and a `javascript:` URL
//! there would run in every visitor's browser.

use crate::api_types::{ExplorerConfig, ExplorerPanel};
use std::path::{Path, PathBuf};

/// Longest title, in characters.
pub const TITLE_CHARS_MAX: usize = 80;
/// Most links in the header.
pub const LINKS_MAX: usize = 16;
/// Longest link label, in characters.
pub const LINK_LABEL_CHARS_MAX: usize = 40;
/// Longest link URL, in bytes.
pub const LINK_URL_BYTES_MAX: usize = 2_048;
/// Fastest refresh the page may be told to poll at, in milliseconds.
pub const REFRESH_MS_MIN: u64 = 500;
/// Slowest refresh, in milliseconds.
pub const REFRESH_MS_MAX: u64 = 600_000;
/// Largest configuration file read, in bytes.
pub const FILE_BYTES_MAX: u64 = 64 * 1024;

/// Why an explorer configuration file was refused.
#[derive(Debug, thiserror::Error)]
pub enum ExplorerConfigError {
    /// The file could not be read.
    #[error("explorer config {path}: {source}")]
    Read {
        /// The file, as given.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The file is larger than [`FILE_BYTES_MAX`].
    #[error("explorer config {path}: {bytes} bytes, at most {FILE_BYTES_MAX}")]
    TooLarge {
        /// The file, as given.
        path: PathBuf,
        /// Its size.
        bytes: u64,
    },
    /// The file is not JSON of the configuration's shape (an unknown key or panel, a wrong
    /// type); serde's message names what it expected.
    #[error("explorer config {path}, line {line} column {column}: {reason}")]
    Parse {
        /// The file, as given.
        path: PathBuf,
        /// Line of the error, from 1.
        line: usize,
        /// Column of the error, from 1.
        column: usize,
        /// What was wrong.
        reason: String,
    },
    /// The title is empty or too long.
    #[error("explorer config {path}: title must be 1 to {TITLE_CHARS_MAX} characters, got {chars}")]
    Title {
        /// The file, as given.
        path: PathBuf,
        /// The title's length in characters.
        chars: usize,
    },
    /// A panel is listed twice.
    #[error("explorer config {path}: panel {panel:?} is listed twice")]
    DuplicatePanel {
        /// The file, as given.
        path: PathBuf,
        /// The repeated panel.
        panel: ExplorerPanel,
    },
    /// More than [`LINKS_MAX`] links.
    #[error("explorer config {path}: {count} links, at most {LINKS_MAX}")]
    TooManyLinks {
        /// The file, as given.
        path: PathBuf,
        /// Links in the file.
        count: usize,
    },
    /// A link is unusable.
    #[error("explorer config {path}: links[{index}]: {reason}")]
    Link {
        /// The file, as given.
        path: PathBuf,
        /// The link's position in `links`, from 0.
        index: usize,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// `refresh_ms` is outside [`REFRESH_MS_MIN`]..=[`REFRESH_MS_MAX`].
    #[error(
        "explorer config {path}: refresh_ms must be {REFRESH_MS_MIN} to {REFRESH_MS_MAX}, got \
         {refresh_ms}"
    )]
    Refresh {
        /// The file, as given.
        path: PathBuf,
        /// The value given.
        refresh_ms: u64,
    },
}

/// Read and check the configuration in `path`.
pub fn load(path: &Path) -> Result<ExplorerConfig, ExplorerConfigError> {
    let read = |source| ExplorerConfigError::Read { path: path.to_path_buf(), source };
    let bytes = std::fs::metadata(path).map_err(read)?.len();
    if bytes > FILE_BYTES_MAX {
        return Err(ExplorerConfigError::TooLarge { path: path.to_path_buf(), bytes });
    }
    let text = std::fs::read(path).map_err(read)?;
    parse(path, &text)
}

/// Parse and check a configuration's text; `path` only names it in errors.
pub fn parse(path: &Path, text: &[u8]) -> Result<ExplorerConfig, ExplorerConfigError> {
    let config: ExplorerConfig =
        serde_json::from_slice(text).map_err(|error| ExplorerConfigError::Parse {
            path: path.to_path_buf(),
            line: error.line(),
            column: error.column(),
            reason: error.to_string(),
        })?;
    check(path, &config)?;
    Ok(config)
}

fn check(path: &Path, config: &ExplorerConfig) -> Result<(), ExplorerConfigError> {
    let path = || path.to_path_buf();
    let chars = config.title.trim().chars().count();
    if chars == 0 || chars > TITLE_CHARS_MAX {
        return Err(ExplorerConfigError::Title { path: path(), chars });
    }
    let mut seen = std::collections::BTreeSet::new();
    for panel in &config.panels {
        if !seen.insert(*panel) {
            return Err(ExplorerConfigError::DuplicatePanel { path: path(), panel: *panel });
        }
    }
    if config.links.len() > LINKS_MAX {
        return Err(ExplorerConfigError::TooManyLinks { path: path(), count: config.links.len() });
    }
    for (index, link) in config.links.iter().enumerate() {
        let reason = link_problem(&link.label, &link.url);
        if let Some(reason) = reason {
            return Err(ExplorerConfigError::Link { path: path(), index, reason });
        }
    }
    if !(REFRESH_MS_MIN..=REFRESH_MS_MAX).contains(&config.refresh_ms) {
        return Err(ExplorerConfigError::Refresh { path: path(), refresh_ms: config.refresh_ms });
    }
    Ok(())
}

fn link_problem(label: &str, url: &str) -> Option<&'static str> {
    let chars = label.trim().chars().count();
    if chars == 0 || chars > LINK_LABEL_CHARS_MAX {
        return Some("label must be 1 to 40 characters");
    }
    let lower = url.to_ascii_lowercase();
    if !(lower.starts_with("https://") || lower.starts_with("http://")) {
        return Some("url must start with http:// or https://");
    }
    if url.len() > LINK_URL_BYTES_MAX {
        return Some("url longer than 2048 bytes");
    }
    if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Some("url holds whitespace or a control character");
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api_types::ExplorerTheme;

    fn parsed(text: &str) -> Result<ExplorerConfig, ExplorerConfigError> {
        parse(Path::new("explorer.json"), text.as_bytes())
    }

    #[test]
    fn an_empty_object_is_the_defaults_and_a_full_file_is_read_as_written() {
        assert_eq!(parsed("{}").unwrap(), ExplorerConfig::default());
        let config = parsed(
            r#"{"title": "Acme ledger", "theme": "dark", "panels": ["tokens", "dag"],
                "links": [{"label": "Docs", "url": "https://example.org/docs"}],
                "refresh_ms": 5000}"#,
        )
        .unwrap();
        assert_eq!(config.title, "Acme ledger");
        assert_eq!(config.theme, ExplorerTheme::Dark);
        assert_eq!(config.panels, vec![ExplorerPanel::Tokens, ExplorerPanel::Dag]);
        assert_eq!(config.links[0].url, "https://example.org/docs");
        assert_eq!(config.refresh_ms, 5000);
    }

    #[test]
    fn each_broken_rule_is_named() {
        let error = parsed(r#"{"panels": ["tokens", "blocks"]}"#).unwrap_err();
        assert!(
            matches!(&error, ExplorerConfigError::Parse { line: 1, reason, .. }
                if reason.contains("unknown variant `blocks`")),
            "{error}"
        );
        let error = parsed("{\n \"titel\": \"x\"}").unwrap_err();
        assert!(
            matches!(&error, ExplorerConfigError::Parse { line: 2, reason, .. }
                if reason.contains("unknown field `titel`")),
            "{error}"
        );
        let error = parsed(r#"{"theme": "blue"}"#).unwrap_err();
        assert!(error.to_string().contains("unknown variant `blue`"), "{error}");
        let error = parsed(r#"{"title": "  "}"#).unwrap_err();
        assert!(matches!(error, ExplorerConfigError::Title { chars: 0, .. }), "{error}");
        let error = parsed(r#"{"panels": ["dag", "dag"]}"#).unwrap_err();
        let dag = ExplorerPanel::Dag;
        assert!(matches!(error, ExplorerConfigError::DuplicatePanel { panel, .. } if panel == dag));
        let error =
            parsed(r#"{"links": [{"label": "x", "url": "javascript:alert(1)"}]}"#).unwrap_err();
        assert!(matches!(error, ExplorerConfigError::Link { index: 0, .. }), "{error}");
        assert!(error.to_string().contains("explorer.json: links[0]: url must start"), "{error}");
        let error = parsed(r#"{"refresh_ms": 10}"#).unwrap_err();
        assert!(matches!(error, ExplorerConfigError::Refresh { refresh_ms: 10, .. }), "{error}");
        let error = parsed("{\"title\": ").unwrap_err();
        assert!(matches!(error, ExplorerConfigError::Parse { .. }), "{error}");
    }

    #[test]
    fn a_missing_file_is_a_read_error_naming_it() {
        let error = load(Path::new("/nonexistent/explorer.json")).unwrap_err();
        assert!(matches!(error, ExplorerConfigError::Read { .. }));
        assert!(error.to_string().contains("/nonexistent/explorer.json"), "{error}");
    }
}
