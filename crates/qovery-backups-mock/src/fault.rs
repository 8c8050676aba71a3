//! Fault kinds, fault plans, the SPEC syntax, and the per-server state that picks a fault for
//! each request.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use rand::rngs::ChaCha8Rng;
use rand::{RngExt, SeedableRng};

/// One thing that can go wrong with a request, as a client on the other end of the socket sees it.
///
/// Each kind has a SPEC name (see the [crate docs](crate#fault-spec-syntax)): `Display` prints it
/// and `FromStr` reads it, so `"slow:1500ms".parse::<Fault>()` is `Ok(Fault::Slow(1.5 s))`.
///
/// ```
/// use qovery_backups_mock::Fault;
///
/// let fault: Fault = "429s:2".parse().unwrap();
/// assert_eq!(fault, Fault::RetryAfterSeconds(2));
/// assert_eq!(fault.to_string(), "429s:2");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Fault {
    /// Answer with this status (any 4xx or 5xx but 429) and an `{"status", "detail"}` body,
    /// without applying the operation. SPEC: the number, e.g. `503`.
    Status(u16),
    /// Answer 429 with `Retry-After: <seconds>`, without applying the operation.
    /// SPEC: `429s` (1 second) or `429s:SECS`; a bare `429` means `429s:1`.
    RetryAfterSeconds(u64),
    /// Answer 429 with `Retry-After: <HTTP-date>`, that many whole seconds after the answer is
    /// made (rounded up to the next second, the resolution of an HTTP-date), without applying the
    /// operation. SPEC: `429d` (1 second) or `429d:SECS`.
    RetryAfterDate(u64),
    /// Reset the connection (RST, `SO_LINGER` 0) instead of answering, without applying the
    /// operation. SPEC: `reset`.
    Reset,
    /// Close the connection (FIN) without sending a byte, without applying the operation.
    /// SPEC: `close`.
    Close,
    /// Apply the operation, send the status line and headers with the full `Content-Length`, then
    /// only the first half of the body, then close. An answer without a body (204) is cut inside
    /// its headers instead. SPEC: `truncate`.
    Truncate,
    /// Wait this long (with `tokio::time::sleep`) before doing anything, then answer normally.
    /// SPEC: `slow` (5 s) or `slow:DURATION`, e.g. `slow:1500ms`, `slow:2s`.
    Slow(Duration),
    /// Apply the operation at once, then wait this long before answering: a client that gives up
    /// first cannot know that its create or delete happened (a timeout after the request went
    /// out). SPEC: `late` (5 s) or `late:DURATION`.
    Late(Duration),
    /// Answer 200 with `content-type: application/json` and a body that is not JSON, without
    /// applying the operation. SPEC: `badjson`.
    BadJson,
    /// Apply the operation, then reset the connection instead of answering: the client cannot
    /// know that its create or delete happened. SPEC: `lost`.
    Lost,
    /// Answer normally, but a success body carries enum values openapi.yaml does not list
    /// (`"state": "FUTURE_STATE_<n>"`, likewise every other enum field) in every other backup,
    /// starting with the first, where `<n>` is the request's number. SPEC: `unknown-enum`.
    UnknownEnum,
    /// Answer normally, but a success body carries fields openapi.yaml does not declare, at page,
    /// backup, status, status-details, steps and step level. SPEC: `unknown-fields`.
    UnknownFields,
    /// Answer 200 with `content-type: application/json` and a chunked body that never ends:
    /// `{"page":1,"page_size":20,"results":[` then the same backup object, again and again. The
    /// server stops sending when the client goes away, and after [`ENDLESS_CAP`] bytes anyway
    /// (the body then ends there, not valid JSON). Does not apply the operation. SPEC: `endless`.
    Endless,
    /// Apply the operation and answer normally, but the first backup of a success body gets a
    /// `message` padded with [`HUGE_PADDING`] bytes of `x`: an otherwise valid answer of some
    /// 64 MiB. An answer without a backup (an empty page, a 204) is sent unchanged. SPEC: `huge`.
    Huge,
    /// Answer 400 with an `{"status", "detail"}` body whose detail echoes the request line and
    /// every request header verbatim, `Authorization` included, as a misconfigured proxy does.
    /// Does not apply the operation. SPEC: `echo`.
    Echo,
    /// Apply the operation and answer normally, but every backup's `name` and `message`, and an
    /// error's `detail`, end with terminal escape sequences and control characters:
    /// [`HOSTILE_TEXT`] (`ESC[8m`, which hides text, an `ESC]0;…BEL` title change, BEL, CR, LF).
    /// SPEC: `escape`.
    Escape,
    /// Apply the operation and answer normally, but the first backup of a success body is
    /// `SUCCESS` (state `DEPLOYED`) and created and updated on 9999-12-31. An answer without a
    /// backup is sent unchanged. SPEC: `future`.
    Future,
    /// Apply the operation and answer normally, but a page's `page` and `page_size` are written
    /// as floats (`1.0`, `20.0`). SPEC: `float-page`.
    FloatPage,
    /// Answer 302 with `Location: http://localhost:PORT/redirected<path and query>`: the same
    /// server under another host name, so a client that follows it sends a cross-origin request
    /// (which must not carry the token), and the mock answers that with 401 without one. Does not
    /// apply the operation. SPEC: `redirect`.
    Redirect,
    /// Apply the operation and answer normally, with one more header, `x-mock-padding`, of
    /// [`BIG_HEADER_BYTES`] bytes: more than hyper-based clients (reqwest) accept in a response
    /// head, so the client sees an error while the operation happened. SPEC: `big-header`.
    BigHeader,
    /// Apply the operation and answer normally, but a page from the third on also carries,
    /// in the middle of its results, the first backup of the page two before it (delivered two
    /// pages earlier), to defeat loop detection that only compares with the previous page. No
    /// page's last backup, the next cursor, is ever a repeat (given a page size of 2 or more).
    /// Other answers are sent unchanged. SPEC: `repeat-old`.
    RepeatOld,
}

