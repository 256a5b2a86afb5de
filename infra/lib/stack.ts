// modelrun on AWS, whole: the network, storage, database, Batch, the model
// build pipelines, the two functions with their API and events, and mail.
// Environment-agnostic (no account or region baked in), so `cdk synth`
// runs offline; `cdk deploy` takes both from the AWS profile. The stack and
// every name in it carry the stage (names.ts): `modelrun-dev` and
// `modelrun-prod` deploy side by side.

import * as fs from 'node:fs';
import * as path from 'node:path';

import { Aspects, CfnOutput, CfnResource, Stack, StackProps, Tags } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct, IConstruct } from 'constructs';

import { Runs } from './batch';
import { CheckovSkips, DEFAULT_SG_PROVIDER, SkipRule } from './checkov';
import { ModelrunConfig } from './config';
import { Database } from './database';
import { WorkerEvents } from './events';
import { Functions } from './functions';
import { StackKey } from './key';
import { Mail } from './mail';
import { ModelPipelines, exampleBuildspec } from './models';
import { StageNames } from './names';
import { Network } from './network';
import { Storage } from './storage';

export interface ModelrunStackProps extends StackProps {
  readonly config: ModelrunConfig;
  /** The modelrun repository: the example buildspec and Cargo.toml are read from it. */
  readonly repositoryRoot: string;
  /** A Secrets Manager secret holding a GitHub token for CodeBuild. */
  readonly githubTokenSecret?: string;
}

export class ModelrunStack extends Stack {
  readonly network: Network;
  readonly storage: Storage;
  readonly database: Database;
  readonly runs: Runs;
  readonly pipelines: ModelPipelines;
  readonly functions: Functions;
  readonly events: WorkerEvents;
  readonly mail: Mail;
  readonly names: StageNames;

