//! Kafka's error codes: every code Apache Kafka 4.4.0 defines in
//! `org.apache.kafka.common.protocol.Errors`, by name.
//!
//! The table below is Kafka 4.4.0's `Errors.values()`: code, Kafka's `UPPER_SNAKE` name,
//! whether the exception Kafka raises for it is a `RetriableException`, and Kafka's default
//! message (the doc comment of each variant). Codes Kafka has not assigned are not
//! representable: [`ErrorCode::from_code`] returns `None` for them, and Kafka's own clients
//! treat such a code as `UNKNOWN_SERVER_ERROR`.
//!
//! ```
//! use kproto::ErrorCode;
//!
//! assert_eq!(ErrorCode::UnknownTopicOrPartition.code(), 3);
//! assert_eq!(ErrorCode::from_code(3), Some(ErrorCode::UnknownTopicOrPartition));
//! assert_eq!(ErrorCode::UnknownTopicOrPartition.name(), "UNKNOWN_TOPIC_OR_PARTITION");
//! assert!(ErrorCode::UnknownTopicOrPartition.is_retriable());
//! assert!(!ErrorCode::InvalidProducerEpoch.is_retriable());
//! assert_eq!(ErrorCode::from_code(i16::MAX), None);
//! ```

use core::fmt;

macro_rules! error_codes {
    ($($variant:ident = $code:literal, $name:literal, $kind:ident, $message:literal;)*) => {
        /// A Kafka error code, as carried in the `ErrorCode` fields of responses.
        ///
        /// The discriminant is the code on the wire ([`ErrorCode::code`]). New Kafka releases
        /// add codes, so the enum is `#[non_exhaustive]`.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[repr(i16)]
        #[non_exhaustive]
        pub enum ErrorCode {
            $(
                #[doc = $message]
                #[doc = ""]
                #[doc = concat!("Kafka: `", $name, "` (", stringify!($code), "), ", error_codes!(@kind $kind), ".")]
                $variant = $code,
            )*
        }

        impl ErrorCode {
            /// Every error code Kafka 4.4.0 defines, in Kafka's order (ascending code).
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$variant),*];

            /// The error code for a code read from the wire, or `None` for a code Kafka
            /// 4.4.0 does not define.
            pub const fn from_code(code: i16) -> Option<ErrorCode> {
                match code {
                    $($code => Some(ErrorCode::$variant),)*
                    _ => None,
                }
            }

            /// Kafka's name for this error (`Errors.name()`), e.g. `"NOT_LEADER_OR_FOLLOWER"`.
            pub const fn name(self) -> &'static str {
                match self {
                    $(ErrorCode::$variant => $name,)*
                }
            }

            /// Kafka's default message for this error (`Errors.message()`); `"No error."` for
            /// [`ErrorCode::None`].
            pub const fn message(self) -> &'static str {
                match self {
                    $(ErrorCode::$variant => $message,)*
                }
            }

            /// Whether Kafka's exception for this error is a `RetriableException`: a client
            /// may retry the request and expect it to succeed eventually.
            pub const fn is_retriable(self) -> bool {
                match self {
                    $(ErrorCode::$variant => error_codes!(@retriable $kind),)*
                }
            }
        }
    };
    (@kind retriable) => { "retriable" };
    (@kind fatal) => { "not retriable" };
    (@retriable retriable) => { true };
    (@retriable fatal) => { false };
}

