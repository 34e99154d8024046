//! Which versions of each API a Kafka release advertises, as data for version negotiation.
//!
//! The tables come from each release's schema files (generated into
//! [`crate::messages::releases`]). Apache Kafka 4.x has one special case: it advertises Produce
//! from version 0 (so that older librdkafka clients still detect compression and message-format
//! support) while serving only versions 3 and up, rejecting 0–2 per request (KAFKA-18659).
//! [`advertised`] and [`served`] apply it.

use crate::messages::ApiKey;

pub use crate::messages::releases::{KAFKA_3_9_1, KAFKA_4_4_0};

/// Which listeners an API is exposed on, as Kafka's schemas say (`"listeners"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Listeners(pub u8);

impl Listeners {
    /// On no listener.
    pub const NONE: Listeners = Listeners(0);
    /// A ZooKeeper-mode broker (Kafka 3.x).
    pub const ZK_BROKER: Listeners = Listeners(1);
    /// A KRaft broker.
    pub const BROKER: Listeners = Listeners(2);
    /// A KRaft controller.
    pub const CONTROLLER: Listeners = Listeners(4);

    /// Whether every listener of `other` is in `self`.
    pub const fn contains(self, other: Listeners) -> bool {
        self.0 & other.0 == other.0 && other.0 != 0
    }
}

/// One API's released version range in one Kafka release.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ApiRange {
    /// The API.
    pub api_key: ApiKey,
    /// The lowest released version.
    pub min: i16,
    /// The highest released version.
    pub max: i16,
    /// The listeners the API is exposed on.
    pub listeners: Listeners,
}

/// A Kafka release whose version tables kproto carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum KafkaRelease {
    /// Apache Kafka 3.9.1 (the last release before KIP-896 removed old versions).
    V3_9_1,
    /// Apache Kafka 4.4.0.
    V4_4_0,
}

impl KafkaRelease {
    /// The schema-declared ranges of the release.
    pub fn table(self) -> &'static [ApiRange] {
        match self {
            KafkaRelease::V3_9_1 => KAFKA_3_9_1,
            KafkaRelease::V4_4_0 => KAFKA_4_4_0,
        }
    }
}

/// The range a broker of `release` serves for `key` on a broker listener, if it exposes it.
pub fn served(release: KafkaRelease, key: ApiKey) -> Option<(i16, i16)> {
    let broker = match release {
        KafkaRelease::V3_9_1 => Listeners::ZK_BROKER,
        KafkaRelease::V4_4_0 => Listeners::BROKER,
    };
    release
        .table()
        .iter()
        .find(|r| {
            r.api_key == key
                && (r.listeners.contains(broker) || r.listeners.contains(Listeners::BROKER))
        })
        .map(|r| (r.min, r.max))
}

/// The range a broker of `release` advertises in ApiVersions for `key` (4.x: Produce from 0).
pub fn advertised(release: KafkaRelease, key: ApiKey) -> Option<(i16, i16)> {
    let (min, max) = served(release, key)?;
    if release == KafkaRelease::V4_4_0 && key == ApiKey::Produce {
        return Some((0, max));
    }
    Some((min, max))
}

/// The version two peers use: the highest both support, if their ranges meet.
pub fn negotiate(ours: (i16, i16), theirs: (i16, i16)) -> Option<i16> {
    let lo = ours.0.max(theirs.0);
    let hi = ours.1.min(theirs.1);
    (lo <= hi).then_some(hi)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn produce_is_advertised_from_zero_but_served_from_three_in_4x() {
        assert_eq!(served(KafkaRelease::V4_4_0, ApiKey::Produce), Some((3, 13)));
        assert_eq!(
            advertised(KafkaRelease::V4_4_0, ApiKey::Produce),
            Some((0, 13))
        );
        assert_eq!(
            advertised(KafkaRelease::V3_9_1, ApiKey::Produce),
            Some((0, 11))
        );
    }

    #[test]
    fn controller_only_apis_are_not_served_by_brokers() {
        // BrokerRegistration is a controller API.
        assert_eq!(
            served(KafkaRelease::V4_4_0, ApiKey::BrokerRegistration),
            None
        );
        assert!(served(KafkaRelease::V4_4_0, ApiKey::Metadata).is_some());
        // ZooKeeper-era inter-broker APIs exist only in 3.9.1.
        assert!(served(KafkaRelease::V4_4_0, ApiKey::LeaderAndIsr).is_none());
    }

    #[test]
    fn negotiation_picks_the_highest_common_version() {
        assert_eq!(negotiate((0, 12), (3, 13)), Some(12));
        assert_eq!(negotiate((0, 2), (3, 13)), None);
    }
}
