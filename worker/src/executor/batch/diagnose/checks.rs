//! The checks of a diagnosis, each of one cause: it adds a line to what
//! was checked, and a cause only when it saw one.

use aws_sdk_batch::Client as BatchClient;
use aws_sdk_batch::types::{ComputeEnvironmentDetail, JobDetail, JobQueueDetail};
use modelrun_core::diagnosis::{BlockedJobFinding, Cause, Check, CheckOutcome};
use modelrun_core::run::Run;

use super::{Clients, ahead, environment_finding, image, resources, roles};

const RESOURCES: &str = "the job's vCPU and memory against the compute environments";
const IMAGE: &str = "the job's image in ECR";

/// The causes and checks, gathered as the checks run.
#[derive(Debug, Default)]
pub(super) struct Found {
    pub causes: Vec<Cause>,
    pub checks: Vec<Check>,
}

impl Found {
    pub(super) fn clear(&mut self, subject: &str, detail: impl Into<String>) {
        self.checks
            .push(Check::new(subject, CheckOutcome::Clear, detail));
    }

    pub(super) fn cause(
        &mut self,
        subject: &str,
        detail: impl Into<String>,
        cause: &str,
        what_to_do: &str,
    ) {
        let detail = detail.into();
        self.causes
            .push(Cause::new(cause, format!("{detail}. {what_to_do}")));
        self.checks
            .push(Check::new(subject, CheckOutcome::Found, detail));
    }

    pub(super) fn not_checked(&mut self, subject: &str, why: impl Into<String>) {
        self.checks
            .push(Check::new(subject, CheckOutcome::NotChecked, why));
    }
}

/// The job's vCPU and memory against what each compute environment can give.
pub(super) fn check_resources(
    job: Option<&JobDetail>,
    run: &Run,
    environments: &[ComputeEnvironmentDetail],
    found: &mut Found,
) {
    let (vcpu, memory) = resources::asked(job.and_then(|j| j.container()), &run.resources);
    let capacities: Vec<_> = environments.iter().map(resources::Capacity::of).collect();
    match resources::check(vcpu, memory, &capacities) {
        Ok(seen) => found.clear(RESOURCES, seen),
        Err(refused) => found.cause(
            RESOURCES,
            refused,
            "The job asks for more than the compute environments can give",
            "Give the model a version with smaller resources, or raise maxvCpus of a compute \
             environment of the queue.",
        ),
    }
}

/// What modelrun does not read, said so that nobody takes its silence
/// for a clean bill: the network (it would take the EC2 API) and the
/// account's quotas.
pub(super) fn not_read(found: &mut Found) {
    found.not_checked(
        "the subnets' way out (a NAT gateway, or VPC endpoints for ECR, S3 and CloudWatch Logs)",
        "modelrun does not read route tables or VPC endpoints; see \"Stuck runs\" in docs/aws.md",
    );
    found.not_checked(
        "the account's vCPU quota",
        "modelrun does not read Service Quotas; see \"Stuck runs\" in docs/aws.md",
    );
}

/// The queue and each compute environment: enabled and valid, or a
/// cause. Returns what is wrong with them, if anything.
pub(super) fn check_states(
    queue: Option<&JobQueueDetail>,
    environments: &[ComputeEnvironmentDetail],
    found: &mut Found,
) -> Option<String> {
    const SUBJECT: &str = "the job queue and its compute environments";
    let mut problems = Vec::new();
    let mut seen = Vec::new();
    let queue_line = queue.map(|q| {
        let state = |s: Option<&str>| s.unwrap_or("?").to_owned();
        (
            format!(
                "job queue {} is {} and {}",
                state(q.job_queue_name()),
                state(q.state().map(|s| s.as_str())),
                state(q.status().map(|s| s.as_str()))
            ),
            q.status_reason().map(str::to_owned),
            q.state().map(|s| s.as_str()) == Some("ENABLED")
                && q.status().map(|s| s.as_str()) == Some("VALID"),
        )
    });
    let environment_lines = environments.iter().map(environment_finding).map(|e| {
        let healthy = e.is_healthy();
        let text = |v: &Option<String>| v.clone().unwrap_or_else(|| "?".to_owned());
        (
            format!(
                "compute environment {} is {} and {}",
                text(&e.name),
                text(&e.state),
                text(&e.status)
            ),
            e.status_reason,
            healthy,
        )
    });
    for (line, reason, healthy) in queue_line.into_iter().chain(environment_lines) {
        if healthy {
            seen.push(line);
        } else {
            problems.push(match reason {
                Some(reason) => format!("{line} ({reason})"),
                None => line,
            });
        }
    }
    if problems.is_empty() {
        found.clear(SUBJECT, seen.join("; "));
        return None;
    }
    let problems = problems.join("; ");
    found.cause(
        SUBJECT,
        problems.clone(),
        "The queue or a compute environment cannot run jobs",
        "Enable it, or fix what its status reason names (an INVALID compute environment \
         usually names a role, subnet or security group).",
    );
    Some(problems)
}

