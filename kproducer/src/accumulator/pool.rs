//! `buffer.memory` accounting, as Kafka's `BufferPool`: a batch reserves
//! `max(batch.size, the first record's upper bound)` bytes when it is created and gives them
//! back when it is deallocated. Freed buffers of exactly `batch.size` are kept on a free list
//! and handed to the next batch of that size; every other size is counted as "non-pooled"
//! memory. Where Java's `allocate` blocks the appending thread, [`BufferPool::allocate`]
//! returns [`AllocError::Exhausted`] and records that an appender is waiting (Java's
//! `queued() > 0`, which makes every batch ready so memory frees sooner).

use alloc::collections::VecDeque;
use alloc::vec::Vec;

/// Why [`BufferPool::allocate`] gave no buffer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AllocError {
    /// More than `buffer.memory` was asked for (Java's `IllegalArgumentException`; the
    /// producer reports it as a `RecordTooLargeException`).
    #[error("attempt to allocate {size} bytes, but there is a hard limit of {total} on memory allocations")]
    TooLarge {
        /// The bytes asked for.
        size: usize,
        /// `buffer.memory`.
        total: u64,
    },
    /// Not enough memory is free now: the caller waits (up to `max.block.ms`) for a batch to
    /// be deallocated and tries again.
    #[error("{size} bytes asked for, {available} available")]
    Exhausted {
        /// The bytes asked for.
        size: usize,
        /// The bytes free now.
        available: u64,
    },
    /// The pool was closed (`Producer closed while allocating memory`).
    #[error("producer closed while allocating memory")]
    Closed,
}

/// Kafka's `BufferPool`, without the blocking.
#[derive(Debug)]
pub struct BufferPool {
    total_memory: u64,
    poolable_size: usize,
    free: VecDeque<Vec<u8>>,
    non_pooled_available_memory: u64,
    waiting: bool,
    closed: bool,
}

impl BufferPool {
    /// A pool of `memory` bytes (`buffer.memory`) whose buffers of `poolable_size` bytes
    /// (`batch.size`) are recycled.
    pub fn new(memory: u64, poolable_size: usize) -> Self {
        BufferPool {
            total_memory: memory,
            poolable_size,
            free: VecDeque::new(),
            non_pooled_available_memory: memory,
            waiting: false,
            closed: false,
        }
    }

    /// Reserves `size` bytes and returns a buffer with at least that capacity (a recycled one
    /// when `size` is the poolable size and the free list has one), as `BufferPool.allocate`.
    /// On [`AllocError::Exhausted`] the pool counts one waiting appender until an allocation
    /// succeeds or [`BufferPool::abandon_wait`] is called.
    pub fn allocate(&mut self, size: usize) -> Result<Vec<u8>, AllocError> {
        if size as u64 > self.total_memory {
            return Err(AllocError::TooLarge {
                size,
                total: self.total_memory,
            });
        }
        if self.closed {
            return Err(AllocError::Closed);
        }
        if size == self.poolable_size {
            if let Some(buf) = self.free.pop_front() {
                self.waiting = false;
                return Ok(buf);
            }
        }
        let free_list_size = self.free_size();
        if self.non_pooled_available_memory + free_list_size >= size as u64 {
            self.free_up(size);
            self.non_pooled_available_memory -= size as u64;
            self.waiting = false;
            Ok(Vec::with_capacity(size))
        } else {
            self.waiting = true;
            Err(AllocError::Exhausted {
                size,
                available: self.available_memory(),
            })
        }
    }

    /// Drops buffers from the free list until `size` bytes are unpooled (`freeUp`).
    fn free_up(&mut self, size: usize) {
        while self.non_pooled_available_memory < size as u64 {
            match self.free.pop_back() {
                Some(_) => self.non_pooled_available_memory += self.poolable_size as u64,
                None => break,
            }
        }
    }

    /// Gives back `size` reserved bytes (`BufferPool.deallocate`). A buffer of exactly the
    /// poolable size goes on the free list (cleared); any other is dropped and its reservation
    /// counted as non-pooled memory again.
    pub fn deallocate(&mut self, buffer: Option<Vec<u8>>, size: usize) {
        match buffer {
            Some(mut buf) if size == self.poolable_size && buf.capacity() == size => {
                buf.clear();
                self.free.push_back(buf);
            }
            _ => self.non_pooled_available_memory += size as u64,
        }
    }

