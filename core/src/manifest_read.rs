//! Reading `modelrun.toml`'s keys one by one, so that a value of the wrong
//! kind, a missing key or an unknown one is reported at its own path
//! (`resources.vcpu`), every one at once; [`super::Manifest::parse`] then
//! checks the values that are there.

use crate::manifest::Resources;
use crate::resources::RawMax;
use crate::toml_fields::Fields;

/// `modelrun.toml` as written: each part that is there and of the right
/// kind; [`read_raw`] reported the others.
pub(super) struct RawManifest {
    pub(super) name: Option<String>,
    pub(super) title: Option<String>,
    pub(super) description: String,
    pub(super) owner: String,
    pub(super) command: Option<Vec<String>>,
    pub(super) resources: RawResources,
    pub(super) inputs: Option<toml::Value>,
    pub(super) environment: Option<RawEnvironment>,
    pub(super) secrets: Vec<String>,
    pub(super) network: Option<bool>,
    pub(super) outputs: Option<toml::Value>,
}

pub(super) struct RawEnvironment {
    pub(super) requirements: Option<String>,
    pub(super) python: Option<String>,
}

#[derive(Default)]
pub(super) struct RawResources {
    pub(super) vcpu: Option<f64>,
    pub(super) memory_mib: Option<i64>,
    pub(super) timeout_seconds: Option<i64>,
    pub(super) max: Option<RawMax>,
}

/// Reads the document's keys, each wrong one reported at its path.
pub(super) fn read_raw(table: toml::Table, problems: &mut Vec<(String, String)>) -> RawManifest {
    let mut fields = Fields::root(table);
    let name = fields.needed_text("name", problems);
    let title = fields.text("title", problems);
    let description = fields.text("description", problems).unwrap_or_default();
    let owner = fields.text("owner", problems).unwrap_or_default();
    let command = fields.texts("command", problems);
    let resources = fields
        .table(
            "resources",
            "a table ([resources] with vcpu, memory_mib and timeout_seconds)",
            problems,
        )
        .map(|table| read_resources(table, "resources", problems))
        .unwrap_or_default();
    let inputs = if fields.need("inputs", problems) {
        fields.value("inputs")
    } else {
        None
    };
    let environment = fields
        .table(
            "environment",
            "a table ([environment] with requirements)",
            problems,
        )
        .and_then(|table| {
            let mut fields = Fields::open(toml::Value::Table(table), "environment", "", problems)?;
            let requirements = fields.needed_text("requirements", problems);
            let python = fields.text("python", problems);
            fields.finish(&["requirements", "python"], problems);
            Some(RawEnvironment {
                requirements,
                python,
            })
        });
    let secrets = fields.texts("secrets", problems).unwrap_or_default();
    let network = fields.flag("network", problems);
    let outputs = fields.value("outputs");
    fields.finish(
        &[
            "name",
            "title",
            "description",
            "owner",
            "command",
            "resources",
            "inputs",
            "environment",
            "secrets",
            "network",
            "outputs",
        ],
        problems,
    );
    RawManifest {
        name,
        title,
        description,
        owner,
        command,
        resources,
        inputs,
        environment,
        secrets,
        network,
        outputs,
    }
}

/// `[resources]` (at `path`) and its `[resources.max]`.
fn read_resources(
    table: toml::Table,
    path: &str,
    problems: &mut Vec<(String, String)>,
) -> RawResources {
    let Some(mut fields) = Fields::open(toml::Value::Table(table), path, "", problems) else {
        return RawResources::default();
    };
    let vcpu = fields.number(
        "vcpu",
        &format!(
            "a number from {} to {}",
            Resources::MIN_VCPU,
            Resources::MAX_VCPU
        ),
        problems,
    );
    let memory_mib = fields.whole(
        "memory_mib",
        &format!(
            "a whole number of MiB from {} to {}",
            Resources::MIN_MEMORY_MIB,
            Resources::MAX_MEMORY_MIB
        ),
        problems,
    );
    let timeout_seconds = fields.whole(
        "timeout_seconds",
        &format!(
            "a whole number of seconds from {} to {}",
            Resources::MIN_TIMEOUT_SECONDS,
            Resources::MAX_TIMEOUT_SECONDS
        ),
        problems,
    );
    let max = if path == "resources" {
        fields
            .table(
                "max",
                "a table ([resources.max] with vcpu, memory_mib or timeout_seconds)",
                problems,
            )
            .map(|table| read_resources(table, "resources.max", problems))
    } else {
        None
    };
    let known: &[&str] = if path == "resources" {
        &["vcpu", "memory_mib", "timeout_seconds", "max"]
    } else {
        &["vcpu", "memory_mib", "timeout_seconds"]
    };
    fields.finish(known, problems);
    RawResources {
        vcpu,
        memory_mib,
        timeout_seconds,
        max: max.map(|max| RawMax {
            vcpu: max.vcpu,
            memory_mib: max.memory_mib,
            timeout_seconds: max.timeout_seconds,
        }),
    }
}
