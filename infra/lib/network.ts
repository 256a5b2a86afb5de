// The network: a two-tier VPC. Public subnets hold only the NAT gateway
// (behind an Internet Gateway); everything modelrun runs (Lambda functions,
// Batch jobs, the database) lives in private subnets whose default route
// is the NAT gateway. The NAT's Elastic IP is the one address all outbound
// traffic comes from, for outside databases to allow-list.

import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import { RemovalPolicy } from 'aws-cdk-lib';
import { Construct } from 'constructs';

export interface NetworkProps {
  /** The Name tag of the NAT's address, so that each stage's is told apart. */
  readonly natAddressName: string;
  /** Interface endpoints for ECR and CloudWatch Logs. */
  readonly interfaceEndpoints: boolean;
  /** Encrypts the flow logs. */
  readonly key: kms.IKey;
}

export class Network extends Construct {
  readonly vpc: ec2.Vpc;
  /** The NAT gateway's fixed public address. */
  readonly natEip: ec2.CfnEIP;
  /** Where modelrun's own code runs: the Lambda functions. */
  readonly functionsSecurityGroup: ec2.SecurityGroup;
  /** Batch jobs: outbound only. */
  readonly jobsSecurityGroup: ec2.SecurityGroup;

  constructor(scope: Construct, id: string, props: NetworkProps) {
    super(scope, id);
    this.natEip = new ec2.CfnEIP(this, 'NatEip', {
      domain: 'vpc',
      tags: [{ key: 'Name', value: props.natAddressName }],
    });
    this.vpc = new ec2.Vpc(this, 'Vpc', {
      ipAddresses: ec2.IpAddresses.cidr('10.40.0.0/16'),
      maxAzs: 2,
      natGateways: 1,
      natGatewayProvider: ec2.NatProvider.gateway({
        eipAllocationIds: [this.natEip.attrAllocationId],
      }),
      subnetConfiguration: [
        { name: 'public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24, mapPublicIpOnLaunch: false },
        { name: 'private', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 20 },
      ],
      // The default security group loses its rules: nothing may use it.
      restrictDefaultSecurityGroup: true,
      gatewayEndpoints: {
        S3: { service: ec2.GatewayVpcEndpointAwsService.S3 },
      },
    });
    const flowLogs = new logs.LogGroup(this, 'FlowLogs', {
      encryptionKey: props.key,
      retention: logs.RetentionDays.THREE_MONTHS,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.vpc.addFlowLog('FlowLog', {
      destination: ec2.FlowLogDestination.toCloudWatchLogs(flowLogs),
      trafficType: ec2.FlowLogTrafficType.REJECT,
    });

    this.functionsSecurityGroup = new ec2.SecurityGroup(this, 'Functions', {
      vpc: this.vpc,
      description: 'modelrun web and worker functions: outbound only',
      allowAllOutbound: true,
    });
    this.jobsSecurityGroup = new ec2.SecurityGroup(this, 'Jobs', {
      vpc: this.vpc,
      description: 'modelrun Batch jobs: outbound only',
      allowAllOutbound: true,
    });

    if (props.interfaceEndpoints) {
      const endpoints = new ec2.SecurityGroup(this, 'Endpoints', {
        vpc: this.vpc,
        description: 'Interface endpoints: HTTPS from modelrun functions and jobs',
        allowAllOutbound: false,
      });
      for (const group of [this.functionsSecurityGroup, this.jobsSecurityGroup]) {
        endpoints.addIngressRule(group, ec2.Port.tcp(443), 'HTTPS to AWS APIs');
      }
      const services: Record<string, ec2.InterfaceVpcEndpointAwsService> = {
        EcrApi: ec2.InterfaceVpcEndpointAwsService.ECR,
        EcrDocker: ec2.InterfaceVpcEndpointAwsService.ECR_DOCKER,
        Logs: ec2.InterfaceVpcEndpointAwsService.CLOUDWATCH_LOGS,
      };
      for (const [name, service] of Object.entries(services)) {
        this.vpc.addInterfaceEndpoint(name, {
          service,
          subnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
          securityGroups: [endpoints],
          open: false,
        });
      }
    }
  }

  /** The private subnets, where everything of modelrun's runs. */
  get privateSubnets(): ec2.SubnetSelection {
    return { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS };
  }
}
