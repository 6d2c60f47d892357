//! Lenient parsing and canonical writing of the wire types.
#![allow(clippy::unwrap_used)]

use bytes::Bytes;
use serde_json::json;

use super::*;

#[test]
fn data_types_parse_in_any_case_and_write_upper_case() {
    for dt in DataType::ALL {
        let canonical = dt.as_str();
        let lower = canonical.to_ascii_lowercase();
        let mut title = lower.clone();
        title[..1].make_ascii_uppercase();
        for spelling in [canonical.to_string(), lower, title] {
            let parsed: DataType = serde_json::from_value(json!(spelling)).unwrap();
            assert_eq!(parsed, *dt, "{spelling}");
            assert_eq!(serde_json::to_value(parsed).unwrap(), json!(canonical));
        }
    }
    for (spelling, dt) in [
        ("DateTime", DataType::DateTime),
        ("BigInteger", DataType::BigInteger),
        ("bigDecimal", DataType::BigDecimal),
        ("Boolean", DataType::Bool),
        (" string ", DataType::String),
    ] {
        assert_eq!(spelling.parse::<DataType>().unwrap(), dt, "{spelling}");
    }
}

#[test]
fn the_lossless_widenings_are_exactly_these() {
    use DataType as D;
    let mut widenings = Vec::new();
    for &to in D::ALL {
        for &from in D::ALL {
            if from != to && to.accepts_exactly(from) {
                widenings.push((from, to));
            }
        }
        assert!(to.accepts_exactly(to), "{to}");
    }
    assert_eq!(
        widenings,
        [
            (D::Integer, D::BigInteger),
            (D::Integer, D::Double),
            (D::Integer, D::BigDecimal),
            (D::BigInteger, D::BigDecimal),
            (D::Date, D::DateTime),
        ]
    );
}

#[test]
fn unknown_data_type_error_names_it_and_the_choices() {
    let e = serde_json::from_value::<DataType>(json!("VARCHAR")).unwrap_err();
    let text = e.to_string();
    assert!(text.contains("unknown data type \"VARCHAR\""), "{text}");
    assert!(text.contains("BIGDECIMAL"), "{text}");
}

#[test]
fn policies_parse_in_any_case_and_write_lower_case() {
    for (spelling, policy) in [
        ("add", UpdatePolicy::Add),
        ("ADD", UpdatePolicy::Add),
        ("Update", UpdatePolicy::Update),
        ("UPSERT", UpdatePolicy::Upsert),
        ("Replace", UpdatePolicy::Replace),
        ("replace", UpdatePolicy::Replace),
    ] {
        let parsed: UpdatePolicy = serde_json::from_value(json!(spelling)).unwrap();
        assert_eq!(parsed, policy, "{spelling}");
        assert_eq!(
            serde_json::to_value(parsed).unwrap(),
            json!(spelling.to_ascii_lowercase())
        );
    }
    assert!(serde_json::from_value::<UpdatePolicy>(json!("merge")).is_err());
}

#[test]
fn orientations_parse_in_any_case_and_write_upper_case() {
    for (spelling, o) in [
        ("row", Orientation::Row),
        ("Row", Orientation::Row),
        ("COLUMN", Orientation::Column),
        ("column", Orientation::Column),
    ] {
        let parsed: Orientation = serde_json::from_value(json!(spelling)).unwrap();
        assert_eq!(parsed, o);
        assert_eq!(
            serde_json::to_value(parsed).unwrap(),
            json!(spelling.to_ascii_uppercase())
        );
    }
    assert_eq!(Orientation::default(), Orientation::Row);
}

#[test]
fn chunk_index_is_a_number_or_a_string() {
    for v in [json!(7), json!("7"), json!(" 7 "), json!(7.0)] {
        let body = json!({"tableName": "t", "index": v, "data": "W10="});
        let bytes = serde_json::to_vec(&body).unwrap();
        let chunk: ChunkRequest = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(chunk.index, ChunkIndex(7), "{v}");
        let written = serde_json::to_value(&chunk).unwrap();
        assert_eq!(written["index"], json!(7));
    }
    for bad in [json!(-1), json!("x"), json!(1.5), json!(null)] {
        let body = json!({"tableName": "t", "index": bad, "data": "W10="});
        let bytes = serde_json::to_vec(&body).unwrap();
        let e = serde_json::from_slice::<ChunkRequest>(&bytes).unwrap_err();
        assert!(e.to_string().contains("index"), "{bad}: {e}");
    }
}

