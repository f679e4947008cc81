//! Anomaly detection (`tars anomaly-detector`): the streaming detector, the
//! incidents it yields, and the `anomaly_events.json` stage around them.

pub mod detector;
pub mod eval;
pub mod events;
pub mod incident;

pub use events::{AnomalyEvent, AnomalyRun};
