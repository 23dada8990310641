//! The processes a pulumi run consists of. pulumi starts every plugin (language hosts,
//! providers) in a process group of its own (`cmdutil.RegisterProcessGroup`, `setpgid`), so
//! killing pulumi's group leaves them running, orphaned, often holding the update's work. The
//! whole tree is found through `/proc` while pulumi is still its root, and killed group by
//! group; a snapshot taken before an interrupt lets the leftovers be killed after pulumi exits.

use std::collections::BTreeSet;

use rustix::process::{Pid, Signal, kill_process, kill_process_group};

/// One process of the tree, identified across PID reuse by its start time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Proc {
    pid: i32,
    group: i32,
    started: u64,
}

/// Every process descended from `root` (itself included), at the time of the call.
#[derive(Debug, Default)]
pub(super) struct Tree(Vec<Proc>);

impl Tree {
    /// Walk `/proc` for `root` and its descendants (nothing when `/proc` is unreadable).
    pub(super) fn of(root: u32) -> Self {
        let Ok(root) = i32::try_from(root) else {
            return Self::default();
        };
        let all: Vec<(Proc, i32)> = std::fs::read_dir("/proc")
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|entry| entry.file_name().to_str()?.parse::<i32>().ok())
            .filter_map(read_stat)
            .collect();
        let mut found: Vec<Proc> = all
            .iter()
            .filter(|(p, _)| p.pid == root)
            .map(|(p, _)| *p)
            .collect();
        let mut frontier = vec![root];
        while let Some(parent) = frontier.pop() {
            for (p, ppid) in &all {
                if *ppid == parent && !found.iter().any(|f| f.pid == p.pid) {
                    found.push(*p);
                    frontier.push(p.pid);
                }
            }
        }
        Self(found)
    }

    /// SIGKILL every process group of the tree and every process of it that is still the one
    /// the snapshot saw; never stackwire's own group.
    pub(super) fn kill(&self) {
        let own = rustix::process::getpgrp().as_raw_nonzero().get();
        let groups: BTreeSet<i32> = self.0.iter().map(|p| p.group).collect();
        for group in groups.into_iter().filter(|g| *g != own) {
            if let Some(group) = Pid::from_raw(group) {
                let _ = kill_process_group(group, Signal::KILL);
            }
        }
        for p in &self.0 {
            let same = read_stat(p.pid).is_some_and(|(now, _)| now.started == p.started);
            if let (true, Some(pid)) = (same, Pid::from_raw(p.pid)) {
                let _ = kill_process(pid, Signal::KILL);
            }
        }
    }
}

/// `(process, parent pid)` from `/proc/<pid>/stat`.
fn read_stat(pid: i32) -> Option<(Proc, i32)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // `pid (comm) state ppid pgrp …`: comm may hold spaces and parentheses, so split after the
    // last `)`. Field 22 (starttime) is the 20th after it.
    let rest = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    if fields.first() == Some(&"Z") {
        return None; // a zombie holds nothing
    }
    let ppid = fields.get(1)?.parse().ok()?;
    let group = fields.get(2)?.parse().ok()?;
    let started = fields.get(19)?.parse().ok()?;
    Some((
        Proc {
            pid,
            group,
            started,
        },
        ppid,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::process::CommandExt as _;
    use std::time::{Duration, Instant};

    /// Gone, or a zombie waiting for its parent.
    fn gone(pid: i32) -> bool {
        read_stat(pid).is_none()
    }

    #[test]
    fn a_grandchild_in_its_own_group_is_killed_with_the_tree() {
        // sh (own group) starts a child that moves into a group of its own, as pulumi's plugins do.
        let dir = tempfile::tempdir().unwrap();
        let pidfile = dir.path().join("plugin.pid");
        let script = format!(
            "setsid sh -c 'echo $$ > {p}; exec sleep 30' & wait",
            p = pidfile.display()
        );
        let mut child = std::process::Command::new("sh")
            .args(["-c", &script])
            .process_group(0)
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(5);
        let plugin: i32 = loop {
            if let Some(pid) = std::fs::read_to_string(&pidfile)
                .ok()
                .and_then(|s| s.trim().parse().ok())
            {
                break pid;
            }
            assert!(Instant::now() < deadline, "the plugin did not start");
            std::thread::sleep(Duration::from_millis(10));
        };
        let tree = Tree::of(child.id());
        assert!(tree.0.iter().any(|p| p.pid == plugin), "{tree:?}");
        assert!(
            tree.0.iter().any(|p| p.group != tree.0[0].group),
            "{tree:?}"
        );
        tree.kill();
        let _ = child.wait();
        let deadline = Instant::now() + Duration::from_secs(5);
        while !gone(plugin) {
            assert!(Instant::now() < deadline, "the plugin {plugin} survived");
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}
