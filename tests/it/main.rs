//! The single integration-test binary: every test drives the real `stackwire` binary.

mod support;

mod adopt;
mod canary;
mod check;
mod cli_state;
mod contract;
mod deploy;
mod diy;
mod example;
mod health;
mod passphrase;
mod pulumi_cli;
mod roundtrip;
mod standin;
mod sync;
