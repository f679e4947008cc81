//! Turns one engine stats sample into the numbers `docker stats` shows.
//!
//! The formulas follow the Docker CLI (`cli/command/container/stats_helpers.go`)
//! so the figures agree with what operators see in a terminal.

use std::collections::HashMap;

use bollard::models::{ContainerBlkioStats, ContainerMemoryStats, ContainerStatsResponse};
use serde::Serialize;

/// Usage figures of one container at one instant.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ContainerStats {
    /// Full container id.
    pub id: String,
    /// Container name without the leading `/`.
    pub name: String,
    /// When the engine took the sample (RFC 3339).
    pub read: String,
    pub cpu: CpuStats,
    pub memory: MemoryStats,
    pub network: NetworkStats,
    pub block_io: IoStats,
    /// Processes/threads in the container's cgroup.
    pub pids: u64,
}

/// CPU share over the engine's sampling interval.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CpuStats {
    /// 100 = one full CPU, so the maximum is `online_cpus * 100`.
    pub percent: f64,
    pub online_cpus: u32,
}

/// Memory in bytes; `usage_bytes` excludes reclaimable page cache.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MemoryStats {
    pub usage_bytes: u64,
    /// Page cache subtracted from the raw cgroup usage.
    pub cache_bytes: u64,
    pub limit_bytes: u64,
    pub percent: f64,
}

/// Network bytes summed over all interfaces.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct NetworkStats {
    pub rx_bytes: u64,
    pub tx_bytes: u64,
}

/// Block device bytes summed over all devices.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct IoStats {
    pub read_bytes: u64,
    pub write_bytes: u64,
}

/// Why a sample cannot be turned into figures.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StatsError {
    /// The engine answers a stopped container's stats with a zero sample.
    #[error("container is not running")]
    NotRunning,
}

/// Computes `docker stats` figures from a non-one-shot sample.
pub fn compute_stats(s: &ContainerStatsResponse) -> Result<ContainerStats, StatsError> {
    // A stopped container yields read = 0001-01-01T00:00:00Z and empty
    // sections; reporting zeros for it would look like an idle container.
    let read = s.read.clone().unwrap_or_default();
    if read.is_empty() || read.starts_with("0001-01-01") {
        return Err(StatsError::NotRunning);
    }
    Ok(ContainerStats {
        id: s.id.clone().unwrap_or_default(),
        name: s
            .name
            .as_deref()
            .unwrap_or_default()
            .trim_start_matches('/')
            .to_string(),
        read,
        cpu: cpu(s),
        memory: memory(s.memory_stats.as_ref()),
        network: network(s.networks.as_ref()),
        block_io: block_io(s.blkio_stats.as_ref()),
        pids: s
            .pids_stats
            .as_ref()
            .and_then(|p| p.current)
            .unwrap_or_default(),
    })
}

fn cpu(s: &ContainerStatsResponse) -> CpuStats {
    let total = |c: &Option<bollard::models::ContainerCpuStats>| {
        c.as_ref()
            .and_then(|c| c.cpu_usage.as_ref())
            .and_then(|u| u.total_usage)
            .unwrap_or_default()
    };
    let system = |c: &Option<bollard::models::ContainerCpuStats>| {
        c.as_ref()
            .and_then(|c| c.system_cpu_usage)
            .unwrap_or_default()
    };
    let cpu_delta = total(&s.cpu_stats).saturating_sub(total(&s.precpu_stats));
    let system_delta = system(&s.cpu_stats).saturating_sub(system(&s.precpu_stats));
    // cgroup v1 engines before API 1.27 left online_cpus empty; the CLI then
    // counts the per-CPU usage entries.
    let online_cpus = s
        .cpu_stats
        .as_ref()
        .and_then(|c| {
            c.online_cpus.filter(|&n| n > 0).or_else(|| {
                c.cpu_usage
                    .as_ref()
                    .and_then(|u| u.percpu_usage.as_ref())
                    .map(|v| u32::try_from(v.len()).unwrap_or(u32::MAX))
            })
        })
        .unwrap_or_default();
    let percent = if cpu_delta > 0 && system_delta > 0 {
        (cpu_delta as f64 / system_delta as f64) * f64::from(online_cpus) * 100.0
    } else {
        0.0
    };
    CpuStats {
        percent,
        online_cpus,
    }
}