/// The jobs ahead on the queue; the earliest blocked one, if any.
pub(super) async fn check_ahead(
    batch: &BatchClient,
    queue: &str,
    job: Option<&JobDetail>,
    run: &Run,
    found: &mut Found,
) -> Option<BlockedJobFinding> {
    const SUBJECT: &str = "the jobs ahead on the queue";
    let listed = match ahead::runnable(batch, queue).await {
        Ok(listed) => listed,
        Err(why) => {
            found.not_checked(SUBJECT, why);
            return None;
        }
    };
    let ours = run.job_id.as_deref().unwrap_or_default();
    let seen = ahead::ahead_of(ours, job.and_then(|j| j.created_at()), &listed);
    let Some(blocked) = seen.blocked else {
        found.clear(
            SUBJECT,
            modelrun_core::words::count(seen.count as i64, "runnable job") + " ahead, none blocked",
        );
        return None;
    };
    let who = behind_whom(&blocked);
    found.cause(
        SUBJECT,
        format!(
            "{who} is ahead and Batch cannot place it: {}",
            ahead::in_words(&blocked.status_reason)
        ),
        &format!("The run waits behind {who}"),
        "The jobs behind a blocked job wait with it: fix what that job asks for, or cancel it.",
    );
    Some(blocked)
}

/// "run 41 (job 1f2e…)", or "job other-name (1f2e…)" for a job that is not a run's.
pub(super) fn behind_whom(blocked: &BlockedJobFinding) -> String {
    match blocked.run {
        Some(run) => format!("run {run} (job {})", blocked.job_id),
        None => format!("job {} ({})", blocked.job_name, blocked.job_id),
    }
}

/// The image and roles a job names: from the job's container as Batch
/// describes it, or from its job definition where the job leaves them out.
#[derive(Debug, Default)]
pub(super) struct Named {
    image: Option<String>,
    execution_role: Option<String>,
    job_role: Option<String>,
}

pub(super) async fn named_by(batch: &BatchClient, job: Option<&JobDetail>) -> Option<Named> {
    let job = job?;
    let container = job.container();
    let mut named = Named {
        image: container.and_then(|c| c.image()).map(str::to_owned),
        execution_role: container
            .and_then(|c| c.execution_role_arn())
            .map(str::to_owned),
        job_role: container.and_then(|c| c.job_role_arn()).map(str::to_owned),
    };
    if named.image.is_none() {
        let definitions = batch
            .describe_job_definitions()
            .job_definitions(job.job_definition()?)
            .send()
            .await
            .ok()?;
        let properties = definitions
            .job_definitions()
            .first()?
            .container_properties()?;
        named.image = properties.image().map(str::to_owned);
        named.execution_role = named
            .execution_role
            .or_else(|| properties.execution_role_arn().map(str::to_owned));
        named.job_role = named
            .job_role
            .or_else(|| properties.job_role_arn().map(str::to_owned));
    }
    Some(named)
}

pub(super) async fn check_image(clients: &Clients, named: Option<&Named>, found: &mut Found) {
    let Some(image) = named.and_then(|n| n.image.as_deref()) else {
        found.not_checked(IMAGE, "neither the job nor its definition could be read");
        return;
    };
    match image::look_up(&clients.ecr, image).await {
        image::Lookup::Found(seen) => found.clear(IMAGE, seen),
        image::Lookup::Missing(seen) => found.cause(
            IMAGE,
            seen,
            "The job's image is not in ECR",
            "Push the image again, or run a version whose image is there.",
        ),
        image::Lookup::NotChecked(why) => found.not_checked(IMAGE, why),
    }
}

pub(super) async fn check_roles(
    clients: &Clients,
    named: Option<&Named>,
    environments: &[ComputeEnvironmentDetail],
    found: &mut Found,
) {
    let mut listed = Vec::new();
    let role = |arn: Option<&String>, purpose: &str| {
        arn.map(|arn| roles::NamedRole {
            arn: arn.clone(),
            purpose: purpose.to_owned(),
        })
    };
    listed.extend(role(
        named.and_then(|n| n.execution_role.as_ref()),
        "the job's execution role",
    ));
    listed.extend(role(
        named.and_then(|n| n.job_role.as_ref()),
        "the job's role",
    ));
    for environment in environments {
        listed.extend(role(
            environment.service_role().map(str::to_owned).as_ref(),
            &format!(
                "compute environment {}'s service role",
                environment.compute_environment_name().unwrap_or("?")
            ),
        ));
    }
    for role in roles::distinct(listed) {
        let subject = format!("role {} ({})", role.name(), role.purpose);
        match roles::look_up(&clients.iam, &role).await {
            roles::Lookup::Exists => found.clear(&subject, "exists"),
            roles::Lookup::Missing => found.cause(
                &subject,
                format!("{} does not exist", role.arn),
                "A role the job needs does not exist",
                "Create it, or point modelrun or the compute environment at the right one.",
            ),
            roles::Lookup::NotChecked(why) => found.not_checked(&subject, why),
        }
    }
}
