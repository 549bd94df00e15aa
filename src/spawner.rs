//! Starts Chrome processes from one long-lived thread. PR_SET_PDEATHSIG fires when the *thread*
//! that forked the child exits, not the process: spawning from a short-lived Python worker thread
//! would kill Chrome when that thread ends. The spawner thread lives as long as the process; after
//! a fork() the child has no such thread, so it is started again there (checked by pid).

use std::fs::File;
use std::io;
use std::os::fd::{FromRawFd, RawFd};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;

use parking_lot::Mutex;

/// Chrome's ends of the DevTools pipe, as `--remote-debugging-pipe` expects them.
const CHROME_READS_FD: RawFd = 3;
const CHROME_WRITES_FD: RawFd = 4;

/// A started Chrome with our ends of its pipes.
pub struct Spawned {
    pub child: Child,
    pub to_chrome: File,
    pub from_chrome: File,
}

struct Request {
    command: Command,
    reply: mpsc::Sender<io::Result<Child>>,
}

static SPAWNER: Mutex<Option<(u32, mpsc::Sender<Request>)>> = Mutex::new(None);

fn spawner() -> io::Result<mpsc::Sender<Request>> {
    let me = std::process::id();
    let mut slot = SPAWNER.lock();
    if let Some((pid, sender)) = slot.as_ref() {
        if *pid == me {
            return Ok(sender.clone());
        }
    }
    let (sender, receiver) = mpsc::channel::<Request>();
    std::thread::Builder::new()
        .name("chromeguard-spawner".into())
        .spawn(move || {
            for mut request in receiver {
                let _ = request.reply.send(request.command.spawn());
            }
        })?;
    *slot = Some((me, sender.clone()));
    Ok(sender)
}

/// A pipe whose two ends are above the descriptors Chrome expects (so dup2 onto 3 and 4 never
/// collides with them) and close-on-exec (so no other child inherits them).
fn high_pipe() -> io::Result<(File, File)> {
    let mut fds = [0; 2];
    // SAFETY: pipe2 writes two new descriptors into the array.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return Err(io::Error::last_os_error());
    }
    let mut moved = [0; 2];
    for (i, fd) in fds.iter().enumerate() {
        // SAFETY: F_DUPFD_CLOEXEC duplicates a descriptor we own; the original is closed below.
        moved[i] = unsafe { libc::fcntl(*fd, libc::F_DUPFD_CLOEXEC, 10) };
        unsafe { libc::close(*fd) };
    }
    if moved.iter().any(|fd| *fd < 0) {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: both descriptors are fresh and owned by nobody else.
    Ok(unsafe { (File::from_raw_fd(moved[0]), File::from_raw_fd(moved[1])) })
}

/// Spawns `command` in its own process group, with a parent-death signal and the DevTools pipe
/// on fds 3 and 4.
pub fn spawn(mut command: Command) -> io::Result<Spawned> {
    let (chrome_reads, to_chrome) = high_pipe()?;
    let (from_chrome, chrome_writes) = high_pipe()?;
    let (read_fd, write_fd) = (
        std::os::fd::AsRawFd::as_raw_fd(&chrome_reads),
        std::os::fd::AsRawFd::as_raw_fd(&chrome_writes),
    );
    let parent = std::process::id() as libc::pid_t;
    command
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    // SAFETY: only async-signal-safe calls (setpgid, prctl, getppid, dup2, _exit) run between
    // fork and exec.
    unsafe {
        command.pre_exec(move || {
            if libc::setpgid(0, 0) != 0 {
                return Err(io::Error::last_os_error());
            }
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL, 0, 0, 0) != 0 {
                return Err(io::Error::last_os_error());
            }
            // The parent may have died before prctl took effect.
            if libc::getppid() != parent {
                libc::_exit(1);
            }
            if libc::dup2(read_fd, CHROME_READS_FD) < 0
                || libc::dup2(write_fd, CHROME_WRITES_FD) < 0
            {
                return Err(io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let (reply, result) = mpsc::channel();
    spawner()?
        .send(Request { command, reply })
        .map_err(|_| io::Error::other("the chromeguard spawner thread is gone"))?;
    let child = result
        .recv()
        .map_err(|_| io::Error::other("the chromeguard spawner thread is gone"))??;
    // Our copies of Chrome's ends must close, or we would never see EOF when Chrome exits.
    drop(chrome_reads);
    drop(chrome_writes);
    Ok(Spawned {
        child,
        to_chrome,
        from_chrome,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};

    #[test]
    fn child_gets_its_own_group_and_the_pipe_on_fds_3_and_4() {
        let mut cmd = Command::new("sh");
        cmd.args(["-c", "head -c 5 <&3 >&4; echo pgid=$(ps -o pgid= $$ 2>/dev/null || cut -d' ' -f5 /proc/$$/stat) >&2"]);
        let mut spawned = spawn(cmd).unwrap();
        spawned.to_chrome.write_all(b"hello").unwrap();
        let mut echoed = String::new();
        spawned.from_chrome.read_to_string(&mut echoed).unwrap();
        assert_eq!(echoed, "hello");
        let mut stderr = String::new();
        spawned
            .child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut stderr)
            .unwrap();
        let pgid: u32 = stderr
            .trim()
            .trim_start_matches("pgid=")
            .trim()
            .parse()
            .unwrap();
        assert_eq!(pgid, spawned.child.id());
        assert!(spawned.child.wait().unwrap().success());
    }

    #[test]
    fn spawns_from_a_thread_that_outlives_the_caller() {
        let child = std::thread::spawn(|| {
            let mut cmd = Command::new("sleep");
            cmd.arg("30");
            spawn(cmd).unwrap().child
        })
        .join()
        .unwrap();
        // The calling thread has exited; a pdeathsig tied to it would have killed the child.
        let mut child = child;
        let alive_after = (0..20).all(|_| {
            std::thread::sleep(std::time::Duration::from_millis(10));
            child.try_wait().unwrap().is_none()
        });
        child.kill().unwrap();
        child.wait().unwrap();
        assert!(alive_after);
    }
}
