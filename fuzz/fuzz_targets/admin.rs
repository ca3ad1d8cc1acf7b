//! Fuzzes what rs-admin and proxies send managed access: the input is rs-admin's roles answer
//! (names, parents, `authorizedAddresses` patterns), a role's grants answer, and the value a
//! trusted proxy's forwarding header holds, separated by NUL bytes (which neither JSON text
//! nor a header value may hold); the first byte picks `X-Forwarded-For` or `Forwarded`.
//!
//! Every input is read, built into rights (patterns compiled within their budgets) and decided
//! for every listed role on every endpoint. It checks that nothing panics, that a role whose
//! patterns were refused never passes, and, through `fuzz/run.sh`'s libFuzzer options, that no
//! input hangs or allocates past its bound.

#![no_main]

use libfuzzer_sys::fuzz_target;
use regards_auth::managed::fuzzing::admin_answers;

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let mut parts = rest.splitn(3, |&byte| byte == 0);
    let roles = parts.next().unwrap_or_default();
    let grants = parts.next().unwrap_or_default();
    let forwarded = parts.next().unwrap_or_default();
    admin_answers(roles, grants, forwarded, selector & 1 == 1);
});
