//! The single integration-test binary: every test drives the real `stackwire` binary.

mod support;

mod canary;
mod cli_state;
mod contract;
mod diy;
mod example;
mod pulumi_cli;
mod roundtrip;
