//! The CI/CD lint behind `stackwire check`: rules over workflows, scripts and stacks (issue 6).