/// Where [`Fault::Endless`] stops anyway: 1 GiB.
///
/// ```
/// use qovery_backups_mock::ENDLESS_CAP;
///
/// assert_eq!(ENDLESS_CAP, 1 << 30);
/// // A client with the default response limit gives up long before.
/// assert!(qovery_backups_api::DEFAULT_MAX_RESPONSE_BYTES < ENDLESS_CAP);
/// ```
pub const ENDLESS_CAP: u64 = 1 << 30;

/// How many bytes of padding [`Fault::Huge`] adds to a backup's message: 64 MiB.
///
/// ```
/// use qovery_backups_mock::HUGE_PADDING;
///
/// assert_eq!(HUGE_PADDING, 64 << 20);
/// // Past the default response limit, so a bounded client refuses the answer.
/// assert!(HUGE_PADDING as u64 > qovery_backups_api::DEFAULT_MAX_RESPONSE_BYTES);
/// ```
pub const HUGE_PADDING: usize = 64 << 20;

/// The size of the header [`Fault::BigHeader`] adds: 1 MiB, well past the 64 KiB that many
/// proxies accept and the roughly 400 KiB response head that hyper's client reads at most.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let server = qovery_backups_mock::MockServer::start(Default::default()).await?;
/// use qovery_backups_mock::{BIG_HEADER_BYTES, Fault, FaultPlan};
///
/// assert_eq!(BIG_HEADER_BYTES, 1 << 20);
/// server.set_faults(FaultPlan::new().at(1, Fault::BigHeader));
/// let url = format!("{}/organization", server.base_url());
/// // reqwest refuses a response head this large.
/// assert!(reqwest::Client::new().get(url).bearer_auth(server.token()).send().await.is_err());
/// # Ok(())
/// # }
/// ```
pub const BIG_HEADER_BYTES: usize = 1 << 20;

/// What [`Fault::Escape`] appends to names, messages and details: text that a terminal would
/// act on if printed raw (hide what follows, retitle the window, ring, move the cursor).
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let server = qovery_backups_mock::MockServer::start(Default::default()).await?;
/// use qovery_backups_api::types::BackupPaginatedResponseList;
/// use qovery_backups_mock::{Fault, FaultPlan, HOSTILE_TEXT};
///
/// server.set_faults(FaultPlan::new().at(1, Fault::Escape));
/// let url = format!("{}/database/{}/backup", server.base_url(), server.database_ids()[0]);
/// let page: BackupPaginatedResponseList =
///     reqwest::Client::new().get(url).bearer_auth(server.token()).send().await?.json().await?;
/// // What a client must not print raw.
/// assert!(page.results[0].name.ends_with(HOSTILE_TEXT));
/// assert!(HOSTILE_TEXT.contains('\u{1b}'));
/// # Ok(())
/// # }
/// ```
pub const HOSTILE_TEXT: &str = "\u{1b}[8m hidden \u{1b}]0;pwned\u{7} bell\u{7} cr\r lf\n";

/// What `Fault::Slow` and `Fault::Late` wait when the SPEC names no duration.
///
/// ```
/// use qovery_backups_mock::{DEFAULT_SLOW, Fault};
///
/// assert_eq!("slow".parse::<Fault>().unwrap(), Fault::Slow(DEFAULT_SLOW));
/// assert_eq!("late".parse::<Fault>().unwrap(), Fault::Late(DEFAULT_SLOW));
/// assert_eq!(DEFAULT_SLOW.as_secs(), 5);
/// ```
pub const DEFAULT_SLOW: Duration = Duration::from_secs(5);

