// The database: RDS Postgres in the private subnets, never publicly
// accessible, encrypted, TLS required, its credentials generated into
// Secrets Manager. Only the functions (or, with RDS Proxy, only the proxy)
// may connect. modelrun reads the secret at start-up
// (MODELRUN_DATABASE_SECRET_ARN); the password is never in its environment.

import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as rds from 'aws-cdk-lib/aws-rds';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';

export interface DatabaseProps {
  readonly vpc: ec2.IVpc;
  readonly subnets: ec2.SubnetSelection;
  /** Who may connect: the functions. */
  readonly clients: ec2.ISecurityGroup;
  readonly instanceType: string;
  readonly multiAz: boolean;
  readonly proxy: boolean;
  /** Encrypts the generated credentials. */
  readonly key: kms.IKey;
}

export class Database extends Construct {
  readonly instance: rds.DatabaseInstance;
  readonly secret: secretsmanager.ISecret;
  readonly proxy?: rds.DatabaseProxy;
  /** The host modelrun connects to: the proxy's when there is one. */
  readonly host: string;

  constructor(scope: Construct, id: string, props: DatabaseProps) {
    super(scope, id);
    const engine = rds.DatabaseInstanceEngine.postgres({ version: rds.PostgresEngineVersion.VER_17_9 });
    const parameters = new rds.ParameterGroup(this, 'Parameters', {
      engine,
      parameters: {
        'rds.force_ssl': '1',
        log_min_duration_statement: '1000',
      },
    });
    const securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc: props.vpc,
      description: 'modelrun database: Postgres from modelrun only',
      allowAllOutbound: false,
    });
    this.instance = new rds.DatabaseInstance(this, 'Instance', {
      engine,
      instanceType: new ec2.InstanceType(props.instanceType),
      vpc: props.vpc,
      vpcSubnets: props.subnets,
      securityGroups: [securityGroup],
      publiclyAccessible: false,
      multiAz: props.multiAz,
      databaseName: 'modelrun',
      credentials: rds.Credentials.fromGeneratedSecret('modelrun', { encryptionKey: props.key }),
      parameterGroup: parameters,
      storageEncrypted: true,
      allocatedStorage: 20,
      maxAllocatedStorage: 200,
      backupRetention: Duration.days(7),
      deletionProtection: true,
      removalPolicy: RemovalPolicy.SNAPSHOT,
      autoMinorVersionUpgrade: true,
      iamAuthentication: true,
      cloudwatchLogsExports: ['postgresql', 'upgrade'],
      enablePerformanceInsights: true,
      monitoringInterval: Duration.seconds(60),
      copyTagsToSnapshot: true,
    });
    this.secret = this.instance.secret as secretsmanager.ISecret;

    if (props.proxy) {
      const proxyGroup = new ec2.SecurityGroup(this, 'ProxySecurityGroup', {
        vpc: props.vpc,
        description: 'modelrun RDS Proxy: Postgres from modelrun, to the database',
        allowAllOutbound: false,
      });
      this.proxy = this.instance.addProxy('Proxy', {
        secrets: [this.secret],
        vpc: props.vpc,
        vpcSubnets: props.subnets,
        securityGroups: [proxyGroup],
        requireTLS: true,
        iamAuth: false,
      });
      proxyGroup.addIngressRule(props.clients, ec2.Port.tcp(5432), 'Postgres from modelrun functions');
      proxyGroup.addEgressRule(securityGroup, ec2.Port.tcp(5432), 'Postgres to the database');
      securityGroup.addIngressRule(proxyGroup, ec2.Port.tcp(5432), 'Postgres from RDS Proxy');
      this.host = this.proxy.endpoint;
    } else {
      securityGroup.addIngressRule(props.clients, ec2.Port.tcp(5432), 'Postgres from modelrun functions');
      this.host = this.instance.dbInstanceEndpointAddress;
    }
  }
}