  constructor(scope: Construct, id: string, props: ModelrunStackProps) {
    const names = new StageNames(props.config.stage);
    super(scope, id, { ...props, stackName: names.stack });
    const config = props.config;
    this.names = names;
    Tags.of(this).add('application', 'modelrun');

    const key = new StackKey(this, 'Encryption').key;
    this.network = new Network(this, 'Network', {
      interfaceEndpoints: config.interfaceEndpoints,
      natAddressName: names.natAddress,
      key,
    });
    const subnets = this.network.privateSubnets;
    this.storage = new Storage(this, 'Storage', { runRetentionDays: config.runRetentionDays });
    this.mail = new Mail(this, 'Mail', { domain: config.sesDomain, mailFrom: config.mailFrom, sandbox: config.sesSandbox });
    this.database = new Database(this, 'Database', {
      vpc: this.network.vpc,
      subnets,
      clients: this.network.functionsSecurityGroup,
      instanceType: config.dbInstanceType,
      multiAz: config.multiAz,
      proxy: config.rdsProxy,
      key,
    });
    this.runs = new Runs(this, 'Runs', {
      names,
      vpc: this.network.vpc,
      subnets,
      securityGroup: this.network.jobsSecurityGroup,
      platform: config.batchPlatform,
      maxvCpus: config.maxvCpus,
      runnableTimeoutMinutes: config.runnableTimeoutMinutes,
      artifacts: this.storage.artifacts,
      repositoryArnPattern: this.formatArn({ service: 'ecr', resource: 'repository', resourceName: `${names.repositoryPrefix}*` }),
      key,
    });
    this.pipelines = new ModelPipelines(this, 'Models', {
      names,
      models: config.models,
      artifacts: this.storage.artifacts,
      buildspecPath: exampleBuildspec(props.repositoryRoot),
      runtimeImage: config.runtimeImage,
      version: modelrunVersion(props.repositoryRoot),
      githubTokenSecret: props.githubTokenSecret,
    });
    this.functions = new Functions(this, 'Functions', {
      names,
      architecture: config.architecture,
      lambdaZip: config.lambdaZip,
      vpc: this.network.vpc,
      subnets,
      securityGroup: this.network.functionsSecurityGroup,
      database: this.database,
      artifacts: this.storage.artifacts,
      runs: this.runs,
      mail: this.mail,
      mailFrom: config.mailFrom,
      adminEmail: config.adminEmail,
      batchPlatform: config.batchPlatform,
      runVisibility: config.runVisibility,
      webConcurrency: config.webConcurrency,
      workerConcurrency: config.workerConcurrency,
      key,
    });
    // Browsers send uploaded input files straight to the bucket with the
    // web app's presigned PUTs (no file passes through Lambda and its 6 MB
    // payload limit): the app's own origin may, no other. S3 answers the
    // preflight (OPTIONS) from this rule. The address is only known once
    // the API exists; the bucket then refers to the API, which refers to
    // nothing of the bucket's, so there is no cycle.
    this.storage.artifacts.addCorsRule({
      id: 'upload-from-the-app',
      allowedOrigins: [this.functions.publicUrl],
      allowedMethods: [s3.HttpMethods.PUT],
      allowedHeaders: ['*'],
      exposedHeaders: ['ETag'],
      maxAge: 3000,
    });
    this.events = new WorkerEvents(this, 'Events', {
      repositoryPrefix: names.repositoryPrefix,
      worker: this.functions.worker,
      jobQueueArn: this.runs.queue.jobQueueArn,
      deadLetters: this.functions.workerDeadLetters,
    });

    Aspects.of(this).add(new CheckovSkips(this.checkovSkips(config)));

    const output = (id: string, value: string, description: string) =>
      new CfnOutput(this, id, { value, description });
    output('ApiUrl', this.functions.api.apiEndpoint, 'The address of modelrun (MODELRUN_PUBLIC_URL)');
    output('ArtifactsBucket', this.storage.artifacts.bucketName, 'Run files and model manifests');
    output('AccessLogsBucket', this.storage.accessLogs.bucketName, 'S3 access logs of the artifacts bucket');
    output('JobQueueArn', this.runs.queue.jobQueueArn, 'The Batch job queue runs go to');
    output('NatPublicIp', this.network.natEip.attrPublicIp, 'All outbound traffic comes from this address');
    output('AdminPasswordSecretArn', this.functions.adminPassword.secretArn, `The password of ${config.adminEmail}`);
    output('DatabaseSecretArn', this.database.secret.secretArn, 'The database credentials');
    output('RuntimeRepositoryUri', this.pipelines.runtime.repositoryUri, 'Push the modelrun runtime image here');
    output('RuntimeImage', this.pipelines.runtimeImage, 'What model builds copy the modelrun binary from');
    output('WorkerDeadLetterQueueUrl', this.functions.workerDeadLetters.queueUrl, 'Worker events that failed every retry');
    for (const [name, repository] of this.pipelines.repositories) {
      output(`Repository${name.replace(/[^A-Za-z0-9]/g, '')}`, repository.repositoryUri, `Images of ${name}`);
    }
  }
  /** The checkov findings that stay, and why. */
  private checkovSkips(config: ModelrunConfig): SkipRule[] {
    const is = (construct: IConstruct) => (resource: CfnResource) => resource === construct.node.defaultChild;
    const rules: SkipRule[] = [
      DEFAULT_SG_PROVIDER,
      {
        matches: is(this.storage.accessLogs),
        skips: [{ id: 'CKV_AWS_18', comment: 'the access-log bucket itself: logging it would log its own log writes' }],
      },
      {
        matches: is(this.functions.web),
        skips: [{ id: 'CKV_AWS_116', comment: 'API Gateway invokes the web function synchronously: a dead-letter queue only applies to asynchronous invocations' }],
      },
    ];
    const unreserved = [
      [this.functions.web, config.webConcurrency, 'webConcurrency'],
      [this.functions.worker, config.workerConcurrency, 'workerConcurrency'],
    ] as const;
    for (const [fn, concurrency, key] of unreserved) {
      if (concurrency === 0) {
        rules.push({
          matches: is(fn),
          skips: [{ id: 'CKV_AWS_115', comment: `no reserved concurrency by default: a new account's limit (often 10) refuses any reservation; set -c ${key}=N to reserve` }],
        });
      }
    }
    if (!config.multiAz) {
      rules.push({
        matches: is(this.database.instance),
        skips: [{ id: 'CKV_AWS_157', comment: 'single-AZ by default to halve the cost; deploy with -c multiAz=true for a standby' }],
      });
    }
    return rules;
  }
}

/** `version` of `[workspace.package]` in Cargo.toml. */
export function modelrunVersion(repositoryRoot: string): string {
  const manifest = fs.readFileSync(path.join(repositoryRoot, 'Cargo.toml'), 'utf8');
  const section = manifest.split(/^\[workspace\.package\]\s*$/m)[1] ?? '';
  const match = /^version\s*=\s*"([^"]+)"/m.exec(section.split(/^\[/m)[0]);
  if (!match) {
    throw new Error('Cargo.toml has no version in [workspace.package]');
  }
  return match[1];
}
