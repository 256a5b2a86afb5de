// Stages: `dev` and `prod` deploy side by side in one account and region,
// and no name either of them gives a resource is the other's.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { Match, Template } from 'aws-cdk-lib/assertions';

import { build, buildStages, list, refId, resources } from './helpers';

/**
 * Properties ending in `Name` that name nothing in the account: names that
 * live inside their parent resource (the same value in two stages names two
 * different things), or the AWS service a resource connects to.
 */
const SCOPED = new Map<string, string>([
  ['AWS::EC2::VPCEndpoint ServiceName', 'the AWS service the endpoint reaches'],
  ['AWS::IAM::Policy PolicyName', 'an inline policy, named within its role'],
  ['AWS::RDS::DBInstance DBName', 'the database inside the instance'],
  ['AWS::ApiGatewayV2::Stage StageName', 'a stage of its own API'],
  ['AWS::RDS::DBProxyTargetGroup TargetGroupName', 'the target group of its own proxy'],
]);

/** Physical names that do not end in `Name`. */
const ALSO_NAMES = new Set(['EmailIdentity', 'DBInstanceIdentifier', 'DBClusterIdentifier', 'Identifier']);

interface PhysicalName {
  readonly type: string;
  readonly where: string;
  readonly value: string;
}

/** Every literal physical name a template sets (CloudFormation's own are unique already). */
function physicalNames(template: Template): PhysicalName[] {
  const found: PhysicalName[] = [];
  const all = template.toJSON().Resources as Record<string, { Type: string; Properties?: Record<string, unknown> }>;
  for (const [id, resource] of Object.entries(all)) {
    for (const [key, value] of Object.entries(resource.Properties ?? {})) {
      const named = key.endsWith('Name') || ALSO_NAMES.has(key);
      if (named && typeof value === 'string' && !SCOPED.has(`${resource.Type} ${key}`)) {
        found.push({ type: resource.Type, where: `${resource.Type} ${id}.${key}`, value });
      }
    }
  }
  return found;
}

const EVERY_OPTION = { batchPlatform: 'ec2', rdsProxy: 'true', interfaceEndpoints: 'true', githubTokenSecret: 'modelrun/github-token' };
const ACCOUNT = { account: '111122223333', region: 'eu-west-1' };

