// Versions without humans: for each model, an ECR repository
// (`modelrun/<model>`, or `modelrun-<stage>/<model>`: immutable tags,
// scanned on push) and a CodeBuild
// project that builds the image on every push to the model repository's
// branch, with the buildspec of examples/models/forecast. The push to ECR
// emits the event that makes the version appear (see events.ts). Also the
// runtime repository (`modelrun-runtime`, `modelrun-<stage>-runtime`), for
// the image model images copy the `modelrun` binary from. Names come from
// names.ts.

import * as fs from 'node:fs';
import * as path from 'node:path';

import { Duration, RemovalPolicy, SecretValue } from 'aws-cdk-lib';
import * as codebuild from 'aws-cdk-lib/aws-codebuild';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import * as YAML from 'yaml';

import { ModelSource } from './config';
import { StageNames } from './names';

export interface ModelPipelinesProps {
  /** Repository and project names. */
  readonly names: StageNames;
  readonly models: ModelSource[];
  readonly artifacts: s3.IBucket;
  /** The buildspec every model is built with. */
  readonly buildspecPath: string;
  /** The runtime image; unset: this stack's runtime repository at `version`. */
  readonly runtimeImage?: string;
  /** modelrun's version: the runtime image's tag. */
  readonly version: string;
  /** A Secrets Manager secret with a GitHub token, for CodeBuild to read the repositories. */
  readonly githubTokenSecret?: string;
}

export class ModelPipelines extends Construct {
  readonly repositories = new Map<string, ecr.Repository>();
  readonly projects = new Map<string, codebuild.Project>();
  readonly runtime: ecr.Repository;
  readonly runtimeImage: string;

  constructor(scope: Construct, id: string, props: ModelPipelinesProps) {
    super(scope, id);
    this.runtime = this.repository('Runtime', props.names.runtimeRepository);
    this.runtimeImage = props.runtimeImage ?? `${this.runtime.repositoryUri}:${props.version}`;
    // The account's GitHub credentials must exist before a project makes
    // its webhook with them: each project depends on them.
    const credentials = props.githubTokenSecret
      ? new codebuild.GitHubSourceCredentials(this, 'GitHub', {
        accessToken: SecretValue.secretsManager(props.githubTokenSecret),
      })
      : undefined;
    const buildSpec = codebuild.BuildSpec.fromObjectToYaml(
      YAML.parse(fs.readFileSync(props.buildspecPath, 'utf8')) as Record<string, unknown>,
    );
    for (const model of props.models) {
      const name = pascal(model.name);
      const repository = this.repository(`${name}Repository`, `${props.names.repositoryPrefix}${model.name}`);
      this.repositories.set(model.name, repository);
      const project = new codebuild.Project(this, `${name}Build`, {
        projectName: props.names.buildProject(model.name),
        description: `Builds ${model.name} from ${model.owner}/${model.repo}@${model.branch} into ${repository.repositoryName}`,
        source: codebuild.Source.gitHub({
          owner: model.owner,
          repo: model.repo,
          webhook: true,
          webhookFilters: [
            codebuild.FilterGroup.inEventOf(codebuild.EventAction.PUSH).andBranchIs(model.branch),
          ],
        }),
        buildSpec,
        environment: {
          buildImage: codebuild.LinuxBuildImage.STANDARD_7_0,
          computeType: codebuild.ComputeType.SMALL,
          // Docker builds need it.
          privileged: true,
        },
        environmentVariables: {
          MODEL: { value: model.name },
          ECR_REPOSITORY: { value: repository.repositoryName },
          ARTIFACTS_BUCKET: { value: props.artifacts.bucketName },
          MODELRUN_IMAGE: { value: this.runtimeImage },
        },
        timeout: Duration.minutes(30),
        queuedTimeout: Duration.hours(2),
      });
      if (credentials) {
        project.node.addDependency(credentials);
      }
      repository.grantPullPush(project);
      project.addToRolePolicy(new iam.PolicyStatement({
        actions: ['ecr:DescribeImages'],
        resources: [repository.repositoryArn],
      }));
      this.runtime.grantPull(project);
      project.addToRolePolicy(new iam.PolicyStatement({
        actions: ['s3:PutObject'],
        resources: [props.artifacts.arnForObjects(`manifests/${model.name}/*`)],
      }));
      this.projects.set(model.name, project);
    }
  }

  private repository(id: string, name: string): ecr.Repository {
    return new ecr.Repository(this, id, {
      repositoryName: name,
      imageTagMutability: ecr.TagMutability.IMMUTABLE,
      imageScanOnPush: true,
      encryption: ecr.RepositoryEncryption.KMS,
      lifecycleRules: [{ description: 'drop untagged layers', tagStatus: ecr.TagStatus.UNTAGGED, maxImageAge: Duration.days(14) }],
      removalPolicy: RemovalPolicy.RETAIN,
    });
  }
}

/** `revenue-forecast` → `RevenueForecast`, for construct ids. */
export function pascal(name: string): string {
  return name.split('-').map((part) => part.charAt(0).toUpperCase() + part.slice(1)).join('');
}

/** The buildspec shipped with the example model. */
export function exampleBuildspec(repositoryRoot: string): string {
  return path.join(repositoryRoot, 'examples/models/forecast/buildspec.yml');
}
