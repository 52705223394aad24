// The terminal's log lines: what pino writes as JSON, read back as one readable line each.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { prettyLogLine } from './log-pretty.ts';
import { createLogger } from './logger.ts';

const json = (o: Record<string, unknown>) => JSON.stringify({ level: 30, time: '2026-12-08T00:39:28.437Z', pid: 1, hostname: 'h', service: 'amiforge', ...o });

test('a request: time, level, service, action, status, latency, account and region', () => {
  const line = prettyLogLine(json({
    requestId: 'r-1', account: '111111111111', region: 'us-east-1', service: 'ec2', action: 'DescribeRegions', status: 200, latencyMs: 17.2, msg: 'request',
  }));
  assert.equal(line, '00:39:28.437Z INFO  ec2 DescribeRegions 200 17 ms 111111111111 us-east-1\n');
});

test("a refused request adds the error's code and message; a short latency keeps a decimal", () => {
  const line = prettyLogLine(json({
    service: 'ec2', action: 'DescribeImages', status: 400, latencyMs: 2.25, account: '111111111111', region: 'us-east-1',
    errorCode: 'InvalidAMIID.NotFound', errorMessage: "The image id '[ami-12345678]' does not exist", msg: 'request',
  }));
  assert.equal(line, "00:39:28.437Z INFO  ec2 DescribeImages 400 2.3 ms 111111111111 us-east-1  InvalidAMIID.NotFound: The image id '[ami-12345678]' does not exist\n");
});

test('an internal failure: ERROR, and the error with its stack under the line', () => {
  const line = prettyLogLine(json({
    level: 50, service: 'kms', action: 'Encrypt', status: 500, latencyMs: 3, errorCode: 'KMSInternalException', msg: 'request failed',
    err: { type: 'TypeError', message: 'x is undefined', stack: 'TypeError: x is undefined\n    at f (a.ts:1:1)' },
  }));
  assert.equal(line, '00:39:28.437Z ERROR kms Encrypt 500 3.0 ms - -  KMSInternalException  TypeError: x is undefined\n    at f (a.ts:1:1)\n');
});

test('other lines: the message, then the remaining fields as key=value', () => {
  assert.equal(prettyLogLine(json({ level: 40, msg: 'host ports not forwarded', instanceId: 'i-1', refused: [{ port: 22 }], why: 'in use by x' })),
    '00:39:28.437Z WARN  host ports not forwarded  instanceId=i-1 refused=[{"port":22}] why="in use by x"\n');
});

test('colour only when asked; a line that is not JSON is passed through', () => {
  assert.match(prettyLogLine(json({ level: 50, msg: 'boom' }), { color: true }), /\x1b\[31mERROR\x1b\[0m boom/);
  assert.equal(prettyLogLine('not json'), 'not json\n');
});

test('createLogger: pretty when asked or on a terminal in auto, JSON otherwise', () => {
  const captured = (isTTY: boolean) => {
    const lines: string[] = [];
    const out = { isTTY, write: (s: string) => { lines.push(s); return true; } } as unknown as NodeJS.WriteStream;
    return { out, lines };
  };
  const tty = captured(true);
  createLogger('info', 'auto', tty.out).info({ action: 'x' }, 'hello');
  assert.match(tty.lines[0], /^\d\d:\d\d:\d\d\.\d{3}Z INFO  hello  action=x\n$/);
  const forced = captured(false);
  createLogger('info', 'pretty', forced.out).warn('careful');
  assert.match(forced.lines[0], /^\S+ WARN  careful\n$/);
  const pipe = captured(false);
  createLogger('info', 'auto', pipe.out).info({ action: 'x' }, 'hello');
  assert.equal(JSON.parse(pipe.lines[0]).msg, 'hello');
  const json = captured(true);
  createLogger('info', 'json', json.out).info('hello');
  assert.equal(JSON.parse(json.lines[0]).msg, 'hello');
});
