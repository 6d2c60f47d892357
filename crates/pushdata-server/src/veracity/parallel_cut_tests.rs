//! The guessed cuts of the parallel reader (see `row_ends`): pieces cut at line ends inside
//! quoted values, or next to quotes the pairing cannot follow, are cut again or given to
//! the sequential reader, and the rows and errors are the sequential reader's.

#![allow(clippy::unwrap_used)]

use super::tests::{Upload, both, csv, fed, rows, rows_of};
use super::*;

/// The rows (or the failure) of the reader on one thread, which reads every file
/// sequentially.
fn sequential(text: &str) -> Result<Vec<StagedData>, Failure> {
    let up = Upload::new(text);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap();
    pool.install(|| up.parse().run())
}

/// `text` read in parallel in windows of `window` bytes gives the sequential rows.
fn same_rows(what: &str, text: &str, window: usize) {
    let (parallel, _) = both(text, window);
    let Ok(Parallel::Done(staged)) = parallel else {
        panic!("{what}, window {window}: not read in parallel");
    };
    let want = rows_of(sequential(text));
    assert!(!want.is_empty(), "{what}");
    assert_eq!(rows(&staged), want, "{what}, window {window}");
}

/// `text` is given to the sequential reader, and the job's whole parse (parallel first)
/// fails with the sequential reader's issues.
fn sequential_issues(what: &str, text: &str, window: usize) {
    let (parallel, _) = both(text, window);
    assert!(
        matches!(parallel, Ok(Parallel::Sequential)),
        "{what}, window {window}"
    );
    let up = Upload::new(text);
    let (Err(Failure::Invalid(got)), Err(Failure::Invalid(want))) =
        (up.parse().run(), sequential(text))
    else {
        panic!("{what}: not a validation failure");
    };
    assert!(!want.is_empty(), "{what}");
    assert_eq!(got, want, "{what}");
}

/// `rows` rows whose names are quoted, with line ends, commas and escaped quotes in them.
fn quoted_csv(rows: usize) -> String {
    let mut text = String::from("Id,Name,Amount,Day\n");
    for i in 0..rows {
        text.push_str(&format!(
            "{i},\"line\n{i}, \"\"q\"\"\n{}\",{i}.5,2024-01-{:02}\n",
            "x".repeat(i % 13),
            i % 28 + 1
        ));
    }
    text
}

#[test]
fn a_guessed_cut_inside_a_quoted_value_is_refused_and_cut_again() {
    let text = quoted_csv(40);
    let up = Upload::new(&text);
    let schema = read_schema(&up.def, &up.layout.text_schema, &up.layout.map, false);
    let mut windows = Windows::open(&up.path, 1 << 20).unwrap();
    windows.complete_at(text.len() as u64);
    let Next::Rows(guessed, Some(end)) = windows.next_rows(3).unwrap() else {
        panic!("not cut at guessed row ends");
    };
    assert_eq!(end, text.len());
    let read: Vec<PieceRead> = guessed
        .iter()
        .map(|p| read_piece(p, &schema, true))
        .collect();
    assert!(
        read.iter().any(|r| matches!(r, PieceRead::Unconfirmed)),
        "every cut confirmed"
    );
    // The same window cut where rows end, each piece read by the fast path.
    let Next::Rows(exact, None) = windows.exact_rows(3).unwrap() else {
        panic!("not cut exactly");
    };
    assert_eq!(exact.concat(), text.split_once('\n').unwrap().1.as_bytes());
    let rows_read: usize = exact
        .iter()
        .map(|p| match read_piece(p, &schema, false) {
            PieceRead::Read(b) => b.iter().map(RecordBatch::num_rows).sum::<usize>(),
            _ => panic!("a piece of an exact cut not read"),
        })
        .sum();
    assert_eq!(rows_read, 40);
    for window in [200, 1000, 1 << 20] {
        same_rows("quoted line ends", &text, window);
    }
}

#[test]
fn a_piece_without_quotes_inside_a_long_quoted_value_does_not_confirm_the_cut_before_it() {
    // One value longer than a piece: the middle piece is all `x⏎`, without a quote.
    let text = format!(
        "Id,Name,Amount,Day\n1,\"{}\",1,2024-01-01\n{}",
        "x\n".repeat(300),
        csv(20).split_once('\n').unwrap().1
    );
    for window in [1 << 20, 900] {
        same_rows("a long quoted value", &text, window);
    }
    // A row longer than a piece, without quotes.
    let long = format!(
        "Id,Name,Amount,Day\n1,{},1,2024-01-01\n{}",
        "y".repeat(600),
        csv(20).split_once('\n').unwrap().1
    );
    same_rows("a long row", &long, 1 << 20);
}

