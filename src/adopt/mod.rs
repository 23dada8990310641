//! Kubernetes adoption: inventory vs Pulumi state, classes, waves and import files (issue 7).
