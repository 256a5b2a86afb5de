// The deployment's settings, read from CDK context (cdk.json or `-c key=value`).
// Every value is checked here, so that a mistake stops `cdk synth` with a
// message naming the key, instead of surfacing in CloudFormation later.

import * as path from 'node:path';

/** A model repository that CodeBuild builds on every push. */
export interface ModelSource {
  /** The model's name, as in its modelrun.toml. */
  readonly name: string;
  /** GitHub owner (user or organisation). */
  readonly owner: string;
  /** GitHub repository. */
  readonly repo: string;
  /** The branch whose pushes make versions. */
  readonly branch: string;
}

export type Architecture = 'x86_64' | 'arm64';
export type BatchPlatform = 'fargate' | 'ec2';

export interface ModelrunConfig {
  /**
   * The deployment's stage (`dev`, `prod`…), in every resource name so that
   * stages share an account and region. Unset: the names of a single
   * deployment (stack `modelrun`).
   */
  readonly stage?: string;
  /** The Lambda functions' architecture; the zip must be built for it. */
  readonly architecture: Architecture;
  /** The cargo-lambda zip (`./scripts/build-lambda <architecture>`). */
  readonly lambdaZip: string;
  /** The domain SES sends from (a verified identity is created for it). */
  readonly sesDomain: string;
  /** The sender address, in `sesDomain`. */
  readonly mailFrom: string;
  /**
   * The account's SES is in the sandbox: it sends only to verified
   * addresses, and authorizes each send on the recipients' identities too.
   */
  readonly sesSandbox: boolean;
  /** The first administrator's email; the password is generated in Secrets Manager. */
  readonly adminEmail: string;
  /** Model repositories built by CodeBuild. */
  readonly models: ModelSource[];
  /**
   * The modelrun runtime image that model images copy the binary from.
   * Unset: the stack's runtime repository (`modelrun-runtime`, or `modelrun-<stage>-runtime`), tagged with modelrun's version.
   */
  readonly runtimeImage?: string;
  /** Where runs execute: Fargate (default) or EC2 instances managed by Batch. */
  readonly batchPlatform: BatchPlatform;
  /** Whose runs people see: every run of the team, or their own. */
  readonly runVisibility: 'team' | 'own';
  /** The most vCPUs Batch runs at once. */
  readonly maxvCpus: number;
  /**
   * Minutes a job may stay RUNNABLE, blocked for a reason Batch recognises,
   * before Batch cancels it; 0: never.
   */
  readonly runnableTimeoutMinutes: number;
  /** Interface endpoints for ECR and CloudWatch Logs (cut NAT traffic; cost per hour). */
  readonly interfaceEndpoints: boolean;
  /** RDS Proxy in front of the database. */
  readonly rdsProxy: boolean;
  /** The database instance type, such as `t4g.micro`. */
  readonly dbInstanceType: string;
  /** A standby database in a second availability zone. */
  readonly multiAz: boolean;
  /** Run files (inputs, outputs) are deleted this many days after they were written. */
  readonly runRetentionDays: number;
  /**
   * Reserved concurrency of the web function; 0 (the default): none. Lambda
   * keeps 100 executions of the account's limit unreserved, so an account
   * whose limit is still the new-account 10 cannot reserve any.
   */
  readonly webConcurrency: number;
  /** Reserved concurrency of the worker function; 0 (the default): none. */
  readonly workerConcurrency: number;
}

/** Reads one context value: `undefined` when it is not set. */
export type ContextReader = (key: string) => unknown;

export class ConfigError extends Error {}

const NAME = /^[a-z0-9][a-z0-9-]{0,62}$/;
// No hyphen: `modelrun-<stage>-<model>` then names one stage's model only.
const STAGE = /^[a-z][a-z0-9]{0,15}$/;
const GITHUB = /^[A-Za-z0-9_.-]+$/;
const DOMAIN = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;
const EMAIL = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;
const INSTANCE_TYPE = /^[a-z][a-z0-9]*\.[a-z0-9]+$/;

