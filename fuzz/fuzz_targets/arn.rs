//! Arbitrary UTF-8 through `CallerArn::from_str` and `Identity::from_arn`; see
//! `tvm_fuzz::arn` for what is asserted.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| tvm_fuzz::arn::check(data));
