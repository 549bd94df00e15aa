//! What counts as a download, and what its file is called: extension and MIME lists, the
//! "looks like a download endpoint" heuristic, Content-Disposition parsing, and the ordered,
//! de-duplicated set a scrape returns. Filenames come from strangers: they never keep a path
//! separator, a control character or a traversal.

use std::collections::HashMap;

use percent_encoding::percent_decode_str;
use serde::Serialize;
use url::Url;

/// Archives, installers and packages, video, audio, documents and disk images.
pub const DEFAULT_EXTENSIONS: &[&str] = &[
    // archives
    "zip", "rar", "7z", "tar", "gz", "tgz", "bz2", "tbz2", "xz", "txz", "zst", "lz", "lzma", "cab",
    // installers and packages
    "apk", "aab", "xapk", "apks", "ipa", "exe", "msi", "msix", "appx", "dmg", "pkg", "deb", "rpm",
    "appimage", "snap", "flatpak", "jar", "whl", "crx", "xpi", // video
    "mp4", "m4v", "mkv", "webm", "mov", "avi", "wmv", "flv", "mpg", "mpeg", "3gp", "ts", "m3u8",
    // audio
    "mp3", "m4a", "aac", "flac", "wav", "ogg", "oga", "opus", "wma", "aiff", "mid", "midi",
    // documents
    "pdf", "doc", "docx", "xls", "xlsx", "ppt", "pptx", "odt", "ods", "odp", "rtf", "epub", "mobi",
    "azw3", "csv", "djvu", // disk images
    "iso", "img", "vhd", "vhdx", "vmdk", "qcow2", "ova",
];

/// Where a download was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    /// In the page's DOM (a link or a media element).
    Dom,
    /// A response seen while the page loaded.
    Network,
    /// A download-looking link, resolved to its final URL.
    Redirect,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DownloadLink {
    pub url: String,
    pub text: String,
    pub source: Source,
    pub mime: Option<String>,
    pub filename: Option<String>,
}

/// Downloads in the order found, one per final URL; a later sighting of the same URL only
/// fills in what the first one lacked (MIME type, filename, text).
#[derive(Debug, Default)]
pub struct DownloadSet {
    items: Vec<DownloadLink>,
    index: HashMap<String, usize>,
}

impl DownloadSet {
    pub fn add(&mut self, link: DownloadLink) {
        match self.index.get(&link.url) {
            Some(&at) => {
                let known = &mut self.items[at];
                if known.mime.is_none() {
                    known.mime = link.mime;
                }
                if known.filename.is_none() {
                    known.filename = link.filename;
                }
                if known.text.is_empty() {
                    known.text = link.text;
                }
            }
            None => {
                self.index.insert(link.url.clone(), self.items.len());
                self.items.push(link);
            }
        }
    }

    pub fn contains(&self, url: &str) -> bool {
        self.index.contains_key(url)
    }

    pub fn into_vec(self) -> Vec<DownloadLink> {
        self.items
    }
}

fn last_segment(url: &Url) -> Option<String> {
    let segment = url.path_segments()?.rev().find(|s| !s.is_empty())?;
    Some(percent_decode_str(segment).decode_utf8_lossy().into_owned())
}

/// Whether the URL's last path segment ends in one of `extensions` (case-insensitive).
pub fn has_extension(url: &Url, extensions: &[String]) -> bool {
    let Some(name) = last_segment(url) else {
        return false;
    };
    let Some((_, ext)) = name.rsplit_once('.') else {
        return false;
    };
    let ext = ext.to_ascii_lowercase();
    extensions.iter().any(|e| e.eq_ignore_ascii_case(&ext))
}

const ENDPOINT_WORDS: [&str; 5] = ["download", "downloads", "dl", "get", "export"];

fn words(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
}

/// A link whose text, path or query names say download/dl/get/export: it may redirect to a
/// file, so it is worth resolving.
pub fn looks_like_endpoint(url: &Url, text: &str) -> bool {
    let in_text = words(text).any(|w| ENDPOINT_WORDS.contains(&w.as_str()));
    let in_path = words(url.path()).any(|w| ENDPOINT_WORDS.contains(&w.as_str()));
    let in_query = url
        .query_pairs()
        .any(|(key, _)| ENDPOINT_WORDS.contains(&key.to_lowercase().as_str()));
    in_text || in_path || in_query
}

