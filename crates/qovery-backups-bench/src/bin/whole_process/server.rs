//! A loopback HTTP/1.1 server that answers the listing from pre-rendered bytes.
//!
//! As little as a server can do, so that the two programs measured against it are the only
//! thing that differs: blocking I/O, a thread per connection (each program opens one), and per
//! request a header scan, a map lookup and one `write` of bytes made before timing started.

use std::io::{self, BufRead as _, BufReader, Read as _, Write as _};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, ExitCode, Stdio};
use std::sync::Arc;

use uuid::Uuid;

use crate::pages::Pages;

/// `whole_process serve BACKUPS`: renders the pages, serves them, prints
/// `URL DATABASE_ID SUMMARY…` as its first line, and exits when its stdin closes.
pub fn main(args: &[String], token: &str, seed: u64) -> ExitCode {
    let Some(Ok(backups)) = args.first().map(|n| n.parse::<usize>()) else {
        eprintln!("usage: whole_process serve BACKUPS");
        return ExitCode::from(2);
    };
    let pages = Arc::new(Pages::render(backups, seed));
    let database_id = Uuid::from_u64_pair(seed, backups as u64);
    let summary =
        format!("{} requests, {:.1} MB of JSON in", pages.responses.len(), pages.body_bytes as f64 / 1e6);
    let server = match PageServer::start(pages, database_id, token) {
        Ok(server) => server,
        Err(e) => {
            eprintln!("error: cannot serve: {e}");
            return ExitCode::FAILURE;
        }
    };
    println!("{} {database_id} {summary}", server.base_url());
    let _ = io::stdout().flush();
    // The driver holds our stdin: its end, or the driver's, ends the server.
    let _ = io::stdin().read_to_end(&mut Vec::new());
    ExitCode::SUCCESS
}

/// The server, running in a child process, for as long as this value lives.
pub struct ServerProcess {
    child: Child,
    /// `http://127.0.0.1:<port>`.
    pub url: String,
    /// The database it lists.
    pub database_id: String,
    /// What it serves, for the report.
    pub summary: String,
}

impl ServerProcess {
    /// Starts `this_binary serve backups` and waits until it listens.
    pub fn start(this_binary: &Path, backups: usize) -> io::Result<ServerProcess> {
        let mut child = Command::new(this_binary)
            .args(["serve", &backups.to_string()])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()?;
        let mut first = String::new();
        BufReader::new(child.stdout.take().expect("stdout is piped")).read_line(&mut first)?;
        let mut words = first.trim().splitn(3, ' ');
        let (Some(url), Some(database_id), Some(summary)) = (words.next(), words.next(), words.next()) else {
            return Err(io::Error::other(format!("the server did not start: {first:?}")));
        };
        let (url, database_id, summary) = (url.to_owned(), database_id.to_owned(), summary.to_owned());
        Ok(ServerProcess { child, url, database_id, summary })
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        drop(self.child.stdin.take());
        let _ = self.child.wait();
    }
}

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
