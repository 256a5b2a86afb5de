// Run files in S3: one artifacts bucket for inputs and outputs (`runs/`),
// the input files people upload for runs (`uploads/`, sent straight from
// the browser with presigned PUTs: see stack.ts for the bucket's CORS rule)
// and the manifests the model builds upload (`manifests/`). Encrypted,
// never public, reachable over TLS only, with access logs in a second
// bucket. Run files and uploads expire after the retention the deployment
// sets; manifests are kept, since versions are made from them.

import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';

export interface StorageProps {
  readonly runRetentionDays: number;
}

export class Storage extends Construct {
  readonly artifacts: s3.Bucket;
  readonly accessLogs: s3.Bucket;

  constructor(scope: Construct, id: string, props: StorageProps) {
    super(scope, id);
    this.accessLogs = new s3.Bucket(this, 'AccessLogs', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      versioned: true,
      lifecycleRules: [
        { id: 'expire-access-logs', expiration: Duration.days(365), noncurrentVersionExpiration: Duration.days(30) },
      ],
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.artifacts = new s3.Bucket(this, 'Artifacts', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      versioned: true,
      serverAccessLogsBucket: this.accessLogs,
      serverAccessLogsPrefix: 'artifacts/',
      lifecycleRules: [
        {
          id: 'expire-old-runs',
          prefix: 'runs/',
          expiration: Duration.days(props.runRetentionDays),
          noncurrentVersionExpiration: Duration.days(7),
        },
        {
          // A sweep's archive holds its runs' outputs: kept as long as they are.
          id: 'expire-old-sweep-archives',
          prefix: 'sweeps/',
          expiration: Duration.days(props.runRetentionDays),
          noncurrentVersionExpiration: Duration.days(7),
        },
        {
          // Uploads are kept with the runs that use them, no longer.
          id: 'expire-old-uploads',
          prefix: 'uploads/',
          expiration: Duration.days(props.runRetentionDays),
          noncurrentVersionExpiration: Duration.days(7),
        },
        { id: 'abort-incomplete-uploads', abortIncompleteMultipartUploadAfter: Duration.days(2) },
        { id: 'expire-replaced-versions', noncurrentVersionExpiration: Duration.days(30) },
      ],
      removalPolicy: RemovalPolicy.RETAIN,
    });
  }
}
