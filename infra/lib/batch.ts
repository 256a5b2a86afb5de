// Where runs execute: AWS Batch in the private subnets, on Fargate (or on
// EC2 instances Batch manages, by context), one job queue, and the two roles
// modelrun names in the job definitions it registers: the execution role
// (pull the image, write the log) and the job role (the run's own files in
// S3, nothing else). Jobs get no public IP: modelrun's job definitions set
// `assignPublicIp: DISABLED`, and the subnets give none.

import { ArnFormat, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as batch from 'aws-cdk-lib/aws-batch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';

import { BatchPlatform } from './config';

export interface RunsProps {
  readonly vpc: ec2.IVpc;
  readonly subnets: ec2.SubnetSelection;
  readonly securityGroup: ec2.ISecurityGroup;
  readonly platform: BatchPlatform;
  readonly maxvCpus: number;
  readonly artifacts: s3.IBucket;
  /** The ECR repositories model images come from (`modelrun/*`). */
  readonly repositoryArnPattern: string;
  /** Encrypts the run logs. */
  readonly key: kms.IKey;
}

/** Where model secrets live in Secrets Manager: `<prefix><model>/<NAME>`. */
export const MODEL_SECRETS_PREFIX = 'modelrun/models/';

/** Every model secret of this account and region (names end in a random suffix). */
export function modelSecretsArn(scope: Construct): string {
  return Stack.of(scope).formatArn({
    service: 'secretsmanager',
    resource: 'secret',
    resourceName: `${MODEL_SECRETS_PREFIX}*`,
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
      logGroupName: '/modelrun/runs',
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
      resources: [modelSecretsArn(this)],
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

    this.queue = new batch.JobQueue(this, 'Queue', {
      jobQueueName: 'modelrun',
      computeEnvironments: [{ computeEnvironment: this.computeEnvironment, order: 1 }],
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

  /** `arn:…:log-group:/modelrun/runs:log-stream:*`: every run's log stream. */
  logStreamsArn(): string {
    return Stack.of(this).formatArn({
      service: 'logs',
      resource: 'log-group',
      resourceName: `${this.logGroup.logGroupName}:log-stream:*`,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
  }

  /** `arn:…:job-definition/modelrun-version-*`: the definitions modelrun registers. */
  jobDefinitionArnPattern(): string {
    return Stack.of(this).formatArn({ service: 'batch', resource: 'job-definition', resourceName: 'modelrun-version-*' });
  }

  /** `arn:…:job/*`: jobs have generated ids. */
  jobArnPattern(): string {
    return Stack.of(this).formatArn({ service: 'batch', resource: 'job', resourceName: '*' });
  }
}
