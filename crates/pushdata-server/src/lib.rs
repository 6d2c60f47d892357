//! Reference server (work in progress).
