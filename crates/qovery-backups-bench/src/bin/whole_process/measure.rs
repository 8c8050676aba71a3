//! Running a program to its end and taking what the kernel says it cost: wall time, user and
//! system CPU time and peak resident memory (`wait4`), and a digest of everything it wrote.

use std::hash::{DefaultHasher, Hasher as _};
use std::io::{self, Read as _};
use std::process::{Command, Stdio};
use std::time::Instant;

/// What one run of a program cost and wrote.
#[derive(Debug, Clone, Copy)]
pub struct Run {
    /// Seconds from spawn to exit.
    pub wall: f64,
    /// CPU seconds in user mode.
    pub user: f64,
    /// CPU seconds in the kernel.
    pub sys: f64,
    /// Peak resident set, in KiB.
    pub max_rss_kib: u64,
    /// Bytes written to stdout.
    pub output_len: u64,
    /// A digest of those bytes, to compare two programs' output without keeping it.
    pub output_digest: u64,
}

/// Digests are taken over blocks of this size, so that the digest does not depend on how the
/// pipe happened to split the output between reads.
const BLOCK: usize = 1 << 20;

/// Runs `command` with stdout to a pipe that this thread drains, stderr inherited; anything
/// but exit 0 is an error.
pub fn run(command: &mut Command) -> io::Result<Run> {
    run_accepting(command, &[0])
}

/// [`run`], for a program whose exit codes in `accepted` are results, not failures (`check`
/// exits 3 when a database is stale).
pub fn run_accepting(command: &mut Command, accepted: &[i32]) -> io::Result<Run> {
    let started = Instant::now();
    let mut child = command.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::inherit()).spawn()?;
    let mut stdout = child.stdout.take().expect("stdout is piped");
    let mut block = vec![0u8; BLOCK];
    let (mut filled, mut output_len) = (0, 0u64);
    let mut digest = DefaultHasher::new();
    loop {
        let n = match stdout.read(&mut block[filled..]) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        filled += n;
        output_len += n as u64;
        if filled == BLOCK {
            digest.write(&block);
            filled = 0;
        }
    }
    digest.write(&block[..filled]);
    drop(stdout);
    let (status, usage) = wait4(child.id())?;
    let wall = started.elapsed().as_secs_f64();
    if !(libc::WIFEXITED(status) && accepted.contains(&libc::WEXITSTATUS(status))) {
        return Err(io::Error::other(format!("{command:?} failed (wait status {status:#x})")));
    }
    let seconds = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    Ok(Run {
        wall,
        user: seconds(usage.ru_utime),
        sys: seconds(usage.ru_stime),
        // Linux gives ru_maxrss in KiB.
        max_rss_kib: usage.ru_maxrss as u64,
        output_len,
        output_digest: digest.finish(),
    })
}

/// Reaps the child `pid` with its resource usage. std's `Child::wait` gives the status only.
fn wait4(pid: u32) -> io::Result<(libc::c_int, libc::rusage)> {
    let pid = libc::pid_t::try_from(pid).map_err(io::Error::other)?;
    let mut status: libc::c_int = 0;
    // SAFETY: `rusage` is plain integers, for which all-zero bytes are a valid value.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    loop {
        // SAFETY: both pointers are to live, writable locals of the types wait4 expects, and
        // `pid` is our own child, not yet reaped (std's Child never waited for it).
        let reaped = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
        if reaped == pid {
            return Ok((status, usage));
        }
        let error = io::Error::last_os_error();
        if error.kind() != io::ErrorKind::Interrupted {
            return Err(error);
        }
    }
}
