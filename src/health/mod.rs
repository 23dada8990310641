//! Health checks: HTTP, TCP and command probes run concurrently with timeouts and retries (issue 5).
