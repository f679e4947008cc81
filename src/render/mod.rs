//! Renderers: each turns one report value into one format.

pub mod html;
pub mod markdown;

pub use markdown::render_markdown;
