//! The JSON (and form) request bodies of both services, parsed as the server parses them:
//! no panic, and a body that parses, written again, parses to the same value.
#![no_main]
use libfuzzer_sys::fuzz_target;
use pushdata_core::veracity::wire as v;
use pushdata_core::wire as m;
use serde::Serialize;
use serde::de::DeserializeOwned;

fn json<T: DeserializeOwned + Serialize + PartialEq + std::fmt::Debug>(body: &[u8]) {
    if let Ok(value) = serde_json::from_slice::<T>(body) {
        let text = serde_json::to_vec(&value).expect("writes");
        let again: T = serde_json::from_slice(&text).unwrap_or_else(|e| {
            panic!(
                "{} written as {} does not parse: {e}",
                std::any::type_name::<T>(),
                String::from_utf8_lossy(&text)
            )
        });
        assert_eq!(value, again, "{}", String::from_utf8_lossy(&text));
    }
}

fn form<T: DeserializeOwned + Serialize + PartialEq + std::fmt::Debug>(body: &[u8]) {
    if let Ok(value) = serde_urlencoded::from_bytes::<T>(body)
        && let Ok(text) = serde_urlencoded::to_string(&value)
    {
        let again: T = serde_urlencoded::from_str(&text)
            .unwrap_or_else(|e| panic!("form {text} does not parse: {e}"));
        assert_eq!(value, again, "{text}");
    }
}

/// The chunk envelope borrows from the body.
fn chunk(body: &[u8]) {
    if let Ok(value) = serde_json::from_slice::<m::ChunkRequest<'_>>(body) {
        let text = serde_json::to_vec(&value).expect("writes");
        let again: m::ChunkRequest<'_> = serde_json::from_slice(&text)
            .unwrap_or_else(|e| panic!("{} does not parse: {e}", String::from_utf8_lossy(&text)));
        assert_eq!(value, again);
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&pick, body)) = data.split_first() else {
        return;
    };
    match pick % 14 {
        0 => json::<m::LoginRequest>(body),
        1 => form::<m::LoginRequest>(body),
        2 => json::<m::DatasetCreator>(body),
        3 => json::<m::TableCreator>(body),
        4 => json::<m::DatasetModel>(body),
        5 => json::<m::UploadSessionRequest>(body),
        6 => json::<m::CubeInstanceRequest>(body),
        7 => chunk(body),
        8 => json::<v::AddSchemaRequest>(body),
        9 => json::<v::AddSchemaVersionRequest>(body),
        10 => json::<v::CreateDatasetRequest>(body),
        11 => json::<v::UpdateDatasetRequest>(body),
        12 => json::<v::QueryRequest>(body),
        _ => form::<v::TokenRequest>(body),
    }
});
