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
/// page cannot show safely. Callers bound the length with their own message.
pub fn clean(parameter: &'static str, value: &str) -> Result<String, ApiError> {
    let text: String = value.trim().nfc().collect();
    if let Some(bad) = text.chars().find(|c| forbidden(*c)) {
        return Err(ApiError::bad_request(
            parameter,
            format!(
                "{parameter} cannot contain control or invisible characters (found U+{:04X}).",
                u32::from(bad)
            ),
        ));
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::clean;

    #[test]
    fn names_are_trimmed_and_normalised() {
        // "e" + combining acute accent becomes the one precomposed character.
        assert_eq!(
            clean("name", "  Rene\u{301}e ").ok(),
            Some("Ren\u{e9}e".to_owned())
        );
    }

    #[test]
    fn control_and_invisible_characters_are_refused() {
        for bad in ["\u{7}\u{8}", "a\nb", "evil\u{202E}txt", "zero\u{200B}width"] {
            let err = clean("name", bad).expect_err("refused");
            assert!(err.to_string().contains("control or invisible"), "{bad:?}");
        }
        assert!(clean("name", "Ünïcödé — fine").is_ok());
    }
}
