//! Typed identifiers. Each table's key gets its own type so that a run id can
//! never be passed where a task id is expected.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

macro_rules! id_type {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub i64);

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = std::num::ParseIntError;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                s.parse().map($name)
            }
        }
    };
}

id_type!(
    /// A user account.
    UserId
);
id_type!(
    /// A model (the thing that has versions).
    ModelId
);
id_type!(
    /// One immutable version of a model.
    VersionId
);
id_type!(
    /// One execution of a version.
    RunId
);
id_type!(
    /// A durable unit of asynchronous work.
    TaskId
);
id_type!(
    /// A message in the outbox.
    EmailId
);
id_type!(
    /// A named API token.
    TokenId
);
id_type!(
    /// A schedule that runs a version on a cron rule.
    ScheduleId
);
id_type!(
    /// A scenario sweep: one submission that makes a run per combination
    /// of the inputs it varies.
    SweepId
);