error_codes! {
    UnknownServerError = -1, "UNKNOWN_SERVER_ERROR", fatal, "The server experienced an unexpected error when processing the request.";
    None = 0, "NONE", fatal, "No error.";
    OffsetOutOfRange = 1, "OFFSET_OUT_OF_RANGE", fatal, "The requested offset is not within the range of offsets maintained by the server.";
    CorruptMessage = 2, "CORRUPT_MESSAGE", retriable, "This message has failed its CRC checksum, exceeds the valid size, has a null key for a compacted topic, or is otherwise corrupt.";
    UnknownTopicOrPartition = 3, "UNKNOWN_TOPIC_OR_PARTITION", retriable, "This server does not host this topic-partition.";
    InvalidFetchSize = 4, "INVALID_FETCH_SIZE", fatal, "The requested fetch size is invalid.";
    LeaderNotAvailable = 5, "LEADER_NOT_AVAILABLE", retriable, "There is no leader for this topic-partition as we are in the middle of a leadership election.";
    NotLeaderOrFollower = 6, "NOT_LEADER_OR_FOLLOWER", retriable, "For requests intended only for the leader, this error indicates that the broker is not the current leader. For requests intended for any replica, this error indicates that the broker is not a replica of the topic partition.";
    RequestTimedOut = 7, "REQUEST_TIMED_OUT", retriable, "The request timed out.";
    BrokerNotAvailable = 8, "BROKER_NOT_AVAILABLE", fatal, "The broker is not available.";
    ReplicaNotAvailable = 9, "REPLICA_NOT_AVAILABLE", retriable, "The replica is not available for the requested topic-partition. Produce/Fetch requests and other requests intended only for the leader or follower return NOT_LEADER_OR_FOLLOWER if the broker is not a replica of the topic-partition.";
    MessageTooLarge = 10, "MESSAGE_TOO_LARGE", fatal, "The request included a message larger than the max message size the server will accept.";
    StaleControllerEpoch = 11, "STALE_CONTROLLER_EPOCH", fatal, "The controller moved to another broker.";
    OffsetMetadataTooLarge = 12, "OFFSET_METADATA_TOO_LARGE", fatal, "The metadata field of the offset request was too large.";
    NetworkException = 13, "NETWORK_EXCEPTION", retriable, "The server disconnected before a response was received.";
    CoordinatorLoadInProgress = 14, "COORDINATOR_LOAD_IN_PROGRESS", retriable, "The coordinator is loading and hence can't process requests.";
    CoordinatorNotAvailable = 15, "COORDINATOR_NOT_AVAILABLE", retriable, "The coordinator is not available.";
    NotCoordinator = 16, "NOT_COORDINATOR", retriable, "This is not the correct coordinator.";
    InvalidTopicException = 17, "INVALID_TOPIC_EXCEPTION", fatal, "The request attempted to perform an operation on an invalid topic.";
    RecordListTooLarge = 18, "RECORD_LIST_TOO_LARGE", fatal, "The request included message batch larger than the configured segment size on the server.";
    NotEnoughReplicas = 19, "NOT_ENOUGH_REPLICAS", retriable, "Messages are rejected since there are fewer in-sync replicas than required.";
    NotEnoughReplicasAfterAppend = 20, "NOT_ENOUGH_REPLICAS_AFTER_APPEND", retriable, "Messages are written to the log, but to fewer in-sync replicas than required.";
    InvalidRequiredAcks = 21, "INVALID_REQUIRED_ACKS", fatal, "Produce request specified an invalid value for required acks.";
    IllegalGeneration = 22, "ILLEGAL_GENERATION", fatal, "Specified group generation id is not valid.";
    InconsistentGroupProtocol = 23, "INCONSISTENT_GROUP_PROTOCOL", fatal, "The group member's supported protocols are incompatible with those of existing members or first group member tried to join with empty protocol type or empty protocol list.";
    InvalidGroupId = 24, "INVALID_GROUP_ID", fatal, "The group id is invalid.";
    UnknownMemberId = 25, "UNKNOWN_MEMBER_ID", fatal, "The coordinator is not aware of this member.";
    InvalidSessionTimeout = 26, "INVALID_SESSION_TIMEOUT", fatal, "The session timeout is not within the range allowed by the broker (as configured by group.min.session.timeout.ms and group.max.session.timeout.ms).";
    RebalanceInProgress = 27, "REBALANCE_IN_PROGRESS", fatal, "The group is rebalancing, so a rejoin is needed.";
    InvalidCommitOffsetSize = 28, "INVALID_COMMIT_OFFSET_SIZE", fatal, "The committing offset data size is not valid.";
    TopicAuthorizationFailed = 29, "TOPIC_AUTHORIZATION_FAILED", fatal, "Topic authorization failed.";
    GroupAuthorizationFailed = 30, "GROUP_AUTHORIZATION_FAILED", fatal, "Group authorization failed.";
    ClusterAuthorizationFailed = 31, "CLUSTER_AUTHORIZATION_FAILED", fatal, "Cluster authorization failed.";
    InvalidTimestamp = 32, "INVALID_TIMESTAMP", fatal, "The timestamp of the message is out of acceptable range.";
    UnsupportedSaslMechanism = 33, "UNSUPPORTED_SASL_MECHANISM", fatal, "The broker does not support the requested SASL mechanism.";
    IllegalSaslState = 34, "ILLEGAL_SASL_STATE", fatal, "Request is not valid given the current SASL state.";
    UnsupportedVersion = 35, "UNSUPPORTED_VERSION", fatal, "The version of API is not supported.";
    TopicAlreadyExists = 36, "TOPIC_ALREADY_EXISTS", fatal, "Topic with this name already exists.";
    InvalidPartitions = 37, "INVALID_PARTITIONS", fatal, "Number of partitions is below 1.";
    InvalidReplicationFactor = 38, "INVALID_REPLICATION_FACTOR", fatal, "Replication factor is below 1 or larger than the number of available brokers.";
    InvalidReplicaAssignment = 39, "INVALID_REPLICA_ASSIGNMENT", fatal, "Replica assignment is invalid.";
    InvalidConfig = 40, "INVALID_CONFIG", fatal, "Configuration is invalid.";
    NotController = 41, "NOT_CONTROLLER", retriable, "This is not the correct controller for this cluster.";
    InvalidRequest = 42, "INVALID_REQUEST", fatal, "This most likely occurs because of a request being malformed by the client library or the message was sent to an incompatible broker. See the broker logs for more details.";
    UnsupportedForMessageFormat = 43, "UNSUPPORTED_FOR_MESSAGE_FORMAT", fatal, "The message format version on the broker does not support the request.";
    PolicyViolation = 44, "POLICY_VIOLATION", fatal, "Request parameters do not satisfy the configured policy.";
    OutOfOrderSequenceNumber = 45, "OUT_OF_ORDER_SEQUENCE_NUMBER", fatal, "The broker received an out of order sequence number.";
    DuplicateSequenceNumber = 46, "DUPLICATE_SEQUENCE_NUMBER", fatal, "The broker received a duplicate sequence number.";
    InvalidProducerEpoch = 47, "INVALID_PRODUCER_EPOCH", fatal, "Producer attempted to produce with an old epoch.";
    InvalidTxnState = 48, "INVALID_TXN_STATE", fatal, "The producer attempted a transactional operation in an invalid state.";
    InvalidProducerIdMapping = 49, "INVALID_PRODUCER_ID_MAPPING", fatal, "The producer attempted to use a producer id which is not currently assigned to its transactional id.";
    InvalidTransactionTimeout = 50, "INVALID_TRANSACTION_TIMEOUT", fatal, "The transaction timeout is larger than the maximum value allowed by the broker (as configured by transaction.max.timeout.ms).";
    ConcurrentTransactions = 51, "CONCURRENT_TRANSACTIONS", retriable, "The producer attempted to update a transaction while another concurrent operation on the same transaction was ongoing.";
    TransactionCoordinatorFenced = 52, "TRANSACTION_COORDINATOR_FENCED", fatal, "Indicates that the transaction coordinator sending a WriteTxnMarker is no longer the current coordinator for a given producer.";
    TransactionalIdAuthorizationFailed = 53, "TRANSACTIONAL_ID_AUTHORIZATION_FAILED", fatal, "Transactional Id authorization failed.";
    SecurityDisabled = 54, "SECURITY_DISABLED", fatal, "Security features are disabled.";
    OperationNotAttempted = 55, "OPERATION_NOT_ATTEMPTED", fatal, "The broker did not attempt to execute this operation. This may happen for batched RPCs where some operations in the batch failed, causing the broker to respond without trying the rest.";
    KafkaStorageError = 56, "KAFKA_STORAGE_ERROR", retriable, "Disk error when trying to access log file on the disk.";
    LogDirNotFound = 57, "LOG_DIR_NOT_FOUND", fatal, "The user-specified log directory is not found in the broker config.";
    SaslAuthenticationFailed = 58, "SASL_AUTHENTICATION_FAILED", fatal, "SASL Authentication failed.";
    UnknownProducerId = 59, "UNKNOWN_PRODUCER_ID", fatal, "This exception is raised by the broker if it could not locate the producer metadata associated with the producerId in question. This could happen if, for instance, the producer's records were deleted because their retention time had elapsed. Once the last records of the producerId are removed, the producer's metadata is removed from the broker, and future appends by the producer will return this exception.";
    ReassignmentInProgress = 60, "REASSIGNMENT_IN_PROGRESS", fatal, "A partition reassignment is in progress.";
    DelegationTokenAuthDisabled = 61, "DELEGATION_TOKEN_AUTH_DISABLED", fatal, "Delegation Token feature is not enabled.";
    DelegationTokenNotFound = 62, "DELEGATION_TOKEN_NOT_FOUND", fatal, "Delegation Token is not found on server.";
    DelegationTokenOwnerMismatch = 63, "DELEGATION_TOKEN_OWNER_MISMATCH", fatal, "Specified Principal is not valid Owner/Renewer.";
    DelegationTokenRequestNotAllowed = 64, "DELEGATION_TOKEN_REQUEST_NOT_ALLOWED", fatal, "Delegation Token requests are not allowed on PLAINTEXT/1-way SSL channels and on delegation token authenticated channels.";
    DelegationTokenAuthorizationFailed = 65, "DELEGATION_TOKEN_AUTHORIZATION_FAILED", fatal, "Delegation Token authorization failed.";
    DelegationTokenExpired = 66, "DELEGATION_TOKEN_EXPIRED", fatal, "Delegation Token is expired.";
    InvalidPrincipalType = 67, "INVALID_PRINCIPAL_TYPE", fatal, "Supplied principalType is not supported.";
    NonEmptyGroup = 68, "NON_EMPTY_GROUP", fatal, "The group is not empty.";
    GroupIdNotFound = 69, "GROUP_ID_NOT_FOUND", fatal, "The group id does not exist.";
    FetchSessionIdNotFound = 70, "FETCH_SESSION_ID_NOT_FOUND", retriable, "The fetch session ID was not found.";
    InvalidFetchSessionEpoch = 71, "INVALID_FETCH_SESSION_EPOCH", retriable, "The fetch session epoch is invalid.";
    ListenerNotFound = 72, "LISTENER_NOT_FOUND", retriable, "There is no listener on the leader broker that matches the listener on which metadata request was processed.";
    TopicDeletionDisabled = 73, "TOPIC_DELETION_DISABLED", fatal, "Topic deletion is disabled.";
    FencedLeaderEpoch = 74, "FENCED_LEADER_EPOCH", retriable, "The leader epoch in the request is older than the epoch on the broker.";
    UnknownLeaderEpoch = 75, "UNKNOWN_LEADER_EPOCH", retriable, "The leader epoch in the request is newer than the epoch on the broker.";
    UnsupportedCompressionType = 76, "UNSUPPORTED_COMPRESSION_TYPE", fatal, "The requesting client does not support the compression type of given partition.";
    StaleBrokerEpoch = 77, "STALE_BROKER_EPOCH", fatal, "Broker epoch has changed.";
    OffsetNotAvailable = 78, "OFFSET_NOT_AVAILABLE", retriable, "The leader high watermark has not caught up from a recent leader election so the offsets cannot be guaranteed to be monotonically increasing.";
    MemberIdRequired = 79, "MEMBER_ID_REQUIRED", fatal, "The group member needs to have a valid member id before actually entering a consumer group.";
    PreferredLeaderNotAvailable = 80, "PREFERRED_LEADER_NOT_AVAILABLE", retriable, "The preferred leader was not available.";
    GroupMaxSizeReached = 81, "GROUP_MAX_SIZE_REACHED", fatal, "The group has reached its maximum size.";
    FencedInstanceId = 82, "FENCED_INSTANCE_ID", fatal, "The broker rejected this static consumer since another consumer with the same group.instance.id has registered with a different member.id.";
    EligibleLeadersNotAvailable = 83, "ELIGIBLE_LEADERS_NOT_AVAILABLE", retriable, "Eligible topic partition leaders are not available.";
    ElectionNotNeeded = 84, "ELECTION_NOT_NEEDED", retriable, "Leader election not needed for topic partition.";
    NoReassignmentInProgress = 85, "NO_REASSIGNMENT_IN_PROGRESS", fatal, "No partition reassignment is in progress.";
    GroupSubscribedToTopic = 86, "GROUP_SUBSCRIBED_TO_TOPIC", fatal, "Deleting offsets of a topic is forbidden while the consumer group is actively subscribed to it.";
    InvalidRecord = 87, "INVALID_RECORD", fatal, "This record has failed the validation on broker and hence will be rejected.";
    UnstableOffsetCommit = 88, "UNSTABLE_OFFSET_COMMIT", retriable, "There are unstable offsets that need to be cleared.";
    ThrottlingQuotaExceeded = 89, "THROTTLING_QUOTA_EXCEEDED", retriable, "The throttling quota has been exceeded.";
    ProducerFenced = 90, "PRODUCER_FENCED", fatal, "There is a newer producer with the same transactionalId which fences the current one.";
    ResourceNotFound = 91, "RESOURCE_NOT_FOUND", fatal, "A request illegally referred to a resource that does not exist.";
    DuplicateResource = 92, "DUPLICATE_RESOURCE", fatal, "A request illegally referred to the same resource twice.";
    UnacceptableCredential = 93, "UNACCEPTABLE_CREDENTIAL", fatal, "Requested credential would not meet criteria for acceptability.";
    InconsistentVoterSet = 94, "INCONSISTENT_VOTER_SET", fatal, "Indicates that the either the sender or recipient of a voter-only request is not one of the expected voters.";
    InvalidUpdateVersion = 95, "INVALID_UPDATE_VERSION", fatal, "The given update version was invalid.";
    FeatureUpdateFailed = 96, "FEATURE_UPDATE_FAILED", fatal, "Unable to update finalized features due to an unexpected server error.";
    PrincipalDeserializationFailure = 97, "PRINCIPAL_DESERIALIZATION_FAILURE", fatal, "Request principal deserialization failed during forwarding. This indicates an internal error on the broker cluster security setup.";
    SnapshotNotFound = 98, "SNAPSHOT_NOT_FOUND", fatal, "Requested snapshot was not found.";
    PositionOutOfRange = 99, "POSITION_OUT_OF_RANGE", fatal, "Requested position is not greater than or equal to zero, and less than the size of the snapshot.";
    UnknownTopicId = 100, "UNKNOWN_TOPIC_ID", retriable, "This server does not host this topic ID.";
    DuplicateBrokerRegistration = 101, "DUPLICATE_BROKER_REGISTRATION", fatal, "This broker ID is already in use.";
    BrokerIdNotRegistered = 102, "BROKER_ID_NOT_REGISTERED", fatal, "The given broker ID was not registered.";
    InconsistentTopicId = 103, "INCONSISTENT_TOPIC_ID", retriable, "The log's topic ID did not match the topic ID in the request.";
    InconsistentClusterId = 104, "INCONSISTENT_CLUSTER_ID", fatal, "The clusterId in the request does not match that found on the server.";
    TransactionalIdNotFound = 105, "TRANSACTIONAL_ID_NOT_FOUND", fatal, "The transactionalId could not be found.";
    FetchSessionTopicIdError = 106, "FETCH_SESSION_TOPIC_ID_ERROR", retriable, "The fetch session encountered inconsistent topic ID usage.";
    IneligibleReplica = 107, "INELIGIBLE_REPLICA", fatal, "The new ISR contains at least one ineligible replica.";
    NewLeaderElected = 108, "NEW_LEADER_ELECTED", fatal, "The AlterPartition request successfully updated the partition state but the leader has changed.";
    OffsetMovedToTieredStorage = 109, "OFFSET_MOVED_TO_TIERED_STORAGE", fatal, "The requested offset is moved to tiered storage.";
    FencedMemberEpoch = 110, "FENCED_MEMBER_EPOCH", fatal, "The member epoch is fenced by the group coordinator. The member must abandon all its partitions and rejoin.";
    UnreleasedInstanceId = 111, "UNRELEASED_INSTANCE_ID", fatal, "The instance ID is still used by another member in the consumer group. That member must leave first.";
    UnsupportedAssignor = 112, "UNSUPPORTED_ASSIGNOR", fatal, "The assignor or its version range is not supported by the consumer group.";
    StaleMemberEpoch = 113, "STALE_MEMBER_EPOCH", fatal, "The member epoch is stale. The member must retry after receiving its updated member epoch via the ConsumerGroupHeartbeat API.";
    MismatchedEndpointType = 114, "MISMATCHED_ENDPOINT_TYPE", fatal, "The request was sent to an endpoint of the wrong type.";
    UnsupportedEndpointType = 115, "UNSUPPORTED_ENDPOINT_TYPE", fatal, "This endpoint type is not supported yet.";
    UnknownControllerId = 116, "UNKNOWN_CONTROLLER_ID", fatal, "This controller ID is not known.";
    UnknownSubscriptionId = 117, "UNKNOWN_SUBSCRIPTION_ID", fatal, "Client sent a push telemetry request with an invalid or outdated subscription ID.";
    TelemetryTooLarge = 118, "TELEMETRY_TOO_LARGE", fatal, "Client sent a push telemetry request larger than the maximum size the broker will accept.";
    InvalidRegistration = 119, "INVALID_REGISTRATION", fatal, "The controller has considered the broker registration to be invalid.";
    TransactionAbortable = 120, "TRANSACTION_ABORTABLE", fatal, "The server encountered an error with the transaction. The client can abort the transaction to continue using this transactional ID.";
    InvalidRecordState = 121, "INVALID_RECORD_STATE", fatal, "The record state is invalid. The acknowledgement of delivery could not be completed.";
    ShareSessionNotFound = 122, "SHARE_SESSION_NOT_FOUND", retriable, "The share session was not found.";
    InvalidShareSessionEpoch = 123, "INVALID_SHARE_SESSION_EPOCH", retriable, "The share session epoch is invalid.";
    FencedStateEpoch = 124, "FENCED_STATE_EPOCH", fatal, "The coordinator rejected the request because the state epoch did not match.";
    InvalidVoterKey = 125, "INVALID_VOTER_KEY", fatal, "The voter key doesn't match the receiving replica's key.";
    DuplicateVoter = 126, "DUPLICATE_VOTER", fatal, "The voter is already part of the set of voters.";
    VoterNotFound = 127, "VOTER_NOT_FOUND", fatal, "The voter is not part of the set of voters.";
    InvalidRegularExpression = 128, "INVALID_REGULAR_EXPRESSION", fatal, "The regular expression is not valid.";
    RebootstrapRequired = 129, "REBOOTSTRAP_REQUIRED", fatal, "Client metadata is stale. The client should rebootstrap to obtain new metadata.";
    StreamsInvalidTopology = 130, "STREAMS_INVALID_TOPOLOGY", fatal, "The supplied topology is invalid.";
    StreamsInvalidTopologyEpoch = 131, "STREAMS_INVALID_TOPOLOGY_EPOCH", fatal, "The supplied topology epoch is invalid.";
    StreamsTopologyFenced = 132, "STREAMS_TOPOLOGY_FENCED", fatal, "The supplied topology epoch is outdated.";
    ShareSessionLimitReached = 133, "SHARE_SESSION_LIMIT_REACHED", retriable, "The limit of share sessions has been reached.";
    GroupDeletionFailed = 134, "GROUP_DELETION_FAILED", fatal, "DeleteGroups could not complete; see the error message on the per-group result for details.";
    StreamsTopologyDescriptionUpdateFailed = 135, "STREAMS_TOPOLOGY_DESCRIPTION_UPDATE_FAILED", fatal, "The broker could not process the topology description update; see the error message for details.";
    ControllerIdNotRegistered = 136, "CONTROLLER_ID_NOT_REGISTERED", fatal, "The given controller ID was not registered.";
}

