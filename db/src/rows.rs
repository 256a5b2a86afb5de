//! Rows as both backends return them, and their conversion to domain types.
//! Times are [`Timestamp`]s and JSON columns decode with `Json`, which read
//! each backend's own storage, so one row type serves both.

use modelrun_core::alias::Alias;
use modelrun_core::audit::{Actor, AuditEntry};
use modelrun_core::email::{Email, EmailStatus};
use modelrun_core::environment::{Environment, EnvironmentSpec};
use modelrun_core::ids::{EmailId, ModelId, RunId, TaskId, TokenId, UserId, VersionId};
use modelrun_core::manifest::Resources;
use modelrun_core::model::{Model, ModelVersion, Runtime};
use modelrun_core::model_secrets::SecretInfo;
use modelrun_core::outputs::Outputs;
use modelrun_core::schema::InputSchema;
use modelrun_core::store::StoreError;
use modelrun_core::task::Task;
use modelrun_core::user::{ApiToken, User};
use serde_json::Value;
use sqlx::types::Json;

use crate::convert::parse;
use crate::types::Timestamp;

mod runs;
pub(crate) use runs::{EventRow, OutputRow, RunRow, select_runs};

#[derive(sqlx::FromRow)]
pub(crate) struct UserRow {
    id: i64,
    email: String,
    role: String,
    created_at: Timestamp,
    disabled_at: Option<Timestamp>,
}

impl TryFrom<UserRow> for User {
    type Error = StoreError;

