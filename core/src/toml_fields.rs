//! Reading one TOML table of `[outputs]` key by key, so that a wrong value
//! is reported at its own key (`outputs.charts[0].series[1].dashed`) with
//! what it is and what it must be, a missing key as needed, and an unknown
//! key by its name, all at once rather than the first one serde meets.

use super::Problems;

/// The keys of one table still to be read, and where the table sits.
pub(super) struct Fields {
    table: toml::Table,
    path: String,
}

impl Fields {
    /// The table `value`, or a problem at `path` saying it is something
    /// else and that it must be `shape` (an example of the table).
    pub(super) fn open(
        value: toml::Value,
        path: &str,
        shape: &str,
        problems: &mut Problems,
    ) -> Option<Fields> {
        match value {
            toml::Value::Table(table) => Some(Fields {
                table,
                path: path.to_owned(),
            }),
            other => {
                problems.push((
                    path.to_owned(),
                    format!("is {}; it must be a table, {shape}", kind(&other)),
                ));
                None
            }
        }
    }

    /// `{path}.{key}`: where a problem with `key` is reported.
    pub(super) fn at(&self, key: &str) -> String {
        format!("{}.{key}", self.path)
    }

    /// Text under `key`, if given and text.
    pub(super) fn text(&mut self, key: &str, problems: &mut Problems) -> Option<String> {
        match self.take(key)? {
            toml::Value::String(text) => Some(text),
            other => self.wrong(key, &other, "text in quotes", problems),
        }
    }

    /// Text under `key`, which must be given.
    pub(super) fn needed_text(&mut self, key: &str, problems: &mut Problems) -> Option<String> {
        if self.need(key, problems) {
            self.text(key, problems)
        } else {
            None
        }
    }

    /// Whether `key` is given (of any type), else a problem saying it is
    /// needed.
    pub(super) fn need(&self, key: &str, problems: &mut Problems) -> bool {
        let given = self.given(key);
        if !given {
            problems.push((self.at(key), "is needed".to_owned()));
        }
        given
    }

    /// Whether `key` is given, of any type, and not yet read.
    pub(super) fn given(&self, key: &str) -> bool {
        self.table.contains_key(key)
    }

    /// `true` or `false` under `key`, if given and one of them.
    pub(super) fn flag(&mut self, key: &str, problems: &mut Problems) -> Option<bool> {
        match self.take(key)? {
            toml::Value::Boolean(flag) => Some(flag),
            other => self.wrong(key, &other, "true or false", problems),
        }
    }

    /// A whole number under `key`, if given and one; `expected` says which
    /// ("a whole number from 0 to 10").
    pub(super) fn whole(
        &mut self,
        key: &str,
        expected: &str,
        problems: &mut Problems,
    ) -> Option<i64> {
        match self.take(key)? {
            toml::Value::Integer(number) => Some(number),
            other => self.wrong(key, &other, expected, problems),
        }
    }

    /// A list under `key`, if given and one; `expected` shows one.
    pub(super) fn list(
        &mut self,
        key: &str,
        expected: &str,
        problems: &mut Problems,
    ) -> Option<Vec<toml::Value>> {
        match self.take(key)? {
            toml::Value::Array(list) => Some(list),
            other => self.wrong(key, &other, expected, problems),
        }
    }

    /// A table under `key`, if given and one; `expected` shows one.
    pub(super) fn table(
        &mut self,
        key: &str,
        expected: &str,
        problems: &mut Problems,
    ) -> Option<toml::Table> {
        match self.take(key)? {
            toml::Value::Table(table) => Some(table),
            other => self.wrong(key, &other, expected, problems),
        }
    }

    /// Reports every key left unread as unknown, naming the `known` ones.
    pub(super) fn finish(self, known: &[&str], problems: &mut Problems) {
        for key in self.table.keys() {
            problems.push((
                self.at(key),
                format!("is not a key of this table; use {}", choices(known)),
            ));
        }
    }

    /// Drops `key` unread: its problem was reported some other way.
    pub(super) fn skip(&mut self, key: &str) {
        self.take(key);
    }

    fn take(&mut self, key: &str) -> Option<toml::Value> {
        self.table.remove(key)
    }

    fn wrong<T>(
        &self,
        key: &str,
        value: &toml::Value,
        expected: &str,
        problems: &mut Problems,
    ) -> Option<T> {
        problems.push((
            self.at(key),
            format!("is {}; it must be {expected}", kind(value)),
        ));
        None
    }
}

/// What a TOML value is, in words a model author uses, with its article.
pub(super) fn kind(value: &toml::Value) -> &'static str {
    match value {
        toml::Value::String(_) => "text",
        toml::Value::Integer(_) => "a whole number",
        toml::Value::Float(_) => "a number with decimals",
        toml::Value::Boolean(_) => "true or false",
        toml::Value::Datetime(_) => "a date",
        toml::Value::Array(_) => "a list",
        toml::Value::Table(_) => "a table",
    }
}

/// `a`, `a or b`, `a, b or c`.
fn choices(known: &[&str]) -> String {
    match known {
        [] => String::new(),
        [only] => (*only).to_owned(),
        [rest @ .., last] => format!("{} or {last}", rest.join(", ")),
    }
}
