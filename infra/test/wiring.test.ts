// The parts are connected as docs/lambda.md and docs/models.md describe.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { Match } from 'aws-cdk-lib/assertions';

import { build, list, refId, resources } from './helpers';

describe('functions', () => {
  const { template, stack } = build();
  const web = stack.getLogicalId(stack.functions.web.node.defaultChild as any);
  const worker = stack.getLogicalId(stack.functions.worker.node.defaultChild as any);
  const functions = resources(template, 'AWS::Lambda::Function');

  it('reserves no concurrency unless told, which a new account could not grant', () => {
    for (const id of [web, worker]) {
      assert.equal(functions[id].Properties?.ReservedConcurrentExecutions, undefined, `${id} reserves nothing`);
    }
    const reserved = build({ webConcurrency: 20, workerConcurrency: 2 });
    const reservedFunctions = resources(reserved.template, 'AWS::Lambda::Function');
    const id = (fn: any) => reserved.stack.getLogicalId(fn.node.defaultChild as any);
    assert.equal(reservedFunctions[id(reserved.stack.functions.web)].Properties?.ReservedConcurrentExecutions, 20);
    assert.equal(reservedFunctions[id(reserved.stack.functions.worker)].Properties?.ReservedConcurrentExecutions, 2);
  });

  it('lets the worker\'s failed events reach its encrypted dead-letter queue', () => {
    const queue = Object.values(resources(template, 'AWS::SQS::Queue'))
      .find((q) => refId(q.Properties?.KmsMasterKeyId) !== undefined);
    assert.ok(queue, 'the dead-letter queue is encrypted with the stack key');
    const key = refId(queue.Properties?.KmsMasterKeyId);
    const role = refId(functions[worker].Properties?.Role);
    const statements = Object.values(resources(template, 'AWS::IAM::Policy'))
      .filter((policy) => list(policy.Properties?.Roles).some((r) => refId(r) === role))
      .flatMap((policy) => list(policy.Properties?.PolicyDocument?.Statement));
    const allowed = (action: string) => statements.some((s) =>
      s.Effect === 'Allow' && list(s.Action).includes(action) && list(s.Resource).some((r) => refId(r) === key));
    assert.ok(allowed('kms:GenerateDataKey'), 'the worker role may make data keys with the stack key');
    assert.ok(allowed('kms:Decrypt'), 'and decrypt with it');
    assert.ok(statements.some((s) => list(s.Action).includes('sqs:SendMessage')), 'and send to the queue');
  });

  it('runs the cargo-lambda zip on provided.al2023', () => {
    for (const id of [web, worker]) {
      const fn = functions[id].Properties ?? {};
      assert.equal(fn.Runtime, 'provided.al2023');
      assert.equal(fn.Handler, 'bootstrap');
      assert.deepEqual(fn.Architectures, ['x86_64']);
    }
    assert.equal(functions[web].Properties?.Environment?.Variables?.MODELRUN_LAMBDA_FUNCTION, 'web');
    assert.equal(functions[worker].Properties?.Environment?.Variables?.MODELRUN_LAMBDA_FUNCTION, 'worker');
    assert.equal(functions[web].Properties?.Environment?.Variables?.MODELRUN_RUN_VISIBILITY, 'team');
    const own = build({ runVisibility: 'own' }).template;
    const ownVisibility = Object.values(resources(own, 'AWS::Lambda::Function'))
      .map((fn) => fn.Properties?.Environment?.Variables?.MODELRUN_RUN_VISIBILITY)
      .filter(Boolean);
    assert.deepEqual([...new Set(ownVisibility)], ['own']);
    const arm = build({ architecture: 'arm64' }).template;
    for (const fn of Object.values(resources(arm, 'AWS::Lambda::Function'))) {
      if (fn.Properties?.Runtime === 'provided.al2023') {
        assert.deepEqual(fn.Properties?.Architectures, ['arm64']);
      }
    }
  });

  it('stays inside API Gateway\'s 30 s and gives the worker time and a dead-letter queue', () => {
    assert.ok(functions[web].Properties?.Timeout < 30);
    assert.ok(functions[worker].Properties?.Timeout >= 60);
    const dlq = refId(functions[worker].Properties?.DeadLetterConfig?.TargetArn);
    assert.ok(dlq, 'the worker has a dead-letter queue');
    template.hasResourceProperties('AWS::SQS::Queue', { KmsMasterKeyId: Match.anyValue() });
  });

  it('lets the web function kick the worker, and only it', () => {
    const kicks = Object.values(resources(template, 'AWS::IAM::Policy'))
      .flatMap((p) => list(p.Properties?.PolicyDocument?.Statement as any[]))
      .filter((s) => list(s.Action).includes('lambda:InvokeFunction'));
    assert.equal(kicks.length, 1);
    assert.deepEqual(list(kicks[0].Resource).map(refId), [worker]);
    assert.deepEqual(functions[web].Properties?.Environment?.Variables?.MODELRUN_WORKER_FUNCTION, { 'Fn::GetAtt': [worker, 'Arn'] });
  });

  it('puts an HTTP API with access logs in front of the web function', () => {
    template.hasResourceProperties('AWS::ApiGatewayV2::Api', { ProtocolType: 'HTTP' });
    template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      StageName: '$default',
      AutoDeploy: true,
      AccessLogSettings: Match.objectLike({ DestinationArn: Match.anyValue(), Format: Match.anyValue() }),
    });
    const integrations = Object.values(resources(template, 'AWS::ApiGatewayV2::Integration'));
    assert.ok(integrations.length >= 1);
    for (const integration of integrations) {
      assert.equal(integration.Properties?.IntegrationType, 'AWS_PROXY');
      assert.equal(integration.Properties?.PayloadFormatVersion, '2.0');
      assert.equal(refId(integration.Properties?.IntegrationUri), web);
    }
  });
});

