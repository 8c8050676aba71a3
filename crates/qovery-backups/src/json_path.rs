//! Where in a JSON document a decode error happened, as a field path (`results[3].created_at`).
//!
//! serde_json reports a line and a column. Turning that into a path by deserializing again
//! through a path-tracking wrapper (serde_path_to_error) would compile every response type's
//! deserializer a second time into this crate, a fifth of its size, for the rare decode error.
//! Instead the document is scanned once up to the error's position, tracking the objects and
//! arrays it is inside: the same path, from code that is not generic.

/// The path of the innermost value open at `line`:`column` (1-based, as serde_json counts
/// them: the column in bytes), or `.` at the top level.
pub(crate) fn path_at(body: &[u8], line: usize, column: usize) -> String {
    let end = offset(body, line, column).min(body.len());
    let mut stack: Vec<Frame> = Vec::new();
    let mut index = 0;
    while index < end {
        match body[index] {
            b'{' => stack.push(Frame::Object { key: None, expecting_key: true }),
            b'[' => stack.push(Frame::Array { index: 0 }),
            // A container that closes exactly at the error is the value that failed (a missing
            // field is reported at its object's `}`): it stays on the path, whole.
            b'}' | b']' if index + 1 == end => {
                if let Some(frame) = stack.last_mut() {
                    *frame = Frame::Whole;
                }
            }
            b'}' | b']' => {
                stack.pop();
            }
            b',' => match stack.last_mut() {
                Some(Frame::Array { index }) => *index += 1,
                Some(Frame::Object { expecting_key, .. }) => *expecting_key = true,
                Some(Frame::Whole) | None => {}
            },
            b':' => {
                if let Some(Frame::Object { expecting_key, .. }) = stack.last_mut() {
                    *expecting_key = false;
                }
            }
            b'"' => {
                let (text, after) = string_at(body, index + 1);
                if let Some(Frame::Object { key, expecting_key: true }) = stack.last_mut() {
                    *key = Some(text);
                }
                index = after;
                continue;
            }
            _ => {}
        }
        index += 1;
    }
    render(&stack)
}

enum Frame {
    Object {
        key: Option<String>,
        expecting_key: bool,
    },
    Array {
        index: usize,
    },
    /// A container that failed as a whole: nothing inside it is named.
    Whole,
}

fn render(stack: &[Frame]) -> String {
    let mut path = String::new();
    for frame in stack {
        match frame {
            Frame::Object { key: Some(key), .. } => {
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(key);
            }
            // An object whose first key has not been read yet: the object itself.
            Frame::Object { key: None, .. } | Frame::Whole => {}
            Frame::Array { index } => path.push_str(&format!("[{index}]")),
        }
    }
    if path.is_empty() { ".".to_owned() } else { path }
}

/// The byte offset of `line`:`column`; past the end when the position is (serde_json reports
/// EOF errors there).
fn offset(body: &[u8], line: usize, column: usize) -> usize {
    let line_start = if line <= 1 {
        0
    } else {
        body.iter().enumerate().filter(|(_, b)| **b == b'\n').nth(line - 2).map_or(body.len(), |(i, _)| i + 1)
    };
    line_start + column
}