/// The kinds a probabilistic plan picks from when it names none: the ones a client is expected
/// to retry.
///
/// ```
/// use qovery_backups_mock::{DEFAULT_RANDOM_KINDS, FaultPlan};
///
/// let plan = FaultPlan::new().with_probability(0.2); // no kinds named: these are used
/// assert!(plan.kinds().is_empty());
/// // None of them applies the operation, so retrying any request is safe.
/// assert!(DEFAULT_RANDOM_KINDS.iter().all(|fault| !fault.applies_operation()));
/// ```
pub const DEFAULT_RANDOM_KINDS: &[Fault] = &[
    Fault::Status(500),
    Fault::Status(502),
    Fault::Status(503),
    Fault::Status(504),
    Fault::RetryAfterSeconds(1),
    Fault::Reset,
    Fault::Close,
];

/// Cap on consecutive random faults for one request when the plan names none.
///
/// ```
/// use qovery_backups_mock::{DEFAULT_MAX_CONSECUTIVE, FaultPlan};
///
/// assert_eq!(DEFAULT_MAX_CONSECUTIVE, 3);
/// assert_eq!(FaultPlan::new().max_consecutive(), DEFAULT_MAX_CONSECUTIVE);
/// // So a client that makes 4 attempts always gets through random faults.
/// ```
pub const DEFAULT_MAX_CONSECUTIVE: u32 = 3;

const KIND_LIST: &str = "a status 400-599 (e.g. 500, 502, 503, 504), 429s[:SECS], 429d[:SECS], \
     reset, close, truncate, slow[:DURATION], late[:DURATION], badjson, lost, unknown-enum, unknown-fields, \
     endless, huge, echo, escape, future, float-page, redirect, big-header, repeat-old";

const SPEC_EXAMPLE: &str = "3=503,5=reset,p=0.3,kinds=503|429s:2|reset,max=2,seed=7";

impl Fault {
    /// Whether the request is processed (and, for a create or delete, applied) under this fault.
    ///
    /// ```
    /// use qovery_backups_mock::Fault;
    ///
    /// // The create or delete happened, although the client got no answer.
    /// assert!(Fault::Lost.applies_operation());
    /// // Refused before anything was done: safe to send again.
    /// assert!(!Fault::Status(503).applies_operation());
    /// ```
    pub fn applies_operation(&self) -> bool {
        matches!(
            self,
            Fault::Truncate
                | Fault::Slow(_)
                | Fault::Late(_)
                | Fault::Lost
                | Fault::UnknownEnum
                | Fault::UnknownFields
                | Fault::Huge
                | Fault::Escape
                | Fault::Future
                | Fault::FloatPage
                | Fault::BigHeader
                | Fault::RepeatOld
        )
    }

    /// Whether the client receives a complete HTTP answer under this fault (one it may still
    /// refuse to read, like [`Fault::BigHeader`]'s).
    ///
    /// ```
    /// use qovery_backups_mock::Fault;
    ///
    /// assert!(Fault::Status(503).answers());
    /// assert!(!Fault::Reset.answers());
    /// // Applied but unanswered: the client must find out what happened before sending again.
    /// let ambiguous: Vec<String> = ["lost", "truncate", "late:1s", "reset"]
    ///     .iter()
    ///     .map(|spec| spec.parse::<Fault>().unwrap())
    ///     .filter(|fault| fault.applies_operation() && !fault.answers())
    ///     .map(|fault| fault.to_string())
    ///     .collect();
    /// assert_eq!(ambiguous, ["lost", "truncate"]);
    /// ```
    pub fn answers(&self) -> bool {
        !matches!(self, Fault::Reset | Fault::Close | Fault::Truncate | Fault::Lost | Fault::Endless)
    }
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Fault::Status(code) => write!(f, "{code}"),
            Fault::RetryAfterSeconds(secs) => write!(f, "429s:{secs}"),
            Fault::RetryAfterDate(secs) => write!(f, "429d:{secs}"),
            Fault::Reset => f.write_str("reset"),
            Fault::Close => f.write_str("close"),
            Fault::Truncate => f.write_str("truncate"),
            Fault::Slow(duration) => write!(f, "slow:{}", DisplayDuration(*duration)),
            Fault::Late(duration) => write!(f, "late:{}", DisplayDuration(*duration)),
            Fault::BadJson => f.write_str("badjson"),
            Fault::Lost => f.write_str("lost"),
            Fault::UnknownEnum => f.write_str("unknown-enum"),
            Fault::UnknownFields => f.write_str("unknown-fields"),
            Fault::Endless => f.write_str("endless"),
            Fault::Huge => f.write_str("huge"),
            Fault::Echo => f.write_str("echo"),
            Fault::Escape => f.write_str("escape"),
            Fault::Future => f.write_str("future"),
            Fault::FloatPage => f.write_str("float-page"),
            Fault::Redirect => f.write_str("redirect"),
            Fault::BigHeader => f.write_str("big-header"),
            Fault::RepeatOld => f.write_str("repeat-old"),
        }
    }
}

impl FromStr for Fault {
    type Err = FaultSpecError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        parse_kind(text).map_err(|message| FaultSpecError::new(text, message))
    }
}

