//! ApiVersions (key 18), as Kafka 4.4.0's `KafkaApis.handleApiVersionsRequest`:
//! an unknown version gets UNSUPPORTED_VERSION in the v0 layout listing ApiVersions' own range
//! (KIP-511, so the client retries with a version both know); a v3+ request whose client
//! software name or version does not match `[a-zA-Z0-9](?:[a-zA-Z0-9\-.]*[a-zA-Z0-9])?`, or a v5
//! request with only one of cluster id and node id, gets INVALID_REQUEST; a v5 request naming
//! another cluster or node gets REBOOTSTRAP_REQUIRED (KIP-1242); otherwise every served API
//! with its advertised range.
//!
//! Deviation: no feature levels are advertised (`SupportedFeatures` and `FinalizedFeatures`
//! empty, `FinalizedFeaturesEpoch` -1): this broker has no KRaft metadata log whose
//! `metadata.version` or `transaction.version` it could report. Clients treat an empty list
//! as a broker without those features.

use alloc::vec::Vec;

use kproto::messages::api_versions::response::ApiVersion;
use kproto::messages::{ApiVersionsRequest, ApiVersionsResponse, ResponseBody};
use kproto::{ApiKey, ErrorCode};

use super::versions::{self, SERVED_APIS};

/// Whether ApiVersions at `version` is answered in full (else UNSUPPORTED_VERSION, v0 layout).
pub(crate) fn is_supported(version: i16) -> bool {
    versions::served(ApiKey::ApiVersions).is_some_and(|a| a.min <= version && version <= a.max)
}

fn api_versions_entry() -> ApiVersion {
    let a = versions::served(ApiKey::ApiVersions).expect("ApiVersions is served");
    ApiVersion {
        api_key: a.key.key(),
        min_version: a.advertised_min,
        max_version: a.max,
        ..ApiVersion::default()
    }
}

/// The KIP-511 answer to an ApiVersions version the broker does not know (sent at v0).
pub(crate) fn unsupported_version_response() -> ResponseBody {
    ResponseBody::ApiVersions(alloc::boxed::Box::new(ApiVersionsResponse {
        error_code: ErrorCode::UnsupportedVersion.code(),
        api_keys: alloc::vec![api_versions_entry()],
        ..ApiVersionsResponse::default()
    }))
}

/// Kafka's `SOFTWARE_NAME_VERSION_PATTERN`: `[a-zA-Z0-9](?:[a-zA-Z0-9\-.]*[a-zA-Z0-9])?`.
fn valid_software_text(s: &str) -> bool {
    let b = s.as_bytes();
    let edge = |c: &u8| c.is_ascii_alphanumeric();
    let inner = |c: &u8| c.is_ascii_alphanumeric() || *c == b'-' || *c == b'.';
    match b {
        [] => false,
        [one] => edge(one),
        [first, middle @ .., last] => edge(first) && edge(last) && middle.iter().all(inner),
    }
}

/// The answer to a supported ApiVersions request at `version`.
pub(crate) fn response(
    req: &ApiVersionsRequest,
    version: i16,
    cluster_id: &str,
    node_id: i32,
) -> ApiVersionsResponse {
    let error = |code: ErrorCode| ApiVersionsResponse {
        error_code: code.code(),
        ..ApiVersionsResponse::default()
    };
    if version >= 5 && (req.cluster_id.is_none() != (req.node_id == -1)) {
        return error(ErrorCode::InvalidRequest);
    }
    if version >= 3
        && !(valid_software_text(&req.client_software_name)
            && valid_software_text(&req.client_software_version))
    {
        return error(ErrorCode::InvalidRequest);
    }
    if version >= 5 {
        if let Some(c) = &req.cluster_id {
            if c.as_str() != cluster_id || req.node_id != node_id {
                return error(ErrorCode::RebootstrapRequired);
            }
        }
    }
    let api_keys: Vec<ApiVersion> = SERVED_APIS
        .iter()
        .map(|a| ApiVersion {
            api_key: a.key.key(),
            min_version: a.advertised_min,
            max_version: a.max,
            ..ApiVersion::default()
        })
        .collect();
    ApiVersionsResponse {
        error_code: ErrorCode::None.code(),
        api_keys,
        finalized_features_epoch: -1,
        ..ApiVersionsResponse::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn software_names_as_kafkas_pattern() {
        for ok in ["a", "apache-kafka-java", "4.4.0", "librdkafka", "x1.y-z"] {
            assert!(valid_software_text(ok), "{ok}");
        }
        for bad in ["", "-a", "a-", ".", "a b", "kafka_python", "ü"] {
            assert!(!valid_software_text(bad), "{bad}");
        }
    }
}