#[test]
fn quotes_a_guessed_cut_cannot_confirm_give_the_sequential_readers_issues() {
    let data = |text: &str| text.split_once('\n').unwrap().1.to_string();
    // A quote taken literally, in the middle of many rows.
    let mut literal = csv(50);
    literal.push_str("50,a \"literal,1.5,2024-02-01\n");
    literal.push_str(&data(&csv(50)));
    sequential_issues_or_rows("a literal quote", &literal, 400);
    // A quote opened and never closed, with and without a line end after it.
    let mut open = quoted_csv(30);
    open.push_str("99,\"open,1,2024-01-01\n");
    sequential_issues("an unclosed quote", &open, 400);
    sequential_issues("an unclosed quote at the end", open.trim_end(), 1 << 20);
    // A value that does not parse after quoted line ends: the row the sequential reader
    // names.
    let mut bad = quoted_csv(30);
    bad.push_str("x,\"a\nb\",1,2024-01-01\n");
    sequential_issues("a bad key after quoted rows", &bad, 1 << 20);
    sequential_issues("a bad key after quoted rows", &bad, 300);
}

/// `text` either read in parallel with the sequential rows, or given to the sequential
/// reader, whose outcome the whole parse then is.
fn sequential_issues_or_rows(what: &str, text: &str, window: usize) {
    let want = sequential(text);
    let up = Upload::new(text);
    match (up.parse().run(), want) {
        (Ok(got), Ok(want)) => assert_eq!(rows(&got), rows(&want), "{what}"),
        (Err(Failure::Invalid(got)), Err(Failure::Invalid(want))) => {
            assert_eq!(got, want, "{what}")
        }
        _ => panic!("{what}: another outcome than the sequential reader's"),
    }
    let (parallel, _) = both(text, window);
    assert!(
        matches!(parallel, Ok(Parallel::Sequential)),
        "{what}: read in parallel"
    );
}

#[test]
fn carriage_returns_and_a_last_row_without_a_line_end_read_as_the_sequential_rows() {
    // CRLF line ends, quoted values with CRLF in them: the fast path gives such pieces to
    // arrow-csv, which reads them only where the quotes were paired.
    let crlf = quoted_csv(40).replace('\n', "\r\n");
    for window in [300, 1 << 20] {
        same_rows("CRLF", &crlf, window);
        // No line end after the last row, whose last value is quoted.
        let text = format!("{}41,\"last \"\"one\"\"\",2,\"2024-01-02\"", quoted_csv(40));
        same_rows("no final line end", &text, window);
        same_rows("no final CRLF", crlf.trim_end(), window);
    }
}

#[test]
fn quoted_rows_fed_as_appends_arrive_give_the_sequential_rows() {
    let text = quoted_csv(60);
    let want = rows_of(sequential(&text));
    for (step, window) in [(1, 300), (57, 300), (500, 2000), (text.len(), 1 << 20)] {
        assert_eq!(
            fed(&text, step, window).as_deref(),
            Some(&want[..]),
            "appends of {step} bytes, windows of {window}"
        );
    }
}

#[test]
fn a_header_with_quotes_is_found_with_the_quotes_paired() {
    // The header's first line end is inside its first name: the pairing finds its end.
    let data = "1,a,1,2024-01-01\n2,b,2,2024-01-02\n";
    for header in ["\"Id\",Name,Amount,Day\n", "\"I\nd\",Name,Amount,Day\n"] {
        let text = format!("{header}{data}");
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("upload.csv");
        std::fs::write(&path, &text).unwrap();
        let mut windows = Windows::open(&path, 1 << 20).unwrap();
        windows.complete_at(text.len() as u64);
        assert_eq!(
            windows.header_line().unwrap(),
            Some(Some(header.as_bytes())),
            "{header:?}"
        );
        let Next::Rows(pieces, None) = windows.next_rows(3).unwrap() else {
            panic!("{header:?}: not cut with the quotes paired");
        };
        assert_eq!(pieces.concat(), data.as_bytes(), "{header:?}");
    }
}