fn parse_kind(text: &str) -> Result<Fault, String> {
    let text = text.trim();
    let lower = text.to_ascii_lowercase();
    let (name, arg) = match lower.split_once(':') {
        Some((name, arg)) => (name, Some(arg.trim())),
        None => (lower.as_str(), None),
    };
    let no_arg = |fault: Fault| match arg {
        None => Ok(fault),
        Some(_) => Err(format!("`{name}` takes no argument")),
    };
    match name {
        "429s" | "429" => Ok(Fault::RetryAfterSeconds(parse_seconds(arg)?)),
        "429d" => Ok(Fault::RetryAfterDate(parse_seconds(arg)?)),
        "reset" => no_arg(Fault::Reset),
        "close" => no_arg(Fault::Close),
        "truncate" => no_arg(Fault::Truncate),
        "badjson" | "bad-json" => no_arg(Fault::BadJson),
        "lost" => no_arg(Fault::Lost),
        "unknown-enum" | "unknown-enums" => no_arg(Fault::UnknownEnum),
        "unknown-fields" | "unknown-field" => no_arg(Fault::UnknownFields),
        "endless" => no_arg(Fault::Endless),
        "huge" => no_arg(Fault::Huge),
        "echo" => no_arg(Fault::Echo),
        "escape" => no_arg(Fault::Escape),
        "future" => no_arg(Fault::Future),
        "float-page" => no_arg(Fault::FloatPage),
        "redirect" => no_arg(Fault::Redirect),
        "big-header" => no_arg(Fault::BigHeader),
        "repeat-old" => no_arg(Fault::RepeatOld),
        "slow" => match arg {
            None => Ok(Fault::Slow(DEFAULT_SLOW)),
            Some(arg) => Ok(Fault::Slow(parse_duration(arg)?)),
        },
        "late" => match arg {
            None => Ok(Fault::Late(DEFAULT_SLOW)),
            Some(arg) => Ok(Fault::Late(parse_duration(arg)?)),
        },
        "" => Err(format!("empty fault kind; expected one of {KIND_LIST}")),
        digits if digits.bytes().all(|b| b.is_ascii_digit()) => {
            let code: u16 = digits.parse().map_err(|_| format!("`{digits}` is not an HTTP status"))?;
            if !(400..=599).contains(&code) {
                return Err(format!("status {code} is not an error; use a status from 400 to 599"));
            }
            no_arg(Fault::Status(code))
        }
        other => Err(format!("unknown fault kind `{other}`; expected one of {KIND_LIST}")),
    }
}

fn parse_seconds(arg: Option<&str>) -> Result<u64, String> {
    let Some(arg) = arg else { return Ok(1) };
    let digits = arg.strip_suffix('s').unwrap_or(arg);
    digits.parse().map_err(|_| format!("`{arg}` is not a whole number of seconds (write e.g. `429s:2`)"))
}

/// Reads `1500ms`, `2s`, `1.5s`, `250us`, `10ns`, `1m`: a number and a unit, which is required
/// because a bare number is ambiguous between seconds and milliseconds.
pub(crate) fn parse_duration(text: &str) -> Result<Duration, String> {
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .ok_or_else(|| format!("`{text}` has no unit; write e.g. `1500ms` or `1.5s`"))?;
    let (number, unit) = text.split_at(split);
    let nanos_per_unit: f64 = match unit.trim() {
        "ns" => 1.0,
        "us" | "µs" => 1e3,
        "ms" => 1e6,
        "s" => 1e9,
        "m" => 60e9,
        other => {
            return Err(format!("unknown duration unit `{other}` in `{text}`; use ns, us, ms, s or m"));
        }
    };
    let value: f64 = number.parse().map_err(|_| format!("`{number}` is not a number in `{text}`"))?;
    let nanos = (value * nanos_per_unit).round();
    // An hour is far more than any test waits; the cap keeps the float-to-integer step exact.
    if !(0.0..=3.6e12).contains(&nanos) {
        return Err(format!("duration `{text}` is out of range (at most 60m)"));
    }
    Ok(Duration::from_nanos(nanos as u64))
}

/// Prints a duration in the largest unit that keeps it exact, so `Display` and `FromStr` round
/// trip.
pub(crate) struct DisplayDuration(pub(crate) Duration);

impl fmt::Display for DisplayDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let nanos = self.0.as_nanos();
        if nanos.is_multiple_of(1_000_000_000) {
            write!(f, "{}s", nanos / 1_000_000_000)
        } else if nanos.is_multiple_of(1_000_000) {
            write!(f, "{}ms", nanos / 1_000_000)
        } else if nanos.is_multiple_of(1_000) {
            write!(f, "{}us", nanos / 1_000)
        } else {
            write!(f, "{nanos}ns")
        }
    }
}

