//! Kafka-format logs over an abstract storage (work in progress: see issue 4).
#![no_std]
extern crate alloc;
