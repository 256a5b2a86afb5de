//! Errors as people and logs read them.

/// An error and its causes, joined with `: ` ("cannot open the database:
/// connection refused"), for logs and for the records of tasks that failed.
pub fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn causes_follow_the_error() {
        let io = std::io::Error::other("connection refused");
        let error = crate::store::StoreError::Unavailable(Box::new(io));
        assert_eq!(
            error_chain(&error),
            "the database is unavailable: connection refused"
        );
    }
}