/// The text of the string whose first byte is at `start` (just past its opening quote), with
/// the common escapes undone, and the offset just past its closing quote.
fn string_at(body: &[u8], start: usize) -> (String, usize) {
    let mut text = Vec::new();
    let mut index = start;
    while index < body.len() {
        match body[index] {
            b'"' => return (String::from_utf8_lossy(&text).into_owned(), index + 1),
            b'\\' if index + 1 < body.len() => {
                let escaped = body[index + 1];
                text.push(match escaped {
                    b'n' => b'\n',
                    b't' => b'\t',
                    b'r' => b'\r',
                    // `\uXXXX` is kept as written: a key that needs one is shown escaped.
                    b'u' => {
                        text.extend_from_slice(b"\\u");
                        index += 2;
                        continue;
                    }
                    other => other,
                });
                index += 2;
            }
            byte => {
                text.push(byte);
                index += 1;
            }
        }
    }
    (String::from_utf8_lossy(&text).into_owned(), body.len())
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde::Deserialize;

    use super::path_at;

    /// The path serde_json's error position leads to.
    fn path_of_error<T: for<'de> Deserialize<'de>>(json: &str) -> String {
        let error = serde_json::from_str::<T>(json).err().expect("the document is invalid");
        path_at(json.as_bytes(), error.line(), error.column())
    }

    /// The same, as serde_path_to_error finds it by deserializing again.
    fn oracle<T: for<'de> Deserialize<'de>>(json: &str) -> String {
        let mut deserializer = serde_json::Deserializer::from_str(json);
        let error = serde_path_to_error::deserialize::<_, T>(&mut deserializer).err().expect("invalid");
        error.path().to_string()
    }

    #[derive(Deserialize, Debug)]
    #[allow(dead_code)] // read only by serde
    struct Page {
        page_size: u32,
        results: Vec<Item>,
    }

    #[derive(Deserialize, Debug)]
    #[allow(dead_code)]
    struct Item {
        id: u64,
        created_at: String,
        status: Option<Status>,
    }

    #[derive(Deserialize, Debug)]
    #[allow(dead_code)]
    struct Status {
        state: String,
        steps: Vec<u8>,
    }

    #[test]
    fn the_failing_field_is_named_with_its_containers() {
        let wrong_type =
            r#"{"page_size": 2, "results": [{"id": 1, "created_at": "a"}, {"id": 2, "created_at": 7}]}"#;
        assert_eq!(path_of_error::<Page>(wrong_type), "results[1].created_at");
        let missing = r#"{"page_size": 2, "results": [{"id": 1, "created_at": "a"}, {"id": 2}]}"#;
        assert_eq!(path_of_error::<Page>(missing), "results[1]");
        let nested = "{\"page_size\": 2,\n \"results\": [{\"id\": 1, \"created_at\": \"a\",\n \"status\": {\"state\": \"x\", \"steps\": [1, 300]}}]}";
        assert_eq!(path_of_error::<Page>(nested), "results[0].status.steps[1]");
        assert_eq!(path_of_error::<Page>(r#"{"page_size": -1, "results": []}"#), "page_size");
        assert_eq!(path_of_error::<Page>(r#"{"page_size": 1, "results": [{"id": 1"#), "results[0].id");
        assert_eq!(path_of_error::<Page>("[]"), ".");
    }

    #[test]
    fn braces_and_quotes_inside_strings_do_not_confuse_it() {
        let tricky = r#"{"page_size": 1, "results": [{"created_at": "}]\"{[,", "id": "x"}]}"#;
        assert_eq!(path_of_error::<Page>(tricky), "results[0].id");
    }

    /// One backup-like item, with field `broken` (if any) of the wrong type or missing.
    fn item(id: u32, text: &str, with_status: bool, broken: Option<u8>) -> String {
        let id = if broken == Some(0) { r#""not a number""#.to_owned() } else { id.to_string() };
        let created_at = match broken {
            Some(1) => r#", "created_at": 5"#.to_owned(),
            Some(5) => String::new(),
            _ => format!(r#", "created_at": {}"#, serde_json::to_string(text).unwrap()),
        };
        let status = match broken {
            Some(2) => r#", "status": {"state": "s", "steps": [1, -2]}"#,
            Some(3) => r#", "status": {"steps": []}"#,
            Some(4) => r#", "status": []"#,
            _ if with_status => r#", "status": {"state": "s", "steps": [1, 2]}"#,
            _ => "",
        };
        format!(r#"{{"id": {id}{created_at}{status}}}"#)
    }

    /// A page of items, one of them broken, laid out with one of three spacings.
    fn broken_page() -> impl Strategy<Value = String> {
        let items = prop::collection::vec((any::<u32>(), "[a-z\\]\\[{}\",: ]{0,8}", any::<bool>()), 1..6);
        (items, any::<prop::sample::Index>(), 0u8..6, 0usize..3).prop_map(
            |(items, which, breakage, spacing)| {
                let at = which.index(items.len());
                let separator = [", ", ",\n  ", ","][spacing];
                let items: Vec<String> = items
                    .iter()
                    .enumerate()
                    .map(|(i, (id, text, status))| item(*id, text, *status, (i == at).then_some(breakage)))
                    .collect();
                format!("{{\"page_size\": 20{separator}\"results\": [{}]}}", items.join(separator))
            },
        )
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 512, rng_seed: proptest::test_runner::RngSeed::Fixed(7), ..ProptestConfig::default() })]

        #[test]
        fn it_agrees_with_deserializing_again_through_serde_path_to_error(json in broken_page()) {
            prop_assert_eq!(path_of_error::<Page>(&json), oracle::<Page>(&json), "{}", json);
        }
    }
}
