//! The open-file limit: every connection is a file descriptor, on each side.

use rlimit::Resource;

/// File descriptors a process needs besides its connections.
pub const SPARE_FILES: u64 = 256;

/// Raises this process's open-file limit to at least `wanted`.
///
/// The soft limit is raised up to the hard one; a hard limit below `wanted`
/// is raised too when the process may (it needs `CAP_SYS_RESOURCE`).
///
/// # Errors
///
/// Why the limit cannot reach `wanted`, with the limits as they are.
pub fn raise_open_files(wanted: u64) -> Result<u64, String> {
    let (soft, hard) = Resource::NOFILE
        .get()
        .map_err(|error| format!("cannot read the open-file limit: {error}"))?;
    if soft >= wanted {
        return Ok(soft);
    }
    if hard >= wanted {
        Resource::NOFILE.set(wanted, hard).map_err(|error| {
            format!("cannot raise the open-file limit from {soft} to {wanted}: {error}")
        })?;
        return Ok(wanted);
    }
    Resource::NOFILE.set(wanted, wanted).map_err(|error| {
        format!(
            "needs {wanted} open files, but the hard limit is {hard} and this process may not \
             raise it ({error}; raising it needs CAP_SYS_RESOURCE, or `ulimit -Hn` / \
             LimitNOFILE set higher by an administrator)"
        )
    })?;
    Ok(wanted)
}

/// Raises the soft open-file limit as far as the hard limit allows; the
/// new soft limit.
///
/// # Errors
///
/// When the limit cannot be read or set.
pub fn raise_open_files_to_hard() -> Result<u64, String> {
    let (_, hard) = Resource::NOFILE
        .get()
        .map_err(|error| format!("cannot read the open-file limit: {error}"))?;
    // "Unlimited" is still capped by the kernel (`fs.nr_open`, 1,048,576 by default).
    raise_open_files(hard.min(1 << 20))
}
