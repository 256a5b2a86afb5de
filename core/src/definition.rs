//! The error for documents that model authors write (manifests, input
//! schemas): every problem at once, each with the path of what is wrong.

use std::fmt;

/// Why a manifest or schema was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DefinitionError {
    /// `(path, message)`, for example `("inputs.properties.growth.maximum", "must be a number")`.
    pub problems: Vec<(String, String)>,
}

impl DefinitionError {
    pub fn one(path: impl Into<String>, message: impl Into<String>) -> Self {
        DefinitionError {
            problems: vec![(path.into(), message.into())],
        }
    }
}

impl fmt::Display for DefinitionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, (path, message)) in self.problems.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{path}: {message}")?;
        }
        Ok(())
    }
}

impl std::error::Error for DefinitionError {}
