//! GitHub Actions secrets and variables: plan, sealed-box encryption, paced writes (issue 4).
