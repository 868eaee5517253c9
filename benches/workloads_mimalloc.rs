//! The `workloads` program linked with mimalloc: the same source, as a module, so its
//! allocator switch (`Chosen` in `workloads.rs`) sees this target's name. W3 runs on it.
//! mimalloc's `override` feature makes it the C libraries' `malloc` too: zstd makes and
//! frees a compression context per column chunk, and glibc gave each one fresh pages
//! (about 100,000 page faults in a W3 run).

#[path = "workloads.rs"]
mod workloads;

fn main() -> Result<(), workloads::Failure> {
    workloads::main()
}