/// Which requests get which fault: an exact schedule, a seeded probability, or both.
///
/// The schedule counts every request the server receives, whatever its method or path, from 1,
/// starting when the plan is installed (at [`MockServer::start`](crate::MockServer::start) or by
/// [`MockServer::set_faults`](crate::MockServer::set_faults)). A scheduled fault always applies.
///
/// Otherwise, with a probability above 0, each request draws from a `ChaCha8Rng` seeded with
/// [`seed`](FaultPlan::seed) and, on a hit, picks one of [`kinds`](FaultPlan::kinds) with the same
/// generator. Random faults are capped per request (same method, path and query): after
/// [`max_consecutive`](FaultPlan::max_consecutive) faulted attempts in a row, scheduled or random,
/// the next attempt is served normally, so a client that retries enough always finishes.
///
/// ```
/// use qovery_backups_mock::{Fault, FaultPlan};
///
/// let plan = FaultPlan::new()
///     .at(3, Fault::Status(503))
///     .with_probability(0.3)
///     .with_kinds([Fault::Status(503), Fault::Reset])
///     .with_max_consecutive(2)
///     .with_seed(7);
/// assert_eq!(plan.to_string(), "3=503,p=0.3,kinds=503|reset,max=2,seed=7");
/// assert_eq!(plan, "3=503, p=0.3, kinds=503|reset, max=2, seed=7".parse().unwrap());
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct FaultPlan {
    schedule: BTreeMap<u64, Fault>,
    probability: f64,
    kinds: Vec<Fault>,
    max_consecutive: u32,
    seed: u64,
}

impl Default for FaultPlan {
    fn default() -> Self {
        Self::new()
    }
}

impl FaultPlan {
    /// A plan with no fault at all.
    ///
    /// ```
    /// use qovery_backups_mock::{FaultPlan, MockConfig};
    ///
    /// let plan = FaultPlan::new();
    /// assert!(plan.is_empty());
    /// assert_eq!(plan.to_string(), "none");
    /// assert_eq!(plan, MockConfig::default().faults);
    /// ```
    pub fn new() -> Self {
        Self {
            schedule: BTreeMap::new(),
            probability: 0.0,
            kinds: Vec::new(),
            max_consecutive: DEFAULT_MAX_CONSECUTIVE,
            seed: 0,
        }
    }

    /// Same as [`FaultPlan::new`]: reads well where a plan is switched off.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let server = qovery_backups_mock::MockServer::start(Default::default()).await?;
    /// use qovery_backups_mock::{Fault, FaultPlan};
    ///
    /// server.set_faults(FaultPlan::new().at(1, Fault::Status(503)));
    /// // The part of the test that needs faults is over.
    /// server.set_faults(FaultPlan::none());
    /// let url = format!("{}/organization", server.base_url());
    /// assert_eq!(reqwest::Client::new().get(url).bearer_auth(server.token()).send().await?.status(), 200);
    /// # Ok(())
    /// # }
    /// ```
    pub fn none() -> Self {
        Self::new()
    }

    /// The `n`th request (1-based) gets `fault`. `n = 0` never matches.
    ///
    /// ```
    /// use qovery_backups_mock::{Fault, FaultPlan};
    ///
    /// // The first request is refused, its retry loses the connection, the third goes through.
    /// let plan = FaultPlan::new().at(1, Fault::Status(503)).at(2, Fault::Reset);
    /// assert_eq!(plan.to_string(), "1=503,2=reset");
    /// ```
    #[must_use]
    pub fn at(mut self, n: u64, fault: Fault) -> Self {
        self.schedule.insert(n, fault);
        self
    }

    /// Each request is faulted with this probability (clamped to 0..=1; NaN counts as 0).
    ///
    /// ```
    /// use qovery_backups_mock::FaultPlan;
    ///
    /// assert_eq!(FaultPlan::new().with_probability(0.1).probability(), 0.1);
    /// assert_eq!(FaultPlan::new().with_probability(7.0).probability(), 1.0);
    /// assert_eq!(FaultPlan::new().with_probability(f64::NAN).probability(), 0.0);
    /// ```
    #[must_use]
    pub fn with_probability(mut self, probability: f64) -> Self {
        self.probability = if probability.is_nan() { 0.0 } else { probability.clamp(0.0, 1.0) };
        self
    }

    /// The kinds a random fault picks from, each equally likely. Empty means
    /// [`DEFAULT_RANDOM_KINDS`].
    ///
    /// ```
    /// use qovery_backups_mock::{Fault, FaultPlan};
    ///
    /// // Only connection faults, for a test of the client's reconnects.
    /// let plan = FaultPlan::new().with_probability(0.3).with_kinds([Fault::Reset, Fault::Close]);
    /// assert_eq!(plan.to_string(), "p=0.3,kinds=reset|close");
    /// ```
    #[must_use]
    pub fn with_kinds(mut self, kinds: impl IntoIterator<Item = Fault>) -> Self {
        self.kinds = kinds.into_iter().collect();
        self
    }

