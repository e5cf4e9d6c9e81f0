//! What people type into names, titles and recipients: trimmed, NFC-normalised, bounded, and
//! free of characters that would break the pages showing it.

use unicode_normalization::UnicodeNormalization;

use crate::ApiError;

/// Characters no name may hold: control characters, and the invisible format characters that
/// reorder or hide text (bidirectional overrides and isolates, zero-width marks).
fn forbidden(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2069}' | '\u{FEFF}')
}

/// `value` trimmed and NFC-normalised, or a 400 naming `parameter` when it holds a character a
/// page cannot show safely, is blank, or is longer than `max_chars` (`length` says so in
/// words). The length is counted as sent, as the OpenAPI document counts it.
pub fn clean(
    parameter: &'static str,
    value: &str,
    max_chars: usize,
    length: &str,
) -> Result<String, ApiError> {
    if let Some(bad) = value.chars().find(|c| forbidden(*c)) {
        return Err(ApiError::bad_request(
            parameter,
            format!(
                "{parameter} cannot contain control or invisible characters (found U+{:04X}).",
                u32::from(bad)
            ),
        ));
    }
    let trimmed = value.trim();
    if trimmed.is_empty() || value.chars().count() > max_chars {
        return Err(ApiError::bad_request(parameter, length));
    }
    Ok(trimmed.nfc().collect())
}

#[cfg(test)]
mod tests {
    use super::clean;

    #[test]
    fn names_are_trimmed_and_normalised() {
        // "e" + combining acute accent becomes the one precomposed character.
        assert_eq!(
            clean("name", "  Rene\u{301}e ", 10, "").ok(),
            Some("Ren\u{e9}e".to_owned())
        );
    }

    #[test]
    fn control_and_invisible_characters_are_refused_anywhere() {
        for bad in [
            "\u{7}\u{8}",
            "a\nb",
            "evil\u{202E}txt",
            "zero\u{200B}width",
            "tab\t",
        ] {
            let err = clean("name", bad, 20, "").expect_err("refused");
            assert!(err.to_string().contains("control or invisible"), "{bad:?}");
        }
        assert!(clean("name", "Ünïcödé — fine", 20, "").is_ok());
    }

    #[test]
    fn empty_and_long_names_are_refused_with_the_callers_words() {
        for bad in ["", "   ", "abcdefghijk"] {
            let err = clean("name", bad, 10, "Name it (1 to 10).").expect_err("refused");
            assert_eq!(err.to_string(), "Name it (1 to 10).");
        }
        assert!(clean("name", " abcdefgh ", 10, "").is_ok());
        assert!(
            clean("name", " abcdefghi ", 10, "").is_err(),
            "counted as sent"
        );
    }
}
