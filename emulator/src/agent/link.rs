//! `irsa-emulator agent init`: what the agent's init container does on each node (upstream
//! `pkg/initalizer/iproute`): a dummy interface `pod-id-link0`, up, holding the agent's link-local addresses
//! (`169.254.170.23/32`, `fd00:ec2::23/128`), so pods on the node reach the host-network agent there.
//!
//! Spoken to the kernel over rtnetlink directly (the emulator image has no `ip`). Where the kernel has no
//! dummy driver (a container cannot load the module), the addresses go on `lo` instead: pods reach them the
//! same way, as any local address of the node. Needs `CAP_NET_ADMIN` in the node's network namespace
//! (a privileged, host-network container). Idempotent: existing links and addresses are kept.

use std::io;
use std::net::IpAddr;

use irsa_names::AGENT_LINK_NAME;

/// What [`setup`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkSetup {
    /// The interface holding the addresses: `pod-id-link0`, or `lo` without a dummy driver.
    pub interface: String,
    /// The addresses added or already there.
    pub addresses: Vec<IpAddr>,
    /// Addresses that could not be added, with why (IPv6 disabled on the node, typically).
    pub skipped: Vec<(IpAddr, String)>,
}

#[derive(Debug, thiserror::Error)]
pub enum LinkError {
    #[error("cannot open an rtnetlink socket: {0}")]
    Socket(#[source] io::Error),
    #[error("cannot {what}: {source} (the init step needs CAP_NET_ADMIN in the node's network namespace: a privileged container with hostNetwork)")]
    Request {
        what: String,
        #[source]
        source: io::Error,
    },
    #[error("no address could be added: {0}")]
    NoAddress(String),
}

#[cfg(target_os = "linux")]
pub fn setup(addresses: &[IpAddr]) -> Result<LinkSetup, LinkError> {
    let socket = netlink::Socket::open().map_err(LinkError::Socket)?;
    let request = |what: &str, result: io::Result<()>| {
        result.map_err(|source| LinkError::Request {
            what: what.to_string(),
            source,
        })
    };
    let interface = match netlink::index_of(AGENT_LINK_NAME) {
        Some(_) => AGENT_LINK_NAME.to_string(),
        None => match socket.create_dummy(AGENT_LINK_NAME) {
            Ok(()) => AGENT_LINK_NAME.to_string(),
            Err(e) if e.raw_os_error() == Some(libc::EEXIST) => AGENT_LINK_NAME.to_string(),
            // No dummy driver in this kernel (and no way to load one from a container).
            Err(e)
                if matches!(
                    e.raw_os_error(),
                    Some(libc::EOPNOTSUPP) | Some(libc::ENOENT)
                ) =>
            {
                tracing::warn!(error = %e, "no dummy interface driver: putting the agent's addresses on lo");
                "lo".to_string()
            }
            Err(source) => {
                return Err(LinkError::Request {
                    what: format!("create interface {AGENT_LINK_NAME}"),
                    source,
                })
            }
        },
    };
    let index = netlink::index_of(&interface).ok_or_else(|| LinkError::Request {
        what: format!("find interface {interface}"),
        source: io::Error::from(io::ErrorKind::NotFound),
    })?;
    request(&format!("bring up {interface}"), socket.set_up(index))?;
    let mut added = Vec::new();
    let mut skipped = Vec::new();
    for address in addresses {
        match socket.add_address(index, *address) {
            Ok(()) => added.push(*address),
            Err(e) if e.raw_os_error() == Some(libc::EEXIST) => added.push(*address),
            Err(e) => skipped.push((*address, e.to_string())),
        }
    }
    if added.is_empty() {
        let why: Vec<String> = skipped.iter().map(|(a, e)| format!("{a}: {e}")).collect();
        return Err(LinkError::NoAddress(why.join("; ")));
    }
    Ok(LinkSetup {
        interface,
        addresses: added,
        skipped,
    })
}

#[cfg(not(target_os = "linux"))]
pub fn setup(_addresses: &[IpAddr]) -> Result<LinkSetup, LinkError> {
    Err(LinkError::Socket(io::Error::new(
        io::ErrorKind::Unsupported,
        "the agent's node setup is Linux only",
    )))
}

#[cfg(target_os = "linux")]
mod netlink {
    use std::io;
    use std::net::IpAddr;
    use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

    const RTM_NEWLINK: u16 = 16;
    const RTM_NEWADDR: u16 = 20;
    const NLMSG_ERROR: u16 = 2;
    const NLM_F_REQUEST: u16 = 0x1;
    const NLM_F_ACK: u16 = 0x4;
    const NLM_F_EXCL: u16 = 0x200;
    const NLM_F_CREATE: u16 = 0x400;
    const IFLA_IFNAME: u16 = 3;
    const IFLA_LINKINFO: u16 = 18;
    const IFLA_INFO_KIND: u16 = 1;
    const NLA_F_NESTED: u16 = 0x8000;
    const IFA_ADDRESS: u16 = 1;
    const IFA_LOCAL: u16 = 2;
    const IFF_UP: u32 = 0x1;

