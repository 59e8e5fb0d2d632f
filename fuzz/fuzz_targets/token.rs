//! Arbitrary bytes as the `Authorization` header through every pure token check
//! of DESIGN §2; see `tvm_fuzz::token` for what is asserted.
#![no_main]

use libfuzzer_sys::{fuzz_mutator, fuzz_target, fuzzer_mutate};

fuzz_target!(|data: &[u8]| tvm_fuzz::token::check(data));

fuzz_mutator!(|data: &mut [u8], size: usize, max_size: usize, seed: u32| {
    tvm_fuzz::mutate::mutate(data, size, max_size, seed, fuzzer_mutate)
});
