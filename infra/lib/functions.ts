// The serverless tier: the `modelrun` binary as two Lambda functions in the
// private subnets, web behind an API Gateway HTTP API (with access logs) and
// worker behind EventBridge (events.ts) and the web function's kicks. Their
// environment holds settings and secret ARNs, never secrets: the database
// credentials and the first administrator's password are read from Secrets
// Manager at start-up. Each role allows exactly the calls docs/aws.md lists.
// The environment names the stage's own queue, log group, repositories and
// secrets (names.ts), so two stages in one account never reach each other's.

import { Duration, RemovalPolicy, Size, Stack } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

import { Runs } from './batch';
import { Architecture } from './config';
import { Database } from './database';
import { Mail } from './mail';
import { modelSecretsArn } from './batch';
import { StageNames } from './names';

export interface FunctionsProps {
  /** The stage's repository prefix, model secrets prefix and API name. */
  readonly names: StageNames;
  readonly architecture: Architecture;
  readonly lambdaZip: string;
  readonly vpc: ec2.IVpc;
  readonly subnets: ec2.SubnetSelection;
  readonly securityGroup: ec2.ISecurityGroup;
  readonly database: Database;
  readonly artifacts: s3.IBucket;
  readonly runs: Runs;
  readonly mail: Mail;
  readonly mailFrom: string;
  readonly adminEmail: string;
  readonly batchPlatform: string;
  readonly runVisibility: string;
  readonly webConcurrency: number;
  readonly workerConcurrency: number;
  /** Encrypts logs, the admin secret, the environment and the dead letters. */
  readonly key: kms.IKey;
}

export class Functions extends Construct {
  readonly web: lambda.Function;
  readonly worker: lambda.Function;
  readonly api: apigw.HttpApi;
  readonly workerDeadLetters: sqs.Queue;
  readonly adminPassword: secretsmanager.Secret;
  /** The web app's address (MODELRUN_PUBLIC_URL): an origin, no trailing slash. */
  readonly publicUrl: string;

