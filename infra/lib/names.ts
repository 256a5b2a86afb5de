// The names a deployment gives its resources, all from its stage. Two stages
// (`-c stage=dev`, `-c stage=prod`) live side by side in one account and
// region: every name either comes from here, and so holds the stage, or is
// left to CloudFormation, which makes it unique. Without a stage the names
// are the ones a single deployment has always had (`modelrun`, `modelrun/`,
// `/modelrun/runs`…), so an existing stack keeps its resources.

/** The names of one deployment's resources. */
export class StageNames {
  /** `modelrun`, or `modelrun-<stage>`: the stack, the job queue, the API. */
  readonly base: string;

  constructor(readonly stage?: string) {
    this.base = stage ? `modelrun-${stage}` : 'modelrun';
  }

  /** The CloudFormation stack. */
  get stack(): string {
    return this.base;
  }

  /** The Batch job queue runs go to. */
  get jobQueue(): string {
    return this.base;
  }

  /** The CloudWatch Logs group of the runs (MODELRUN_BATCH_LOG_GROUP). */
  get runLogGroup(): string {
    return `/${this.base}/runs`;
  }

  /**
   * Model image repositories are `<prefix><model>` (MODELRUN_ECR_REPOSITORY_PREFIX).
   * The slash ends the stage: `modelrun-dev/` never matches `modelrun-dev2/…`.
   */
  get repositoryPrefix(): string {
    return `${this.base}/`;
  }

  /** The repository of the runtime image; outside the prefix, so it is no model. */
  get runtimeRepository(): string {
    return `${this.base}-runtime`;
  }

  /** Model secrets are `<prefix><model>/<NAME>` in Secrets Manager (MODELRUN_SECRETS_PREFIX). */
  get modelSecretsPrefix(): string {
    return `${this.base}/models/`;
  }

  /** The CodeBuild project that builds a model's images. */
  buildProject(model: string): string {
    return `${this.base}-${model}`;
  }

  /** The Name tag of the NAT gateway's address. */
  get natAddress(): string {
    return `${this.base}-nat`;
  }
}
