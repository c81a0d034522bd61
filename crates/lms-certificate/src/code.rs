//! Human-readable verification codes: `7K3M-Q9XD-2RTB-HW4P`.
//!
//! 15 data characters from Crockford's base-32 alphabet (no I, L, O, U: nothing to confuse)
//! plus one check character (Luhn mod 32: catches every single mistyped character and most
//! swaps of neighbours). The data characters are derived from SHA-256 of the caller's seed
//! (random bytes, or a stable id), so the code reveals nothing about the seed.

use sha2::{Digest, Sha256};

use crate::Error;

/// The 32 symbols used, in value order.
pub const CODE_ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
/// Data characters in a code (75 bits).
pub const CODE_DATA_CHARS: usize = 15;
/// Minimum seed length accepted by [`verification_code`].
pub const MIN_SEED_BYTES: usize = 8;

fn value_of(symbol: u8) -> Option<u32> {
    CODE_ALPHABET
        .iter()
        .position(|&s| s == symbol)
        .map(|p| p as u32)
}

/// Luhn mod N check symbol value for `values` (N = 32).
fn check_value(values: &[u32]) -> u32 {
    let n = 32;
    let mut factor = 2;
    let mut sum = 0;
    for &v in values.iter().rev() {
        let addend = factor * v;
        factor = if factor == 2 { 1 } else { 2 };
        sum += addend / n + addend % n;
    }
    (n - sum % n) % n
}

/// A new verification code from `seed` (at least [`MIN_SEED_BYTES`] bytes; pass fresh random
/// bytes for unguessable codes). The same seed always gives the same code.
pub fn verification_code(seed: &[u8]) -> Result<String, Error> {
    if seed.len() < MIN_SEED_BYTES {
        return Err(Error::InvalidVerificationCode {
            input: String::new(),
            reason: format!(
                "seed has {} bytes, at least {MIN_SEED_BYTES} are needed",
                seed.len()
            ),
        });
    }
    let digest = Sha256::new()
        .chain_update(b"lms-certificate verification code v1\0")
        .chain_update(seed)
        .finalize();
    let mut bits: u128 = 0;
    for &byte in &digest[..16] {
        bits = (bits << 8) | u128::from(byte);
    }
    let values: Vec<u32> = (0..CODE_DATA_CHARS)
        .map(|i| ((bits >> (123 - 5 * i)) & 31) as u32)
        .collect();
    Ok(format_code(&values))
}

fn format_code(data: &[u32]) -> String {
    let check = check_value(data);
    let mut out = String::with_capacity(CODE_DATA_CHARS + 4);
    for (i, &v) in data.iter().chain(std::iter::once(&check)).enumerate() {
        if i > 0 && i % 4 == 0 {
            out.push('-');
        }
        out.push(char::from(CODE_ALPHABET[v as usize]));
    }
    out
}

/// Reads a code as a person typed it: case, spaces and hyphens do not matter, and the
/// look-alikes O→0 and I/L→1 are accepted. Returns the canonical form (`XXXX-XXXX-XXXX-XXXX`)
/// or says what is wrong (wrong length, foreign character, check character mismatch).
pub fn parse_verification_code(input: &str) -> Result<String, Error> {
    let bad = |reason: String| Error::InvalidVerificationCode {
        input: input.chars().take(64).collect(),
        reason,
    };
    let mut values = Vec::with_capacity(CODE_DATA_CHARS + 1);
    for c in input.chars() {
        if c == '-' || c.is_whitespace() {
            continue;
        }
        let symbol = match c.to_ascii_uppercase() {
            'O' => b'0',
            'I' | 'L' => b'1',
            other if other.is_ascii() => other as u8,
            other => return Err(bad(format!("character {other:?} is not part of a code"))),
        };
        let value = value_of(symbol)
            .ok_or_else(|| bad(format!("character {c:?} is not part of a code")))?;
        values.push(value);
        if values.len() > CODE_DATA_CHARS + 1 {
            return Err(bad(format!(
                "longer than {} characters",
                CODE_DATA_CHARS + 1
            )));
        }
    }
    if values.len() != CODE_DATA_CHARS + 1 {
        return Err(bad(format!(
            "{} characters, a code has {}",
            values.len(),
            CODE_DATA_CHARS + 1
        )));
    }
    let (data, check) = values.split_at(CODE_DATA_CHARS);
    if check_value(data) != check[0] {
        return Err(bad("check character does not match (typing error?)".into()));
    }
    Ok(format_code(data))
}
