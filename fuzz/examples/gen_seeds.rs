//! Writes the seed corpora `seeds/token/` and `seeds/arn/`.
//!
//! Run from `fuzz/`: `cargo run --example gen_seeds`. Every token seed is minted
//! with tvm's own client (`mint_tvm_v1` / `mint_eks`) at `tvm_fuzz::token::NOW`
//! and checked to be accepted by exactly the configurations it is meant for, so
//! the fuzzer starts from inputs that pass every pure check. Nonces are random,
//! so each run writes new token bytes; the shapes stay the same.

use std::fs;
use std::path::Path;
use std::time::SystemTime;

use aws_credential_types::Credentials;
use tvm::auth::Origin;
use tvm::client::token::{mint_eks, mint_tvm_v1, Target};
use tvm::identity::Identity;
use tvm_fuzz::token::{AUDIENCE, CLUSTER, SIM_ENDPOINT, SIM_NO_EKS, TARGET, VPCE_ENDPOINT};

const ARNS: &[(&str, &str)] = &[
    ("user", "arn:aws:iam::123456789012:user/alice"),
    ("user-path", "arn:aws:iam::123456789012:user/division/team/bob"),
    ("assumed-role", "arn:aws:sts::123456789012:assumed-role/Deploy/ci-run-42"),
    (
        "sso",
        "arn:aws:sts::123456789012:assumed-role/AWSReservedSSO_Admin_0123456789abcdef/alice@example.com",
    ),
    ("federated", "arn:aws:sts::123456789012:federated-user/carol"),
    ("root", "arn:aws:iam::123456789012:root"),
    ("cn-user", "arn:aws-cn:iam::210987654321:user/dave"),
    ("gov-role", "arn:aws-us-gov:sts::111122223333:assumed-role/Ops/eve"),
];

fn main() {
    let seeds = Path::new(env!("CARGO_MANIFEST_DIR")).join("seeds");
    let now = SystemTime::from(tvm_fuzz::token::now());
    let secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
    let key = Credentials::new("AKIAIOSFODNN7EXAMPLE", secret, None, None, "seeds");
    let session = Credentials::new(
        "ASIAIOSFODNN7EXAMPLE",
        secret,
        Some("IQoJb3JpZ2luX2VjEXAMPLE/+session=token".to_owned()),
        None,
        "seeds",
    );
    let tvm = |creds: &Credentials, endpoint: &str, region: &str| {
        let origin = Origin::parse(AUDIENCE).expect("origin");
        let target = Target::parse(TARGET).expect("target");
        mint_tvm_v1(creds, endpoint, region, &origin, &target, b"", now).expect("mint")
    };
    let eks = |creds: &Credentials, endpoint: &str, region: &str| {
        mint_eks(creds, endpoint, region, CLUSTER, now).expect("mint")
    };
    let tokens: Vec<(&str, String, &[&str])> = vec![
        (
            "tvm-sim",
            tvm(&key, SIM_ENDPOINT, "us-east-1"),
            &["sim", SIM_NO_EKS],
        ),
        (
            "tvm-sim-session",
            tvm(&session, SIM_ENDPOINT, "eu-west-1"),
            &["sim", SIM_NO_EKS],
        ),
        ("tvm-vpce", tvm(&key, VPCE_ENDPOINT, "us-east-1"), &["vpce"]),
        (
            "tvm-aws-global",
            tvm(&key, "https://sts.amazonaws.com", "us-east-1"),
            &["aws"],
        ),
        (
            "tvm-aws-regional",
            tvm(&session, "https://sts.eu-west-1.amazonaws.com", "eu-west-1"),
            &["aws"],
        ),
        (
            "tvm-aws-fips",
            tvm(
                &key,
                "https://sts-fips.us-west-2.amazonaws.com",
                "us-west-2",
            ),
            &["aws"],
        ),
        (
            "tvm-aws-cn",
            tvm(
                &key,
                "https://sts.cn-north-1.amazonaws.com.cn",
                "cn-north-1",
            ),
            &["aws-cn"],
        ),
        (
            "tvm-aws-us-gov",
            tvm(
                &key,
                "https://sts.us-gov-west-1.amazonaws.com",
                "us-gov-west-1",
            ),
            &["aws-us-gov"],
        ),
        ("eks-sim", eks(&key, SIM_ENDPOINT, "us-east-1"), &["sim"]),
        (
            "eks-aws",
            eks(&session, "https://sts.us-west-2.amazonaws.com", "us-west-2"),
            &["aws"],
        ),
    ];
    let dir = seeds.join("token");
    fs::create_dir_all(&dir).expect("mkdir");
    for (name, token, want) in &tokens {
        let header = format!("Bearer {token}");
        let got = tvm_fuzz::token::accepted_by(header.as_bytes());
        assert_eq!(&got, want, "{name} accepted by the wrong configurations");
        tvm_fuzz::token::check(header.as_bytes());
        fs::write(dir.join(name), header).expect("write");
    }
    let dir = seeds.join("arn");
    fs::create_dir_all(&dir).expect("mkdir");
    for (name, arn) in ARNS {
        Identity::from_arn(arn).expect(name);
        tvm_fuzz::arn::check(arn.as_bytes());
        fs::write(dir.join(name), arn).expect("write");
    }
    println!(
        "wrote {} token and {} ARN seeds under {}",
        tokens.len(),
        ARNS.len(),
        seeds.display()
    );
}
