//! A process's resident memory and CPU time, from `/proc` (Linux).

use std::sync::OnceLock;

use super::Error;

/// Resident set size of process `pid`, in bytes (`VmRSS` of
/// `/proc/<pid>/status`).
///
/// # Errors
///
/// When the file cannot be read or has no `VmRSS` line.
pub fn rss_bytes(pid: u32) -> Result<u64, Error> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let line = status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .ok_or("no VmRSS in /proc/<pid>/status")?;
    let kib: u64 = line.trim().trim_end_matches("kB").trim().parse()?;
    Ok(kib * 1024)
}

/// CPU time of process `pid` (all threads, user and system), in seconds
/// (`utime + stime` of `/proc/<pid>/stat`).
///
/// # Errors
///
/// When the file cannot be read or parsed.
pub fn cpu_seconds(pid: u32) -> Result<f64, Error> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    // The command name, in parentheses, may hold spaces: count fields after it.
    let after = stat
        .rsplit_once(')')
        .ok_or("unreadable /proc/<pid>/stat")?
        .1;
    let fields: Vec<&str> = after.split_whitespace().collect();
    // Fields 14 and 15 of the file are the 12th and 13th after the name.
    let ticks = |index: usize| -> Result<u64, Error> {
        Ok(fields.get(index).ok_or("short /proc/<pid>/stat")?.parse()?)
    };
    let total = ticks(11)? + ticks(12)?;
    Ok(total as f64 / clock_ticks_per_second() as f64)
}

/// `CLK_TCK`, from `getconf` (asked once); 100, the Linux value, if that
/// fails.
fn clock_ticks_per_second() -> u64 {
    static TICKS: OnceLock<u64> = OnceLock::new();
    *TICKS.get_or_init(|| {
        std::process::Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()
            .and_then(|output| String::from_utf8(output.stdout).ok())
            .and_then(|text| text.trim().parse().ok())
            .filter(|&ticks| ticks > 0)
            .unwrap_or(100)
    })
}

/// The CPU model of this machine (`model name` of `/proc/cpuinfo`) and its
/// number of logical CPUs.
pub fn machine() -> String {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|line| line.strip_prefix("model name"))
        .and_then(|rest| rest.split_once(':'))
        .map_or("unknown CPU", |(_, name)| name.trim())
        .to_owned();
    let cpus = std::thread::available_parallelism().map_or(0, usize::from);
    let memory = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|info| {
            let line = info
                .lines()
                .find_map(|line| line.strip_prefix("MemTotal:"))?;
            line.trim()
                .trim_end_matches("kB")
                .trim()
                .parse::<u64>()
                .ok()
        })
        .map_or_else(String::new, |kib| {
            format!(", {:.0} GiB", kib as f64 / (1024.0 * 1024.0))
        });
    format!("{cpus} × {model}{memory}, Linux")
}
