// The network: what is private stays private.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { build, list, refId, resources } from './helpers';

describe('network', () => {
  const { template } = build();
  const subnets = resources(template, 'AWS::EC2::Subnet');
  const isPrivate = (id: string) =>
    list(subnets[id]?.Properties?.Tags).some((tag: any) => tag.Key === 'aws-cdk:subnet-type' && tag.Value === 'Private');
  const isPublic = (id: string) =>
    list(subnets[id]?.Properties?.Tags).some((tag: any) => tag.Key === 'aws-cdk:subnet-type' && tag.Value === 'Public');
  const privateIds = Object.keys(subnets).filter(isPrivate);
  const publicIds = Object.keys(subnets).filter(isPublic);

  it('has two private and two public subnets, and public ones give no public IPs', () => {
    assert.equal(privateIds.length, 2);
    assert.equal(publicIds.length, 2);
    for (const id of publicIds) {
      assert.equal(subnets[id].Properties?.MapPublicIpOnLaunch, false, id);
    }
  });

  it('routes private subnets to the NAT gateway and never to the Internet Gateway', () => {
    const associations = Object.values(resources(template, 'AWS::EC2::SubnetRouteTableAssociation'));
    const routes = Object.values(resources(template, 'AWS::EC2::Route'));
    for (const subnet of privateIds) {
      const tables = associations
        .filter((a) => refId(a.Properties?.SubnetId) === subnet)
        .map((a) => refId(a.Properties?.RouteTableId));
      assert.equal(tables.length, 1, `${subnet} has one route table`);
      const defaults = routes.filter(
        (r) => refId(r.Properties?.RouteTableId) === tables[0] && r.Properties?.DestinationCidrBlock === '0.0.0.0/0',
      );
      assert.equal(defaults.length, 1, `${subnet} has one default route`);
      assert.ok(defaults[0].Properties?.NatGatewayId, `${subnet} goes out through the NAT`);
      assert.equal(defaults[0].Properties?.GatewayId, undefined, `${subnet} never reaches the Internet Gateway`);
    }
  });

  it('gives the NAT gateway the Elastic IP the stack outputs', () => {
    const eips = resources(template, 'AWS::EC2::EIP');
    assert.equal(Object.keys(eips).length, 1, 'one Elastic IP');
    const [eipId] = Object.keys(eips);
    const nats = Object.values(resources(template, 'AWS::EC2::NatGateway'));
    assert.equal(nats.length, 1);
    assert.equal(refId(nats[0].Properties?.AllocationId), eipId);
    assert.ok(publicIds.includes(refId(nats[0].Properties?.SubnetId) ?? ''), 'the NAT is in a public subnet');
    template.hasOutput('NatPublicIp', { Value: { 'Fn::GetAtt': [eipId, 'PublicIp'] } });
  });

  it('has an S3 gateway endpoint, and interface endpoints only when asked', () => {
    const endpoints = Object.values(resources(template, 'AWS::EC2::VPCEndpoint'));
    assert.deepEqual(endpoints.map((e) => e.Properties?.VpcEndpointType ?? 'Gateway'), ['Gateway']);
    const withInterfaces = build({ interfaceEndpoints: 'true' }).template;
    const types = Object.values(resources(withInterfaces, 'AWS::EC2::VPCEndpoint')).map((e) => e.Properties?.VpcEndpointType);
    assert.equal(types.filter((t) => t === 'Interface').length, 3);
  });

  it('keeps flow logs of rejected traffic', () => {
    template.resourceCountIs('AWS::EC2::FlowLog', 1);
    template.hasResourceProperties('AWS::EC2::FlowLog', { TrafficType: 'REJECT' });
  });

  it('runs Batch, the functions and the database in private subnets only', () => {
    const onlyPrivate = (value: unknown, what: string) => {
      const ids = list(value as unknown[]).map(refId);
      assert.ok(ids.length > 0, `${what} names subnets`);
      for (const id of ids) {
        assert.ok(privateIds.includes(id ?? ''), `${what}: ${id} is not a private subnet`);
      }
    };
    for (const [id, environment] of Object.entries(resources(template, 'AWS::Batch::ComputeEnvironment'))) {
      onlyPrivate(environment.Properties?.ComputeResources?.Subnets, id);
    }
    for (const [id, fn] of Object.entries(resources(template, 'AWS::Lambda::Function'))) {
      if (fn.Properties?.Runtime === 'provided.al2023') {
        onlyPrivate(fn.Properties?.VpcConfig?.SubnetIds, id);
      }
    }
    for (const [id, group] of Object.entries(resources(template, 'AWS::RDS::DBSubnetGroup'))) {
      onlyPrivate(group.Properties?.SubnetIds, id);
    }
  });

  it('gives jobs no public IP: private subnets assign none (job definitions set DISABLED, worker/tests/aws)', () => {
    for (const id of privateIds) {
      assert.equal(subnets[id].Properties?.MapPublicIpOnLaunch, false, id);
    }
  });

  it('gives Batch on EC2 private subnets and instances without public IPs too', () => {
    const ec2 = build({ batchPlatform: 'ec2' }).template;
    const environments = Object.values(resources(ec2, 'AWS::Batch::ComputeEnvironment'));
    assert.equal(environments.length, 1);
    assert.equal(environments[0].Properties?.ComputeResources?.Type, 'EC2');
    const templates = Object.values(resources(ec2, 'AWS::EC2::LaunchTemplate'));
    const data = templates.map((t) => t.Properties?.LaunchTemplateData);
    assert.ok(data.some((d) => d?.MetadataOptions?.HttpTokens === 'required'), 'IMDSv2 only');
    for (const d of data) {
      for (const network of list(d?.NetworkInterfaces as any[])) {
        assert.notEqual(network.AssociatePublicIpAddress, true, 'no public IP on instances');
      }
    }
  });
});
