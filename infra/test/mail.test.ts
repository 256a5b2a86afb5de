// SES authorizes a send on the sender's identity and the configuration set,
// and in the sandbox on each recipient's identity too: the worker may send
// in both, and only as the configured sender.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { buildStages, list, refId, resources } from './helpers';

const ACCOUNT = { account: '111122223333', region: 'eu-west-1' };
const SES = 'arn:aws:ses:eu-west-1:111122223333';

function sending(context: Record<string, unknown>) {
  const [{ stack, template }] = buildStages([context], ACCOUNT);
  const configurationSet = stack.getLogicalId(stack.mail.configurationSet.node.defaultChild as any);
  const worker = refId(stack.resolve((stack.functions.worker.role as any).roleName));
  const found = Object.values(resources(template, 'AWS::IAM::Policy')).flatMap((policy) =>
    list(policy.Properties?.PolicyDocument?.Statement as any[])
      .filter((s) => list<string>(s.Action).some((a) => a.startsWith('ses:')))
      .map((statement) => ({ statement, roles: list(policy.Properties?.Roles).map(refId) })));
  assert.equal(found.length, 1, 'one statement sends email');
  const [{ statement, roles }] = found;
  assert.deepEqual(roles, [worker], 'the worker\'s role, and no other');
  assert.equal(statement.Effect, 'Allow');
  assert.deepEqual(list(statement.Action), ['ses:SendEmail'], 'SES v2 SendEmail, nothing else');
  const identities = list(statement.Resource).filter((r): r is string => typeof r === 'string');
  const others = list(statement.Resource).filter((r) => typeof r !== 'string');
  assert.equal(others.length, 1, 'and the configuration set');
  assert.deepEqual(others[0], { 'Fn::Join': ['', [`${SES}:configuration-set/`, { Ref: configurationSet }]] });
  return { identities, condition: statement.Condition };
}

describe('sending email', () => {
  it('in the sandbox: on every identity of the account and region, as mailFrom only', () => {
    const { identities, condition } = sending({});
    assert.deepEqual(identities, [`${SES}:identity/*`], 'the recipients\' verified identities are among them');
    assert.deepEqual(condition, { StringEqualsIgnoreCase: { 'ses:FromAddress': 'modelrun@example.com' } });
  });

  it('in production: on the sender\'s domain and address only, as mailFrom only', () => {
    const { identities, condition } = sending({ sesSandbox: 'false', mailFrom: 'runs@example.com' });
    assert.deepEqual(identities.sort(), [`${SES}:identity/example.com`, `${SES}:identity/runs@example.com`]);
    assert.deepEqual(condition, { StringEqualsIgnoreCase: { 'ses:FromAddress': 'runs@example.com' } });
  });

  it('tells the worker the same sender and configuration set', () => {
    const [{ stack, template }] = buildStages([{ mailFrom: 'runs@example.com' }], ACCOUNT);
    const worker = stack.getLogicalId(stack.functions.worker.node.defaultChild as any);
    const variables = resources(template, 'AWS::Lambda::Function')[worker].Properties?.Environment?.Variables;
    assert.equal(variables.MODELRUN_SES_FROM, 'modelrun <runs@example.com>');
    assert.equal(refId(variables.MODELRUN_SES_CONFIGURATION_SET),
      stack.getLogicalId(stack.mail.configurationSet.node.defaultChild as any));
  });
});