    /// The cap on faulted attempts in a row at one request before it is served normally.
    /// 0 switches random faults off.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let server = qovery_backups_mock::MockServer::start(Default::default()).await?;
    /// use qovery_backups_mock::{Fault, FaultPlan};
    ///
    /// // Every request is faulted, but never more than twice in a row.
    /// server.set_faults(FaultPlan::new().with_probability(1.0).with_kinds([Fault::Status(503)]).with_max_consecutive(2));
    /// let (client, url) = (reqwest::Client::new(), format!("{}/organization", server.base_url()));
    /// let mut statuses = Vec::new();
    /// for _ in 0..3 {
    ///     statuses.push(client.get(&url).bearer_auth(server.token()).send().await?.status().as_u16());
    /// }
    /// assert_eq!(statuses, [503, 503, 200]);
    /// # Ok(())
    /// # }
    /// ```
    #[must_use]
    pub fn with_max_consecutive(mut self, max: u32) -> Self {
        self.max_consecutive = max;
        self
    }

    /// The seed of the generator behind random faults.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let server = qovery_backups_mock::MockServer::start(Default::default()).await?;
    /// use qovery_backups_mock::{Fault, FaultPlan};
    ///
    /// let plan = FaultPlan::new().with_probability(0.5).with_kinds([Fault::Status(503)]).with_seed(7);
    /// let (client, url) = (reqwest::Client::new(), format!("{}/organization", server.base_url()));
    /// let mut runs = Vec::new();
    /// for _ in 0..2 {
    ///     server.set_faults(plan.clone()); // the generator starts afresh
    ///     server.clear_requests();
    ///     for _ in 0..10 {
    ///         client.get(&url).bearer_auth(server.token()).send().await?;
    ///     }
    ///     runs.push(server.requests().into_iter().map(|r| r.status).collect::<Vec<_>>());
    /// }
    /// assert_eq!(runs[0], runs[1]); // the same seed, the same faults
    /// # Ok(())
    /// # }
    /// ```
    #[must_use]
    pub fn with_seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Whether the plan can fault no request.
    ///
    /// ```
    /// use qovery_backups_mock::{Fault, FaultPlan};
    ///
    /// assert!(FaultPlan::new().is_empty());
    /// assert!(FaultPlan::new().with_probability(0.5).with_max_consecutive(0).is_empty());
    /// assert!(!FaultPlan::new().at(3, Fault::Reset).is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.schedule.is_empty() && (self.probability == 0.0 || self.max_consecutive == 0)
    }

    /// The scheduled faults, by request number.
    ///
    /// ```
    /// use qovery_backups_mock::{Fault, FaultPlan};
    ///
    /// let plan: FaultPlan = "2-4=503".parse().unwrap();
    /// assert!(plan.schedule().keys().eq(&[2, 3, 4]));
    /// assert!(plan.schedule().values().all(|fault| *fault == Fault::Status(503)));
    /// ```
    pub fn schedule(&self) -> &BTreeMap<u64, Fault> {
        &self.schedule
    }

    /// The probability of a random fault per request.
    ///
    /// ```
    /// use qovery_backups_mock::FaultPlan;
    ///
    /// assert_eq!(FaultPlan::new().probability(), 0.0);
    /// assert_eq!("p=0.25".parse::<FaultPlan>().unwrap().probability(), 0.25);
    /// ```
    pub fn probability(&self) -> f64 {
        self.probability
    }

    /// The kinds random faults pick from, as given (empty means [`DEFAULT_RANDOM_KINDS`]).
    ///
    /// ```
    /// use qovery_backups_mock::{Fault, FaultPlan};
    ///
    /// let plan: FaultPlan = "p=0.1, kinds=reset|429s:2".parse().unwrap();
    /// assert_eq!(plan.kinds(), [Fault::Reset, Fault::RetryAfterSeconds(2)]);
    /// ```
    pub fn kinds(&self) -> &[Fault] {
        &self.kinds
    }

    /// The cap on consecutive faulted attempts at one request.
    ///
    /// ```
    /// use qovery_backups_mock::FaultPlan;
    ///
    /// assert_eq!("p=0.5, max=5".parse::<FaultPlan>().unwrap().max_consecutive(), 5);
    /// ```
    pub fn max_consecutive(&self) -> u32 {
        self.max_consecutive
    }

    /// The seed of the generator behind random faults.
    ///
    /// ```
    /// use qovery_backups_mock::FaultPlan;
    ///
    /// assert_eq!(FaultPlan::new().seed(), 0);
    /// assert_eq!("p=0.5, seed=9".parse::<FaultPlan>().unwrap().seed(), 9);
    /// ```
    pub fn seed(&self) -> u64 {
        self.seed
    }

    fn effective_kinds(&self) -> &[Fault] {
        if self.kinds.is_empty() { DEFAULT_RANDOM_KINDS } else { &self.kinds }
    }
}

