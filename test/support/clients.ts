// Official-client helpers for wire tests: the AWS SDK for JavaScript v3, the aws CLI and boto3.
import assert from 'node:assert/strict';
import { EC2Client } from '@aws-sdk/client-ec2';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { TestAccount } from './server.ts';

const run = promisify(execFile);

export interface Credentials { accessKeyId: string; secretAccessKey: string }

export const devCredentials = (account = '123456789012'): Credentials => ({ accessKeyId: account, secretAccessKey: 'dev-mode-any-secret' });
export const credentialsOf = (a: TestAccount): Credentials => ({ accessKeyId: a.accessKeyId, secretAccessKey: a.secretAccessKey });

export function ec2Client(endpoint: string, credentials: Credentials, region = 'us-east-1'): EC2Client {
  return new EC2Client({ endpoint, region, credentials, maxAttempts: 1 });
}

function awsEnv(credentials: Credentials, region: string): NodeJS.ProcessEnv {
  return {
    ...process.env,
    AWS_ACCESS_KEY_ID: credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
    AWS_DEFAULT_REGION: region,
    AWS_REGION: region,
    AWS_PAGER: '',
    AWS_MAX_ATTEMPTS: '1',
    AWS_CONFIG_FILE: '/dev/null',
    AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
  };
}

export interface CliResult { code: number; stdout: string; stderr: string; json?: any }

/** Runs `aws --endpoint-url E <args>` and parses JSON output when there is any. */
export async function awsCli(endpoint: string, credentials: Credentials, args: string[], region = 'us-east-1'): Promise<CliResult> {
  try {
    const { stdout, stderr } = await run('aws', ['--endpoint-url', endpoint, '--output', 'json', ...args], { env: awsEnv(credentials, region) });
    return { code: 0, stdout, stderr, json: stdout.trim() ? JSON.parse(stdout) : undefined };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? 1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

/** Runs a python3 snippet with boto3; `endpoint` and `ec2` (a boto3 client) are predefined. */
export async function boto3(endpoint: string, credentials: Credentials, script: string, region = 'us-east-1'): Promise<CliResult> {
  const prelude = [
    'import boto3, botocore, json, os, sys',
    'from botocore.config import Config',
    'endpoint = os.environ["AMIFORGE_ENDPOINT"]',
    'ec2 = boto3.client("ec2", endpoint_url=endpoint, config=Config(retries={"max_attempts": 1}))',
  ].join('\n');
  try {
    const { stdout, stderr } = await run('python3', ['-c', `${prelude}\n${script}`], { env: { ...awsEnv(credentials, region), AMIFORGE_ENDPOINT: endpoint } });
    return { code: 0, stdout, stderr, json: stdout.trim() ? JSON.parse(stdout) : undefined };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? 1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

/** Runs the command, which must succeed; returns its result (output and parsed JSON). */
export async function cliSucceeds(result: Promise<CliResult>): Promise<CliResult> {
  const r = await result;
  assert.equal(r.code, 0, `exited ${r.code}: ${r.stderr}`);
  return r;
}

/** Runs the command, which must succeed; returns its parsed JSON output. */
export async function cliOk(result: Promise<CliResult>): Promise<any> {
  return (await cliSucceeds(result)).json;
}

/**
 * The command must fail with `code`, reported the way the aws CLI and boto3 report a service
 * error: `An error occurred (Code) when calling the Op operation: message`. Returns the message.
 */
export async function cliFails(result: Promise<CliResult>, code: string, operation: string): Promise<string> {
  const r = await result;
  assert.notEqual(r.code, 0, `expected ${code}, but it succeeded: ${r.stdout}`);
  const prefix = `An error occurred (${code}) when calling the ${operation} operation: `;
  assert.ok(r.stderr.includes(prefix), `stderr should contain "${prefix}", got: ${r.stderr}`);
  return r.stderr.slice(r.stderr.indexOf(prefix) + prefix.length).trim();
}