impl ErrorCode {
    /// The code on the wire.
    pub const fn code(self) -> i16 {
        self as i16
    }

    /// Whether this is [`ErrorCode::None`] (code 0): the operation succeeded.
    pub const fn is_none(self) -> bool {
        matches!(self, ErrorCode::None)
    }
}

impl From<ErrorCode> for i16 {
    fn from(e: ErrorCode) -> i16 {
        e.code()
    }
}

/// A code that Kafka 4.4.0 does not define.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("unknown Kafka error code {0}")]
pub struct UnknownErrorCode(pub i16);

impl TryFrom<i16> for ErrorCode {
    type Error = UnknownErrorCode;

    fn try_from(code: i16) -> Result<ErrorCode, UnknownErrorCode> {
        ErrorCode::from_code(code).ok_or(UnknownErrorCode(code))
    }
}

impl fmt::Display for ErrorCode {
    /// Kafka's name and code, e.g. `NOT_LEADER_OR_FOLLOWER (6)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.name(), self.code())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::collections::BTreeSet;
    use alloc::format;

    #[test]
    fn known_codes() {
        use ErrorCode as E;
        let known = [
            (-1, E::UnknownServerError, "UNKNOWN_SERVER_ERROR", false),
            (0, E::None, "NONE", false),
            (1, E::OffsetOutOfRange, "OFFSET_OUT_OF_RANGE", false),
            (2, E::CorruptMessage, "CORRUPT_MESSAGE", true),
            (
                3,
                E::UnknownTopicOrPartition,
                "UNKNOWN_TOPIC_OR_PARTITION",
                true,
            ),
            (6, E::NotLeaderOrFollower, "NOT_LEADER_OR_FOLLOWER", true),
            (7, E::RequestTimedOut, "REQUEST_TIMED_OUT", true),
            (10, E::MessageTooLarge, "MESSAGE_TOO_LARGE", false),
            (19, E::NotEnoughReplicas, "NOT_ENOUGH_REPLICAS", true),
            (35, E::UnsupportedVersion, "UNSUPPORTED_VERSION", false),
            (
                45,
                E::OutOfOrderSequenceNumber,
                "OUT_OF_ORDER_SEQUENCE_NUMBER",
                false,
            ),
            (
                46,
                E::DuplicateSequenceNumber,
                "DUPLICATE_SEQUENCE_NUMBER",
                false,
            ),
            (47, E::InvalidProducerEpoch, "INVALID_PRODUCER_EPOCH", false),
            (48, E::InvalidTxnState, "INVALID_TXN_STATE", false),
            (
                51,
                E::ConcurrentTransactions,
                "CONCURRENT_TRANSACTIONS",
                true,
            ),
            (56, E::KafkaStorageError, "KAFKA_STORAGE_ERROR", true),
            (59, E::UnknownProducerId, "UNKNOWN_PRODUCER_ID", false),
            (
                76,
                E::UnsupportedCompressionType,
                "UNSUPPORTED_COMPRESSION_TYPE",
                false,
            ),
            (87, E::InvalidRecord, "INVALID_RECORD", false),
            (90, E::ProducerFenced, "PRODUCER_FENCED", false),
            (100, E::UnknownTopicId, "UNKNOWN_TOPIC_ID", true),
            (
                136,
                E::ControllerIdNotRegistered,
                "CONTROLLER_ID_NOT_REGISTERED",
                false,
            ),
        ];
        for (code, e, name, retriable) in known {
            assert_eq!(e.code(), code, "{name}");
            assert_eq!(ErrorCode::from_code(code), Some(e), "{name}");
            assert_eq!(e.name(), name);
            assert_eq!(e.is_retriable(), retriable, "{name}");
        }
        assert_eq!(
            ErrorCode::UnknownTopicOrPartition.message(),
            "This server does not host this topic-partition."
        );
        assert_eq!(
            format!("{}", ErrorCode::NotLeaderOrFollower),
            "NOT_LEADER_OR_FOLLOWER (6)"
        );
        assert!(ErrorCode::None.is_none());
        assert!(!ErrorCode::UnknownServerError.is_none());
    }

    #[test]
    fn every_code_round_trips_and_nothing_else_decodes() {
        // Kafka 4.4.0 defines -1 and 0..=136, every one of them.
        assert_eq!(ErrorCode::ALL.len(), 138);
        let mut codes = BTreeSet::new();
        let mut names = BTreeSet::new();
        for &e in ErrorCode::ALL {
            assert!(codes.insert(e.code()), "duplicate code {}", e.code());
            assert!(names.insert(e.name()), "duplicate name {}", e.name());
            assert_eq!(ErrorCode::from_code(e.code()), Some(e));
            assert_eq!(ErrorCode::try_from(i16::from(e)), Ok(e));
            assert!(!e.message().is_empty());
            assert!(e
                .name()
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b == b'_'));
        }
        assert_eq!(codes, (-1..=136).collect::<BTreeSet<i16>>());
        for code in (i16::MIN..=i16::MAX).filter(|c| !codes.contains(c)) {
            assert_eq!(ErrorCode::from_code(code), None, "{code}");
            assert_eq!(ErrorCode::try_from(code), Err(UnknownErrorCode(code)));
        }
        let retriable = ErrorCode::ALL.iter().filter(|e| e.is_retriable()).count();
        assert_eq!(retriable, 32);
    }
}