/// Prints the plan in SPEC syntax; parsing the output gives the same plan back.
impl fmt::Display for FaultPlan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut items: Vec<String> = self.schedule.iter().map(|(n, fault)| format!("{n}={fault}")).collect();
        if self.probability != 0.0 {
            items.push(format!("p={}", self.probability));
        }
        if !self.kinds.is_empty() {
            let kinds: Vec<String> = self.kinds.iter().map(Fault::to_string).collect();
            items.push(format!("kinds={}", kinds.join("|")));
        }
        if self.max_consecutive != DEFAULT_MAX_CONSECUTIVE {
            items.push(format!("max={}", self.max_consecutive));
        }
        if self.seed != 0 {
            items.push(format!("seed={}", self.seed));
        }
        if items.is_empty() { f.write_str("none") } else { f.write_str(&items.join(",")) }
    }
}

impl FromStr for FaultPlan {
    type Err = FaultSpecError;

    fn from_str(spec: &str) -> Result<Self, Self::Err> {
        let mut plan = FaultPlan::new();
        let trimmed = spec.trim();
        if trimmed.is_empty() || trimmed.eq_ignore_ascii_case("none") {
            return Ok(plan);
        }
        let mut seen_keys: Vec<&'static str> = Vec::new();
        for item in trimmed.split(',').map(str::trim).filter(|i| !i.is_empty()) {
            let err = |message: String| FaultSpecError::new(item, message);
            let Some((key, value)) = item.split_once('=') else {
                return Err(err(format!(
                    "expected `KEY=VALUE` (e.g. `3=503` or `p=0.2`); a whole SPEC looks like `{SPEC_EXAMPLE}`"
                )));
            };
            let (key, value) = (key.trim(), value.trim());
            let lower_key = key.to_ascii_lowercase();
            let canonical: Option<&'static str> = match lower_key.as_str() {
                "p" | "prob" | "probability" => Some("p"),
                "kinds" => Some("kinds"),
                "max" => Some("max"),
                "seed" => Some("seed"),
                _ => None,
            };
            if let Some(canonical) = canonical {
                if seen_keys.contains(&canonical) {
                    return Err(err(format!("`{canonical}` is given twice")));
                }
                seen_keys.push(canonical);
            }
            match canonical.unwrap_or("") {
                "p" => {
                    let p: f64 = value.parse().map_err(|_| err(format!("`{value}` is not a number")))?;
                    if !(0.0..=1.0).contains(&p) {
                        return Err(err(format!("probability {value} is not between 0 and 1")));
                    }
                    plan.probability = p;
                }
                "kinds" => {
                    let mut kinds = Vec::new();
                    for kind in value.split('|') {
                        kinds.push(parse_kind(kind).map_err(err)?);
                    }
                    plan.kinds = kinds;
                }
                "max" => {
                    plan.max_consecutive = value
                        .parse()
                        .map_err(|_| err(format!("`{value}` is not a whole number of attempts")))?;
                }
                "seed" => {
                    plan.seed = value
                        .parse()
                        .map_err(|_| err(format!("`{value}` is not an unsigned integer seed")))?;
                }
                _ => {
                    let (first, last) = parse_request_range(key).map_err(err)?;
                    let fault = parse_kind(value).map_err(err)?;
                    for n in first..=last {
                        if plan.schedule.insert(n, fault.clone()).is_some() {
                            return Err(err(format!("request {n} is scheduled twice")));
                        }
                    }
                }
            }
        }
        Ok(plan)
    }
}

/// `N` or `A-B` (inclusive), request numbers from 1.
fn parse_request_range(key: &str) -> Result<(u64, u64), String> {
    let unknown = || {
        format!(
            "unknown key `{key}`; expected a request number (`3`), a range (`2-4`), `p`, `kinds`, `max` or `seed`"
        )
    };
    let number = |text: &str| -> Result<u64, String> {
        let n: u64 = text.trim().parse().map_err(|_| unknown())?;
        if n == 0 {
            return Err("requests are numbered from 1".to_owned());
        }
        Ok(n)
    };
    match key.split_once('-') {
        None => {
            let n = number(key)?;
            Ok((n, n))
        }
        Some((a, b)) => {
            let (a, b) = (number(a)?, number(b)?);
            if a > b {
                return Err(format!("range `{key}` is empty: {a} is after {b}"));
            }
            // A schedule is a map: a huge range would allocate one entry per request.
            if b - a >= 100_000 {
                return Err(format!(
                    "range `{key}` is too long (at most 100000 requests); use `p=1` with `max` instead"
                ));
            }
            Ok((a, b))
        }
    }
}

/// Why a fault SPEC (or one fault kind) could not be read: the offending item and what to write
/// instead.
///
/// ```
/// use qovery_backups_mock::FaultPlan;
///
/// let error = "1=503, 2=slow:5".parse::<FaultPlan>().unwrap_err();
/// assert_eq!(
///     error.to_string(),
///     "invalid fault spec item `2=slow:5`: `5` has no unit; write e.g. `1500ms` or `1.5s`"
/// );
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FaultSpecError {
    item: String,
    message: String,
}

