//! Fault kinds, fault plans, the SPEC syntax, and the per-server state that picks a fault for
//! each request.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::str::FromStr;
use std::time::{Duration, SystemTime};

use axum::body::Bytes;
use axum::response::Response;
use http::{request, response};
use rand::rngs::ChaCha8Rng;
use rand::{RngExt, SeedableRng};
use serde_json::Value;

use crate::answers;
use crate::conn::Kill;
use crate::http::{Ctx, Shared};
use crate::spec::{self, DisplayDuration};

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

/// One fault of each kind but [`Fault::Status`], with its default argument: the kinds a SPEC
/// names, in the order the parser's error lists them.
const NAMED_KINDS: [Fault; 20] = [
    Fault::RetryAfterSeconds(1),
    Fault::RetryAfterDate(1),
    Fault::Reset,
    Fault::Close,
    Fault::Truncate,
    Fault::Slow(DEFAULT_SLOW),
    Fault::Late(DEFAULT_SLOW),
    Fault::BadJson,
    Fault::Lost,
    Fault::UnknownEnum,
    Fault::UnknownFields,
    Fault::Endless,
    Fault::Huge,
    Fault::Echo,
    Fault::Escape,
    Fault::Future,
    Fault::FloatPage,
    Fault::Redirect,
    Fault::BigHeader,
    Fault::RepeatOld,
];

/// A kind of fault as the mock knows it: the name a SPEC gives it, its argument, and what it
/// does to a request. [`Fault::kind`] is the one place that says it for every kind.
pub(crate) struct Kind {
    /// The SPEC name; a status has none, its number is its name.
    name: &'static str,
    /// Other names a SPEC may use.
    aliases: &'static [&'static str],
    arg: Arg,
    pub(crate) act: Act,
}

/// What a SPEC may write after the name and `:`, the value this fault has, and the fault of the
/// same kind with another value.
enum Arg {
    None,
    Status(u16),
    /// Whole seconds (`429s:2`).
    Seconds(u64, fn(u64) -> Fault),
    /// A number and a unit (`slow:1500ms`).
    Duration(Duration, fn(Duration) -> Fault),
}

/// What a fault does to a request.
pub(crate) enum Act {
    /// Breaks the connection instead of answering; the operation does not run.
    Kill(Kill),
    /// Sends this answer instead of running the operation; `ends` is false for a body that never
    /// ends.
    Answer { make: MakeAnswer, ends: bool },
    /// Runs the operation.
    Run(Run),
}

/// Makes the answer sent instead of the operation's, from what the server holds and the request.
pub(crate) type MakeAnswer = Box<dyn Fn(&Shared, &request::Parts) -> Response + Send + Sync>;

/// How the operation is run: waiting `before` and `after` it, then changing its answer with
/// `edit`, and breaking the connection as `kill` says when the answer is sent.
pub(crate) struct Run {
    pub(crate) before: Duration,
    pub(crate) after: Duration,
    pub(crate) edit: Option<Edit>,
    pub(crate) kill: Option<Kill>,
}

