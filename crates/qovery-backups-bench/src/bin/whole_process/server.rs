//! A loopback HTTP/1.1 server that answers the listing from pre-rendered bytes.
//!
//! As little as a server can do, so that the two programs measured against it are the only
//! thing that differs: blocking I/O, a thread per connection (each program opens one), and per
//! request a header scan, a map lookup and one `write` of bytes made before timing started.

use std::io::{self, BufRead as _, BufReader, Write as _};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;

use uuid::Uuid;

use crate::pages::Pages;

/// The running server; it serves until the process ends.
pub struct PageServer {
    addr: SocketAddr,
}

impl PageServer {
    /// Serves `pages` for `database_id` to clients that send `Authorization: Token <token>`.
    pub fn start(pages: Arc<Pages>, database_id: Uuid, token: &str) -> io::Result<PageServer> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            pages,
            path: format!("/database/{database_id}/backup"),
            authorization: format!("Token {token}"),
        });
        std::thread::Builder::new().name("page-server".into()).spawn(move || {
            for stream in listener.incoming().flatten() {
                let shared = shared.clone();
                let _ = std::thread::Builder::new().name("page-conn".into()).spawn(move || {
                    // A connection ends when the client goes away: not an error here.
                    let _ = serve(stream, &shared);
                });
            }
        })?;
        Ok(PageServer { addr })
    }

    /// `http://127.0.0.1:<port>`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

struct Shared {
    pages: Arc<Pages>,
    path: String,
    authorization: String,
}

fn serve(stream: TcpStream, shared: &Shared) -> io::Result<()> {
    stream.set_nodelay(true)?;
    let mut writer = stream.try_clone()?;
    let mut reader = BufReader::with_capacity(16 * 1024, stream);
    let mut line = String::new();
    loop {
        line.clear();
        if reader.read_line(&mut line)? == 0 {
            return Ok(());
        }
        let target = line.split(' ').nth(1).unwrap_or("").to_owned();
        let mut authorized = false;
        // Headers until the blank line; a GET has no body.
        loop {
            line.clear();
            if reader.read_line(&mut line)? == 0 {
                return Ok(());
            }
            let header = line.trim_end();
            if header.is_empty() {
                break;
            }
            if let Some((name, value)) = header.split_once(':')
                && name.eq_ignore_ascii_case("authorization")
            {
                authorized = value.trim() == shared.authorization;
            }
        }
        let answer = if !authorized { &shared.pages.unauthorized } else { answer(&target, shared) };
        writer.write_all(answer)?;
    }
}

fn answer<'a>(target: &str, shared: &'a Shared) -> &'a [u8] {
    let pages = &shared.pages;
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    if path != shared.path {
        return &pages.not_found;
    }
    let start_id = query.split('&').find_map(|pair| pair.strip_prefix("startId="));
    let index = match start_id {
        None => Some(0),
        Some(id) => id.parse::<Uuid>().ok().and_then(|id| pages.after.get(&id).copied()),
    };
    index.and_then(|i| pages.responses.get(i)).map_or(&pages.not_found, Vec::as_slice)
}