    fn try_from(row: UserRow) -> Result<Self, StoreError> {
        Ok(User {
            id: UserId(row.id),
            email: row.email,
            role: parse("role", &row.role)?,
            created_at: row.created_at.into(),
            disabled_at: row.disabled_at.map(Into::into),
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct TokenRow {
    id: i64,
    user_id: i64,
    name: String,
    prefix: String,
    role: String,
    created_at: Timestamp,
    expires_at: Option<Timestamp>,
    last_used_at: Option<Timestamp>,
}

impl TryFrom<TokenRow> for ApiToken {
    type Error = StoreError;

    fn try_from(row: TokenRow) -> Result<Self, StoreError> {
        Ok(ApiToken {
            id: TokenId(row.id),
            user_id: UserId(row.user_id),
            name: row.name,
            prefix: row.prefix,
            role: parse("role", &row.role)?,
            created_at: row.created_at.into(),
            expires_at: row.expires_at.map(Into::into),
            last_used_at: row.last_used_at.map(Into::into),
        })
    }
}

/// A token with its owner, read in one query: the token's columns are
/// `token_…`, the user's plain.
#[derive(sqlx::FromRow)]
pub(crate) struct TokenUserRow {
    #[sqlx(flatten)]
    user: UserRow,
    token_id: i64,
    token_name: String,
    token_prefix: String,
    token_role: String,
    token_created_at: Timestamp,
    token_expires_at: Option<Timestamp>,
    token_last_used_at: Option<Timestamp>,
}

impl TryFrom<TokenUserRow> for (User, ApiToken) {
    type Error = StoreError;

    fn try_from(row: TokenUserRow) -> Result<Self, StoreError> {
        let token = ApiToken {
            id: TokenId(row.token_id),
            user_id: UserId(row.user.id),
            name: row.token_name,
            prefix: row.token_prefix,
            role: parse("role", &row.token_role)?,
            created_at: row.token_created_at.into(),
            expires_at: row.token_expires_at.map(Into::into),
            last_used_at: row.token_last_used_at.map(Into::into),
        };
        Ok((User::try_from(row.user)?, token))
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct ModelRow {
    id: i64,
    name: String,
    title: String,
    description: String,
    owner: String,
    created_at: Timestamp,
}

impl From<ModelRow> for Model {
    fn from(row: ModelRow) -> Self {
        Model {
            id: ModelId(row.id),
            name: row.name,
            title: row.title,
            description: row.description,
            owner: row.owner,
            created_at: row.created_at.into(),
        }
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct VersionRow {
    id: i64,
    pub(crate) model_id: i64,
    label: String,
    digest: String,
    runtime: Json<Runtime>,
    input_schema: Value,
    vcpu: f64,
    memory_mib: i64,
    timeout_seconds: i64,
    max_vcpu: Option<f64>,
    max_memory_mib: Option<i64>,
    max_timeout_seconds: Option<i64>,
    source_commit: Option<String>,
    registered_via: String,
    registered_at: Timestamp,
    job_definition_arn: Option<String>,
    retired_at: Option<Timestamp>,
    environment: Option<String>,
    secrets: Json<Vec<String>>,
    network: bool,
    outputs: Json<Outputs>,
    model_name: String,
    is_production: bool,
}

/// Most parsed input schemas kept; past it the cache starts again.
const MAX_CACHED_SCHEMAS: usize = 1024;

/// Parsed input schemas by version id, with the document each was parsed
/// from. A version's schema never changes, and parsing it (and compiling
/// its validators on first use) on every read of a version, at every
/// submit and every dispatch, cost more than the rest of the request. A
/// hit must match the stored document too, so stores of other databases
/// in one process never mix.
static SCHEMAS: std::sync::LazyLock<
    std::sync::Mutex<std::collections::HashMap<i64, (serde_json::Value, InputSchema)>>,
> = std::sync::LazyLock::new(Default::default);

/// The input schema of version `id`, parsed once.
fn stored_schema(
    id: i64,
    document: &serde_json::Value,
) -> Result<InputSchema, modelrun_core::DefinitionError> {
    let mut cache = SCHEMAS
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some((kept, schema)) = cache.get(&id)
        && kept == document
    {
        return Ok(schema.clone());
    }
    let schema = InputSchema::stored(document, "inputs")?;
    if cache.len() >= MAX_CACHED_SCHEMAS {
        cache.clear();
    }
    cache.insert(id, (document.clone(), schema.clone()));
    Ok(schema)
}

impl VersionRow {
    pub(crate) fn id(&self) -> i64 {
        self.id
    }
}

impl TryFrom<VersionRow> for ModelVersion {
    type Error = StoreError;

    fn try_from(row: VersionRow) -> Result<Self, StoreError> {
        let inputs = stored_schema(row.id, &row.input_schema).map_err(|error| {
            StoreError::Corrupt(format!("input schema of version {}: {error}", row.id))
        })?;
        let resources = Resources {
            vcpu: row.vcpu,
            memory_mib: row.memory_mib,
            timeout_seconds: row.timeout_seconds,
        };
        // Versions registered before runs could ask allow their own values.
        let max_resources = Resources {
            vcpu: row.max_vcpu.unwrap_or(resources.vcpu),
            memory_mib: row.max_memory_mib.unwrap_or(resources.memory_mib),
            timeout_seconds: row.max_timeout_seconds.unwrap_or(resources.timeout_seconds),
        };
        Ok(ModelVersion {
            id: VersionId(row.id),
            model_id: ModelId(row.model_id),
            label: row.label,
            digest: row.digest,
            runtime: row.runtime.0,
            inputs,
            resources,
            max_resources,
            source_commit: row.source_commit,
            registered_via: row.registered_via,
            registered_at: row.registered_at.into(),
            job_definition_arn: row.job_definition_arn,
            retired_at: row.retired_at.map(Into::into),
            environment: row.environment,
            secrets: row.secrets.0,
            network: row.network,
            outputs: row.outputs.0,
            model: row.model_name,
            alias: if row.is_production {
                Alias::Production
            } else {
                Alias::Candidate
            },
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct TaskRow {
    id: i64,
    kind: String,
    payload: Value,
    state: String,
    attempts: i32,
    max_attempts: i32,
    run_after: Timestamp,
    locked_until: Option<Timestamp>,
    last_error: Option<String>,
    dedupe_key: Option<String>,
    created_at: Timestamp,
    updated_at: Timestamp,
}

impl TryFrom<TaskRow> for Task {
    type Error = StoreError;

    fn try_from(row: TaskRow) -> Result<Self, StoreError> {
        Ok(Task {
            id: TaskId(row.id),
            kind: parse("task kind", &row.kind)?,
            payload: row.payload,
            state: parse("task state", &row.state)?,
            attempts: row.attempts,
            max_attempts: row.max_attempts,
            run_after: row.run_after.into(),
            locked_until: row.locked_until.map(Into::into),
            last_error: row.last_error,
            dedupe_key: row.dedupe_key,
            created_at: row.created_at.into(),
            updated_at: row.updated_at.into(),
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct EmailRow {
    id: i64,
    to_address: String,
    subject: String,
    text_body: String,
    html_body: String,
    run_id: Option<i64>,
    status: String,
    provider_id: Option<String>,
    last_error: Option<String>,
    created_at: Timestamp,
    sent_at: Option<Timestamp>,
}

impl TryFrom<EmailRow> for Email {
    type Error = StoreError;

    fn try_from(row: EmailRow) -> Result<Self, StoreError> {
        Ok(Email {
            id: EmailId(row.id),
            to: row.to_address,
            subject: row.subject,
            text: row.text_body,
            html: row.html_body,
            run_id: row.run_id.map(RunId),
            status: EmailStatus::parse(&row.status)
                .ok_or_else(|| StoreError::Corrupt(format!("email status {:?}", row.status)))?,
            provider_id: row.provider_id,
            last_error: row.last_error,
            created_at: row.created_at.into(),
            sent_at: row.sent_at.map(Into::into),
        })
    }
}

/// Converts every row, failing on the first that cannot be read.
pub(crate) fn convert_all<R, T>(rows: Vec<R>) -> Result<Vec<T>, StoreError>
where
    T: TryFrom<R, Error = StoreError>,
{
    rows.into_iter().map(T::try_from).collect()
}

#[derive(sqlx::FromRow)]
pub(crate) struct AuditRow {
    id: i64,
    at: Timestamp,
    actor_id: Option<i64>,
    actor: String,
    action: String,
    target: String,
    detail: Value,
    address: String,
}

impl TryFrom<AuditRow> for AuditEntry {
    type Error = StoreError;

    fn try_from(row: AuditRow) -> Result<Self, StoreError> {
        Ok(AuditEntry {
            id: row.id,
            at: row.at.into(),
            actor: Actor {
                user_id: row.actor_id.map(UserId),
                name: row.actor,
            },
            action: parse("audit action", &row.action)?,
            target: row.target,
            detail: row.detail,
            address: row.address,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct EnvironmentRow {
    digest: String,
    spec: Json<EnvironmentSpec>,
    status: String,
    log: String,
    created_at: Timestamp,
    updated_at: Timestamp,
}

impl TryFrom<EnvironmentRow> for Environment {
    type Error = StoreError;

    fn try_from(row: EnvironmentRow) -> Result<Self, StoreError> {
        Ok(Environment {
            digest: row.digest,
            spec: row.spec.0,
            status: parse("environment status", &row.status)?,
            log: row.log,
            created_at: row.created_at.into(),
            updated_at: row.updated_at.into(),
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct SealedSecretRow {
    name: String,
    sealed: String,
    updated_at: Timestamp,
    updated_by: String,
}

impl From<SealedSecretRow> for (SecretInfo, String) {
    fn from(row: SealedSecretRow) -> Self {
        (
            SecretInfo {
                name: row.name,
                updated_at: row.updated_at.into(),
                updated_by: row.updated_by,
                unreadable: None,
            },
            row.sealed,
        )
    }
}
