// Builds the stack offline, as `cdk synth` does, for assertions.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';

import { readConfig } from '../lib/config';
import { StageNames } from '../lib/names';
import { ModelrunStack } from '../lib/stack';

export const repositoryRoot = path.resolve(__dirname, '../../..');

let standIn: string | undefined;

/** A directory with a `bootstrap` file: the assertions need no real binary. */
function lambdaStandIn(): string {
  if (!standIn) {
    standIn = fs.mkdtempSync(path.join(os.tmpdir(), 'modelrun-lambda-'));
    fs.writeFileSync(path.join(standIn, 'bootstrap'), '#!/bin/sh\n');
  }
  return standIn;
}

export const BASE_CONTEXT: Record<string, unknown> = {
  sesDomain: 'example.com',
  adminEmail: 'ops@example.com',
  models: 'forecast=acme/forecast-model@main,churn=acme/churn@release',
};

export interface Built {
  readonly stack: ModelrunStack;
  readonly template: Template;
}

/** The context of cdk.json: defaults and feature flags, as `cdk synth` reads them. */
const CDK_JSON_CONTEXT = (JSON.parse(
  fs.readFileSync(path.join(repositoryRoot, 'infra/cdk.json'), 'utf8'),
) as { context: Record<string, unknown> }).context;

export function build(context: Record<string, unknown> = {}): Built {
  return buildStages([context])[0];
}

/**
 * Stacks in one App, as in one account and region: the App's context is
 * shared, and each stack reads its own values over it (such as its stage).
 */
export function buildStages(contexts: Array<Record<string, unknown>>, env?: { account: string; region: string }): Built[] {
  const shared = contexts.length === 1 ? contexts[0] : {};
  const app = new App({ context: { ...CDK_JSON_CONTEXT, lambdaZip: lambdaStandIn(), ...BASE_CONTEXT, ...shared } });
  const stacks = contexts.map((context) => {
    const read = (key: string) => (key in context ? context[key] : app.node.tryGetContext(key));
    const config = readConfig(read, repositoryRoot);
    const secret = read('githubTokenSecret');
    const githubTokenSecret = typeof secret === 'string' && secret !== '' ? secret : undefined;
    return new ModelrunStack(app, new StageNames(config.stage).stack, { config, repositoryRoot, githubTokenSecret, env });
  });
  // The App synthesizes once, with every stack in it.
  return stacks.map((stack) => ({ stack, template: Template.fromStack(stack) }));
}

/** Resources of a type, by logical id. */
export function resources(template: Template, type: string): Record<string, { Properties?: Record<string, any>; [key: string]: any }> {
  return template.findResources(type);
}

/** The logical id a `{Ref: …}` or `{Fn::GetAtt: […]}` points at. */
export function refId(value: unknown): string | undefined {
  if (value && typeof value === 'object') {
    const object = value as Record<string, unknown>;
    if (typeof object.Ref === 'string') {
      return object.Ref;
    }
    const getAtt = object['Fn::GetAtt'];
    if (Array.isArray(getAtt) && typeof getAtt[0] === 'string') {
      return getAtt[0];
    }
  }
  return undefined;
}

/** A value as a flat list (IAM allows one or many). */
export function list<T>(value: T | T[] | undefined): T[] {
  if (value === undefined) {
    return [];
  }
  return Array.isArray(value) ? value : [value];
}
