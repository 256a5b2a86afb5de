#!/usr/bin/env node
// The CDK app: one stack, `modelrun` (or `modelrun-<stage>` with
// `-c stage=<stage>`), configured by context (cdk.json and `-c key=value`;
// see docs/deploy.md). Bad or missing settings stop here with a message
// naming the setting.

import * as fs from 'node:fs';
import * as path from 'node:path';

import { App } from 'aws-cdk-lib';

import { ConfigError, readConfig } from '../lib/config';
import { StageNames } from '../lib/names';
import { ModelrunStack } from '../lib/stack';

const repositoryRoot = path.resolve(__dirname, '../../..');
const app = new App();
try {
  const read = (key: string) => app.node.tryGetContext(key);
  const config = readConfig(read, repositoryRoot);
  if (!fs.existsSync(config.lambdaZip)) {
    throw new ConfigError(
      `the Lambda package ${config.lambdaZip} does not exist: run ./scripts/build-lambda ${config.architecture} first (or set -c lambdaZip=...)`,
    );
  }
  const githubTokenSecret = read('githubTokenSecret');
  new ModelrunStack(app, new StageNames(config.stage).stack, {
    description: 'modelrun: models behind a web page',
    config,
    repositoryRoot,
    githubTokenSecret: typeof githubTokenSecret === 'string' && githubTokenSecret !== '' ? githubTokenSecret : undefined,
  });
  app.synth();
} catch (error) {
  if (error instanceof ConfigError) {
    console.error(`modelrun infra: ${error.message}`);
    process.exit(1);
  }
  throw error;
}
