//! Spawning child processes that cannot outlive the test process.
//!
//! [`Drop`] on the control plane kills and reaps its children, also while a
//! panicking test unwinds. That does not cover a test binary that is killed,
//! aborts, or keeps a control plane in a `static` (statics are never dropped).
//! On Linux every child therefore also gets `PR_SET_PDEATHSIG(SIGKILL)`. That
//! signal fires when the *thread* that forked the child exits, not the
//! process, and each cargo test runs on its own short-lived thread: so the
//! children are forked by one dedicated thread that lives as long as the
//! process does, and die with it however it ends.

use std::io;
use std::process::{Child, Command};

/// Spawn `cmd`; on Linux the child is killed when this process dies.
pub(crate) fn spawn_tied(cmd: Command) -> io::Result<Child> {
    imp::spawn(cmd)
}

#[cfg(target_os = "linux")]
mod imp {
    use std::io;
    use std::os::unix::process::CommandExt;
    use std::process::{Child, Command};
    use std::sync::mpsc;
    use std::sync::OnceLock;
    use std::thread;

    type Request = (Command, mpsc::Sender<io::Result<Child>>);

    static SPAWNER: OnceLock<io::Result<mpsc::Sender<Request>>> = OnceLock::new();

    fn spawner() -> io::Result<&'static mpsc::Sender<Request>> {
        SPAWNER
            .get_or_init(|| {
                let (tx, rx) = mpsc::channel::<Request>();
                thread::Builder::new()
                    .name("irsa-e2e-spawner".into())
                    .spawn(move || {
                        // The sender lives in a static, so this loop (and the
                        // thread) ends only with the process.
                        for (mut cmd, reply) in rx {
                            let _ = reply.send(cmd.spawn());
                        }
                    })
                    .map(|_| tx)
            })
            .as_ref()
            .map_err(|e| io::Error::new(e.kind(), format!("cannot start spawner thread: {e}")))
    }

    pub(super) fn spawn(mut cmd: Command) -> io::Result<Child> {
        let parent = std::process::id() as libc::pid_t;
        // SAFETY: the closure only makes async-signal-safe syscalls
        // (prctl, getppid, _exit) between fork and exec.
        unsafe {
            cmd.pre_exec(move || {
                if libc::prctl(
                    libc::PR_SET_PDEATHSIG,
                    libc::SIGKILL as libc::c_ulong,
                    0,
                    0,
                    0,
                ) == -1
                {
                    return Err(io::Error::last_os_error());
                }
                // The parent may have died before prctl took effect.
                if libc::getppid() != parent {
                    libc::_exit(1);
                }
                Ok(())
            });
        }
        let gone = || io::Error::other("irsa-e2e spawner thread is gone");
        let (reply_tx, reply_rx) = mpsc::channel();
        spawner()?.send((cmd, reply_tx)).map_err(|_| gone())?;
        reply_rx.recv().map_err(|_| gone())?
    }
}

#[cfg(not(target_os = "linux"))]
mod imp {
    use std::io;
    use std::process::{Child, Command};

    pub(super) fn spawn(mut cmd: Command) -> io::Result<Child> {
        cmd.spawn()
    }
}
