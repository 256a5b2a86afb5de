// Email through SES: the domain identity modelrun sends from (DKIM records
// to publish are in the stack's outputs) and a configuration set, which
// suppresses bounced and complained addresses.

import * as ses from 'aws-cdk-lib/aws-ses';
import { Stack } from 'aws-cdk-lib';
import { Construct } from 'constructs';

export interface MailProps {
  readonly domain: string;
}

export class Mail extends Construct {
  readonly identity: ses.EmailIdentity;
  readonly configurationSet: ses.ConfigurationSet;

  constructor(scope: Construct, id: string, props: MailProps) {
    super(scope, id);
    this.configurationSet = new ses.ConfigurationSet(this, 'ConfigurationSet', {
      suppressionReasons: ses.SuppressionReasons.BOUNCES_AND_COMPLAINTS,
      tlsPolicy: ses.ConfigurationSetTlsPolicy.REQUIRE,
    });
    this.identity = new ses.EmailIdentity(this, 'Identity', {
      identity: ses.Identity.domain(props.domain),
      configurationSet: this.configurationSet,
    });
  }

  /** The ARNs `ses:SendEmail` is allowed on. */
  sendingArns(domain: string): string[] {
    const stack = Stack.of(this);
    return [
      stack.formatArn({ service: 'ses', resource: 'identity', resourceName: domain }),
      stack.formatArn({
        service: 'ses',
        resource: 'configuration-set',
        resourceName: this.configurationSet.configurationSetName,
      }),
    ];
  }
}
