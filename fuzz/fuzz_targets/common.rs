//! What the targets share: the product's `*_from_bytes` readers are called
//! on the input in memory, and their errors must be one line.

/// A reader's error must be one line. (Not every target reads errors.)
#[allow(dead_code)]
pub fn one_line<T>(r: Result<T, tars::Error>) {
    if let Err(e) = r {
        assert!(!e.to_string().contains('\n'), "not one line: {e}");
    }
}
