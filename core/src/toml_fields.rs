//! Reading one TOML table of a manifest key by key, so that a wrong value
//! is reported at its own key (`outputs.charts[0].series[1].dashed`) with
//! what it is and what it must be, a missing key as needed, and an unknown
//! key by its name, all at once rather than the first one serde meets.

/// (path, message) pairs, as [`crate::DefinitionError`] lists them.
type Problems = Vec<(String, String)>;

/// The keys of one table still to be read, and where the table sits.
pub(crate) struct Fields {
    table: toml::Table,
    path: String,
}

impl Fields {
    /// The table `value`, or a problem at `path` saying it is something
    /// else and that it must be `shape` (an example of the table).
    pub(crate) fn open(
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

    /// The top-level table of a document: its keys' paths are their names.
    pub(crate) fn root(table: toml::Table) -> Fields {
        Fields {
            table,
            path: String::new(),
        }
    }

    /// `{path}.{key}`: where a problem with `key` is reported.
    pub(crate) fn at(&self, key: &str) -> String {
        if self.path.is_empty() {
            key.to_owned()
        } else {
            format!("{}.{key}", self.path)
        }
    }

    /// Text under `key`, if given and text.
    pub(crate) fn text(&mut self, key: &str, problems: &mut Problems) -> Option<String> {
        match self.take(key)? {
            toml::Value::String(text) => Some(text),
            other => self.wrong(key, &other, "text in quotes", problems),
        }
    }

    /// Text under `key`, which must be given.
    pub(crate) fn needed_text(&mut self, key: &str, problems: &mut Problems) -> Option<String> {
        if self.need(key, problems) {
            self.text(key, problems)
        } else {
            None
        }
    }

    /// Whether `key` is given (of any type), else a problem saying it is
    /// needed.
    pub(crate) fn need(&self, key: &str, problems: &mut Problems) -> bool {
        let given = self.given(key);
        if !given {
            problems.push((self.at(key), "is needed".to_owned()));
        }
        given
    }

    /// Whether `key` is given, of any type, and not yet read.
    pub(crate) fn given(&self, key: &str) -> bool {
        self.table.contains_key(key)
    }

    /// `true` or `false` under `key`, if given and one of them.
    pub(crate) fn flag(&mut self, key: &str, problems: &mut Problems) -> Option<bool> {
        match self.take(key)? {
            toml::Value::Boolean(flag) => Some(flag),
            other => self.wrong(key, &other, "true or false", problems),
        }
    }

    /// A whole number under `key`, if given and one; `expected` says which
    /// ("a whole number from 0 to 10").
    pub(crate) fn whole(
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

    /// A number under `key` (whole or with decimals), if given and one;
    /// `expected` says which ("a number from 0.25 to 16").
    pub(crate) fn number(
        &mut self,
        key: &str,
        expected: &str,
        problems: &mut Problems,
    ) -> Option<f64> {
        match self.take(key)? {
            toml::Value::Float(number) => Some(number),
            // As TOML writes `vcpu = 2`; far below where f64 loses digits.
            toml::Value::Integer(number) => Some(number as f64),
            other => self.wrong(key, &other, expected, problems),
        }
    }

    /// A list of texts under `key`, if given and all text; each entry that
    /// is not is reported at `key[index]`, and the list is then `None`, so
    /// that later checks name the others at their own index.
    pub(crate) fn texts(&mut self, key: &str, problems: &mut Problems) -> Option<Vec<String>> {
        let list = self.list(key, "a list of texts ([\"a\", \"b\"])", problems)?;
        let mut texts = Vec::new();
        let mut wrong = false;
        for (index, entry) in list.into_iter().enumerate() {
            match entry {
                toml::Value::String(text) => texts.push(text),
                other => {
                    wrong = true;
                    problems.push((
                        format!("{}[{index}]", self.at(key)),
                        format!("is {}; it must be text in quotes", kind(&other)),
                    ));
                }
            }
        }
        (!wrong).then_some(texts)
    }

    /// A list under `key`, if given and one; `expected` shows one.
    pub(crate) fn list(
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
    pub(crate) fn table(
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
    pub(crate) fn finish(self, known: &[&str], problems: &mut Problems) {
        for key in self.table.keys() {
            problems.push((
                self.at(key),
                format!("is not a key of this table; use {}", choices(known)),
            ));
        }
    }

    /// The value under `key` as it is, if given: for a part read elsewhere.
    pub(crate) fn value(&mut self, key: &str) -> Option<toml::Value> {
        self.take(key)
    }

    /// Drops `key` unread: its problem was reported some other way.
    pub(crate) fn skip(&mut self, key: &str) {
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

/// Reports at `path` the first control or format character of `text`
/// (Unicode Cc or Cf: a direction override, a zero-width space) as "contains
/// U+202E, a control or format character": shown on a page, such a
/// character changes how the text, or the figure beside it, reads.
/// `multiline` text (Markdown) may hold line breaks and tabs.
pub(crate) fn check_shown(text: &str, path: &str, multiline: bool, problems: &mut Problems) {
    let hidden = text.chars().find(|&c| {
        (c.is_control() && !(multiline && matches!(c, '\n' | '\r' | '\t')))
            || crate::log_text::is_format(c)
    });
    if let Some(c) = hidden {
        problems.push((
            path.to_owned(),
            format!(
                "contains U+{:04X}, a control or format character",
                u32::from(c)
            ),
        ));
    }
}

/// What a TOML value is, in words a model author uses, with its article.
pub(crate) fn kind(value: &toml::Value) -> &'static str {
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
