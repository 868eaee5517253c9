//! Memory: for tests and examples; nothing outlives the engine.

use std::sync::Arc;

use object_store::memory::InMemory;

use super::ObjectStoreEngine;

impl ObjectStoreEngine {
    /// An engine that keeps everything in memory, labelled `memory://`.
    pub fn memory() -> Self {
        ObjectStoreEngine::new(Arc::new(InMemory::new()), "memory://")
    }
}
