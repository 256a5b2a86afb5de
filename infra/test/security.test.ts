// Least privilege and nothing public: IAM, S3, RDS, secrets.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { Match } from 'aws-cdk-lib/assertions';

import { build, list, refId, resources } from './helpers';

/**
 * Actions that may name `*` as their resource, each because AWS allows
 * nothing narrower.
 */
const STAR_ALLOWED = new Map<string, string>([
  // Registry-wide: authorizes the docker login, no resource-level permissions.
  ['ecr:GetAuthorizationToken', 'no resource-level permissions'],
  // The worker's Batch reads: none of these has resource-level permissions.
  ['batch:ListJobs', 'no resource-level permissions'],
  ['batch:DescribeJobs', 'no resource-level permissions'],
  ['batch:DescribeJobDefinitions', 'no resource-level permissions'],
  ['batch:DescribeJobQueues', 'no resource-level permissions'],
  ['batch:DescribeComputeEnvironments', 'no resource-level permissions'],
  // The web app lists a model's secrets by name; ListSecrets has no resource-level permissions.
  ['secretsmanager:ListSecrets', 'no resource-level permissions'],
  // CDK's custom resource that empties the default security group describes it first.
  ['ec2:DescribeSecurityGroups', 'no resource-level permissions'],
]);

/** AWS managed policies a role may carry, and why. */
const MANAGED_ALLOWED = new Map<string, string>([
  ['service-role/AWSLambdaBasicExecutionRole', 'Lambda writes its own log group'],
  ['service-role/AWSLambdaVPCAccessExecutionRole', 'Lambda in a VPC manages its network interfaces (AWS requires *)'],
  ['service-role/AmazonEC2ContainerServiceforEC2Role', 'Batch EC2 instances join their ECS cluster (EC2 platform only)'],
  ['service-role/AmazonRDSEnhancedMonitoringRole', 'RDS enhanced monitoring writes its metrics to its own log group'],
]);

function statements(template: ReturnType<typeof build>['template']): Array<{ id: string; statement: any }> {
  const found: Array<{ id: string; statement: any }> = [];
  for (const [id, policy] of Object.entries(resources(template, 'AWS::IAM::Policy'))) {
    for (const statement of list(policy.Properties?.PolicyDocument?.Statement)) {
      found.push({ id, statement });
    }
  }
  for (const [id, role] of Object.entries(resources(template, 'AWS::IAM::Role'))) {
    for (const policy of list(role.Properties?.Policies as any[])) {
      for (const statement of list(policy.PolicyDocument?.Statement)) {
        found.push({ id, statement });
      }
    }
  }
  return found;
}