describe('events', () => {
  const { template, stack } = build();
  const worker = stack.getLogicalId(stack.functions.worker.node.defaultChild as any);
  const rules = Object.values(resources(template, 'AWS::Events::Rule'));

  it('sends Batch state changes, image pushes and a one-minute tick to the worker', () => {
    assert.equal(rules.length, 3);
    for (const rule of rules) {
      const targets = list(rule.Properties?.Targets as any[]);
      assert.equal(targets.length, 1);
      assert.equal(refId(targets[0].Arn), worker);
      assert.ok(targets[0].DeadLetterConfig, 'failed deliveries are kept');
    }
    const patterns = rules.map((r) => r.Properties?.EventPattern).filter(Boolean);
    const batch = patterns.find((p) => list(p.source).includes('aws.batch'));
    assert.deepEqual(batch['detail-type'], ['Batch Job State Change']);
    assert.equal(refId(batch.detail.jobQueue[0]), stack.getLogicalId(stack.runs.queue.node.defaultChild as any));
    const ecr = patterns.find((p) => list(p.source).includes('aws.ecr'));
    assert.deepEqual(ecr.detail['action-type'], ['PUSH']);
    assert.deepEqual(ecr.detail['repository-name'], [{ prefix: 'modelrun/' }]);
    assert.ok(rules.some((r) => r.Properties?.ScheduleExpression === 'rate(1 minute)'));
    const permissions = Object.values(resources(template, 'AWS::Lambda::Permission'))
      .filter((p) => p.Properties?.Principal === 'events.amazonaws.com');
    assert.equal(permissions.length, 3, 'each rule may invoke the worker');
  });
});

