//! Verification codes: format, determinism, typo detection, tolerant parsing.

use lms_certificate::*;

#[test]
fn codes_are_deterministic_grouped_and_from_the_unambiguous_alphabet() {
    let a = verification_code(b"seed-0001").expect("code");
    assert_eq!(a, verification_code(b"seed-0001").expect("code"));
    assert_ne!(a, verification_code(b"seed-0002").expect("code"));
    assert_eq!(a.len(), 19, "{a}");
    for (i, c) in a.chars().enumerate() {
        if i % 5 == 4 {
            assert_eq!(c, '-', "{a}");
        } else {
            assert!(CODE_ALPHABET.contains(&(c as u8)), "{a}: {c:?}");
            assert!(!"ILOU".contains(c), "{a}: ambiguous {c:?}");
        }
    }
    assert_eq!(parse_verification_code(&a).expect("parse"), a);
    // 1,000 seeds give 1,000 different codes.
    let mut all: Vec<String> = (0..1000u32)
        .map(|i| verification_code(&i.to_le_bytes().repeat(2)).expect("code"))
        .collect();
    all.sort();
    all.dedup();
    assert_eq!(all.len(), 1000);
}

#[test]
fn short_seed_is_an_error() {
    let error = verification_code(b"short").expect_err("too short");
    assert_eq!(
        error.to_string(),
        "verification code \"\": seed has 5 bytes, at least 8 are needed"
    );
}

#[test]
fn parsing_tolerates_case_spaces_and_lookalikes() {
    let code = verification_code(b"tolerant parsing").expect("code");
    let sloppy: String = code
        .replace('-', " ")
        .to_lowercase()
        .replace('0', "o")
        .replace('1', "l");
    assert_eq!(
        parse_verification_code(&sloppy).expect("sloppy input"),
        code
    );
    assert_eq!(
        parse_verification_code(&code.replace('-', "")).expect("no hyphens"),
        code
    );
}

fn check(input: &str, expected: &str) {
    let got = match parse_verification_code(input) {
        Ok(code) => format!("ok {code}"),
        Err(e) => e.to_string(),
    };
    assert_eq!(got, expected, "input {input:?}");
}

#[test]
fn malformed_codes_are_reported_as_data() {
    check("", "verification code \"\": 0 characters, a code has 16");
    check(
        "ABCD-EFGH",
        "verification code \"ABCD-EFGH\": 8 characters, a code has 16",
    );
    check(
        "ABCD-EFGH-JKMN-PQRS-T",
        "verification code \"ABCD-EFGH-JKMN-PQRS-T\": longer than 16 characters",
    );
    check(
        "ABCD-EFGH-JKMN-PQR!",
        "verification code \"ABCD-EFGH-JKMN-PQR!\": character '!' is not part of a code",
    );
    check(
        "ÄBCD-EFGH-JKMN-PQRS",
        "verification code \"ÄBCD-EFGH-JKMN-PQRS\": character 'Ä' is not part of a code",
    );
    check(
        "UBCD-EFGH-JKMN-PQRS",
        "verification code \"UBCD-EFGH-JKMN-PQRS\": character 'U' is not part of a code",
    );
}

#[test]
fn every_single_character_typo_is_caught() {
    for seed in 0..20u64 {
        let code = verification_code(&seed.to_be_bytes()).expect("code");
        let symbols: Vec<char> = code.chars().filter(|c| *c != '-').collect();
        for position in 0..symbols.len() {
            for &replacement in CODE_ALPHABET {
                let replacement = char::from(replacement);
                if replacement == symbols[position] {
                    continue;
                }
                let mut typo = symbols.clone();
                typo[position] = replacement;
                let typo: String = typo.into_iter().collect();
                assert!(
                    parse_verification_code(&typo).is_err(),
                    "{code} → {typo} not caught"
                );
            }
        }
    }
}

#[test]
fn most_neighbour_swaps_are_caught() {
    let (mut swaps, mut caught) = (0, 0);
    for seed in 0..200u64 {
        let code = verification_code(&seed.to_be_bytes()).expect("code");
        let symbols: Vec<char> = code.chars().filter(|c| *c != '-').collect();
        for i in 0..symbols.len() - 1 {
            if symbols[i] == symbols[i + 1] {
                continue;
            }
            let mut swapped = symbols.clone();
            swapped.swap(i, i + 1);
            swaps += 1;
            if parse_verification_code(&swapped.into_iter().collect::<String>()).is_err() {
                caught += 1;
            }
        }
    }
    // Luhn mod 32 misses only swaps of two symbols whose values sum to 31 modulo 32 patterns.
    assert!(
        caught * 100 >= swaps * 95,
        "only {caught} of {swaps} swaps caught"
    );
}

/// The QR symbol printed on certificates is exactly the one `qrcode` makes on its own
/// (same mask choice), for URLs of every length a certificate allows and several kinds of
/// content (byte, alphanumeric and numeric segments, so many versions and all masks occur).
#[test]
fn verification_qr_is_the_symbol_qrcode_makes() {
    let mut masks_seen = std::collections::BTreeSet::new();
    let mut widths_seen = std::collections::BTreeSet::new();
    for i in 0..600usize {
        let code = verification_code(format!("qr seed {i}").as_bytes()).expect("code");
        let url = match i % 4 {
            0 => format!("https://lms.example.org/verify/{code}"),
            1 => format!("HTTPS://LMS.EXAMPLE.ORG/VERIFY/{code}"),
            2 => format!(
                "https://lms.example.org/{}/verify/{code}",
                "x".repeat(i % 200)
            ),
            _ => format!(
                "{}{}",
                "0123456789".repeat(i % 25 + 1),
                &code[..(i % 19) + 1]
            ),
        };
        let url = &url[..url.len().min(MAX_URL_BYTES)];
        let (width, dark) = verification_qr(url).expect("encodable");
        let reference =
            qrcode::QrCode::with_error_correction_level(url.as_bytes(), qrcode::EcLevel::M)
                .expect("encodable");
        assert_eq!(width, reference.width(), "{url}");
        let expected: Vec<bool> = reference
            .to_colors()
            .into_iter()
            .map(|c| c == qrcode::Color::Dark)
            .collect();
        assert!(
            dark == expected,
            "{url}: modules differ from qrcode's symbol"
        );
        widths_seen.insert(width);
        // The mask is encoded in the format bits next to the top-left finder (row 8, columns 2–4).
        masks_seen.insert((
            dark[8 * width + 2],
            dark[8 * width + 3],
            dark[8 * width + 4],
        ));
    }
    assert!(widths_seen.len() >= 5, "versions covered: {widths_seen:?}");
    assert_eq!(
        masks_seen.len(),
        8,
        "not every mask was chosen at least once"
    );
}