/// Binary and media types a mobile app would download rather than display.
pub fn is_download_mime(mime: &str) -> bool {
    let mime = mime
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    if mime.starts_with("video/") || mime.starts_with("audio/") {
        return true;
    }
    let Some(sub) = mime.strip_prefix("application/") else {
        return false;
    };
    matches!(
        sub,
        "octet-stream"
            | "zip"
            | "x-zip-compressed"
            | "gzip"
            | "x-gzip"
            | "x-tar"
            | "x-bzip2"
            | "x-xz"
            | "zstd"
            | "x-7z-compressed"
            | "x-rar-compressed"
            | "vnd.rar"
            | "pdf"
            | "epub+zip"
            | "msword"
            | "rtf"
            | "vnd.android.package-archive"
            | "x-msdownload"
            | "x-msi"
            | "x-apple-diskimage"
            | "x-debian-package"
            | "vnd.debian.binary-package"
            | "x-rpm"
            | "x-redhat-package-manager"
            | "java-archive"
            | "x-iso9660-image"
            | "x-ole-storage"
            | "vnd.apple.mpegurl"
            | "x-mpegurl"
    ) || sub.starts_with("vnd.openxmlformats-officedocument.")
        || sub.starts_with("vnd.ms-")
        || sub.starts_with("vnd.oasis.opendocument.")
}

/// Whether a Content-Disposition header asks for a download.
pub fn is_attachment(disposition: &str) -> bool {
    disposition
        .split(';')
        .next()
        .is_some_and(|kind| kind.trim().eq_ignore_ascii_case("attachment"))
}

/// The filename of a Content-Disposition header (RFC 6266): `filename*` (RFC 8187, percent-
/// encoded with a charset) wins over `filename`. Sanitized; None if nothing usable is left.
pub fn filename_from_disposition(disposition: &str) -> Option<String> {
    let params = parse_params(disposition);
    let extended = params
        .iter()
        .find(|(k, _)| k == "filename*")
        .and_then(|(_, v)| decode_ext_value(v));
    let plain = params
        .iter()
        .find(|(k, _)| k == "filename")
        .map(|(_, v)| v.clone());
    extended
        .and_then(|name| sanitize_filename(&name))
        .or_else(|| plain.and_then(|name| sanitize_filename(&name)))
}

/// The parameters after the disposition type, as (lower-cased name, unquoted value).
fn parse_params(header: &str) -> Vec<(String, String)> {
    let mut params = Vec::new();
    let mut rest = match header.split_once(';') {
        Some((_, rest)) => rest,
        None => return params,
    };
    loop {
        rest = rest.trim_start_matches([' ', '\t', ';']);
        if rest.is_empty() {
            return params;
        }
        let Some((name, after)) = rest.split_once('=') else {
            return params;
        };
        let name = name.trim().to_ascii_lowercase();
        let after = after.trim_start();
        let (value, remaining) = if let Some(quoted) = after.strip_prefix('"') {
            let mut value = String::new();
            let mut chars = quoted.char_indices();
            let mut end = quoted.len();
            while let Some((i, c)) = chars.next() {
                match c {
                    '\\' => {
                        if let Some((_, escaped)) = chars.next() {
                            value.push(escaped);
                        }
                    }
                    '"' => {
                        end = i + 1;
                        break;
                    }
                    other => value.push(other),
                }
            }
            (value, &quoted[end.min(quoted.len())..])
        } else {
            let end = after.find(';').unwrap_or(after.len());
            (after[..end].trim().to_owned(), &after[end..])
        };
        params.push((name, value));
        rest = remaining;
    }
}

