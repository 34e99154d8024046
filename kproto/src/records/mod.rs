//! Record batches (magic v2) and legacy message sets (magic 0 and 1): work in progress, see issue 3.
