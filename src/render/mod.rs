//! Renderers: each turns one report value into one format.

pub mod html;
pub mod markdown;
pub mod words;

pub use markdown::render_markdown;
pub mod terminal;
