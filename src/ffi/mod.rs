//! The C ABI of ferrosock (work in progress).