/// How a fault changes the operation's answer.
pub(crate) enum Edit {
    /// Changes the JSON body of a 2xx answer; other answers are sent as they are.
    Success(fn(&mut Value, &Ctx<'_>)),
    /// Changes any JSON body, an error's too.
    Json(fn(&mut Value, &Ctx<'_>)),
    /// Changes the answer's head or body.
    Answer(fn(response::Parts, Bytes) -> Response),
}

impl Run {
    /// What a request without a fault gets: the operation, and its answer as it is.
    pub(crate) const PLAIN: Run =
        Run { before: Duration::ZERO, after: Duration::ZERO, edit: None, kill: None };
}

fn kind(name: &'static str, arg: Arg, act: Act) -> Kind {
    Kind { name, aliases: &[], arg, act }
}

impl Kind {
    /// The kind, also read under these names.
    fn or(self, aliases: &'static [&'static str]) -> Kind {
        Kind { aliases, ..self }
    }
}

/// Sends `make`'s answer instead of running the operation.
fn answer(make: impl Fn(&Shared, &request::Parts) -> Response + Send + Sync + 'static) -> Act {
    Act::Answer { make: Box::new(make), ends: true }
}

/// Runs the operation, waiting before or after it.
fn wait(before: Duration, after: Duration) -> Act {
    Act::Run(Run { before, after, ..Run::PLAIN })
}

/// Runs the operation, then changes its answer.
fn edit(edit: Edit) -> Act {
    Act::Run(Run { edit: Some(edit), ..Run::PLAIN })
}

/// Runs the operation, then breaks the connection as it answers.
fn cut(kill: Kill) -> Act {
    Act::Run(Run { kill: Some(kill), ..Run::PLAIN })
}

impl Fault {
    /// The name, argument and behaviour of this fault's kind: one arm per kind, the functions in
    /// `answers.rs` making or changing the answers. (A new kind is a variant, documented with its
    /// SPEC, an arm here, and a place in [`NAMED_KINDS`] for the parser.)
    pub(crate) fn kind(&self) -> Kind {
        match *self {
            Fault::Status(code) => kind("", Arg::Status(code), answer(move |_, _| answers::status(code))),
            Fault::RetryAfterSeconds(secs) => {
                let act = answer(move |_, _| answers::retry_after_seconds(secs));
                kind("429s", Arg::Seconds(secs, Fault::RetryAfterSeconds), act).or(&["429"])
            }
            Fault::RetryAfterDate(secs) => {
                let act = answer(move |_, _| answers::retry_after_date(SystemTime::now(), secs));
                kind("429d", Arg::Seconds(secs, Fault::RetryAfterDate), act)
            }
            Fault::Reset => kind("reset", Arg::None, Act::Kill(Kill::Reset)),
            Fault::Close => kind("close", Arg::None, Act::Kill(Kill::Close)),
            Fault::Truncate => kind("truncate", Arg::None, cut(Kill::Truncate)),
            Fault::Slow(delay) => {
                kind("slow", Arg::Duration(delay, Fault::Slow), wait(delay, Duration::ZERO))
            }
            Fault::Late(delay) => {
                kind("late", Arg::Duration(delay, Fault::Late), wait(Duration::ZERO, delay))
            }
            Fault::BadJson => {
                kind("badjson", Arg::None, answer(|_, _| answers::bad_json())).or(&["bad-json"])
            }
            Fault::Lost => kind("lost", Arg::None, cut(Kill::Reset)),
            Fault::UnknownEnum => {
                kind("unknown-enum", Arg::None, edit(Edit::Success(answers::unknown_enums)))
                    .or(&["unknown-enums"])
            }
            Fault::UnknownFields => {
                kind("unknown-fields", Arg::None, edit(Edit::Success(answers::unknown_fields)))
                    .or(&["unknown-field"])
            }
            Fault::Endless => {
                kind("endless", Arg::None, Act::Answer { make: Box::new(answers::endless), ends: false })
            }
            Fault::Huge => kind("huge", Arg::None, edit(Edit::Answer(answers::huge))),
            Fault::Echo => kind("echo", Arg::None, answer(answers::echo)),
            Fault::Escape => kind("escape", Arg::None, edit(Edit::Json(answers::escapes))),
            Fault::Future => kind("future", Arg::None, edit(Edit::Success(answers::far_future))),
            Fault::FloatPage => kind("float-page", Arg::None, edit(Edit::Success(answers::float_page))),
            Fault::Redirect => kind("redirect", Arg::None, answer(answers::redirect)),
            Fault::BigHeader => kind("big-header", Arg::None, edit(Edit::Answer(answers::big_header))),
            Fault::RepeatOld => kind("repeat-old", Arg::None, edit(Edit::Success(answers::repeat_old))),
        }
    }

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
        matches!(self.kind().act, Act::Run(_))
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
        match self.kind().act {
            Act::Kill(_) => false,
            Act::Answer { ends, .. } => ends,
            Act::Run(run) => run.kill.is_none(),
        }
    }
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Kind { name, arg, .. } = self.kind();
        match arg {
            Arg::None => f.write_str(name),
            Arg::Status(code) => write!(f, "{code}"),
            Arg::Seconds(secs, _) => write!(f, "{name}:{secs}"),
            Arg::Duration(duration, _) => write!(f, "{name}:{}", DisplayDuration(duration)),
        }
    }
}

impl FromStr for Fault {
    type Err = FaultSpecError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        parse_kind(text).map_err(|message| FaultSpecError::new(text, message))
    }
}

