//! What a component did with a key.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome<R> {
    /// The key changed the component (or was swallowed by it).
    Consumed,
    /// Not the component's key: the app handles it globally.
    Ignored,
    /// The component needs I/O done; the app runs it and feeds the result back.
    Request(R),
}
