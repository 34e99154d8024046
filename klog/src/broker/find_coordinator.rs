//! FindCoordinator (Kafka's `KafkaApis.handleFindCoordinatorRequest`).
//!
//! This broker has no group or transaction coordinator yet, so every key is answered with
//! COORDINATOR_NOT_AVAILABLE, which clients treat as retriable — what Kafka answers while its
//! `__consumer_offsets` or `__transaction_state` topic is still being created. A key type other
//! than group (0), transaction (1) or, from v6, share (2) is INVALID_REQUEST, as Kafka's
//! `CoordinatorType.forId` refuses it. Versions 0–3 answer the single `key` at the top level;
//! from v4 (KIP-699) each of `coordinator_keys` gets its own entry.

use alloc::vec::Vec;

use kproto::messages::find_coordinator::response::Coordinator;
use kproto::messages::{FindCoordinatorRequest, FindCoordinatorResponse};
use kproto::{ErrorCode, KStr};

/// The answer to `req` at `version`, and the error code it carries once per key.
pub(crate) fn response(
    req: &FindCoordinatorRequest,
    version: i16,
) -> (FindCoordinatorResponse, Vec<ErrorCode>) {
    let known = match req.key_type {
        0 | 1 => true,
        2 => version >= 6,
        _ => false,
    };
    let error = if known {
        ErrorCode::CoordinatorNotAvailable
    } else {
        ErrorCode::InvalidRequest
    };
    let message = || Some(KStr::from(error.message()));
    let mut resp = FindCoordinatorResponse::default();
    if version < 4 {
        resp.node_id = -1;
        resp.port = -1;
        resp.error_code = error.code();
        if version >= 1 {
            resp.error_message = message();
        }
        return (resp, alloc::vec![error]);
    }
    resp.coordinators = req
        .coordinator_keys
        .iter()
        .map(|key| Coordinator {
            key: key.clone(),
            node_id: -1,
            host: KStr::from(""),
            port: -1,
            error_code: error.code(),
            error_message: message(),
            ..Coordinator::default()
        })
        .collect();
    let errors = resp.coordinators.iter().map(|_| error).collect();
    (resp, errors)
}
