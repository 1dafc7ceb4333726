//! How raw bytes are shown (text where they are printable, hex otherwise)
//! and how keys are given on the command line.

/// Bytes as printable text, or `None` if they are not: valid UTF-8 with no
/// control characters, except that a final NUL (how vbolt's `string_z`
/// keys end) is shown as `\0`.
pub fn as_text(bytes: &[u8]) -> Option<String> {
    let (body, nul) = match bytes.split_last() {
        Some((0, body)) => (body, true),
        _ => (bytes, false),
    };
    let s = std::str::from_utf8(body).ok()?;
    if s.chars().any(char::is_control) {
        return None;
    }
    Some(if nul {
        format!("{s}\\0")
    } else {
        s.to_string()
    })
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Text if printable, else `0x` and hex.
pub fn show(bytes: &[u8]) -> String {
    as_text(bytes).unwrap_or_else(|| format!("0x{}", hex(bytes)))
}

/// A key in the form [`parse_key`] reads back to the same bytes: plain
/// text when that is unambiguous, `str:TEXT` for text ending in the NUL of
/// a `string_z` key, `hex:...` otherwise.
pub fn show_key(bytes: &[u8]) -> String {
    let (body, nul) = match bytes.split_last() {
        Some((0, body)) => (body, true),
        _ => (bytes, false),
    };
    let text = std::str::from_utf8(body)
        .ok()
        .filter(|s| !s.is_empty() && !s.chars().any(char::is_control));
    match text {
        Some(s) if nul => format!("str:{s}"),
        Some(s) if !has_form_prefix(s) => s.to_string(),
        _ => format!("hex:{}", hex(bytes)),
    }
}

/// True if `s` would be read as one of the typed forms (`str:`, `hex:`...).
fn has_form_prefix(s: &str) -> bool {
    s.split_once(':')
        .is_some_and(|(kind, _)| FORMS.contains(&kind))
}

/// The typed key forms [`parse_key`] knows.
const FORMS: [&str; 6] = ["str", "hex", "u64", "u32", "i64", "i32"];

/// Both forms, for `--json`.
pub fn json(bytes: &[u8]) -> serde_json::Value {
    serde_json::json!({ "text": as_text(bytes), "hex": hex(bytes) })
}

pub const KEY_HELP: &str = "\
A key is given as:
  plain text       the bytes of the text (`alice`)
  str:TEXT         text with a final NUL, as vpack::string_z packs it
  hex:0A0B         bytes in hex
  u64:N u32:N      an unsigned integer, fixed width big-endian (vpack::fuint)
  i64:N i32:N      a signed integer, fixed width big-endian (vpack::fint)";

/// Parses a key given on the command line (see [`KEY_HELP`]).
pub fn parse_key(arg: &str) -> Result<Vec<u8>, String> {
    let Some((kind, rest)) = arg.split_once(':') else {
        return Ok(arg.as_bytes().to_vec());
    };
    let int_err = |e: std::num::ParseIntError| format!("{arg:?}: {e}");
    if !FORMS.contains(&kind) {
        // Not a known form: the whole argument is text (it may contain ':').
        return Ok(arg.as_bytes().to_vec());
    }
    Ok(match kind {
        "str" => {
            let mut k = rest.as_bytes().to_vec();
            k.push(0);
            k
        }
        "hex" => parse_hex(rest).ok_or(format!("{arg:?}: not an even number of hex digits"))?,
        "u64" => rest.parse::<u64>().map_err(int_err)?.to_be_bytes().to_vec(),
        "u32" => rest.parse::<u32>().map_err(int_err)?.to_be_bytes().to_vec(),
        "i64" => rest.parse::<i64>().map_err(int_err)?.to_be_bytes().to_vec(),
        "i32" => rest.parse::<i32>().map_err(int_err)?.to_be_bytes().to_vec(),
        // Not a known form: the whole argument is text (it may contain ':').
        _ => arg.as_bytes().to_vec(),
    })
}

pub fn parse_hex(s: &str) -> Option<Vec<u8>> {
    let s = s.strip_prefix("0x").unwrap_or(s);
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_parse_in_every_form() {
        assert_eq!(parse_key("alice").unwrap(), b"alice");
        assert_eq!(parse_key("str:al").unwrap(), b"al\0");
        assert_eq!(parse_key("hex:0aFF").unwrap(), [0x0a, 0xff]);
        assert_eq!(parse_key("u64:258").unwrap(), [0, 0, 0, 0, 0, 0, 1, 2]);
        assert_eq!(parse_key("u32:1").unwrap(), [0, 0, 0, 1]);
        assert_eq!(parse_key("i64:-1").unwrap(), [0xff; 8]);
        assert_eq!(parse_key("http://x").unwrap(), b"http://x");
        assert!(parse_key("hex:abc").is_err());
        assert!(parse_key("hex:zz").is_err());
        assert!(parse_key("u32:99999999999").is_err());
    }

    #[test]
    fn every_printed_key_parses_back_to_its_bytes() {
        let mut cases: Vec<Vec<u8>> = vec![
            b"alice".to_vec(),
            b"ann\0".to_vec(),
            b"hex:00".to_vec(),
            b"str:x".to_vec(),
            b"http://x".to_vec(),
            vec![],
            vec![0],
            vec![0, 0],
            b"a\nb".to_vec(),
            vec![0xff, 0xfe],
            7u64.to_be_bytes().to_vec(),
        ];
        let mut x = 0x9e37_79b9_u32;
        for len in 0..40 {
            cases.push(
                (0..len)
                    .map(|_| {
                        x ^= x << 13;
                        x ^= x >> 17;
                        x ^= x << 5;
                        [b'a', b':', 0, 0xff, b'h', b'x'][x as usize % 6]
                    })
                    .collect(),
            );
        }
        for bytes in cases {
            let shown = show_key(&bytes);
            assert_eq!(parse_key(&shown).unwrap(), bytes, "{shown}");
        }
        assert_eq!(show_key(b"ann\0"), "str:ann");
        assert_eq!(show_key(b"alice"), "alice");
        assert_eq!(show_key(&[0, 1]), "hex:0001");
    }

    #[test]
    fn bytes_show_as_text_or_hex() {
        assert_eq!(show(b"hello"), "hello");
        assert_eq!(show(b"ann\0"), "ann\\0");
        assert_eq!(show(&[0, 0, 1]), "0x000001");
        assert_eq!(show(b"a\nb"), "0x610a62");
        assert_eq!(show(&[0xff, 0xfe]), "0xfffe");
        assert_eq!(show(b""), "");
    }
}