    pub fn index_of(name: &str) -> Option<u32> {
        let name = std::ffi::CString::new(name).ok()?;
        // SAFETY: a valid NUL-terminated string; the call reads it and nothing else.
        let index = unsafe { libc::if_nametoindex(name.as_ptr()) };
        (index != 0).then_some(index)
    }

    pub struct Socket {
        fd: OwnedFd,
    }

    /// A netlink attribute: length, type, payload, padded to four bytes.
    fn attribute(out: &mut Vec<u8>, kind: u16, payload: &[u8]) {
        let len = 4 + payload.len();
        out.extend_from_slice(&(len as u16).to_ne_bytes());
        out.extend_from_slice(&kind.to_ne_bytes());
        out.extend_from_slice(payload);
        out.resize(out.len().next_multiple_of(4), 0);
    }

    /// `ifinfomsg`: family, pad, type, index, flags, change.
    fn ifinfomsg(index: i32, flags: u32, change: u32) -> Vec<u8> {
        let mut out = vec![libc::AF_UNSPEC as u8, 0, 0, 0];
        out.extend_from_slice(&index.to_ne_bytes());
        out.extend_from_slice(&flags.to_ne_bytes());
        out.extend_from_slice(&change.to_ne_bytes());
        out
    }

    impl Socket {
        pub fn open() -> io::Result<Socket> {
            // SAFETY: plain socket(2); the result is checked before it is owned.
            let fd = unsafe {
                libc::socket(
                    libc::AF_NETLINK,
                    libc::SOCK_RAW | libc::SOCK_CLOEXEC,
                    libc::NETLINK_ROUTE,
                )
            };
            if fd < 0 {
                return Err(io::Error::last_os_error());
            }
            // SAFETY: fd is a new descriptor nothing else owns.
            Ok(Socket {
                fd: unsafe { OwnedFd::from_raw_fd(fd) },
            })
        }

        pub fn create_dummy(&self, name: &str) -> io::Result<()> {
            let mut body = ifinfomsg(0, 0, 0);
            let mut ifname = name.as_bytes().to_vec();
            ifname.push(0);
            attribute(&mut body, IFLA_IFNAME, &ifname);
            let mut info = Vec::new();
            attribute(&mut info, IFLA_INFO_KIND, b"dummy");
            attribute(&mut body, IFLA_LINKINFO | NLA_F_NESTED, &info);
            self.request(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, &body)
        }

        pub fn set_up(&self, index: u32) -> io::Result<()> {
            self.request(RTM_NEWLINK, 0, &ifinfomsg(index as i32, IFF_UP, IFF_UP))
        }

        pub fn add_address(&self, index: u32, address: IpAddr) -> io::Result<()> {
            let (family, prefix, bytes) = match address {
                IpAddr::V4(a) => (libc::AF_INET as u8, 32u8, a.octets().to_vec()),
                IpAddr::V6(a) => (libc::AF_INET6 as u8, 128u8, a.octets().to_vec()),
            };
            // `ifaddrmsg`: family, prefix length, flags, scope (universe), index.
            let mut body = vec![family, prefix, 0, 0];
            body.extend_from_slice(&index.to_ne_bytes());
            attribute(&mut body, IFA_LOCAL, &bytes);
            attribute(&mut body, IFA_ADDRESS, &bytes);
            self.request(RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, &body)
        }

        /// Sends one request and reads the kernel's acknowledgement (`NLMSG_ERROR`, 0 for success).
        fn request(&self, kind: u16, flags: u16, body: &[u8]) -> io::Result<()> {
            let mut message = Vec::with_capacity(16 + body.len());
            message.extend_from_slice(&((16 + body.len()) as u32).to_ne_bytes());
            message.extend_from_slice(&kind.to_ne_bytes());
            message.extend_from_slice(&(NLM_F_REQUEST | NLM_F_ACK | flags).to_ne_bytes());
            message.extend_from_slice(&1u32.to_ne_bytes());
            message.extend_from_slice(&0u32.to_ne_bytes());
            message.extend_from_slice(body);
            // SAFETY: the buffer is valid for its length; the kernel is the default destination of a
            // netlink socket that was never connected (pid 0).
            let sent = unsafe {
                libc::send(
                    self.fd.as_raw_fd(),
                    message.as_ptr().cast(),
                    message.len(),
                    0,
                )
            };
            if sent < 0 {
                return Err(io::Error::last_os_error());
            }
            let mut answer = [0u8; 4096];
            // SAFETY: the buffer is valid and writable for its length.
            let received = unsafe {
                libc::recv(
                    self.fd.as_raw_fd(),
                    answer.as_mut_ptr().cast(),
                    answer.len(),
                    0,
                )
            };
            if received < 0 {
                return Err(io::Error::last_os_error());
            }
            let answer = &answer[..received as usize];
            if answer.len() < 20 || u16::from_ne_bytes([answer[4], answer[5]]) != NLMSG_ERROR {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    "unexpected rtnetlink answer",
                ));
            }
            let errno = i32::from_ne_bytes([answer[16], answer[17], answer[18], answer[19]]);
            if errno == 0 {
                Ok(())
            } else {
                Err(io::Error::from_raw_os_error(-errno))
            }
        }
    }
}