for (const options of [{}, EVERY_OPTION]) {
  describe(`stages in one account and region (${JSON.stringify(options)})`, () => {
    const [dev, prod, single] = buildStages([
      { ...options, stage: 'dev', sesDomain: 'dev.example.com' },
      { ...options, stage: 'prod', sesDomain: 'example.com' },
      // A deployment made without a stage, which keeps its names.
      { ...options, sesDomain: 'old.example.com' },
    ], ACCOUNT);

    it('are stacks of their own', () => {
      assert.deepEqual([dev, prod, single].map((b) => b.stack.stackName), ['modelrun-dev', 'modelrun-prod', 'modelrun']);
    });

    it('give no resource a name another stage gives', () => {
      const owners = new Map<string, string>();
      let count = 0;
      for (const [stage, built] of [['dev', dev], ['prod', prod], ['none', single]] as const) {
        const names = physicalNames(built.template);
        assert.ok(names.length >= 8, `${stage}: the queue, log group, repositories, projects, API… (${names.length})`);
        // Names are unique per resource type: a queue and an API may share one.
        for (const { type, where, value } of names) {
          count += 1;
          const owner = owners.get(`${type} ${value}`);
          assert.equal(owner, undefined, `${value} is named by ${owner} and by ${stage}: ${where}`);
          owners.set(`${type} ${value}`, `${stage}: ${where}`);
        }
      }
      assert.equal(owners.size, count);
    });

    it('put the stage in every name they give, except the domain, which is the team\'s', () => {
      for (const [stage, built] of [['dev', dev], ['prod', prod]] as const) {
        for (const { where, value } of physicalNames(built.template)) {
          if (where.endsWith('.EmailIdentity')) {
            continue;
          }
          assert.ok(value.replace(/-/g, '').includes(`modelrun${stage}`), `${where} = ${value} names the stage ${stage}`);
        }
      }
    });

    it('point the functions at their own stage\'s queue, logs, repositories and secrets', () => {
      for (const [stage, built] of [['dev', dev], ['prod', prod]] as const) {
        const { stack, template } = built;
        const queue = stack.getLogicalId(stack.runs.queue.node.defaultChild as any);
        const logs = stack.getLogicalId(stack.runs.logGroup.node.defaultChild as any);
        assert.equal(resources(template, 'AWS::Logs::LogGroup')[logs].Properties?.LogGroupName, `/modelrun-${stage}/runs`);
        const functions = Object.values(resources(template, 'AWS::Lambda::Function'))
          .filter((fn) => fn.Properties?.Runtime === 'provided.al2023');
        assert.equal(functions.length, 2);
        for (const fn of functions) {
          const variables = fn.Properties?.Environment?.Variables ?? {};
          assert.equal(refId(variables.MODELRUN_BATCH_JOB_QUEUE), queue);
          assert.equal(refId(variables.MODELRUN_BATCH_LOG_GROUP), logs);
          assert.equal(variables.MODELRUN_ECR_REPOSITORY_PREFIX, `modelrun-${stage}/`);
          assert.equal(variables.MODELRUN_SECRETS_PREFIX, `modelrun-${stage}/models/`);
        }
      }
    });

    it('grant each stage only its own repositories, secrets and logs, and wake it only for its images', () => {
      for (const [stage, built] of [['dev', dev], ['prod', prod]] as const) {
        const other = stage === 'dev' ? 'prod' : 'dev';
        const text = JSON.stringify(built.template.toJSON());
        assert.ok(!text.includes(`modelrun-${other}`), `${stage}'s template never names ${other}`);
        const statements = Object.values(resources(built.template, 'AWS::IAM::Policy'))
          .flatMap((policy) => list(policy.Properties?.PolicyDocument?.Statement as any[]));
        // Patterns, not the ARNs of the stack's own resources (Ref, GetAtt).
        const on = (action: string) => statements.filter((s) => list(s.Action).includes(action))
          .flatMap((s) => list(s.Resource)).map((r) => JSON.stringify(r))
          .filter((r) => r.includes('*'));
        const only = (action: string, pattern: string) => {
          const found = on(action);
          assert.ok(found.length > 0, `${stage}: ${action}`);
          for (const resource of found) {
            assert.ok(resource.includes(pattern), `${stage}: ${action} on ${resource}, not ${pattern}`);
          }
        };
        only('ecr:DescribeImages', `:repository/modelrun-${stage}/*`);
        only('ecr:BatchGetImage', `:repository/modelrun-${stage}/*`);
        only('secretsmanager:UpdateSecret', `:secret:modelrun-${stage}/models/*`);
        only('secretsmanager:GetSecretValue', `:secret:modelrun-${stage}/models/*`);
        const pushes = Object.values(resources(built.template, 'AWS::Events::Rule'))
          .map((rule) => rule.Properties?.EventPattern)
          .find((pattern) => list(pattern?.source).includes('aws.ecr'));
        assert.deepEqual(pushes.detail['repository-name'], [{ prefix: `modelrun-${stage}/` }]);
      }
    });
  });
}

describe('a deployment without a stage', () => {
  it('keeps the names it always had', () => {
    const { stack, template } = build();
    assert.equal(stack.stackName, 'modelrun');
    template.hasResourceProperties('AWS::Batch::JobQueue', { JobQueueName: 'modelrun' });
    template.hasResourceProperties('AWS::Logs::LogGroup', { LogGroupName: '/modelrun/runs' });
    template.hasResourceProperties('AWS::CodeBuild::Project', { Name: 'modelrun-forecast' });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({ MODELRUN_ECR_REPOSITORY_PREFIX: 'modelrun/', MODELRUN_SECRETS_PREFIX: 'modelrun/models/' }),
      },
    });
  });
});