  constructor(scope: Construct, id: string, props: FunctionsProps) {
    super(scope, id);
    const stack = Stack.of(this);
    this.api = new apigw.HttpApi(this, 'Api', {
      apiName: props.names.base,
      description: 'modelrun web app',
      createDefaultStage: false,
    });
    const publicUrl = `https://${this.api.apiId}.execute-api.${stack.region}.${stack.urlSuffix}`;
    this.publicUrl = publicUrl;

    this.adminPassword = new secretsmanager.Secret(this, 'AdminPassword', {
      description: `modelrun: the first administrator's password (${props.adminEmail})`,
      generateSecretString: { passwordLength: 24, excludePunctuation: true },
      encryptionKey: props.key,
    });

    const code = lambda.Code.fromAsset(props.lambdaZip);
    const architecture = props.architecture === 'arm64' ? lambda.Architecture.ARM_64 : lambda.Architecture.X86_64;
    const database = props.database;
    const environment: Record<string, string> = {
      MODELRUN_PUBLIC_URL: publicUrl,
      MODELRUN_RUN_VISIBILITY: props.runVisibility,
      MODELRUN_DATABASE_SECRET_ARN: database.secret.secretArn,
      MODELRUN_DATABASE_HOST: database.host,
      MODELRUN_DB_BEHIND_PROXY: database.proxy ? 'true' : 'false',
      MODELRUN_BLOB_STORE: 's3',
      MODELRUN_S3_BUCKET: props.artifacts.bucketName,
      MODELRUN_EXECUTOR: 'batch',
      MODELRUN_BATCH_JOB_QUEUE: props.runs.queue.jobQueueArn,
      MODELRUN_BATCH_PLATFORM: props.batchPlatform,
      MODELRUN_BATCH_EXECUTION_ROLE_ARN: props.runs.executionRole.roleArn,
      MODELRUN_BATCH_JOB_ROLE_ARN: props.runs.jobRole.roleArn,
      MODELRUN_BATCH_LOG_GROUP: props.runs.logGroup.logGroupName,
      MODELRUN_MAILER: 'ses',
      MODELRUN_SES_FROM: `modelrun <${props.mailFrom}>`,
      MODELRUN_SES_CONFIGURATION_SET: props.mail.configurationSet.configurationSetName,
      MODELRUN_ECR_REPOSITORY_PREFIX: props.names.repositoryPrefix,
      MODELRUN_SECRETS_PREFIX: props.names.modelSecretsPrefix,
    };
    const common = (name: string, description: string): lambda.FunctionProps => ({
      description,
      runtime: lambda.Runtime.PROVIDED_AL2023,
      handler: 'bootstrap',
      code,
      architecture,
      vpc: props.vpc,
      vpcSubnets: props.subnets,
      securityGroups: [props.securityGroup],
      environmentEncryption: props.key,
      logGroup: new logs.LogGroup(this, `${name}Logs`, {
        encryptionKey: props.key,
        retention: logs.RetentionDays.THREE_MONTHS,
        removalPolicy: RemovalPolicy.RETAIN,
      }),
      loggingFormat: lambda.LoggingFormat.TEXT,
    });

    this.workerDeadLetters = new sqs.Queue(this, 'WorkerDeadLetters', {
      encryption: sqs.QueueEncryption.KMS,
      encryptionMasterKey: props.key,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    this.worker = new lambda.Function(this, 'Worker', {
      ...common('Worker', 'modelrun worker: tasks, Batch and ECR events, the sweep'),
      memorySize: 512,
      // A reproducibility bundle is written to /tmp before it is stored in
      // S3: room for a run's outputs of a few GiB (docs/bundles.md).
      ephemeralStorageSize: Size.gibibytes(4),
      // Tasks are released five seconds before the deadline.
      timeout: Duration.minutes(5),
      reservedConcurrentExecutions: reservation(props.workerConcurrency),
      environment: { ...environment, MODELRUN_LAMBDA_FUNCTION: 'worker' },
      deadLetterQueue: this.workerDeadLetters,
      retryAttempts: 2,
      maxEventAge: Duration.hours(1),
    });
    // Lambda sends a failed event to the dead-letter queue with the
    // function's role, and the queue is encrypted with the stack's key:
    // without these, failed events would be lost, not kept.
    props.key.grant(this.worker, 'kms:GenerateDataKey', 'kms:Decrypt');
    this.web = new lambda.Function(this, 'Web', {
      ...common('Web', 'modelrun web app and API'),
      memorySize: 1024,
      // API Gateway answers 503 after 30 s.
      timeout: Duration.seconds(29),
      reservedConcurrentExecutions: reservation(props.webConcurrency),
      environment: {
        ...environment,
        MODELRUN_LAMBDA_FUNCTION: 'web',
        MODELRUN_WORKER_FUNCTION: this.worker.functionArn,
        MODELRUN_ADMIN_EMAIL: props.adminEmail,
        MODELRUN_ADMIN_PASSWORD_SECRET_ARN: this.adminPassword.secretArn,
      },
    });

    const accessLogs = new logs.LogGroup(this, 'ApiAccessLogs', {
      encryptionKey: props.key,
      retention: logs.RetentionDays.ONE_YEAR,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    new apigw.HttpStage(this, 'Stage', {
      httpApi: this.api,
      stageName: '$default',
      autoDeploy: true,
      throttle: { rateLimit: 50, burstLimit: 100 },
      accessLogSettings: {
        destination: new apigw.LogGroupLogDestination(accessLogs),
      },
    });
    this.api.addRoutes({
      path: '/{proxy+}',
      methods: [apigw.HttpMethod.ANY],
      integration: new HttpLambdaIntegration('WebIntegration', this.web),
    });
    this.api.addRoutes({
      path: '/',
      methods: [apigw.HttpMethod.ANY],
      integration: new HttpLambdaIntegration('WebRootIntegration', this.web),
    });

    this.grantWeb(props);
    this.grantWorker(props);
  }

  /** The web app reads outputs and logs, takes uploads, kicks the worker, and keeps model secrets. */
  private grantWeb(props: FunctionsProps): void {
    const role = this.web.role as iam.IRole;
    props.database.secret.grantRead(role);
    this.adminPassword.grantRead(role);
    // Administrators set and delete model secrets; the app never reads a value.
    role.addToPrincipalPolicy(new iam.PolicyStatement({
      actions: ['secretsmanager:CreateSecret', 'secretsmanager:UpdateSecret', 'secretsmanager:DeleteSecret',
        'secretsmanager:DescribeSecret', 'secretsmanager:TagResource'],
      resources: [modelSecretsArn(this, props.names)],
    }));
    // AWS requires `*` here: ListSecrets has no resource-level permissions.
    role.addToPrincipalPolicy(new iam.PolicyStatement({
      actions: ['secretsmanager:ListSecrets'],
      resources: ['*'],
    }));
    // Downloads, and the job API: it presigns a job's read of its run's
    // inputs and input files and its writes of the run's outputs (jobs have
    // no S3 rights). Uploads: it presigns the PUT that sends an input file
    // from the browser or an API client straight to `uploads/<id>/<name>`
    // (a presigned request acts with the signer's rights), then finds the
    // file by listing `uploads/<id>/`.
    role.addToPrincipalPolicy(new iam.PolicyStatement({
      actions: ['s3:GetObject'],
      resources: [
        props.artifacts.arnForObjects('runs/*/outputs/*'),
        props.artifacts.arnForObjects('runs/*/inputs.json'),
        props.artifacts.arnForObjects('runs/*/bundle/*'),
        props.artifacts.arnForObjects('sweeps/*'),
        props.artifacts.arnForObjects('uploads/*'),
      ],
    }));
    role.addToPrincipalPolicy(new iam.PolicyStatement({
      actions: ['s3:PutObject'],
      resources: [props.artifacts.arnForObjects('runs/*/outputs/*'), props.artifacts.arnForObjects('uploads/*')],
    }));
    role.addToPrincipalPolicy(new iam.PolicyStatement({
      actions: ['s3:ListBucket'],
      resources: [props.artifacts.bucketArn],
      conditions: { StringLike: { 's3:prefix': ['uploads/*'] } },
    }));
    // Whether a run's reproducibility bundle, or a sweep's archive, is
    // stored yet: its prefix is listed before the presigned download is
    // handed out.
    role.addToPrincipalPolicy(new iam.PolicyStatement({
      actions: ['s3:ListBucket'],
      resources: [props.artifacts.bucketArn],
      conditions: { StringLike: { 's3:prefix': ['runs/*/bundle/*', 'sweeps/*'] } },
    }));
    role.addToPrincipalPolicy(this.readRunLogs(props));
    role.addToPrincipalPolicy(new iam.PolicyStatement({
      actions: ['lambda:InvokeFunction'],
      resources: [this.worker.functionArn],
    }));
  }

  /** The worker: Batch, S3, SES, ECR and the run logs, as docs/aws.md lists. */
  private grantWorker(props: FunctionsProps): void {
    const role = this.worker.role as iam.IRole;
    const stack = Stack.of(this);
    const runs = props.runs;
    const allow = (actions: string[], resources: string[], conditions?: Record<string, unknown>) =>
      role.addToPrincipalPolicy(new iam.PolicyStatement({ actions, resources, conditions }));
    props.database.secret.grantRead(role);
    allow(['batch:SubmitJob'], [runs.queue.jobQueueArn, runs.jobDefinitionArnPattern()]);
    allow(['batch:TagResource'], [runs.jobArnPattern(), runs.jobDefinitionArnPattern()]);
    allow(['batch:TerminateJob'], [runs.jobArnPattern()]);
    allow(['batch:RegisterJobDefinition'], [runs.jobDefinitionArnPattern()]);
    // AWS requires `*` here: these Batch actions have no resource-level permissions.
    allow(['batch:ListJobs', 'batch:DescribeJobs', 'batch:DescribeJobDefinitions',
      'batch:DescribeJobQueues', 'batch:DescribeComputeEnvironments'], ['*']);
    allow(['iam:PassRole'], [runs.executionRole.roleArn, runs.jobRole.roleArn],
      { StringEquals: { 'iam:PassedToService': 'batch.amazonaws.com' } });
    // The diagnosis of a waiting run checks that the roles its jobs need
    // exist: the job's two, and the compute environment's service role
    // (Batch's service-linked role when the stack names none).
    allow(['iam:GetRole'], [
      runs.executionRole.roleArn,
      runs.jobRole.roleArn,
      runs.computeEnvironment.serviceRole?.roleArn
        ?? stack.formatArn({ service: 'iam', region: '', resource: 'role', resourceName: 'aws-service-role/batch.amazonaws.com/AWSServiceRoleForBatch' }),
    ]);
    allow(['s3:PutObject'], [props.artifacts.arnForObjects('runs/*')]);
    allow(['s3:GetObject'], [props.artifacts.arnForObjects('runs/*'), props.artifacts.arnForObjects('manifests/*')]);
    // A sweep's archive: every output of its runs, written once under sweeps/.
    allow(['s3:PutObject'], [props.artifacts.arnForObjects('sweeps/*')]);
    allow(['s3:ListBucket'], [props.artifacts.bucketArn], { StringLike: { 's3:prefix': ['sweeps/*'] } });
    // A run's reproducibility bundle holds its input files: read, never written or listed.
    allow(['s3:GetObject'], [props.artifacts.arnForObjects('uploads/*')]);
    allow(['s3:ListBucket'], [props.artifacts.bucketArn], { StringLike: { 's3:prefix': ['runs/*'] } });
    role.addToPrincipalPolicy(props.mail.sendingStatement());
    // Listing repositories (no names given) is authorized on `repository/*`
    // of this account and region; images only in modelrun's repositories.
    allow(['ecr:DescribeRepositories'], [stack.formatArn({ service: 'ecr', resource: 'repository', resourceName: '*' })]);
    allow(['ecr:DescribeImages'], [stack.formatArn({ service: 'ecr', resource: 'repository', resourceName: `${props.names.repositoryPrefix}*` })]);
    role.addToPrincipalPolicy(this.readRunLogs(props));
  }

  private readRunLogs(props: FunctionsProps): iam.PolicyStatement {
    return new iam.PolicyStatement({
      actions: ['logs:GetLogEvents'],
      resources: [props.runs.logStreamsArn()],
    });
  }
}

/**
 * A reserved concurrency for Lambda: `0` reserves none (`undefined`), since
 * Lambda reads a reservation of 0 as "never run".
 */
export function reservation(concurrency: number): number | undefined {
  return concurrency > 0 ? concurrency : undefined;
}