describe('model pipelines', () => {
  const { template } = build();

  it('makes an immutable, scanned repository per model, and one for the runtime image', () => {
    const repositories = Object.values(resources(template, 'AWS::ECR::Repository'));
    assert.deepEqual(repositories.map((r) => r.Properties?.RepositoryName).sort(),
      ['modelrun-runtime', 'modelrun/churn', 'modelrun/forecast']);
    for (const repository of repositories) {
      assert.equal(repository.Properties?.ImageTagMutability, 'IMMUTABLE');
      assert.deepEqual(repository.Properties?.ImageScanningConfiguration, { ScanOnPush: true });
    }
  });

  it('builds each model on pushes to its branch, privileged, with the example buildspec', () => {
    const projects = Object.values(resources(template, 'AWS::CodeBuild::Project'));
    assert.equal(projects.length, 2);
    const churn = projects.find((p) => p.Properties?.Name === 'modelrun-churn');
    assert.ok(churn);
    assert.equal(churn.Properties?.Environment?.PrivilegedMode, true);
    assert.equal(churn.Properties?.Source?.Type, 'GITHUB');
    assert.equal(churn.Properties?.Source?.Location, 'https://github.com/acme/churn.git');
    assert.ok(String(churn.Properties?.Source?.BuildSpec).includes('docker push'));
    assert.deepEqual(churn.Properties?.Triggers?.FilterGroups, [[
      { Type: 'EVENT', Pattern: 'PUSH' },
      { Type: 'HEAD_REF', Pattern: 'refs/heads/release' },
    ]]);
    const variables = Object.fromEntries(list(churn.Properties?.Environment?.EnvironmentVariables as any[])
      .map((v) => [v.Name, v.Value]));
    assert.equal(variables.MODEL, 'churn');
    assert.ok(variables.ARTIFACTS_BUCKET && variables.ECR_REPOSITORY && variables.MODELRUN_IMAGE);
  });

  it('makes the webhooks only after the GitHub credentials they use exist', () => {
    const withToken = build({ githubTokenSecret: 'modelrun/github-token' }).template;
    const credentials = Object.keys(resources(withToken, 'AWS::CodeBuild::SourceCredential'));
    assert.equal(credentials.length, 1);
    const projects = Object.values(resources(withToken, 'AWS::CodeBuild::Project'));
    assert.equal(projects.length, 2);
    for (const project of projects) {
      assert.ok(list(project.DependsOn).includes(credentials[0]),
        `${project.Properties?.Name} depends on the source credential`);
    }
  });

  it('has no pipeline when no model is configured', () => {
    const none = build({ models: '' }).template;
    none.resourceCountIs('AWS::CodeBuild::Project', 0);
    none.resourceCountIs('AWS::ECR::Repository', 1);
  });
});

describe('mail and outputs', () => {
  it('creates the SES identity and configuration set, and the outputs a team needs', () => {
    const { template } = build();
    template.hasResourceProperties('AWS::SES::EmailIdentity', { EmailIdentity: 'example.com' });
    template.resourceCountIs('AWS::SES::ConfigurationSet', 1);
    const outputs = Object.keys(template.findOutputs('*'));
    for (const name of ['ApiUrl', 'ArtifactsBucket', 'JobQueueArn', 'NatPublicIp', 'AdminPasswordSecretArn']) {
      assert.ok(outputs.includes(name), `output ${name}`);
    }
  });
});

describe('template', () => {
  /** The resources each resource refers to: Ref, Fn::GetAtt, Fn::Sub and DependsOn. */
  function references(resource: Record<string, any>, ids: Set<string>): Set<string> {
    const found = new Set<string>(list(resource.DependsOn as string | string[] | undefined));
    const walk = (value: unknown): void => {
      if (Array.isArray(value)) {
        value.forEach(walk);
      } else if (value && typeof value === 'object') {
        const id = refId(value);
        if (id && ids.has(id)) {
          found.add(id);
        }
        const sub = (value as Record<string, unknown>)['Fn::Sub'];
        const text = Array.isArray(sub) ? sub[0] : sub;
        if (typeof text === 'string') {
          for (const [, name] of text.matchAll(/\$\{([A-Za-z0-9]+)[.}]/g)) {
            if (ids.has(name)) {
              found.add(name);
            }
          }
        }
        Object.values(value).forEach(walk);
      }
    };
    walk(resource.Properties);
    return found;
  }

  for (const variant of [{}, { batchPlatform: 'ec2', rdsProxy: 'true', interfaceEndpoints: 'true', multiAz: 'true' }]) {
    it(`has no circular dependency (${JSON.stringify(variant)})`, () => {
      const all = build(variant).template.toJSON().Resources as Record<string, Record<string, any>>;
      const ids = new Set(Object.keys(all));
      const edges = new Map([...ids].map((id) => [id, references(all[id], ids)]));
      const state = new Map<string, 'open' | 'done'>();
      const visit = (id: string, path: string[]): void => {
        if (state.get(id) === 'done') {
          return;
        }
        assert.notEqual(state.get(id), 'open', `cycle: ${[...path, id].join(' -> ')}`);
        state.set(id, 'open');
        for (const next of edges.get(id) ?? []) {
          visit(next, [...path, id]);
        }
        state.set(id, 'done');
      };
      for (const id of ids) {
        visit(id, []);
      }
    });
  }
});
