//! The `stackwire` binary: everything happens in [`stackwire::run`].

fn main() -> std::process::ExitCode {
    stackwire::run(std::env::args_os())
}
