//! A control plane held in a static (a test binary's shared cluster) is never dropped, so its temp dir —
//! etcd's data and the logs, over 100 MB — would outlive every run. Each one is registered here and, if
//! still alive when the process exits, its processes are killed and its dir removed by a libc `atexit`
//! handler (run by a returning `main` and by `std::process::exit` alike). Dropped control planes clean up
//! themselves and are forgotten.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, Once};

struct Registered {
    dir: PathBuf,
    pids: Vec<u32>,
}

static REGISTERED: Mutex<Vec<Registered>> = Mutex::new(Vec::new());
static HANDLER: Once = Once::new();

fn registered() -> MutexGuard<'static, Vec<Registered>> {
    REGISTERED
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

extern "C" fn clean_up_at_exit() {
    for entry in registered().drain(..) {
        for pid in entry.pids {
            // SAFETY: plain syscalls on our own children; waitpid reaps them so nothing writes into the dir
            // while it is removed.
            unsafe {
                libc::kill(pid as libc::pid_t, libc::SIGKILL);
                libc::waitpid(pid as libc::pid_t, std::ptr::null_mut(), 0);
            }
        }
        let _ = std::fs::remove_dir_all(&entry.dir);
    }
}

/// Remove `dir` (after killing `pids`) when the process exits, unless [`forget`] is called first.
pub(super) fn remove_at_exit(dir: &Path, pids: Vec<u32>) {
    HANDLER.call_once(|| {
        // SAFETY: registers a function that only takes a mutex, signals our children and removes files.
        unsafe {
            libc::atexit(clean_up_at_exit);
        }
    });
    registered().push(Registered {
        dir: dir.to_path_buf(),
        pids,
    });
}

/// `dir` is cleaned up (or kept on purpose) by its owner.
pub(super) fn forget(dir: &Path) {
    registered().retain(|entry| entry.dir != dir);
}
