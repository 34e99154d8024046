//! InitProducerId for idempotent producers (Kafka's `KafkaApis.handleInitProducerIdRequest` →
//! `TransactionCoordinator.handleInitProducerId` → `ProducerIdManager.generateProducerId`).
//!
//! Producer ids come in blocks of [`PRODUCER_ID_BLOCK_SIZE`], as Kafka's controller hands them
//! out (`ProducerIdsRecord`): the next block's start is persisted in the cluster metadata file
//! before any id of the block is given out, so an id is never given twice, across restarts and
//! crashes (a restart skips the rest of the block it had, as Kafka's broker does).
//!
//! - No transactional id: a fresh producer id with epoch 0, whatever `producer_id` and
//!   `producer_epoch` the request carries (KIP-360's bump is answered with a new id, as Kafka
//!   does for a producer without a transactional id). One of them −1 and the other not is
//!   INVALID_REQUEST, as Kafka checks.
//! - An empty transactional id is INVALID_REQUEST (Kafka's coordinator refuses it).
//! - A transactional id: COORDINATOR_NOT_AVAILABLE. This broker has no transaction coordinator
//!   yet; that is what Kafka answers while `__transaction_state` is not loaded, and a
//!   transactional client already sees it from FindCoordinator.
//! - The metadata file cannot be written: KAFKA_STORAGE_ERROR, and no id is given out.

use alloc::format;

use kproto::messages::{InitProducerIdRequest, InitProducerIdResponse};
use kproto::ErrorCode;

use super::core::Broker;
use super::BrokerEvent;
use crate::storage::Storage;

/// Producer ids per block (Kafka's `ProducerIdsBlock.PRODUCER_ID_BLOCK_SIZE`).
pub const PRODUCER_ID_BLOCK_SIZE: i64 = 1000;

/// The ids of the current block still to give out: `next..end`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct ProducerIdBlock {
    pub(crate) next: i64,
    pub(crate) end: i64,
}

impl<S: Storage + Clone> Broker<S> {
    /// Answers InitProducerId.
    pub(crate) fn handle_init_producer_id(
        &mut self,
        req: &InitProducerIdRequest,
    ) -> InitProducerIdResponse {
        let fail = |e: ErrorCode| InitProducerIdResponse {
            error_code: e.code(),
            producer_id: -1,
            producer_epoch: -1,
            ongoing_txn_producer_id: -1,
            ongoing_txn_producer_epoch: -1,
            ..InitProducerIdResponse::default()
        };
        if (req.producer_id == -1) != (req.producer_epoch == -1) {
            return fail(ErrorCode::InvalidRequest);
        }
        match req.transactional_id.as_deref() {
            None => {}
            Some("") => return fail(ErrorCode::InvalidRequest),
            Some(_) => return fail(ErrorCode::CoordinatorNotAvailable),
        }
        if self.producer_ids.next >= self.producer_ids.end {
            let start = self.meta.producer_ids_next;
            let Some(end) = start.checked_add(PRODUCER_ID_BLOCK_SIZE) else {
                return fail(ErrorCode::UnknownServerError);
            };
            self.meta.producer_ids_next = end;
            if let Err(e) = self.meta.store(self.logs.storage_mut()) {
                self.meta.producer_ids_next = start;
                self.events.push_back(BrokerEvent::MetadataWriteFailed {
                    error: format!("allocating producer id block {start}..{end}: {e}"),
                });
                return fail(ErrorCode::KafkaStorageError);
            }
            self.producer_ids = ProducerIdBlock { next: start, end };
        }
        let id = self.producer_ids.next;
        self.producer_ids.next += 1;
        InitProducerIdResponse {
            producer_id: id,
            producer_epoch: 0,
            ongoing_txn_producer_id: -1,
            ongoing_txn_producer_epoch: -1,
            ..InitProducerIdResponse::default()
        }
    }
}
