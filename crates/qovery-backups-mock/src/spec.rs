//! What the two SPEC languages (`FaultPlan`'s and `Outcomes`') share: comma-separated
//! `KEY=VALUE` items read through one table of keys each, probabilities, seeds, and durations
//! with a unit.

use std::fmt;
use std::time::Duration;

/// A key a SPEC accepts: the names it is written as (any case; the first is the one errors
/// use), and what reads its value into the target or says what is wrong with it.
pub(crate) type Key<T> = (&'static [&'static str], fn(&mut T, &str) -> Result<(), String>);

/// How a SPEC is read: a table of keys, and what to do with any other.
pub(crate) struct Syntax<T: 'static> {
    pub(crate) keys: &'static [Key<T>],
    /// Reads an item whose key is in no row of `keys` (`3=503`, `name:TEXT=error`).
    pub(crate) other: fn(&mut T, &str, &str) -> Result<(), String>,
    /// Whether a key of the table may appear only once.
    pub(crate) once: bool,
    /// What an item without `=` is told.
    pub(crate) without_equals: &'static str,
}

/// Reads `spec` into `target`: items separated by commas (spaces around them ignored), each
/// `KEY=VALUE`; an empty SPEC or `none` has no item. On error, the item and what is wrong.
pub(crate) fn read<T>(spec: &str, target: &mut T, syntax: &Syntax<T>) -> Result<(), (String, String)> {
    let spec = spec.trim();
    if spec.eq_ignore_ascii_case("none") {
        return Ok(());
    }
    let mut seen = Vec::new();
    for item in spec.split(',').map(str::trim).filter(|item| !item.is_empty()) {
        let fail = |message: String| (item.to_owned(), message);
        let Some((key, value)) = item.split_once('=') else {
            return Err(fail(syntax.without_equals.to_owned()));
        };
        let (key, value) = (key.trim(), value.trim());
        let row = syntax.keys.iter().position(|(names, _)| names.iter().any(|n| n.eq_ignore_ascii_case(key)));
        match row {
            Some(row) if syntax.once && seen.contains(&row) => {
                return Err(fail(format!("`{}` is given twice", syntax.keys[row].0[0])));
            }
            Some(row) => {
                seen.push(row);
                (syntax.keys[row].1)(target, value).map_err(fail)?;
            }
            None => (syntax.other)(target, key, value).map_err(fail)?,
        }
    }
    Ok(())
}

/// A probability, 0 to 1.
pub(crate) fn probability(value: &str) -> Result<f64, String> {
    let p: f64 = value.parse().map_err(|_| format!("`{value}` is not a number"))?;
    if !(0.0..=1.0).contains(&p) {
        return Err(format!("probability {value} is not between 0 and 1"));
    }
    Ok(p)
}

/// A generator's seed.
pub(crate) fn seed(value: &str) -> Result<u64, String> {
    value.parse().map_err(|_| format!("`{value}` is not an unsigned integer seed"))
}

/// Reads `1500ms`, `2s`, `1.5s`, `250us`, `10ns`, `1m`: a number and a unit, which is required
/// because a bare number is ambiguous between seconds and milliseconds.
pub(crate) fn duration(text: &str) -> Result<Duration, String> {
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

/// Prints a duration in the largest unit that keeps it exact, so that [`duration`] reads it
/// back the same.
pub(crate) struct DisplayDuration(pub(crate) Duration);

impl fmt::Display for DisplayDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let nanos = self.0.as_nanos();
        let (unit, per_unit) = [("s", 1_000_000_000), ("ms", 1_000_000), ("us", 1_000)]
            .into_iter()
            .find(|(_, per_unit)| nanos.is_multiple_of(*per_unit))
            .unwrap_or(("ns", 1));
        write!(f, "{}{unit}", nanos / per_unit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_duration_prints_in_the_unit_that_reads_back_the_same() {
        for text in ["5s", "1500ms", "250us", "7ns", "0s"] {
            assert_eq!(DisplayDuration(duration(text).unwrap()).to_string(), text);
        }
        assert_eq!(DisplayDuration(duration("1.5s").unwrap()).to_string(), "1500ms");
        assert_eq!(DisplayDuration(duration("2m").unwrap()).to_string(), "120s");
    }
}
