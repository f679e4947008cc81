//! How many connections the listener may hold, sized against the process's
//! file-descriptor limit, and the pool of shed connections that makes room
//! for a newcomer by closing its oldest member.
//!
//! Why the descriptor limit matters: once `accept` fails with "too many open
//! files", every new connection, the orchestrator's `/health` probe included,
//! waits in the kernel's queue until an old one closes (up to the header
//! deadline). Staying under the limit keeps `accept` working, and closing the
//! oldest shed connection rather than the newest keeps a fresh probe served
//! however many idle connections a client piles up.

use std::collections::VecDeque;

use tokio::task::AbortHandle;

/// Descriptors never given to client connections besides the engine's (one
/// per engine call in flight): the listener, the runtime's own, stdio.
pub(crate) const RESERVED_FDS: usize = 64;

/// Shed connections held at once, per served slot. Each lives at most about
/// a second (one request, a short header deadline).
const SHED_PER_SLOT: usize = 4;

/// The shed pool's size when the descriptor budget allows no more.
const MIN_SHED: usize = 64;

/// Connections the listener holds at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Capacity {
    /// Served normally.
    pub served: usize,
    /// Beyond `served`: one request each, only `/health` answered.
    pub shed: usize,
}

impl Capacity {
    /// Fits `max_connections` (and its shed pool) under `fd_limit` (`None`:
    /// unknown or unlimited) minus [`RESERVED_FDS`] and one descriptor per
    /// engine call.
    pub(crate) fn new(
        max_connections: usize,
        fd_limit: Option<usize>,
        max_engine_calls: usize,
    ) -> Self {
        let wanted_shed = max_connections.saturating_mul(SHED_PER_SLOT).max(MIN_SHED);
        let Some(limit) = fd_limit else {
            return Self {
                served: max_connections,
                shed: wanted_shed,
            };
        };
        let reserve = RESERVED_FDS.saturating_add(max_engine_calls);
        let room = limit.saturating_sub(reserve).max(2);
        let served = max_connections.min(room.saturating_sub(MIN_SHED.min(room / 2)));
        let served = served.max(1);
        let shed = wanted_shed.min(room - served).max(1);
        Self { served, shed }
    }
}

/// Raises the soft open-files limit to the hard one and returns the soft
/// limit in force (`None` when unlimited or unknown). Each connection is a
/// descriptor, and the usual soft default (1,024) is far below what a host's
/// hard limit allows a server.
pub(crate) fn raise_fd_limit() -> Option<usize> {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit and setrlimit only read and write the struct given.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) != 0 {
            return None;
        }
        if lim.rlim_cur < lim.rlim_max {
            let raised = libc::rlimit {
                rlim_cur: lim.rlim_max,
                rlim_max: lim.rlim_max,
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) == 0 {
                lim = raised;
            }
        }
    }
    finite(lim.rlim_cur)
}

/// The soft open-files limit as it stands.
pub(crate) fn fd_limit() -> Option<usize> {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit only writes the struct given.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) } != 0 {
        return None;
    }
    finite(lim.rlim_cur)
}

fn finite(n: libc::rlim_t) -> Option<usize> {
    if n == libc::RLIM_INFINITY {
        return None;
    }
    usize::try_from(n).ok()
}

/// The shed connections alive, oldest first.
pub(crate) struct ShedPool {
    capacity: usize,
    conns: VecDeque<AbortHandle>,
}

impl ShedPool {
    pub(crate) fn new(capacity: usize) -> Self {
        Self {
            capacity: capacity.max(1),
            conns: VecDeque::new(),
        }
    }

    /// Makes room for one more connection, closing the oldest ones when the
    /// pool is full; returns how many were closed.
    pub(crate) fn make_room(&mut self) -> usize {
        if self.conns.len() < self.capacity {
            return 0;
        }
        // Only when full: the scan is the price of a flood, not of every
        // accept.
        self.conns.retain(|h| !h.is_finished());
        let mut closed = 0;
        while self.conns.len() >= self.capacity {
            if let Some(oldest) = self.conns.pop_front() {
                // Dropping the task drops its socket: the client sees a close.
                oldest.abort();
                closed += 1;
            }
        }
        closed
    }

    pub(crate) fn push(&mut self, conn: AbortHandle) {
        self.conns.push_back(conn);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capacity_fits_under_the_descriptor_limit() {
        // Unknown or unlimited: as asked.
        assert_eq!(
            Capacity::new(1024, None, 32),
            Capacity {
                served: 1024,
                shed: 4096
            }
        );
        // Plenty of descriptors: as asked.
        assert_eq!(
            Capacity::new(1024, Some(1 << 20), 32),
            Capacity {
                served: 1024,
                shed: 4096
            }
        );
        // The usual soft default: served and shed together stay below it,
        // with a shed pool left for the health probe.
        let c = Capacity::new(1024, Some(1024), 32);
        assert!(c.served + c.shed + RESERVED_FDS + 32 <= 1024, "{c:?}");
        assert!(c.shed >= MIN_SHED, "{c:?}");
        // Absurdly low limits still leave one of each.
        let c = Capacity::new(10, Some(3), 32);
        assert!(c.served >= 1 && c.shed >= 1, "{c:?}");
    }

    #[tokio::test]
    async fn a_full_pool_closes_its_oldest() {
        let mut pool = ShedPool::new(2);
        let mut handles = Vec::new();
        for _ in 0..3 {
            pool.make_room();
            let task = tokio::spawn(std::future::pending::<()>());
            pool.push(task.abort_handle());
            handles.push(task);
        }
        let first = handles.remove(0);
        assert!(first.await.unwrap_err().is_cancelled());
        for h in &handles {
            assert!(!h.is_finished());
        }
        // A finished member frees its place without closing anyone.
        handles[0].abort();
        tokio::task::yield_now().await;
        while !handles[0].is_finished() {
            tokio::task::yield_now().await;
        }
        assert_eq!(pool.make_room(), 0);
    }
}
