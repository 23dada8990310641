//! Pacing of write requests (issue 4, rate-limit rules in `shared/docs/github-and-dotenv.md` §4).
//!
//! Writes are already serial (one in flight). The pacer adds two things: for api.github.com,
//! GitHub's documented content-creation limits as token buckets (80 writes a minute, 500 an
//! hour: a small sync goes at full speed, a big one never trips them); and, for any server,
//! the rate it *showed*: when a write is refused with 403/429 and a `retry-after` of W seconds,
//! the writes it accepted in the last W seconds are what it allows per W, so later writes are
//! spaced W / that count (plus 10 %) apart. Pure over the instants it is given, so it is
//! tested without sleeping.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// Headroom below the rate a server showed.
const MARGIN: f64 = 1.1;
/// Longest window remembered.
const HISTORY: Duration = Duration::from_secs(3600);

#[derive(Debug, Clone)]
struct Bucket {
    capacity: f64,
    per_sec: f64,
    tokens: f64,
    at: Option<Instant>,
}

impl Bucket {
    fn new(count: f64, per: Duration) -> Self {
        Self {
            capacity: count,
            per_sec: count / per.as_secs_f64(),
            tokens: count,
            at: None,
        }
    }

    fn refill(&mut self, now: Instant) {
        if let Some(at) = self.at {
            let gained = now.saturating_duration_since(at).as_secs_f64() * self.per_sec;
            self.tokens = (self.tokens + gained).min(self.capacity);
        }
        self.at = Some(now);
    }

    /// Time until one token is available.
    fn wait(&self, now: Instant) -> Duration {
        let mut tokens = self.tokens;
        if let Some(at) = self.at {
            tokens = (tokens + now.saturating_duration_since(at).as_secs_f64() * self.per_sec)
                .min(self.capacity);
        }
        if tokens >= 1.0 {
            Duration::ZERO
        } else {
            Duration::from_secs_f64((1.0 - tokens) / self.per_sec)
        }
    }
}

/// Decides how long to wait before each write.
#[derive(Debug, Clone)]
pub(crate) struct Pacer {
    buckets: Vec<Bucket>,
    /// Learned spacing between write starts.
    interval: Duration,
    last_sent: Option<Instant>,
    /// Start instants of the writes the server accepted.
    accepted: VecDeque<Instant>,
}

impl Pacer {
    /// A pacer for the API at `api` (GitHub's documented limits apply to api.github.com).
    pub(crate) fn for_api(api: &str) -> Self {
        let github_com = api.starts_with("https://api.github.com");
        let buckets = if github_com {
            vec![
                Bucket::new(80.0, Duration::from_secs(60)),
                Bucket::new(500.0, Duration::from_secs(3600)),
            ]
        } else {
            Vec::new()
        };
        Self {
            buckets,
            interval: Duration::ZERO,
            last_sent: None,
            accepted: VecDeque::new(),
        }
    }

    /// How long to wait, at `now`, before sending the next write.
    pub(crate) fn delay(&self, now: Instant) -> Duration {
        let spacing = self.last_sent.map_or(Duration::ZERO, |t| {
            (t + self.interval).saturating_duration_since(now)
        });
        self.buckets
            .iter()
            .map(|b| b.wait(now))
            .fold(spacing, Duration::max)
    }

    /// A write is sent at `at`.
    pub(crate) fn sent(&mut self, at: Instant) {
        for b in &mut self.buckets {
            b.refill(at);
            b.tokens = (b.tokens - 1.0).max(0.0);
        }
        self.last_sent = Some(at);
    }

    /// The write sent at `sent` was accepted.
    pub(crate) fn accepted(&mut self, sent: Instant) {
        self.accepted.push_back(sent);
        while self
            .accepted
            .front()
            .is_some_and(|t| sent.saturating_duration_since(*t) > HISTORY)
        {
            self.accepted.pop_front();
        }
    }

    /// A write was refused at `now` for a rate limit whose window looks like `window`. Returns
    /// the new spacing when it changed.
    pub(crate) fn limited(&mut self, now: Instant, window: Duration) -> Option<Duration> {
        let window = window.clamp(Duration::from_secs(1), HISTORY);
        let since = now.checked_sub(window);
        let count = self
            .accepted
            .iter()
            .filter(|t| since.is_none_or(|s| **t >= s))
            .count();
        let before = self.interval;
        if count > 0 {
            let shown = window.mul_f64(MARGIN / count as f64);
            // Refused again at a spacing we chose: the server is stricter than it looked.
            let stricter = if before > Duration::ZERO && shown <= before {
                before.mul_f64(1.25)
            } else {
                shown
            };
            self.interval = self.interval.max(stricter);
        }
        (self.interval != before).then_some(self.interval)
    }

    /// The current learned spacing.
    pub(crate) fn interval(&self) -> Duration {
        self.interval
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A server that refuses a write when `limit` writes were accepted in the last second,
    /// answering `retry-after: 1`; each request takes `latency`. Returns the total time for
    /// `writes` writes and the number of refusals.
    fn simulate(limit: usize, writes: usize, latency: Duration) -> (Duration, usize) {
        let start = Instant::now();
        let mut now = start;
        let mut pacer = Pacer::for_api("http://127.0.0.1:1");
        let mut server: VecDeque<Instant> = VecDeque::new();
        let mut refused = 0;
        let mut done = 0;
        while done < writes {
            now += pacer.delay(now);
            pacer.sent(now);
            let arrive = now + latency / 2;
            while server
                .front()
                .is_some_and(|t| arrive.saturating_duration_since(*t) >= Duration::from_secs(1))
            {
                server.pop_front();
            }
            now += latency;
            if server.len() >= limit {
                refused += 1;
                pacer.limited(now, Duration::from_secs(1));
                now += Duration::from_secs(1);
            } else {
                server.push_back(arrive);
                pacer.accepted(now - latency);
                done += 1;
            }
        }
        (now - start, refused)
    }

    #[test]
    fn learns_a_scaled_down_secondary_limit() {
        for limit in [5, 10, 15] {
            let (took, refused) = simulate(limit, 200, Duration::from_millis(50));
            let minimum = 200.0 / limit as f64;
            assert!(
                took.as_secs_f64() <= 1.5 * minimum,
                "limit {limit}/s: {took:?} for 200 writes (minimum {minimum} s), {refused} refusals"
            );
            assert!(refused <= 3, "limit {limit}/s: {refused} refusals");
        }
    }

    #[test]
    fn no_limit_no_wait() {
        let (took, refused) = simulate(1000, 50, Duration::from_millis(10));
        assert_eq!(refused, 0);
        assert!(took <= Duration::from_millis(500) + Duration::from_millis(10));
    }

    #[test]
    fn github_com_buckets() {
        let mut p = Pacer::for_api("https://api.github.com");
        let t0 = Instant::now();
        for i in 0..80 {
            let t = t0 + Duration::from_millis(i);
            assert_eq!(
                p.delay(t),
                Duration::ZERO,
                "write {i} of the first 80 is free"
            );
            p.sent(t);
        }
        // The 81st waits for the minute bucket to refill one token: 60 s / 80 = 0.75 s.
        let t = t0 + Duration::from_millis(80);
        let d = p.delay(t);
        assert!(
            d > Duration::from_millis(600) && d <= Duration::from_millis(750),
            "{d:?}"
        );
    }
}
