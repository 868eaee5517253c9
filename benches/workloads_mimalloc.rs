//! The `workloads` program linked with mimalloc: the same source, as a module, so its
//! allocator switch (`Chosen` in `workloads.rs`) sees this target's name. W3 runs on it.

#[path = "workloads.rs"]
mod workloads;

fn main() -> Result<(), workloads::Failure> {
    workloads::main()
}