/// `NAME` or `NAME:ARG`, in any case: a kind of [`NAMED_KINDS`] or a status.
fn parse_kind(text: &str) -> Result<Fault, String> {
    let text = text.trim().to_ascii_lowercase();
    let (name, arg) = match text.split_once(':') {
        Some((name, arg)) => (name, Some(arg.trim())),
        None => (text.as_str(), None),
    };
    let named = NAMED_KINDS.iter().find(|fault| {
        let kind = fault.kind();
        kind.name == name || kind.aliases.contains(&name)
    });
    let fault = match named {
        Some(fault) => fault.clone(),
        None if !name.is_empty() && name.bytes().all(|b| b.is_ascii_digit()) => {
            let code: u16 = name.parse().map_err(|_| format!("`{name}` is not an HTTP status"))?;
            if !(400..=599).contains(&code) {
                return Err(format!("status {code} is not an error; use a status from 400 to 599"));
            }
            Fault::Status(code)
        }
        None if name.is_empty() => return Err(format!("empty fault kind; expected one of {}", kind_list())),
        None => return Err(format!("unknown fault kind `{name}`; expected one of {}", kind_list())),
    };
    match (fault.kind().arg, arg) {
        (Arg::Seconds(_, make), Some(arg)) => {
            let digits = arg.strip_suffix('s').unwrap_or(arg);
            let secs = digits
                .parse()
                .map_err(|_| format!("`{arg}` is not a whole number of seconds (write e.g. `429s:2`)"))?;
            Ok(make(secs))
        }
        (Arg::Duration(_, make), Some(arg)) => Ok(make(spec::duration(arg)?)),
        (_, Some(_)) => Err(format!("`{name}` takes no argument")),
        (_, None) => Ok(fault),
    }
}

/// Every kind a SPEC may name, with its argument, for error messages.
fn kind_list() -> String {
    let named = NAMED_KINDS.iter().map(|fault| match fault.kind() {
        Kind { name, arg: Arg::Seconds(..), .. } => format!("{name}[:SECS]"),
        Kind { name, arg: Arg::Duration(..), .. } => format!("{name}[:DURATION]"),
        Kind { name, .. } => name.to_owned(),
    });
    let named: Vec<String> = named.collect();
    format!("a status 400-599 (e.g. 500, 502, 503, 504), {}", named.join(", "))
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
        spec::read(spec, &mut plan, &PLAN_SYNTAX)
            .map_err(|(item, message)| FaultSpecError { item, message })?;
        Ok(plan)
    }
}

/// The keys of a plan's SPEC; any other key is a request number or range (`3=503`, `2-4=reset`).
const PLAN_SYNTAX: spec::Syntax<FaultPlan> = spec::Syntax {
    keys: &[
        (&["p", "prob", "probability"], |plan, value| spec::probability(value).map(|p| plan.probability = p)),
        (&["kinds"], |plan, value| {
            value.split('|').map(parse_kind).collect::<Result<_, _>>().map(|k| plan.kinds = k)
        }),
        (&["max"], |plan, value| {
            let max = value.parse().map_err(|_| format!("`{value}` is not a whole number of attempts"));
            max.map(|max| plan.max_consecutive = max)
        }),
        (&["seed"], |plan, value| spec::seed(value).map(|seed| plan.seed = seed)),
    ],
    other: schedule,
    once: true,
    without_equals: "expected `KEY=VALUE` (e.g. `3=503` or `p=0.2`); a whole SPEC looks like \
                     `3=503,5=reset,p=0.3,kinds=503|429s:2|reset,max=2,seed=7`",
};

