pub mod detector;
pub mod eval;
pub mod incident;
