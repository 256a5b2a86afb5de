// Bad settings stop the synth with a message naming the setting.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { ConfigError, parseModels, readConfig } from '../lib/config';
import { repositoryRoot } from './helpers';

const good: Record<string, unknown> = { sesDomain: 'example.com', adminEmail: 'ops@example.com' };

function read(context: Record<string, unknown>) {
  return readConfig((key) => context[key], repositoryRoot);
}

function refused(context: Record<string, unknown>, message: RegExp) {
  assert.throws(() => read(context), (error: unknown) => error instanceof ConfigError && message.test(error.message));
}

describe('config', () => {
  it('has defaults for everything but the domain and the first admin', () => {
    const config = read(good);
    assert.equal(config.architecture, 'x86_64');
    assert.equal(config.batchPlatform, 'fargate');
    assert.equal(config.runVisibility, 'team');
    assert.equal(config.mailFrom, 'modelrun@example.com');
    assert.equal(config.dbInstanceType, 't4g.micro');
    assert.ok(config.lambdaZip.endsWith('target/lambda/x86_64/modelrun/bootstrap.zip'));
    assert.deepEqual(config.models, []);
    assert.equal(config.webConcurrency, 0, 'no reservation unless asked');
    assert.equal(config.workerConcurrency, 0);
    assert.equal(config.stage, undefined, 'no stage: the names of a single deployment');
    assert.equal(config.sesSandbox, true, 'a new account\'s SES is in the sandbox');
    assert.equal(config.runnableTimeoutMinutes, 30);
  });

  it('takes a stage, a sandbox flag and a RUNNABLE time limit', () => {
    const config = read({ ...good, stage: 'prod2', sesSandbox: 'false', runnableTimeoutMinutes: '1440' });
    assert.equal(config.stage, 'prod2');
    assert.equal(config.sesSandbox, false);
    assert.equal(config.runnableTimeoutMinutes, 1440);
    assert.equal(read({ ...good, runnableTimeoutMinutes: 0 }).runnableTimeoutMinutes, 0, '0: never');
    assert.equal(read({ ...good, runnableTimeoutMinutes: 15 }).runnableTimeoutMinutes, 15);
  });

  it('names the missing or bad setting', () => {
    refused({ adminEmail: 'ops@example.com' }, /context sesDomain is required/);
    refused({ sesDomain: 'example.com' }, /context adminEmail is required/);
    refused({ ...good, sesDomain: 'not a domain' }, /sesDomain: .* is not a domain name/);
    refused({ ...good, mailFrom: 'x@elsewhere.org' }, /mailFrom: must be an address in example.com/);
    refused({ ...good, architecture: 'sparc' }, /architecture: must be one of x86_64, arm64/);
    refused({ ...good, batchPlatform: 'lambda' }, /batchPlatform: must be one of fargate, ec2/);
    refused({ ...good, rdsProxy: 'yes' }, /rdsProxy: must be true or false/);
    refused({ ...good, runVisibility: 'nobody' }, /runVisibility: must be one of team, own/);
    refused({ ...good, runRetentionDays: '0' }, /runRetentionDays: must be a whole number from 1 to 3650/);
    refused({ ...good, webConcurrency: 2.5 }, /webConcurrency: must be a whole number/);
    refused({ ...good, workerConcurrency: -1 }, /workerConcurrency: must be a whole number from 0/);
    refused({ ...good, dbInstanceType: 'big' }, /dbInstanceType: "big" is not an instance type/);
    for (const stage of ['Dev', 'dev-eu', '1dev', 'a'.repeat(17), 'dev/x']) {
      refused({ ...good, stage }, /context stage: must be 1-16 of a-z and 0-9, starting with a letter/);
    }
    refused({ ...good, sesSandbox: 'maybe' }, /sesSandbox: must be true or false/);
    for (const minutes of [5, 10, 1441, 'soon', 2.5, -10]) {
      refused({ ...good, runnableTimeoutMinutes: minutes }, /runnableTimeoutMinutes: must be 0 \(never\) or a whole number from 15 to 1440/);
    }
  });

  it('reads models in the -c form and the cdk.json form', () => {
    assert.deepEqual(parseModels('forecast=acme/forecast-model@main, churn=acme/churn'), [
      { name: 'forecast', owner: 'acme', repo: 'forecast-model', branch: 'main' },
      { name: 'churn', owner: 'acme', repo: 'churn', branch: 'main' },
    ]);
    assert.deepEqual(parseModels([{ name: 'forecast', owner: 'acme', repo: 'f', branch: 'prod' }]),
      [{ name: 'forecast', owner: 'acme', repo: 'f', branch: 'prod' }]);
    assert.throws(() => parseModels('Forecast=acme/f'), /the name must be 1-63 of a-z/);
    assert.throws(() => parseModels('forecast'), /is not name=owner\/repo@branch/);
    assert.throws(() => parseModels('f=acme/a,f=acme/b'), /f is listed twice/);
    assert.throws(() => parseModels([{ name: 'f', owner: 'a b', repo: 'x' }]), /owner must be a GitHub owner name/);
  });
});