#[test]
fn publish_status_is_a_number_or_a_string() {
    for (v, state) in [
        (json!(1), PublishState::READY),
        (json!("1"), PublishState::READY),
        (json!(6), PublishState::RUNNING),
        (json!("6"), PublishState::RUNNING),
        (json!(3), PublishState::FAILED),
        (json!("-2"), PublishState(-2)),
    ] {
        let s: PublishStatus =
            serde_json::from_value(json!({"uploadSessionId": "S", "status": v})).unwrap();
        assert_eq!(s.status, state, "{v}");
        assert_eq!(s.message, "");
        assert_eq!(serde_json::to_value(&s).unwrap()["status"], json!(state.0));
    }
    assert!(PublishState::FAILED.is_failed());
    assert!(PublishState(-2).is_failed());
    assert!(!PublishState::RUNNING.is_failed());
    assert!(
        serde_json::from_value::<PublishStatus>(json!({"uploadSessionId": "S", "status": "done"}))
            .is_err()
    );
}

#[test]
fn login_mode_is_a_number_or_a_string() {
    for (v, mode) in [
        (json!(1), LoginMode::STANDARD),
        (json!("1"), LoginMode::STANDARD),
        (json!(16), LoginMode::LDAP),
        (json!("4096"), LoginMode::API_TOKEN),
        (json!(8), LoginMode::GUEST),
    ] {
        let r: LoginRequest = serde_json::from_value(json!({"loginMode": v})).unwrap();
        assert_eq!(r.login_mode, mode, "{v}");
        assert_eq!(
            serde_json::to_value(&r).unwrap(),
            json!({"loginMode": mode.0})
        );
    }
    let r: LoginRequest = serde_json::from_value(json!({})).unwrap();
    assert_eq!(r.login_mode, LoginMode::STANDARD);
    assert!(serde_json::from_value::<LoginRequest>(json!({"loginMode": "x"})).is_err());
    assert!(
        serde_json::from_value::<LoginRequest>(json!({"loginMode": 5_000_000_000u64})).is_err()
    );
}

#[test]
fn login_request_debug_hides_the_password() {
    let r: LoginRequest = serde_json::from_value(
        json!({"loginMode": 1, "username": "u", "password": "Tr0ub4dor&3-distinctive"}),
    )
    .unwrap();
    assert!(!format!("{r:?}").contains("Tr0ub4dor"));
    assert_eq!(
        serde_json::to_value(&r).unwrap()["password"],
        json!("Tr0ub4dor&3-distinctive")
    );
}

#[test]
fn error_body_with_iserver_code() {
    let text = r#"{"code":"ERR001","message":"Invalid column name 'Yeer' in table 'SALES'","ticketId":"9c3a0e6d5f2b4e8a","iServerCode":-2147072488}"#;
    let e: ErrorBody = serde_json::from_str(text).unwrap();
    assert_eq!(e.code.as_deref(), Some("ERR001"));
    assert_eq!(e.message, "Invalid column name 'Yeer' in table 'SALES'");
    assert_eq!(e.ticket_id.as_deref(), Some("9c3a0e6d5f2b4e8a"));
    assert_eq!(e.i_server_code, Some(-2147072488));
    assert_eq!(
        serde_json::to_value(&e).unwrap(),
        serde_json::from_str::<serde_json::Value>(text).unwrap()
    );

    let partial: ErrorBody = serde_json::from_str(r#"{"message":"m"}"#).unwrap();
    assert_eq!(partial.code, None);
    assert_eq!(partial.i_server_code, None);
    assert_eq!(
        serde_json::to_value(&partial).unwrap(),
        json!({"message": "m"})
    );
}

#[test]
fn chunk_body_writer_escapes_the_table_name() {
    let body = ChunkBody::from_base64("we\"ird \\ näme", 42, b"W1tudWxsXV0=");
    let bytes = body.to_bytes();
    let req: ChunkRequest = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(req.table_name, "we\"ird \\ näme");
    assert_eq!(req.index, ChunkIndex(42));
    assert_eq!(req.data, "W1tudWxsXV0=");
    assert_eq!(body.table_name(), "we\"ird \\ näme");
    assert_eq!(body.index(), 42);
    assert_eq!(body.len(), bytes.len());
    assert_eq!(body.data_len(), 12);
    assert!(!format!("{body:?}").contains("W1tudWxsXV0="));
}

#[test]
fn chunk_body_segments_join_to_the_body() {
    let pieces = vec![
        Bytes::from_static(b"W1sx"),
        Bytes::new(),
        Bytes::from_static(b"XSxb"),
        Bytes::from_static(b"Ml1d"),
    ];
    let body = ChunkBody::from_segments("t", 3, pieces);
    assert_eq!(body.data_len(), 12);
    assert_eq!(body.data().len(), 4);
    let joined: Vec<u8> = body.segments().flat_map(|s| s.to_vec()).collect();
    assert_eq!(joined, body.to_bytes().to_vec());
    assert_eq!(joined.len(), body.len());
    let req: ChunkRequest = serde_json::from_slice(&joined).unwrap();
    assert_eq!(req.data, "W1sxXSxbMl1d");
    assert_eq!(req.index, ChunkIndex(3));
}
