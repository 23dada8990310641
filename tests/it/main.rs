//! The single integration-test binary: every test drives the real `stackwire` binary.

mod support;

mod canary;
mod cli_state;
mod contract;
mod pulumi_cli;
mod roundtrip;
