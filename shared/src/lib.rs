//! Types shared by Fieldbook's parts: document IDs, the shape of entry
//! documents and the automerge-repo wire protocol. No async runtime, web
//! framework or database here.

pub mod anonymise;
pub mod entry;
pub mod ids;
pub mod wire;

pub use ids::DocumentId;
