//! Arrow adapter (work in progress).