/// `N=KIND` or `A-B=KIND` (inclusive), request numbers from 1.
fn schedule(plan: &mut FaultPlan, key: &str, value: &str) -> Result<(), String> {
    let number = |text: &str| match text.trim().parse() {
        Ok(0) => Err("requests are numbered from 1".to_owned()),
        Ok(n) => Ok(n),
        Err(_) => Err(format!(
            "unknown key `{key}`; expected a request number (`3`), a range (`2-4`), `p`, `kinds`, `max` or `seed`"
        )),
    };
    let (first, last) = key.split_once('-').unwrap_or((key, key));
    let (first, last): (u64, u64) = (number(first)?, number(last)?);
    if first > last {
        return Err(format!("range `{key}` is empty: {first} is after {last}"));
    }
    // A schedule is a map: a huge range would allocate one entry per request.
    if last - first >= 100_000 {
        return Err(format!(
            "range `{key}` is too long (at most 100000 requests); use `p=1` with `max` instead"
        ));
    }
    let fault = parse_kind(value)?;
    for n in first..=last {
        if plan.schedule.insert(n, fault.clone()).is_some() {
            return Err(format!("request {n} is scheduled twice"));
        }
    }
    Ok(())
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
    fn every_kind_reads_back_from_its_names_and_prints_its_spec() {
        let mut names = Vec::new();
        for fault in NAMED_KINDS.iter().chain([&Fault::Status(503)]) {
            let kind = fault.kind();
            for name in [kind.name].iter().chain(kind.aliases).filter(|name| !name.is_empty()) {
                assert_eq!(name.parse::<Fault>().as_ref(), Ok(fault), "{name}");
                names.push(*name);
            }
            assert_eq!(fault.to_string().parse::<Fault>().as_ref(), Ok(fault), "{fault}");
            if let Arg::None = kind.arg {
                assert!(format!("{fault}:1").parse::<Fault>().is_err(), "{fault} takes no argument");
            }
        }
        let distinct: std::collections::HashSet<_> = names.iter().collect();
        assert_eq!(distinct.len(), names.len(), "no name is given to two kinds: {names:?}");
        let plan: FaultPlan = "1=endless,2=repeat-old,kinds=echo|big-header|late:3s".parse().unwrap();
        assert_eq!(plan.to_string().parse::<FaultPlan>().unwrap(), plan);
    }

    #[test]
    fn the_kinds_that_cut_the_answer_are_the_ones_that_say_so() {
        let cut: Vec<String> = NAMED_KINDS.iter().filter(|f| !f.answers()).map(Fault::to_string).collect();
        assert_eq!(cut, ["reset", "close", "truncate", "lost", "endless"]);
        let run: Vec<String> =
            NAMED_KINDS.iter().filter(|f| f.applies_operation()).map(Fault::to_string).collect();
        assert_eq!(
            run,
            [
                "truncate",
                "slow:5s",
                "late:5s",
                "lost",
                "unknown-enum",
                "unknown-fields",
                "huge",
                "escape",
                "future",
                "float-page",
                "big-header",
                "repeat-old"
            ]
        );
    }

    #[test]
    fn a_scheduled_fault_ignores_the_cap() {
        let plan = FaultPlan::new().with_max_consecutive(0).at(1, Fault::Lost);
        assert_eq!(decisions(plan, &["a"]), [Some(Fault::Lost)]);
    }
}
