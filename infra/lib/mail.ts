// Email through SES: the domain identity modelrun sends from (DKIM records
// to publish are in the stack's outputs) and a configuration set, which
// suppresses bounced and complained addresses; and the one IAM statement
// that lets the worker send, as the configured sender only.
//
// SES v2 `SendEmail` is authorized on the identity the sender is verified
// by (the address if it is verified itself, else its domain) and on the
// configuration set. In the sandbox SES also authorizes it on each
// recipient's identity (every recipient must be a verified address), which
// no deployment can list in advance: there the statement allows every
// identity of the account and region, and the `ses:FromAddress` condition
// still keeps the sender to `mailFrom`.

import * as iam from 'aws-cdk-lib/aws-iam';
import * as ses from 'aws-cdk-lib/aws-ses';
import { Stack } from 'aws-cdk-lib';
import { Construct } from 'constructs';

export interface MailProps {
  /** The domain identity. */
  readonly domain: string;
  /** The only sender address, in `domain`. */
  readonly mailFrom: string;
  /** The account's SES is in the sandbox (see `ModelrunConfig.sesSandbox`). */
  readonly sandbox: boolean;
}

export class Mail extends Construct {
  readonly identity: ses.EmailIdentity;
  readonly configurationSet: ses.ConfigurationSet;
  private readonly props: MailProps;

  constructor(scope: Construct, id: string, props: MailProps) {
    super(scope, id);
    this.props = props;
    this.configurationSet = new ses.ConfigurationSet(this, 'ConfigurationSet', {
      suppressionReasons: ses.SuppressionReasons.BOUNCES_AND_COMPLAINTS,
      tlsPolicy: ses.ConfigurationSetTlsPolicy.REQUIRE,
    });
    this.identity = new ses.EmailIdentity(this, 'Identity', {
      identity: ses.Identity.domain(props.domain),
      configurationSet: this.configurationSet,
    });
  }

  /** `ses:SendEmail` from `mailFrom`, with this configuration set. */
  sendingStatement(): iam.PolicyStatement {
    return new iam.PolicyStatement({
      actions: ['ses:SendEmail'],
      resources: this.sendingArns(),
      conditions: { StringEqualsIgnoreCase: { 'ses:FromAddress': this.props.mailFrom } },
    });
  }

  /** The ARNs `ses:SendEmail` is allowed on. */
  private sendingArns(): string[] {
    const stack = Stack.of(this);
    const identity = (name: string) => stack.formatArn({ service: 'ses', resource: 'identity', resourceName: name });
    const identities = this.props.sandbox
      ? [identity('*')]
      : [identity(this.props.domain), identity(this.props.mailFrom)];
    return [
      ...identities,
      stack.formatArn({
        service: 'ses',
        resource: 'configuration-set',
        resourceName: this.configurationSet.configurationSetName,
      }),
    ];
  }
}