fn memory(m: Option<&ContainerMemoryStats>) -> MemoryStats {
    let usage = m.and_then(|m| m.usage).unwrap_or_default();
    let limit = m.and_then(|m| m.limit).unwrap_or_default();
    let empty = HashMap::new();
    let stats = m.and_then(|m| m.stats.as_ref()).unwrap_or(&empty);
    // cgroup v1 reports `total_inactive_file` (hierarchical), cgroup v2
    // `inactive_file`; engines predating both only had `cache`. The CLI only
    // subtracts a value smaller than the usage, so do the same.
    let cache = ["total_inactive_file", "inactive_file", "cache"]
        .iter()
        .find_map(|k| stats.get(*k).copied())
        .filter(|&c| c < usage)
        .unwrap_or_default();
    let used = usage - cache;
    let percent = if limit > 0 {
        used as f64 / limit as f64 * 100.0
    } else {
        0.0
    };
    MemoryStats {
        usage_bytes: used,
        cache_bytes: cache,
        limit_bytes: limit,
        percent,
    }
}

fn network(n: Option<&HashMap<String, bollard::models::ContainerNetworkStats>>) -> NetworkStats {
    n.into_iter()
        .flat_map(|m| m.values())
        .fold(NetworkStats::default(), |acc, i| NetworkStats {
            rx_bytes: acc.rx_bytes.saturating_add(i.rx_bytes.unwrap_or_default()),
            tx_bytes: acc.tx_bytes.saturating_add(i.tx_bytes.unwrap_or_default()),
        })
}

