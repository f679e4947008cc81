//! Anomaly detection (`tars anomaly-detector`): the streaming detector, the
//! incidents it yields, and the `anomaly_events.json` stage around them.

pub mod events;
pub mod stream;

pub use tars_detector::{detector, eval, incident};

pub use events::{AnomalyEvent, AnomalyRun};