function text(read: ContextReader, key: string): string | undefined {
  const value = read(key);
  if (value === undefined || value === null || value === '') {
    return undefined;
  }
  if (typeof value !== 'string') {
    throw new ConfigError(`context ${key}: must be a string, not ${JSON.stringify(value)}`);
  }
  return value.trim();
}

function required(read: ContextReader, key: string, example: string): string {
  const value = text(read, key);
  if (value === undefined) {
    throw new ConfigError(`context ${key} is required, for example: -c ${key}=${example}`);
  }
  return value;
}

function flag(read: ContextReader, key: string, fallback: boolean): boolean {
  const value = read(key);
  if (value === undefined || value === null || value === '') {
    return fallback;
  }
  if (value === true || value === 'true') {
    return true;
  }
  if (value === false || value === 'false') {
    return false;
  }
  throw new ConfigError(`context ${key}: must be true or false, not ${JSON.stringify(value)}`);
}

function integer(read: ContextReader, key: string, fallback: number, min: number, max: number): number {
  const value = read(key);
  if (value === undefined || value === null || value === '') {
    return fallback;
  }
  const number = typeof value === 'number' ? value : Number(value);
  if (!Number.isInteger(number) || number < min || number > max) {
    throw new ConfigError(`context ${key}: must be a whole number from ${min} to ${max}, not ${JSON.stringify(value)}`);
  }
  return number;
}

function oneOf<T extends string>(read: ContextReader, key: string, options: readonly T[], fallback: T): T {
  const value = text(read, key) ?? fallback;
  if (!options.includes(value as T)) {
    throw new ConfigError(`context ${key}: must be one of ${options.join(', ')}, not ${JSON.stringify(value)}`);
  }
  return value as T;
}

/**
 * Models as `name=owner/repo@branch`, comma-separated (the `-c` form), or
 * as a JSON list of `{name, owner, repo, branch}` (the cdk.json form).
 */
export function parseModels(value: unknown): ModelSource[] {
  if (value === undefined || value === null || value === '') {
    return [];
  }
  const entries: unknown[] = typeof value === 'string'
    ? value.split(',').map((entry) => entry.trim()).filter((entry) => entry !== '')
    : Array.isArray(value) ? value : [value];
  const models = entries.map((entry, index) => {
    const model = typeof entry === 'string' ? fromShortForm(entry) : entry as Partial<ModelSource>;
    const where = `context models[${index}]`;
    if (typeof model.name !== 'string' || !NAME.test(model.name)) {
      throw new ConfigError(`${where}: the name must be 1-63 of a-z, 0-9 and -, as in modelrun.toml`);
    }
    for (const key of ['owner', 'repo'] as const) {
      if (typeof model[key] !== 'string' || !GITHUB.test(model[key] as string)) {
        throw new ConfigError(`${where} (${model.name}): ${key} must be a GitHub ${key} name`);
      }
    }
    const branch = model.branch ?? 'main';
    if (typeof branch !== 'string' || branch === '' || /\s/.test(branch)) {
      throw new ConfigError(`${where} (${model.name}): branch must be a branch name`);
    }
    return { name: model.name, owner: model.owner as string, repo: model.repo as string, branch };
  });
  const names = new Set<string>();
  for (const model of models) {
    if (names.has(model.name)) {
      throw new ConfigError(`context models: ${model.name} is listed twice`);
    }
    names.add(model.name);
  }
  return models;
}

function fromShortForm(entry: string): Partial<ModelSource> {
  const match = /^([^=]+)=([^/]+)\/([^@]+)(?:@(.+))?$/.exec(entry);
  if (!match) {
    throw new ConfigError(`context models: ${JSON.stringify(entry)} is not name=owner/repo@branch`);
  }
  return { name: match[1], owner: match[2], repo: match[3], branch: match[4] };
}