fn block_io(b: Option<&ContainerBlkioStats>) -> IoStats {
    let entries = b
        .and_then(|b| b.io_service_bytes_recursive.as_ref())
        .map(Vec::as_slice)
        .unwrap_or_default();
    // cgroup v1 spells the ops "Read"/"Write", the v2 translation "read"/"write".
    entries.iter().fold(IoStats::default(), |acc, e| {
        let v = e.value.unwrap_or_default();
        match e.op.as_deref().map(str::to_ascii_lowercase).as_deref() {
            Some("read") => IoStats {
                read_bytes: acc.read_bytes.saturating_add(v),
                ..acc
            },
            Some("write") => IoStats {
                write_bytes: acc.write_bytes.saturating_add(v),
                ..acc
            },
            _ => acc,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(json: &str) -> ContainerStatsResponse {
        serde_json::from_str(json).unwrap()
    }

    // Trimmed from a real cgroup v1 engine (Docker 20.10) answer.
    const V1: &str = r#"{"read":"2026-11-22T08:17:31.211185208Z","preread":"2026-11-22T08:17:30.20762447Z",
      "pids_stats":{"current":3},
      "blkio_stats":{"io_service_bytes_recursive":[
        {"major":8,"minor":0,"op":"Read","value":4096},{"major":8,"minor":0,"op":"Write","value":8192},
        {"major":8,"minor":16,"op":"Read","value":1000},{"major":8,"minor":0,"op":"Total","value":13288}]},
      "cpu_stats":{"cpu_usage":{"total_usage":5701447154,"percpu_usage":[5105528287,595918867]},
        "system_cpu_usage":1011680000000,"online_cpus":2},
      "precpu_stats":{"cpu_usage":{"total_usage":4766745728,"percpu_usage":[4170826861,595918867]},
        "system_cpu_usage":1009660000000,"online_cpus":2},
      "memory_stats":{"usage":753664,"stats":{"total_inactive_file":53248,"inactive_file":1,"cache":2},"limit":25276510208},
      "networks":{"eth0":{"rx_bytes":100,"tx_bytes":10},"eth1":{"rx_bytes":5,"tx_bytes":7}},
      "name":"/busy","id":"6de370dc5568"}"#;

    #[test]
    fn cgroup_v1_sample() {
        let s = compute_stats(&sample(V1)).unwrap();
        assert_eq!(s.name, "busy");
        assert_eq!(s.pids, 3);
        // (934701426 / 2020000000) * 2 * 100
        assert!((s.cpu.percent - 92.5447).abs() < 0.01, "{}", s.cpu.percent);
        assert_eq!(s.cpu.online_cpus, 2);
        assert_eq!(s.memory.cache_bytes, 53248);
        assert_eq!(s.memory.usage_bytes, 753664 - 53248);
        assert_eq!(s.memory.limit_bytes, 25276510208);
        assert!((s.memory.percent - 700416.0 / 25276510208.0 * 100.0).abs() < 1e-9);
        assert_eq!(
            s.network,
            NetworkStats {
                rx_bytes: 105,
                tx_bytes: 17
            }
        );
        assert_eq!(
            s.block_io,
            IoStats {
                read_bytes: 5096,
                write_bytes: 8192
            }
        );
    }

    #[test]
    fn cgroup_v2_sample_and_missing_online_cpus() {
        let s = compute_stats(&sample(
            r#"{"read":"2026-01-01T00:00:01Z","id":"x","name":"/v2",
            "cpu_stats":{"cpu_usage":{"total_usage":2000,"percpu_usage":[1,1,1,1]},"system_cpu_usage":10000},
            "precpu_stats":{"cpu_usage":{"total_usage":1000},"system_cpu_usage":6000},
            "memory_stats":{"usage":1000,"stats":{"inactive_file":400,"file":900},"limit":4000},
            "blkio_stats":{"io_service_bytes_recursive":[{"op":"read","value":7},{"op":"write","value":9}]}}"#,
        ))
        .unwrap();
        // 1000/4000 * 4 cpus (from percpu) * 100
        assert!((s.cpu.percent - 100.0).abs() < 1e-9);
        assert_eq!(s.cpu.online_cpus, 4);
        assert_eq!(s.memory.usage_bytes, 600);
        assert!((s.memory.percent - 15.0).abs() < 1e-9);
        assert_eq!(s.block_io.read_bytes, 7);
        assert_eq!(s.block_io.write_bytes, 9);
        assert_eq!(s.network, NetworkStats::default());
        assert_eq!(s.pids, 0);
    }

    #[test]
    fn cache_larger_than_usage_is_not_subtracted() {
        let s = compute_stats(&sample(
            r#"{"read":"2026-01-01T00:00:01Z","memory_stats":{"usage":10,"stats":{"inactive_file":50},"limit":0}}"#,
        ))
        .unwrap();
        assert_eq!(s.memory.usage_bytes, 10);
        assert_eq!(s.memory.percent, 0.0);
        assert_eq!(s.cpu.percent, 0.0);
    }

    #[test]
    fn stopped_container_sample_is_not_running() {
        let s = sample(
            r#"{"read":"0001-01-01T00:00:00Z","preread":"0001-01-01T00:00:00Z","pids_stats":{},
            "cpu_stats":{"cpu_usage":{"total_usage":0}},"memory_stats":{},"name":"/stopped","id":"7b85"}"#,
        );
        assert_eq!(compute_stats(&s), Err(StatsError::NotRunning));
        assert_eq!(
            compute_stats(&ContainerStatsResponse::default()),
            Err(StatsError::NotRunning)
        );
    }

    #[test]
    fn counters_going_backwards_do_not_underflow() {
        let s = compute_stats(&sample(
            r#"{"read":"2026-01-01T00:00:01Z",
            "cpu_stats":{"cpu_usage":{"total_usage":1},"system_cpu_usage":1,"online_cpus":1},
            "precpu_stats":{"cpu_usage":{"total_usage":5},"system_cpu_usage":9}}"#,
        ))
        .unwrap();
        assert_eq!(s.cpu.percent, 0.0);
    }
}