    /// The bytes free: unallocated plus the free list (`availableMemory`).
    pub fn available_memory(&self) -> u64 {
        self.non_pooled_available_memory + self.free_size()
    }

    /// The bytes neither allocated nor on the free list (`unallocatedMemory`).
    pub fn unallocated_memory(&self) -> u64 {
        self.non_pooled_available_memory
    }

    /// `buffer.memory` (`totalMemory`).
    pub fn total_memory(&self) -> u64 {
        self.total_memory
    }

    /// `batch.size` (`poolableSize`).
    pub fn poolable_size(&self) -> usize {
        self.poolable_size
    }

    /// Buffers on the free list.
    pub fn free_list_len(&self) -> usize {
        self.free.len()
    }

    fn free_size(&self) -> u64 {
        self.free.len() as u64 * self.poolable_size as u64
    }

    /// Appenders waiting for memory (`queued()`): 1 after an [`AllocError::Exhausted`] until
    /// the next successful allocation or [`BufferPool::abandon_wait`], else 0.
    pub fn queued(&self) -> usize {
        usize::from(self.waiting)
    }

    /// The waiting appender gave up (its `max.block.ms` passed).
    pub fn abandon_wait(&mut self) {
        self.waiting = false;
    }

    /// Closes the pool: later allocations fail with [`AllocError::Closed`] (`close`).
    pub fn close(&mut self) {
        self.closed = true;
        self.waiting = false;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // In the spirit of BufferPoolTest.testSimple: allocate, free, reuse.
    #[test]
    fn allocate_and_free_keep_the_accounting() {
        let total = 2 * 1024 * 1024;
        let mut pool = BufferPool::new(total, 16384);
        let buf = pool.allocate(16384).unwrap();
        assert!(buf.capacity() >= 16384);
        assert_eq!(pool.available_memory(), total - 16384);
        assert_eq!(pool.unallocated_memory(), total - 16384);
        let mut buf = buf;
        buf.extend_from_slice(&[7u8; 1000]);
        let cap = buf.capacity();
        pool.deallocate(Some(buf), 16384);
        assert_eq!(pool.available_memory(), total);
        if cap == 16384 {
            assert_eq!(pool.free_list_len(), 1);
            assert_eq!(pool.unallocated_memory(), total - 16384);
            let again = pool.allocate(16384).unwrap();
            assert!(again.is_empty(), "recycled buffers come back cleared");
            assert_eq!(pool.free_list_len(), 0);
            pool.deallocate(Some(again), 16384);
        }
        // A non-poolable size is counted, not pooled.
        let big = pool.allocate(500_000).unwrap();
        assert_eq!(pool.available_memory(), total - 500_000);
        pool.deallocate(Some(big), 500_000);
        assert_eq!(pool.available_memory(), total);
    }

    #[test]
    fn more_than_the_pool_is_refused() {
        let mut pool = BufferPool::new(1024 * 1024, 16384);
        assert_eq!(
            pool.allocate(1024 * 1024 + 1),
            Err(AllocError::TooLarge {
                size: 1024 * 1024 + 1,
                total: 1024 * 1024
            })
        );
    }

    // BufferPoolTest.testDelayedAllocation: a blocked allocation, here a result, until memory
    // is freed.
    #[test]
    fn exhaustion_is_a_result_and_clears_when_memory_frees() {
        let mut pool = BufferPool::new(64 * 1024, 16384);
        let bufs: Vec<_> = (0..4).map(|_| pool.allocate(16384).unwrap()).collect();
        assert_eq!(pool.available_memory(), 0);
        assert!(matches!(
            pool.allocate(16384),
            Err(AllocError::Exhausted {
                size: 16384,
                available: 0
            })
        ));
        assert_eq!(pool.queued(), 1);
        for b in bufs {
            pool.deallocate(Some(b), 16384);
        }
        // Freed poolable buffers are turned back into unpooled memory for a larger request.
        let big = pool.allocate(40_000).unwrap();
        assert_eq!(pool.queued(), 0);
        assert_eq!(pool.available_memory(), 64 * 1024 - 40_000);
        assert!(pool.free_list_len() <= 1);
        pool.deallocate(Some(big), 40_000);
        assert_eq!(pool.available_memory(), 64 * 1024);
        pool.allocate(70_000).unwrap_err();
        pool.close();
        assert_eq!(pool.allocate(100), Err(AllocError::Closed));
    }
}