function managedPolicyName(arn: unknown): string {
  const joined = JSON.stringify(arn);
  const match = /:iam::aws:policy\/([^"]+)"/.exec(joined);
  return match ? match[1] : joined;
}

for (const variant of [{}, { batchPlatform: 'ec2', rdsProxy: 'true', interfaceEndpoints: 'true' }]) {
  describe(`IAM (${JSON.stringify(variant)})`, () => {
    const { template } = build(variant);

    it('names no `*` resource except for actions that allow nothing narrower', () => {
      for (const { id, statement } of statements(template)) {
        if (statement.Effect !== 'Allow' || !list(statement.Resource).includes('*')) {
          continue;
        }
        for (const action of list<string>(statement.Action)) {
          assert.ok(STAR_ALLOWED.has(action), `${id}: ${action} on * is not needed`);
        }
      }
    });

    it('grants no wildcard actions', () => {
      for (const { id, statement } of statements(template)) {
        for (const action of list<string>(statement.Action)) {
          assert.ok(!/^\*$|:\*$/.test(action), `${id}: ${action}`);
        }
      }
    });

    it('uses only the AWS managed policies that are listed, with their reasons', () => {
      for (const [id, role] of Object.entries(resources(template, 'AWS::IAM::Role'))) {
        for (const arn of list(role.Properties?.ManagedPolicyArns as unknown[])) {
          const name = managedPolicyName(arn);
          assert.ok(MANAGED_ALLOWED.has(name), `${id}: managed policy ${name}`);
        }
      }
    });

    it('lets jobs read only model secrets, and only through their execution role', () => {
      const reads = statements(template).filter(({ statement }) =>
        list<string>(statement.Action).some((a) => a.startsWith('secretsmanager:')) && statement.Effect === 'Allow');
      const modelSecrets = reads.filter(({ statement }) =>
        JSON.stringify(statement.Resource).includes(':secret:modelrun/models/*'));
      const getters = modelSecrets.filter(({ statement }) => list(statement.Action).includes('secretsmanager:GetSecretValue'));
      assert.equal(getters.length, 1, 'one role reads model secrets');
      assert.match(getters[0].id, /ExecutionRole/, 'the Batch execution role, which hands them to the container');
      assert.deepEqual(list(getters[0].statement.Action), ['secretsmanager:GetSecretValue']);
      for (const { id } of reads) {
        assert.ok(!/JobRole/.test(id), `${id}: the model's own role reaches no secret`);
      }
      const writers = modelSecrets.filter(({ statement }) => list(statement.Action).includes('secretsmanager:UpdateSecret'));
      assert.equal(writers.length, 1, 'the web function sets them');
      assert.ok(!list(writers[0].statement.Action).includes('secretsmanager:GetSecretValue'), 'and never reads one back');
    });

    it('gives the job role, which a model runs as, no rights at all', () => {
      const roles = Object.entries(resources(template, 'AWS::IAM::Role')).filter(([id]) => /JobRole/.test(id));
      assert.equal(roles.length, 1, 'one job role');
      const [jobRole, role] = roles[0];
      assert.deepEqual(list(role.Properties?.Policies as any[]), [], 'no inline policy');
      assert.deepEqual(list(role.Properties?.ManagedPolicyArns as any[]), [], 'no managed policy');
      const attached = Object.entries(resources(template, 'AWS::IAM::Policy')).filter(([, policy]) =>
        list(policy.Properties?.Roles).some((r: unknown) => refId(r) === jobRole));
      assert.deepEqual(attached.map(([id]) => id), [], 'no policy attached: S3 goes through the job API');
    });

    it('lets only the web function presign job uploads, and only under run outputs and uploads', () => {
      const puts = statements(template).filter(({ statement }) =>
        statement.Effect === 'Allow' && list<string>(statement.Action).includes('s3:PutObject'));
      const web = puts.filter(({ id }) => /Web/.test(id));
      assert.equal(web.length, 1, 'the web function presigns uploads');
      const resources = list(web[0].statement.Resource).map((r) => JSON.stringify(r));
      assert.equal(resources.length, 2, resources.join(', '));
      assert.ok(resources.some((r) => /\/runs\/\*\/outputs\/\*"/.test(r)), 'a job\'s outputs');
      assert.ok(resources.some((r) => /\/uploads\/\*"/.test(r)), 'uploaded input files');
      for (const { id } of puts) {
        assert.ok(!/JobRole/.test(id), `${id}: jobs write nothing themselves`);
      }
    });

    it('lets the worker write sweep archives and the web function find and read them, and jobs not', () => {
      const onSweeps = statements(template).filter(({ statement }) =>
        statement.Effect === 'Allow' && JSON.stringify(statement).includes('sweeps/'));
      const has = (who: RegExp, action: string) => onSweeps.some(({ id, statement }) =>
        who.test(id) && list(statement.Action).includes(action));
      assert.ok(has(/Worker/, 's3:PutObject'), 'the worker stores an archive');
      assert.ok(has(/Worker/, 's3:ListBucket'), 'the worker finds one already stored');
      assert.ok(has(/Web/, 's3:GetObject'), 'the web function presigns its download');
      assert.ok(has(/Web/, 's3:ListBucket'), 'the web function finds it stored');
      assert.ok(!has(/Web/, 's3:PutObject'), 'the web function never writes one');
      for (const { id } of onSweeps) {
        assert.ok(!/JobRole/.test(id), `${id}: jobs reach no archive`);
      }
    });

    it('lets the web function find and read uploads, and the worker and jobs not', () => {
      const onUploads = statements(template).filter(({ statement }) =>
        statement.Effect === 'Allow' && JSON.stringify(statement).includes('uploads/'));
      for (const { id, statement } of onUploads) {
        // The worker reads input files into a run's bundle, and only reads them.
        const reads = /Worker/.test(id) && list(statement.Action).every((a) => a === 's3:GetObject');
        assert.ok(/Web/.test(id) || reads, `${id}: only the web function reaches uploads (jobs get presigned GETs; the worker's bundle holds reads)`);
      }
      const actions = (action: string) => onUploads.filter(({ statement }) => list(statement.Action).includes(action));
      assert.ok(actions('s3:GetObject').some(({ statement }) =>
        list(statement.Resource).some((r) => /\/uploads\/\*"/.test(JSON.stringify(r)))), 'reads uploads/*');
      const lists = actions('s3:ListBucket');
      assert.equal(lists.length, 1, 'lists uploads/<id>/');
      assert.deepEqual(list(lists[0].statement.Condition?.StringLike?.['s3:prefix']), ['uploads/*']);
    });

    it('passes the job roles only to Batch', () => {
      const passes = statements(template).filter(({ statement }) => list(statement.Action).includes('iam:PassRole'));
      const byWorker = passes.filter(({ statement }) => statement.Condition?.StringEquals?.['iam:PassedToService'] === 'batch.amazonaws.com');
      assert.equal(byWorker.length, 1, 'the worker passes roles to Batch');
      assert.equal(list(byWorker[0].statement.Resource).length, 2, 'the execution role and the job role');
    });

    it('lets the worker read only the roles its jobs need, for the diagnosis of waiting runs', () => {
      const reads = statements(template).filter(({ statement }) => list(statement.Action).includes('iam:GetRole'));
      assert.equal(reads.length, 1, 'one statement');
      assert.ok(/Worker/.test(reads[0].id), reads[0].id);
      const roles = list(reads[0].statement.Resource).map((r) => JSON.stringify(r));
      assert.equal(roles.length, 3, roles.join(', '));
      assert.ok(roles.some((r) => /ExecutionRole/.test(r)), 'the execution role');
      assert.ok(roles.some((r) => /JobRole/.test(r)), 'the job role');
      assert.ok(roles.every((r) => r !== '"*"'), 'no wildcard');
    });
  });
}

describe('storage', () => {
  const { template } = build();

  it('blocks public access and refuses plain HTTP on every bucket', () => {
    const buckets = resources(template, 'AWS::S3::Bucket');
    assert.equal(Object.keys(buckets).length, 2);
    const policies = Object.values(resources(template, 'AWS::S3::BucketPolicy'));
    for (const [id, bucket] of Object.entries(buckets)) {
      assert.deepEqual(bucket.Properties?.PublicAccessBlockConfiguration, {
        BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true,
      }, id);
      assert.ok(bucket.Properties?.BucketEncryption, `${id} is encrypted`);
      const policy = policies.find((p) => refId(p.Properties?.Bucket) === id);
      const denies = list(policy?.Properties?.PolicyDocument?.Statement).filter(
        (s: any) => s.Effect === 'Deny' && s.Condition?.Bool?.['aws:SecureTransport'] === 'false',
      );
      assert.equal(denies.length, 1, `${id} refuses requests without TLS`);
    }
  });

  it('expires run files after the retention, and keeps manifests', () => {
    template.hasResourceProperties('AWS::S3::Bucket', {
      LoggingConfiguration: Match.objectLike({ LogFilePrefix: 'artifacts/' }),
      LifecycleConfiguration: {
        Rules: Match.arrayWith([Match.objectLike({ Prefix: 'runs/', ExpirationInDays: 365, Status: 'Enabled' })]),
      },
    });
    const days = build({ runRetentionDays: 30 }).template;
    days.hasResourceProperties('AWS::S3::Bucket', {
      LifecycleConfiguration: { Rules: Match.arrayWith([Match.objectLike({ Prefix: 'runs/', ExpirationInDays: 30 })]) },
    });
    for (const bucket of Object.values(resources(template, 'AWS::S3::Bucket'))) {
      for (const rule of list(bucket.Properties?.LifecycleConfiguration?.Rules as any[])) {
        assert.ok(rule.ExpirationInDays === undefined || ['runs/', 'uploads/', 'sweeps/'].includes(rule.Prefix) || rule.Id === 'expire-access-logs',
          `only run files, uploads, sweep archives and access logs expire: ${JSON.stringify(rule)}`);
      }
    }
  });

  it('expires uploads with the runs that use them', () => {
    for (const [context, days] of [[{}, 365], [{ runRetentionDays: 30 }, 30]] as const) {
      const rules = Object.values(resources(build(context).template, 'AWS::S3::Bucket'))
        .flatMap((bucket) => list(bucket.Properties?.LifecycleConfiguration?.Rules as any[]));
      const runs = rules.find((rule) => rule.Prefix === 'runs/');
      const uploads = rules.find((rule) => rule.Prefix === 'uploads/');
      const sweeps = rules.find((rule) => rule.Prefix === 'sweeps/');
      assert.ok(runs && uploads && sweeps, 'each prefix has a rule');
      assert.equal(sweeps.ExpirationInDays, runs.ExpirationInDays, 'an archive goes with its runs');
      assert.equal(uploads.Status, 'Enabled');
      assert.equal(uploads.ExpirationInDays, days);
      assert.equal(uploads.ExpirationInDays, runs.ExpirationInDays);
      assert.deepEqual(uploads.NoncurrentVersionExpiration, runs.NoncurrentVersionExpiration);
    }
  });

  it('lets only the app\'s own origin PUT uploads straight into the artifacts bucket', () => {
    const { stack } = build();
    const artifacts = stack.getLogicalId(stack.storage.artifacts.node.defaultChild as any);
    const buckets = resources(template, 'AWS::S3::Bucket');
    const rules = list(buckets[artifacts].Properties?.CorsConfiguration?.CorsRules as any[]);
    assert.equal(rules.length, 1, 'one CORS rule');
    const [rule] = rules;
    assert.deepEqual(rule.AllowedMethods, ['PUT']);
    assert.deepEqual(rule.AllowedHeaders, ['*'], 'content-type, content-length, the checksum and the signed headers');
    assert.deepEqual(rule.ExposedHeaders, ['ETag']);
    assert.ok(rule.MaxAge > 0);
    assert.equal(rule.AllowedOrigins.length, 1);
    const origin = rule.AllowedOrigins[0];
    assert.ok(!JSON.stringify(origin).includes('*'), `no wildcard origin: ${JSON.stringify(origin)}`);
    assert.deepEqual(origin, stack.resolve(stack.functions.publicUrl), 'the web app\'s public URL');
    const api = Object.keys(resources(template, 'AWS::ApiGatewayV2::Api'));
    assert.equal(api.length, 1);
    assert.deepEqual(origin, { 'Fn::Join': ['', ['https://', { Ref: api[0] }, '.execute-api.',
      { Ref: 'AWS::Region' }, '.', { Ref: 'AWS::URLSuffix' }]] }, 'the address of this stack\'s API, no path');
    const web = stack.getLogicalId(stack.functions.web.node.defaultChild as any);
    const functions = resources(template, 'AWS::Lambda::Function');
    assert.deepEqual(functions[web].Properties?.Environment?.Variables?.MODELRUN_PUBLIC_URL, origin,
      'the app presents itself at the same address');
    for (const [id, bucket] of Object.entries(buckets)) {
      if (id !== artifacts) {
        assert.equal(bucket.Properties?.CorsConfiguration, undefined, `${id} has no CORS rule`);
      }
    }
  });
});

describe('database', () => {
  it('is private, encrypted, TLS-only, and open only to the functions', () => {
    const { template, stack } = build();
    template.hasResourceProperties('AWS::RDS::DBInstance', {
      PubliclyAccessible: false,
      StorageEncrypted: true,
      Engine: 'postgres',
      DeletionProtection: true,
    });
    template.hasResourceProperties('AWS::RDS::DBParameterGroup', { Parameters: Match.objectLike({ 'rds.force_ssl': '1' }) });
    const functionsGroup = stack.resolve(stack.network.functionsSecurityGroup.securityGroupId);
    const ingress = Object.values(resources(template, 'AWS::EC2::SecurityGroupIngress'))
      .filter((rule) => rule.Properties?.FromPort === 5432);
    assert.equal(ingress.length, 1);
    assert.deepEqual(ingress[0].Properties?.SourceSecurityGroupId, functionsGroup);
  });

  it('with RDS Proxy: the database hears only the proxy, which requires TLS', () => {
    const { template, stack } = build({ rdsProxy: true });
    template.hasResourceProperties('AWS::RDS::DBProxy', { RequireTLS: true, EngineFamily: 'POSTGRESQL' });
    const ingress = Object.values(resources(template, 'AWS::EC2::SecurityGroupIngress'))
      .filter((rule) => rule.Properties?.FromPort === 5432);
    assert.equal(ingress.length, 2, 'functions → proxy, proxy → database');
    const functionsGroup = JSON.stringify(stack.resolve(stack.network.functionsSecurityGroup.securityGroupId));
    const fromFunctions = ingress.filter((rule) => JSON.stringify(rule.Properties?.SourceSecurityGroupId) === functionsGroup);
    assert.equal(fromFunctions.length, 1, 'only the proxy hears the functions');
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ MODELRUN_DB_BEHIND_PROXY: 'true' }) },
    });
  });
});

describe('secrets', () => {
  it('keeps every secret out of the functions\' environment', () => {
    const { template } = build();
    const functions = Object.values(resources(template, 'AWS::Lambda::Function'))
      .filter((fn) => fn.Properties?.Runtime === 'provided.al2023');
    assert.equal(functions.length, 2);
    for (const fn of functions) {
      const variables = fn.Properties?.Environment?.Variables ?? {};
      for (const key of ['MODELRUN_DATABASE_URL', 'DATABASE_URL', 'MODELRUN_ADMIN_PASSWORD']) {
        assert.equal(variables[key], undefined, key);
      }
      assert.ok(variables.MODELRUN_DATABASE_SECRET_ARN, 'the database secret by ARN');
      assert.ok(!JSON.stringify(variables).includes('resolve:secretsmanager'), 'no secret resolved into the environment');
    }
  });
});

describe('encryption and lint skips', () => {
  const { template } = build();

  it('encrypts every log group, secret and queue with the stack key', () => {
    const keys = Object.keys(resources(template, 'AWS::KMS::Key'));
    assert.equal(keys.length, 1);
    template.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
    const usesKey = (value: unknown) => refId(value) === keys[0];
    for (const [id, group] of Object.entries(resources(template, 'AWS::Logs::LogGroup'))) {
      assert.ok(usesKey(group.Properties?.KmsKeyId), `${id} is encrypted with the key`);
    }
    for (const [id, secret] of Object.entries(resources(template, 'AWS::SecretsManager::Secret'))) {
      assert.ok(usesKey(secret.Properties?.KmsKeyId), `${id} is encrypted with the key`);
    }
    for (const [id, queue] of Object.entries(resources(template, 'AWS::SQS::Queue'))) {
      assert.ok(usesKey(queue.Properties?.KmsMasterKeyId), `${id} is encrypted with the key`);
    }
  });

  it('gives every remaining checkov finding its reason', () => {
    const known = new Set(['CKV_AWS_18', 'CKV_AWS_115', 'CKV_AWS_116', 'CKV_AWS_117', 'CKV_AWS_157']);
    let count = 0;
    for (const [id, resource] of Object.entries(template.toJSON().Resources as Record<string, any>)) {
      for (const skip of list(resource.Metadata?.checkov?.skip as any[])) {
        count += 1;
        assert.ok(known.has(skip.id), `${id}: ${skip.id} is not a known skip`);
        assert.ok(typeof skip.comment === 'string' && skip.comment.length > 20, `${id}: ${skip.id} has a reason`);
      }
    }
    assert.equal(count, 8, 'six, and CKV_AWS_115 on each function while no concurrency is reserved');
    const reserved = build({ webConcurrency: 20, workerConcurrency: 2 }).template.toJSON().Resources as Record<string, any>;
    const reservedSkips = Object.values(reserved).flatMap((r) => list(r.Metadata?.checkov?.skip as any[]));
    assert.equal(reservedSkips.length, 6, 'reserved functions need no CKV_AWS_115 skip');
    const multiAz = build({ multiAz: true }).template.toJSON().Resources as Record<string, any>;
    const skipped = Object.values(multiAz).flatMap((r) => list(r.Metadata?.checkov?.skip as any[]).map((s: any) => s.id));
    assert.ok(!skipped.includes('CKV_AWS_157'), 'a multi-AZ database needs no skip');
  });
});
