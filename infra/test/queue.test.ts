// A job blocked in RUNNABLE for a reason Batch recognises is cancelled
// after runnableTimeoutMinutes, so it cannot hold every run behind it.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { build, resources } from './helpers';

const REASONS = [
  'CAPACITY:INSUFFICIENT_INSTANCE_CAPACITY',
  'MISCONFIGURATION:COMPUTE_ENVIRONMENT_MAX_RESOURCE',
  'MISCONFIGURATION:JOB_RESOURCE_REQUIREMENT',
];

function actions(context: Record<string, unknown>): any[] | undefined {
  const queues = Object.values(resources(build(context).template, 'AWS::Batch::JobQueue'));
  assert.equal(queues.length, 1);
  return queues[0].Properties?.JobStateTimeLimitActions;
}

describe('the job queue', () => {
  for (const [context, seconds] of [[{}, 1800], [{ runnableTimeoutMinutes: 120 }, 7200], [{ batchPlatform: 'ec2' }, 1800]] as const) {
    it(`cancels a job blocked in RUNNABLE after ${seconds} s, once per reason Batch recognises (${JSON.stringify(context)})`, () => {
      const found = actions(context);
      assert.ok(found, 'the queue has time-limit actions');
      assert.deepEqual(found.map((a) => a.Reason).sort(), REASONS, 'one action per documented reason');
      for (const action of found) {
        assert.equal(action.Action, 'CANCEL');
        assert.equal(action.State, 'RUNNABLE');
        assert.equal(action.MaxTimeSeconds, seconds);
        assert.ok(action.MaxTimeSeconds >= 600 && action.MaxTimeSeconds <= 86400, 'within what Batch accepts');
      }
    });
  }

  it('cancels nothing with runnableTimeoutMinutes=0', () => {
    assert.equal(actions({ runnableTimeoutMinutes: 0 }), undefined);
  });
});