impl FaultSpecError {
    fn new(item: &str, message: String) -> Self {
        Self { item: item.to_owned(), message }
    }

    /// The part of the SPEC that is wrong.
    ///
    /// ```
    /// let error = "1=503, 3=teapot".parse::<qovery_backups_mock::FaultPlan>().unwrap_err();
    /// assert_eq!(error.item(), "3=teapot");
    /// ```
    pub fn item(&self) -> &str {
        &self.item
    }

    /// What is wrong with it.
    ///
    /// ```
    /// let error = "3=teapot".parse::<qovery_backups_mock::FaultPlan>().unwrap_err();
    /// assert!(error.message().starts_with("unknown fault kind `teapot`; expected one of"));
    /// ```
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for FaultSpecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid fault spec item `{}`: {}", self.item, self.message)
    }
}

impl std::error::Error for FaultSpecError {}

/// The live side of a plan: the request counter, the generator, and the per-request streaks.
pub(crate) struct FaultState {
    plan: FaultPlan,
    rng: ChaCha8Rng,
    count: u64,
    streaks: HashMap<String, u32>,
}

impl FaultState {
    pub(crate) fn new(plan: FaultPlan) -> Self {
        Self { rng: ChaCha8Rng::seed_from_u64(plan.seed), plan, count: 0, streaks: HashMap::new() }
    }

    /// Counts the request and picks its fault. `key` identifies "the same request" for the cap.
    pub(crate) fn decide(&mut self, key: &str) -> Option<Fault> {
        self.count += 1;
        let scheduled = self.plan.schedule.get(&self.count).cloned();
        // Draw on every request, hit or not, capped or not, so that the sequence of draws (and so
        // of faults) depends only on the sequence of requests.
        let random = if self.plan.probability > 0.0 && self.rng.random_bool(self.plan.probability) {
            let kinds = self.plan.effective_kinds();
            Some(kinds[self.rng.random_range(0..kinds.len())].clone())
        } else {
            None
        };
        let streak = self.streaks.get(key).copied().unwrap_or(0);
        let fault = scheduled.or_else(|| random.filter(|_| streak < self.plan.max_consecutive));
        if fault.is_some() {
            self.streaks.insert(key.to_owned(), streak + 1);
        } else {
            // Only requests on a streak are kept, so the map stays as small as the faults.
            self.streaks.remove(key);
        }
        fault
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decisions(plan: FaultPlan, keys: &[&str]) -> Vec<Option<Fault>> {
        let mut state = FaultState::new(plan);
        keys.iter().map(|key| state.decide(key)).collect()
    }

    #[test]
    fn a_schedule_counts_every_request_from_one() {
        let plan = FaultPlan::new().at(2, Fault::Reset).at(3, Fault::Status(503));
        assert_eq!(
            decisions(plan, &["GET a", "POST b", "GET a", "GET a"]),
            [None, Some(Fault::Reset), Some(Fault::Status(503)), None]
        );
    }

    #[test]
    fn random_faults_stop_after_the_cap_on_the_same_request_only() {
        let plan = FaultPlan::new().with_probability(1.0).with_kinds([Fault::Close]).with_max_consecutive(2);
        let got = decisions(plan, &["a", "a", "a", "b", "a"]);
        // `a` twice, then served; `b` has its own streak; `a` starts a new streak after a clean one.
        assert_eq!(
            got,
            [Some(Fault::Close), Some(Fault::Close), None, Some(Fault::Close), Some(Fault::Close)]
        );
    }

    #[test]
    fn the_same_seed_makes_the_same_decisions() {
        let plan = FaultPlan::new().with_probability(0.5).with_seed(9);
        let keys: Vec<String> = (0..200).map(|n| format!("GET /{n}")).collect();
        let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
        let first = decisions(plan.clone(), &keys);
        assert_eq!(first, decisions(plan.clone(), &keys));
        assert_ne!(first, decisions(plan.with_seed(10), &keys));
        assert!(first.iter().any(Option::is_some) && first.iter().any(Option::is_none));
    }

    #[test]
    fn the_hostile_kinds_round_trip_through_their_spec_names() {
        let names = [
            "endless",
            "huge",
            "echo",
            "escape",
            "future",
            "float-page",
            "redirect",
            "big-header",
            "repeat-old",
        ];
        for name in names {
            let fault: Fault = name.parse().unwrap();
            assert_eq!(fault.to_string(), name);
            assert!(format!("{name}:1").parse::<Fault>().is_err(), "{name} takes no argument");
        }
        let plan: FaultPlan = "1=endless,2=repeat-old,kinds=echo|big-header".parse().unwrap();
        assert_eq!(plan.to_string().parse::<FaultPlan>().unwrap(), plan);
    }

    #[test]
    fn a_scheduled_fault_ignores_the_cap() {
        let plan = FaultPlan::new().with_max_consecutive(0).at(1, Fault::Lost);
        assert_eq!(decisions(plan, &["a"]), [Some(Fault::Lost)]);
    }
}