function stage(read: ContextReader): string | undefined {
  const value = text(read, 'stage');
  if (value !== undefined && !STAGE.test(value)) {
    throw new ConfigError(`context stage: must be 1-16 of a-z and 0-9, starting with a letter (such as dev or prod), not ${JSON.stringify(value)}`);
  }
  return value;
}

/**
 * Minutes, or 0 for never: Batch takes 10 minutes to 24 hours; at least 15
 * here, so that the worker's diagnosis of a waiting run (after 10 minutes,
 * `--stuck-after-mins`) comes before the cancel.
 */
function runnableTimeout(read: ContextReader): number {
  const key = 'runnableTimeoutMinutes';
  const value = read(key);
  if (value === undefined || value === null || value === '') {
    return 30;
  }
  const minutes = typeof value === 'number' ? value : Number(value);
  if (!Number.isInteger(minutes) || (minutes !== 0 && (minutes < 15 || minutes > 1440))) {
    throw new ConfigError(`context ${key}: must be 0 (never) or a whole number from 15 to 1440 (the worker diagnoses a waiting run at 10), not ${JSON.stringify(value)}`);
  }
  return minutes;
}

/** The settings, with defaults, or a ConfigError naming the first bad key. */
export function readConfig(read: ContextReader, repositoryRoot: string): ModelrunConfig {
  const architecture = oneOf(read, 'architecture', ['x86_64', 'arm64'] as const, 'x86_64');
  const sesDomain = required(read, 'sesDomain', 'example.com').toLowerCase();
  if (!DOMAIN.test(sesDomain)) {
    throw new ConfigError(`context sesDomain: ${JSON.stringify(sesDomain)} is not a domain name`);
  }
  const mailFrom = text(read, 'mailFrom') ?? `modelrun@${sesDomain}`;
  if (!EMAIL.test(mailFrom) || !mailFrom.toLowerCase().endsWith(`@${sesDomain}`)) {
    throw new ConfigError(`context mailFrom: must be an address in ${sesDomain}, not ${JSON.stringify(mailFrom)}`);
  }
  const adminEmail = required(read, 'adminEmail', 'ops@example.com');
  if (!EMAIL.test(adminEmail)) {
    throw new ConfigError(`context adminEmail: ${JSON.stringify(adminEmail)} is not an email address`);
  }
  const dbInstanceType = text(read, 'dbInstanceType') ?? 't4g.micro';
  if (!INSTANCE_TYPE.test(dbInstanceType)) {
    throw new ConfigError(`context dbInstanceType: ${JSON.stringify(dbInstanceType)} is not an instance type such as t4g.micro`);
  }
  const lambdaZip = path.resolve(
    repositoryRoot,
    text(read, 'lambdaZip') ?? `target/lambda/${architecture}/modelrun/bootstrap.zip`,
  );
  return {
    stage: stage(read),
    architecture,
    lambdaZip,
    sesDomain,
    mailFrom,
    sesSandbox: flag(read, 'sesSandbox', true),
    adminEmail,
    models: parseModels(read('models')),
    runtimeImage: text(read, 'runtimeImage'),
    batchPlatform: oneOf(read, 'batchPlatform', ['fargate', 'ec2'] as const, 'fargate'),
    runVisibility: oneOf(read, 'runVisibility', ['team', 'own'] as const, 'team'),
    maxvCpus: integer(read, 'maxvCpus', 64, 1, 10000),
    runnableTimeoutMinutes: runnableTimeout(read),
    interfaceEndpoints: flag(read, 'interfaceEndpoints', false),
    rdsProxy: flag(read, 'rdsProxy', false),
    dbInstanceType,
    multiAz: flag(read, 'multiAz', false),
    runRetentionDays: integer(read, 'runRetentionDays', 365, 1, 3650),
    webConcurrency: integer(read, 'webConcurrency', 0, 0, 1000),
    workerConcurrency: integer(read, 'workerConcurrency', 0, 0, 100),
  };
}
