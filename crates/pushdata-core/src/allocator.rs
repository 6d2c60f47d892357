//! The process's allocator setting that the `pushdata` binary makes for every command.
//!
//! Under `pushdata serve` many blocking threads decode, stage and merge at once. glibc's
//! allocator gives threads up to eight arenas per core and keeps what each arena freed, so
//! the server's resident memory grew with the number of concurrent pushes, past its
//! budgets. Measured with `tests/reliability/concurrent-load.sh` (staging budget 64 MiB,
//! lineitem SF 0.1 upserted into one dataset): peak RSS 595 MiB with 2 processes and 868 MiB
//! with 6; with one arena per core (this module), 309 MiB and 363 MiB. (mimalloc was tried
//! too: 402 and 486 MiB, and more memory than glibc for pushes into separate datasets.)
//!
//! A push is helped too: in `benches/bulk_load.rs`, the client's peak RSS grew from 221 MB
//! at SF 1 to 414 MB at SF 10 with glibc's default, and to 230 MB (1.04×) with
//! `MALLOC_ARENA_MAX=2`, the setting this module gives a 2-core machine.
//!
//! A library does not change its host process's allocator by itself: an application
//! (the `pushdata` binary, the benches that measure it) calls [`one_arena_per_core`] first
//! thing in `main`. An environment variable `MALLOC_ARENA_MAX` set by the user is read by
//! glibc before `main`; this call replaces it.

/// Limit glibc's allocator to one arena per core (`mallopt(M_ARENA_MAX, cores)`). Call it
/// once, first thing in `main`, before any other thread exists. A no-op elsewhere than
/// Linux with glibc.
///
/// ```
/// fn main() {
///     pushdata_core::allocator::one_arena_per_core();
///     // ... start the runtime, push, serve ...
/// }
/// # main();
/// ```
#[cfg(all(target_os = "linux", target_env = "gnu"))]
pub fn one_arena_per_core() {
    let cores = std::thread::available_parallelism().map_or(2, usize::from);
    let arenas = libc::c_int::try_from(cores).unwrap_or(libc::c_int::MAX);
    // SAFETY: `mallopt` only sets an allocator parameter; it is called before the process
    // starts any thread, and M_ARENA_MAX takes any positive count. A refusal (return 0)
    // leaves glibc's default, which is safe.
    #[allow(unsafe_code)]
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, arenas);
    }
}

/// Limit glibc's allocator to one arena per core (a no-op elsewhere than Linux with glibc).
///
/// ```
/// pushdata_core::allocator::one_arena_per_core();
/// ```
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub fn one_arena_per_core() {}