/// Decodes an RFC 8187 ext-value: `charset'language'percent-encoded`.
fn decode_ext_value(value: &str) -> Option<String> {
    let mut parts = value.splitn(3, '\'');
    let charset = parts.next()?.to_ascii_lowercase();
    let _language = parts.next()?;
    let encoded = parts.next()?;
    let bytes: Vec<u8> = percent_decode_str(encoded).collect();
    match charset.as_str() {
        "utf-8" => String::from_utf8(bytes).ok(),
        "iso-8859-1" => Some(bytes.into_iter().map(char::from).collect()),
        _ => None,
    }
}

/// The last path segment of `url`, sanitized, as a filename.
pub fn filename_from_url(url: &Url) -> Option<String> {
    last_segment(url).and_then(|name| sanitize_filename(&name))
}

/// A filename safe to show and to save: the part after any path separator, without control
/// characters, never `.` or `..` or hidden, at most 255 bytes.
pub fn sanitize_filename(raw: &str) -> Option<String> {
    let base = raw.rsplit(['/', '\\']).next().unwrap_or_default();
    let cleaned: String = base
        .chars()
        .filter(|c| !c.is_control() && !matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}'))
        .collect();
    let trimmed = cleaned
        .trim()
        .trim_start_matches('.')
        .trim_end_matches(['.', ' ']);
    if trimmed.is_empty() {
        return None;
    }
    let mut name = String::new();
    for c in trimmed.chars() {
        if name.len() + c.len_utf8() > 255 {
            break;
        }
        name.push(c);
    }
    Some(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    fn defaults() -> Vec<String> {
        DEFAULT_EXTENSIONS.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn extensions_match_the_last_segment_only() {
        let exts = defaults();
        assert!(has_extension(&url("https://x.io/files/App-1.2.APK"), &exts));
        assert!(has_extension(&url("https://x.io/a/b.tar.gz?x=1#f"), &exts));
        assert!(has_extension(&url("https://x.io/my%20file.pdf"), &exts));
        assert!(!has_extension(&url("https://x.io/zip/index.html"), &exts));
        assert!(!has_extension(&url("https://x.io/"), &exts));
        assert!(!has_extension(&url("https://x.io/page?f=a.zip"), &exts));
        assert!(has_extension(
            &url("https://x.io/r.custom"),
            &["custom".to_owned()]
        ));
    }

    #[test]
    fn endpoints_are_recognized_by_words() {
        assert!(looks_like_endpoint(&url("https://x.io/download/42"), ""));
        assert!(looks_like_endpoint(&url("https://x.io/files/42/dl"), ""));
        assert!(looks_like_endpoint(&url("https://x.io/export?id=1"), ""));
        assert!(looks_like_endpoint(
            &url("https://x.io/file?download=1"),
            ""
        ));
        assert!(looks_like_endpoint(
            &url("https://x.io/f/42"),
            "Download now"
        ));
        assert!(looks_like_endpoint(&url("https://x.io/f/42"), "Get it"));
        assert!(!looks_like_endpoint(
            &url("https://x.io/together"),
            "Forget me"
        ));
        assert!(!looks_like_endpoint(&url("https://x.io/about"), "About"));
    }

    #[test]
    fn mime_types() {
        for yes in [
            "application/octet-stream",
            "application/zip",
            "application/vnd.android.package-archive",
            "video/mp4",
            "audio/mpeg; charset=binary",
            "application/PDF",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        ] {
            assert!(is_download_mime(yes), "{yes}");
        }
        for no in [
            "text/html",
            "image/png",
            "application/json",
            "application/javascript",
            "",
        ] {
            assert!(!is_download_mime(no), "{no}");
        }
    }

    #[test]
    fn content_disposition_filenames() {
        assert!(is_attachment("Attachment; filename=a.zip"));
        assert!(!is_attachment("inline; filename=a.pdf"));
        assert_eq!(
            filename_from_disposition(r#"attachment; filename="report 2026.pdf""#).as_deref(),
            Some("report 2026.pdf")
        );
        assert_eq!(
            filename_from_disposition("attachment; filename=plain.zip; size=3").as_deref(),
            Some("plain.zip")
        );
        assert_eq!(
            filename_from_disposition(
                r#"attachment; filename="fallback.txt"; filename*=UTF-8''%E2%82%AC%20rates.pdf"#
            )
            .as_deref(),
            Some("€ rates.pdf")
        );
        assert_eq!(
            filename_from_disposition(r#"attachment; filename="a\"b.txt""#).as_deref(),
            Some("a\"b.txt")
        );
        assert_eq!(
            filename_from_disposition("attachment; filename*=iso-8859-1'en'%E9t%E9.txt").as_deref(),
            Some("été.txt")
        );
    }

    #[test]
    fn hostile_filenames_are_defused() {
        for (raw, expected) in [
            ("../../etc/passwd", Some("passwd")),
            ("..\\..\\windows\\system32.dll", Some("system32.dll")),
            ("/abs/path.zip", Some("path.zip")),
            ("..", None),
            (".", None),
            ("", None),
            ("   ", None),
            (".bashrc", Some("bashrc")),
            ("a\u{0}b\nc\u{7f}.txt", Some("abc.txt")),
            ("evil\u{202e}fdp.exe", Some("evilfdp.exe")),
        ] {
            assert_eq!(sanitize_filename(raw).as_deref(), expected, "{raw:?}");
        }
        let long = "x".repeat(400) + ".zip";
        assert!(sanitize_filename(&long).unwrap().len() <= 255);
        assert_eq!(
            filename_from_disposition("attachment; filename*=UTF-8''..%2F..%2Fetc%2Fpasswd")
                .as_deref(),
            Some("passwd")
        );
        assert_eq!(
            filename_from_url(&url("https://x.io/a/..%2F..%2Fsecret.zip")).as_deref(),
            Some("secret.zip")
        );
    }

    fn assert_safe(
        name: Option<String>,
    ) -> std::result::Result<(), proptest::test_runner::TestCaseError> {
        if let Some(name) = name {
            proptest::prop_assert!(!name.contains('/') && !name.contains('\\'), "{name:?}");
            proptest::prop_assert!(!name.chars().any(char::is_control), "{name:?}");
            proptest::prop_assert!(!name.is_empty() && !name.starts_with('.'), "{name:?}");
            proptest::prop_assert!(name.len() <= 255);
        }
        Ok(())
    }

    proptest::proptest! {
        #[test]
        fn any_filename_is_made_safe(raw in proptest::prelude::any::<String>()) {
            assert_safe(sanitize_filename(&raw))?;
        }

        #[test]
        fn any_disposition_gives_a_safe_filename(
            kind in "(attachment|inline|ATTACHMENT)",
            param in "(filename|filename\\*|FileName)",
            value in ".{0,80}",
            quoted in proptest::prelude::any::<bool>(),
        ) {
            let value = if quoted { format!("\"{value}\"") } else { value };
            assert_safe(filename_from_disposition(&format!("{kind}; {param}={value}")))?;
        }

        #[test]
        fn percent_encoded_traversal_is_defused(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..60)) {
            let encoded: String = bytes.iter().map(|b| format!("%{b:02X}")).collect();
            assert_safe(filename_from_disposition(&format!("attachment; filename*=UTF-8''..%2F{encoded}")))?;
            if let Ok(url) = Url::parse(&format!("https://x.io/a/{encoded}")) {
                assert_safe(filename_from_url(&url))?;
            }
        }
    }

    #[test]
    fn download_set_dedupes_and_merges() {
        let mut set = DownloadSet::default();
        let link = |url: &str, source, mime: Option<&str>| DownloadLink {
            url: url.into(),
            text: String::new(),
            source,
            mime: mime.map(Into::into),
            filename: None,
        };
        set.add(link("https://x.io/a.zip", Source::Dom, None));
        set.add(link(
            "https://x.io/b.mp4",
            Source::Network,
            Some("video/mp4"),
        ));
        set.add(link(
            "https://x.io/a.zip",
            Source::Network,
            Some("application/zip"),
        ));
        let items = set.into_vec();
        assert_eq!(items.len(), 2);
        assert_eq!(items[0].source, Source::Dom);
        assert_eq!(items[0].mime.as_deref(), Some("application/zip"));
    }
}
