// Where runs execute: AWS Batch in the private subnets, on Fargate (or on
// EC2 instances Batch manages, by context), one job queue, and the two roles
// modelrun names in the job definitions it registers: the execution role
// (pull the image, write the log) and the job role (the run's own files in
// S3, nothing else). Jobs get no public IP: modelrun's job definitions set
// `assignPublicIp: DISABLED`, and the subnets give none. A job that Batch
// finds blocked in RUNNABLE (no compute environment can ever place it, or
// no capacity) is cancelled after a set time, so that one misconfigured
// version cannot hold the head of the queue and every run behind it.

import { ArnFormat, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as batch from 'aws-cdk-lib/aws-batch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';

import { BatchPlatform } from './config';
import { StageNames } from './names';

export interface RunsProps {
  /** The job queue's and the run log group's names. */
  readonly names: StageNames;
  readonly vpc: ec2.IVpc;
  readonly subnets: ec2.SubnetSelection;
  readonly securityGroup: ec2.ISecurityGroup;
  readonly platform: BatchPlatform;
  readonly maxvCpus: number;
  /** Minutes before Batch cancels a job blocked in RUNNABLE; 0: never. */
  readonly runnableTimeoutMinutes: number;
  readonly artifacts: s3.IBucket;
  /** The ECR repositories model images come from (`<prefix>*`). */
  readonly repositoryArnPattern: string;
  /** Encrypts the run logs. */
  readonly key: kms.IKey;
}

/** The reasons Batch cancels a blocked job for: the ones it recognises. */
export const BLOCKED_REASONS = [
  batch.JobStateTimeLimitActionsReason.COMPUTE_ENVIRONMENT_MAX_RESOURCE,
  batch.JobStateTimeLimitActionsReason.JOB_RESOURCE_REQUIREMENT,
  batch.JobStateTimeLimitActionsReason.INSUFFICIENT_INSTANCE_CAPACITY,
] as const;

/**
 * Every model secret of this stage (`<prefix><model>/<NAME>`; names end in
 * a random suffix).
 */
export function modelSecretsArn(scope: Construct, names: StageNames): string {
  return Stack.of(scope).formatArn({
    service: 'secretsmanager',
    resource: 'secret',
    resourceName: `${names.modelSecretsPrefix}*`,
    arnFormat: ArnFormat.COLON_RESOURCE_NAME,
  });
}

export class Runs extends Construct {
  readonly queue: batch.JobQueue;
  readonly computeEnvironment: batch.IManagedComputeEnvironment;
  readonly executionRole: iam.Role;
  readonly jobRole: iam.Role;
  readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: RunsProps) {
    super(scope, id);
    this.logGroup = new logs.LogGroup(this, 'Logs', {
      logGroupName: props.names.runLogGroup,
      encryptionKey: props.key,
      retention: logs.RetentionDays.ONE_YEAR,
      removalPolicy: RemovalPolicy.RETAIN,
    });

    this.executionRole = new iam.Role(this, 'ExecutionRole', {
      assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com'),
      description: 'modelrun jobs: pull the model image, write the run log',
    });
    this.executionRole.addToPolicy(new iam.PolicyStatement({
      actions: ['ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer', 'ecr:BatchCheckLayerAvailability'],
      resources: [props.repositoryArnPattern],
    }));
    // AWS requires `*` here: GetAuthorizationToken has no resource-level permissions.
    this.executionRole.addToPolicy(new iam.PolicyStatement({
      actions: ['ecr:GetAuthorizationToken'],
      resources: ['*'],
    }));
    this.executionRole.addToPolicy(new iam.PolicyStatement({
      actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
      resources: [this.logStreamsArn()],
    }));
    // The job definition passes the model's secrets to the container
    // (`secrets`, valueFrom the secret's name): only models' secrets.
    this.executionRole.addToPolicy(new iam.PolicyStatement({
      actions: ['secretsmanager:GetSecretValue'],
      resources: [modelSecretsArn(this, props.names)],
    }));

    // The role a model's container runs as has no rights at all: the job
    // reaches its own run's inputs and outputs through modelrun's job API,
    // with the run's job token, which answers with short-lived presigned
    // URLs for that run only. A model cannot reach another run's files.
    this.jobRole = new iam.Role(this, 'JobRole', {
      assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com'),
      description: 'modelrun jobs: no rights; files go through the job API with the run\'s job token',
    });

    this.computeEnvironment = props.platform === 'fargate'
      ? new batch.FargateComputeEnvironment(this, 'Fargate', {
        vpc: props.vpc,
        vpcSubnets: props.subnets,
        securityGroups: [props.securityGroup],
        maxvCpus: props.maxvCpus,
        replaceComputeEnvironment: false,
      })
      : this.ec2Environment(props);

    // Batch acts only on a job at the head of the queue, blocked for one of
    // the reasons it recognises, and ends it FAILED with "Canceled by
    // JobStateTimeLimit action due to reason: <reason>", which the run
    // shows as its reason. A job merely waiting its turn is never touched.
    const minutes = props.runnableTimeoutMinutes;
    this.queue = new batch.JobQueue(this, 'Queue', {
      jobQueueName: props.names.jobQueue,
      computeEnvironments: [{ computeEnvironment: this.computeEnvironment, order: 1 }],
      jobStateTimeLimitActions: minutes === 0 ? undefined : BLOCKED_REASONS.map((reason) => ({
        action: batch.JobStateTimeLimitActionsAction.CANCEL,
        state: batch.JobStateTimeLimitActionsState.RUNNABLE,
        maxTime: Duration.minutes(minutes),
        reason,
      })),
    });
  }

  private ec2Environment(props: RunsProps): batch.IManagedComputeEnvironment {
    const instanceRole = new iam.Role(this, 'InstanceRole', {
      assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com'),
      description: 'modelrun Batch instances: join the ECS cluster',
      managedPolicies: [
        iam.ManagedPolicy.fromAwsManagedPolicyName('service-role/AmazonEC2ContainerServiceforEC2Role'),
      ],
    });
    const launchTemplate = new ec2.LaunchTemplate(this, 'LaunchTemplate', {
      requireImdsv2: true,
      httpPutResponseHopLimit: 2,
      blockDevices: [{
        deviceName: '/dev/xvda',
        volume: ec2.BlockDeviceVolume.ebs(50, { encrypted: true, volumeType: ec2.EbsDeviceVolumeType.GP3 }),
      }],
    });
    return new batch.ManagedEc2EcsComputeEnvironment(this, 'Ec2', {
      vpc: props.vpc,
      vpcSubnets: props.subnets,
      securityGroups: [props.securityGroup],
      maxvCpus: props.maxvCpus,
      minvCpus: 0,
      instanceRole,
      launchTemplate,
      useOptimalInstanceClasses: true,
      replaceComputeEnvironment: false,
    });
  }

  /** `arn:…:log-group:/<base>/runs:log-stream:*`: every run's log stream. */
  logStreamsArn(): string {
    return Stack.of(this).formatArn({
      service: 'logs',
      resource: 'log-group',
      resourceName: `${this.logGroup.logGroupName}:log-stream:*`,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
  }

  /**
   * `arn:…:job-definition/modelrun-version-*`: the definitions modelrun
   * registers. modelrun names them, not the stack, so this pattern is the
   * same in every stage; a stage's definitions point at its own images.
   */
  jobDefinitionArnPattern(): string {
    return Stack.of(this).formatArn({ service: 'batch', resource: 'job-definition', resourceName: 'modelrun-version-*' });
  }

  /** `arn:…:job/*`: jobs have generated ids. */
  jobArnPattern(): string {
    return Stack.of(this).formatArn({ service: 'batch', resource: 'job', resourceName: '*' });
  }
}
