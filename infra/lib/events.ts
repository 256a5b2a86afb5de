// What wakes the worker besides the web function's kicks: EventBridge sends
// it Batch job state changes of the stage's queue, pushes of images to the
// stage's ECR repositories, and a tick every minute for the sweep. A lost
// or failed event costs a delay, never work (docs/lambda.md): after its
// retries it goes to the dead-letter queue, for the record.

import { Duration } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

export interface WorkerEventsProps {
  /** Model repositories are `<repositoryPrefix><model>`. */
  readonly repositoryPrefix: string;
  readonly worker: lambda.IFunction;
  readonly jobQueueArn: string;
  readonly deadLetters: sqs.IQueue;
}

export class WorkerEvents extends Construct {
  readonly batchStateChanges: events.Rule;
  readonly imagePushes: events.Rule;
  readonly schedule: events.Rule;

  constructor(scope: Construct, id: string, props: WorkerEventsProps) {
    super(scope, id);
    const target = new targets.LambdaFunction(props.worker, {
      retryAttempts: 4,
      maxEventAge: Duration.hours(2),
      deadLetterQueue: props.deadLetters,
    });
    this.batchStateChanges = new events.Rule(this, 'BatchJobStateChange', {
      description: 'modelrun: Batch job state changes of this stack\'s queue, to the worker',
      eventPattern: {
        source: ['aws.batch'],
        detailType: ['Batch Job State Change'],
        detail: { jobQueue: [props.jobQueueArn] },
      },
      targets: [target],
    });
    this.imagePushes = new events.Rule(this, 'ImagePushed', {
      description: 'modelrun: images pushed to this stack\'s model repositories, to the worker',
      eventPattern: {
        source: ['aws.ecr'],
        detailType: ['ECR Image Action'],
        detail: {
          'action-type': ['PUSH'],
          result: ['SUCCESS'],
          'repository-name': [{ prefix: props.repositoryPrefix }],
        },
      },
      targets: [target],
    });
    this.schedule = new events.Rule(this, 'Sweep', {
      description: 'modelrun: the worker sweep, every minute',
      schedule: events.Schedule.rate(Duration.minutes(1)),
      targets: [target],
    });
  }
}
