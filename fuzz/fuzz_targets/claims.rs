//! Differential fuzzing of the claims reader: the request path's single-pass reader
//! (`src/claims/read.rs`) and the serde_json decoding it replaced, kept as the reference, read
//! the same bytes. They must give the same verdict and, when they accept, the same identity:
//! the typed fields, and each additional claim's exact text, value and string.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Some(difference) = regards_auth::fuzzing::claims_disagreement(data) {
        panic!("{difference}: {}", String::from_utf8_lossy(data));
    }
});
