//! Routes a decoded request to its API's handler (Kafka's `KafkaApis.handle`).

use alloc::boxed::Box;

use kproto::messages::{RequestHeader, ResponseBody};
use kproto::RequestBody;

use super::core::{Broker, ConnectionId, Handled};
use crate::storage::Storage;

/// Handles `body` (already checked to be enabled at `header.request_api_version`).
pub(crate) fn dispatch<S: Storage + Clone>(
    b: &mut Broker<S>,
    _conn: ConnectionId,
    header: &RequestHeader,
    body: RequestBody,
    now_ms: i64,
) -> Handled {
    let version = header.request_api_version;
    let corr = header.correlation_id;
    match body {
        RequestBody::ApiVersions(req) => {
            let resp =
                super::api_versions::response(&req, version, &b.cluster_id, b.config.node_id);
            b.metrics.error(
                kproto::ApiKey::ApiVersions.key(),
                kproto::ErrorCode::from_code(resp.error_code)
                    .unwrap_or(kproto::ErrorCode::UnknownServerError),
            );
            b.respond(corr, version, ResponseBody::ApiVersions(Box::new(resp)))
        }
        RequestBody::Produce(req) => {
            let (resp, failures) = b.handle_produce(&req, version, now_ms);
            if req.acks == 0 {
                return match failures.into_iter().next() {
                    None => Handled::NoResponse,
                    Some(f) => b.close(
                        _conn,
                        super::CloseReason::AcksZeroProduceFailed {
                            topic: f.topic,
                            partition: f.partition,
                            error: f.error,
                        },
                    ),
                };
            }
            b.respond(corr, version, ResponseBody::Produce(Box::new(resp)))
        }
        RequestBody::Metadata(req) => {
            let resp = b.handle_metadata(&req, version, now_ms);
            b.respond(corr, version, super::metadata::boxed_metadata(resp))
        }
        RequestBody::DescribeCluster(req) => {
            let resp = b.handle_describe_cluster(&req, version);
            b.respond(corr, version, ResponseBody::DescribeCluster(Box::new(resp)))
        }
        RequestBody::CreateTopics(req) => {
            let resp = b.handle_create_topics(&req, version, now_ms);
            b.respond(corr, version, resp)
        }
        RequestBody::DeleteTopics(req) => {
            let resp = b.handle_delete_topics(&req, version, now_ms);
            b.respond(corr, version, ResponseBody::DeleteTopics(Box::new(resp)))
        }
        RequestBody::CreatePartitions(req) => {
            let resp = b.handle_create_partitions(&req, now_ms);
            b.respond(
                corr,
                version,
                ResponseBody::CreatePartitions(Box::new(resp)),
            )
        }
        RequestBody::DescribeConfigs(req) => {
            let resp = b.handle_describe_configs(&req, version);
            b.respond(corr, version, ResponseBody::DescribeConfigs(Box::new(resp)))
        }
        RequestBody::IncrementalAlterConfigs(req) => {
            let resp = b.handle_incremental_alter_configs(&req);
            b.respond(
                corr,
                version,
                ResponseBody::IncrementalAlterConfigs(Box::new(resp)),
            )
        }
        RequestBody::AlterConfigs(req) => {
            let resp = b.handle_alter_configs(&req);
            b.respond(corr, version, ResponseBody::AlterConfigs(Box::new(resp)))
        }
        RequestBody::DeleteRecords(req) => {
            let resp = b.handle_delete_records(&req);
            b.respond(corr, version, ResponseBody::DeleteRecords(Box::new(resp)))
        }
        RequestBody::InitProducerId(req) => {
            let resp = b.handle_init_producer_id(&req);
            let code = kproto::ErrorCode::from_code(resp.error_code)
                .unwrap_or(kproto::ErrorCode::UnknownServerError);
            b.metrics.error(kproto::ApiKey::InitProducerId.key(), code);
            b.respond(corr, version, ResponseBody::InitProducerId(Box::new(resp)))
        }
        RequestBody::Fetch(req) => b.handle_fetch(_conn, corr, version, &req, now_ms),
        RequestBody::ListOffsets(req) => {
            let (resp, errors) = b.handle_list_offsets(&req, version);
            for e in errors {
                b.metrics.error(kproto::ApiKey::ListOffsets.key(), e);
            }
            b.respond(corr, version, ResponseBody::ListOffsets(Box::new(resp)))
        }
        RequestBody::OffsetForLeaderEpoch(req) => {
            let (resp, errors) = b.handle_offset_for_leader_epoch(&req);
            for e in errors {
                b.metrics
                    .error(kproto::ApiKey::OffsetForLeaderEpoch.key(), e);
            }
            b.respond(
                corr,
                version,
                ResponseBody::OffsetForLeaderEpoch(Box::new(resp)),
            )
        }
        RequestBody::FindCoordinator(req) => {
            let (resp, errors) = super::find_coordinator::response(&req, version);
            for e in errors {
                b.metrics.error(kproto::ApiKey::FindCoordinator.key(), e);
            }
            b.respond(corr, version, ResponseBody::FindCoordinator(Box::new(resp)))
        }
        other => {
            // versions::is_enabled lets through only the APIs matched above
            let key = other.api_key();
            b.close(
                _conn,
                super::CloseReason::NotEnabled {
                    api_key: key,
                    version,
                },
            )
        }
    }
}
