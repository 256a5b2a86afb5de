// Checkov findings that stay, each with its reason, written into the
// template as resource metadata (`Metadata.checkov.skip`), where checkov
// reads them. docs/deploy.md lists them too.

import { CfnResource, IAspect } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';

export interface Skip {
  readonly id: string;
  readonly comment: string;
}

export interface SkipRule {
  /** Which resources the skips are for. */
  readonly matches: (resource: CfnResource) => boolean;
  readonly skips: Skip[];
}

export class CheckovSkips implements IAspect {
  constructor(private readonly rules: SkipRule[]) {}

  visit(node: IConstruct): void {
    if (!(node instanceof CfnResource)) {
      return;
    }
    const skips = this.rules.filter((rule) => rule.matches(node)).flatMap((rule) => rule.skips);
    if (skips.length > 0) {
      node.addMetadata('checkov', { skip: skips });
    }
  }
}

/** CDK's own provider that empties the default security group on deploy. */
export const DEFAULT_SG_PROVIDER: SkipRule = {
  matches: (resource) =>
    resource.cfnResourceType === 'AWS::Lambda::Function' && resource.node.path.includes('Custom::VpcRestrictDefaultSG'),
  skips: [
    { id: 'CKV_AWS_116', comment: 'CDK deploy-time provider: CloudFormation invokes it synchronously and reports its failure' },
    { id: 'CKV_AWS_117', comment: 'CDK deploy-time provider: calls only the EC2 API, once per deployment' },
    { id: 'CKV_AWS_115', comment: 'CDK deploy-time provider: runs once per deployment' },
  ],
};
