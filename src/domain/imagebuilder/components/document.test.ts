// The component document checker: good documents pass (with their parameters read), and each kind
// of mistake answers InvalidParameterValueException saying where and what.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ServiceError } from '../../errors.ts';
import { componentParameters, parseComponentDocument, validateComponentDocument } from './document.ts';

const GOOD = `
name: HelloWorld
description: Says hello, then checks it did.
schemaVersion: 1.0
parameters:
  - Greeting:
      type: string
      default: hello
      description: What to say.
  - Target:
      type: string
constants:
  - Folder:
      type: string
      value: /opt/hello
phases:
  - name: build
    steps:
      - name: MakeFolder
        action: CreateFolder
        inputs:
          - path: '{{ Folder }}'
            permissions: 755
      - name: Say
        action: ExecuteBash
        onFailure: Continue
        timeoutSeconds: 60
        maxAttempts: 3
        inputs:
          commands:
            - echo '{{ Greeting }} {{ Target }}'
      - name: Write
        action: CreateFile
        inputs:
          - path: '{{ Folder }}/said.txt'
            content: '{{ build.Say.outputs.stdout }}'
            owner: root
            overwrite: false
      - name: Each
        action: ExecuteBash
        loop:
          name: files
          forEach:
            - a
            - b
        inputs:
          commands:
            - echo "{{ files.index }} {{ loop.value }}"
      - name: Count
        action: ExecuteBash
        loop:
          for: { start: 1, end: 9, updateBy: 2 }
        inputs:
          commands: ['echo {{ loop.value }}']
      - name: Split
        action: ExecuteBinary
        loop:
          forEach: { list: 'x;y', delimiter: ';' }
        inputs:
          path: /bin/echo
          arguments: ['{{ loop.value }}']
      - name: Again
        action: Reboot
      - name: OnlySometimes
        action: DeleteFile
        if:
          and:
            - stringEquals: hello
              value: '{{ Greeting }}'
            - not: { fileExists: /etc/skip }
        inputs:
          - path: /tmp/*.log
  - name: validate
    steps:
      - name: Check
        action: Assert
        inputs:
          stringEquals: 'hello world'
          value: '{{ build.Say.outputs.stdout }}'
  - name: test
    steps:
      - name: Moves
        action: MoveFile
        inputs:
          - source: /tmp/a*
            destination: /tmp/b/
      - name: Copies
        action: CopyFile
        inputs:
          - source: /tmp/a
            destination: /tmp/c
      - name: Appends
        action: AppendFile
        inputs:
          - path: /tmp/c
            content: more
            encoding: UTF-16-LE
      - name: Perms
        action: SetFilePermissions
        inputs:
          - path: /tmp/c
            permissions: u+x,go-w
`;

function rejects(data: string, message: RegExp): void {
  assert.throws(() => validateComponentDocument(data), (err: unknown) => {
    assert.ok(err instanceof ServiceError, String(err));
    assert.equal(err.code, 'InvalidParameterValueException');
    assert.equal(err.status, 400);
    assert.match(err.message, /^The value supplied for parameter 'data' is not a valid component document: /);
    assert.match(err.message, message);
    return true;
  });
}

/** A one-step build document with the step's body replaced. */
const step = (body: string, extra = '') => `schemaVersion: 1.0\n${extra}phases:\n  - name: build\n    steps:\n      - name: S\n${body.replace(/^/gm, '        ')}\n`;

test('a document using every supported action, loops, if, parameters, constants and chaining passes', () => {
  const doc = parseComponentDocument(GOOD);
  assert.equal(doc.name, 'HelloWorld');
  assert.deepEqual(doc.phases.map((p) => p.name), ['build', 'validate', 'test']);
  const say = doc.phases[0].steps[1];
  assert.deepEqual([say.onFailure, say.timeoutSeconds, say.maxAttempts], ['Continue', 60, 3]);
  const defaults = doc.phases[0].steps[0];
  assert.deepEqual([defaults.onFailure, defaults.timeoutSeconds, defaults.maxAttempts], ['Abort', 7200, 1]);
  assert.deepEqual(doc.phases[0].steps[4].loop, { name: undefined, kind: 'for', start: 1, end: 9, updateBy: 2 });
  assert.deepEqual(componentParameters(doc), [
    { name: 'Greeting', type: 'string', defaultValue: ['hello'], description: 'What to say.' },
    { name: 'Target', type: 'string' },
  ]);
});

test('schemaVersion may be quoted or not; name and description are optional', () => {
  validateComponentDocument(step(`action: ExecuteBash\ninputs:\n  commands: [ls]`).replace('1.0', '"1.0"'));
  rejects(step(`action: ExecuteBash\ninputs:\n  commands: [ls]`).replace('1.0', '2.0'), /schemaVersion must be 1.0/);
  rejects('phases: []', /schemaVersion must be 1.0/);
});

test('malformed YAML, a non-mapping and unknown keys are refused', () => {
  rejects('schemaVersion: 1.0\nphases: [\n', /malformed YAML/);
  rejects('schemaVersion: 1.0\nschemaVersion: 1.0\nphases: []', /malformed YAML/);
  rejects('- just\n- a list', /must be a YAML mapping/);
  rejects('schemaVersion: 1.0\nsteps: []\nphases: []', /document: unknown key 'steps'/);
  rejects(step(`action: ExecuteBash\nretries: 2\ninputs:\n  commands: [ls]`), /phase 'build', step 'S': unknown key 'retries'/);
});

test('phases: build, validate and test only, each once, with steps', () => {
  rejects('schemaVersion: 1.0\nphases: []', /phases must be a non-empty list/);
  rejects(step(`action: ExecuteBash\ninputs:\n  commands: [ls]`).replace('name: build', 'name: container-host-test'), /phase name "container-host-test" is not one of build, validate, test/);
  rejects('schemaVersion: 1.0\nphases:\n  - name: build\n    steps: []', /phase 'build': steps must be a non-empty list/);
  const twice = step(`action: ExecuteBash\ninputs:\n  commands: [ls]`);
  rejects(twice + twice.slice(twice.indexOf('  - name: build')), /the phase 'build' is defined more than once/);
});

test('steps: names unique and well formed, an action, inputs, and sane onFailure, timeoutSeconds, maxAttempts', () => {
  const two = `schemaVersion: 1.0\nphases:\n  - name: build\n    steps:\n      - name: A\n        action: Reboot\n      - name: A\n        action: Reboot\n`;
  rejects(two, /phase 'build': the step name 'A' is used more than once/);
  rejects(step(`action: Reboot`).replace('name: S', 'name: "has space"'), /phase 'build', step 1: the step name must be/);
  rejects(step(`inputs: {}`), /step 'S': the step needs an action/);
  rejects(step(`action: ExecuteBash`), /step 'S': the step needs inputs/);
  rejects(step(`action: Reboot\nonFailure: Retry`), /onFailure must be Abort, Continue or Ignore \(found "Retry"\)/);
  rejects(step(`action: Reboot\ntimeoutSeconds: 0`), /timeoutSeconds must be a positive whole number or -1/);
  rejects(step(`action: Reboot\ntimeoutSeconds: -5`), /timeoutSeconds must be a positive whole number or -1/);
  validateComponentDocument(step(`action: ExecuteBash\ntimeoutSeconds: -1\ninputs:\n  commands: [ls]`));
  rejects(step(`action: Reboot\nmaxAttempts: 0`), /maxAttempts must be a whole number of at least 1/);
});

test('actions amiforge does not run are named, with the reason', () => {
  rejects(step(`action: S3Download\ninputs:\n  - source: s3://b/k\n    destination: /tmp/k`), /step 'S': the action S3Download is not supported by amiforge: it has no network/);
  rejects(step(`action: WebDownload\ninputs: []`), /the action WebDownload is not supported by amiforge: it has no network/);
  rejects(step(`action: UpdateOS`), /the action UpdateOS is not supported by amiforge: it has no network/);
  rejects(step(`action: ExecutePowerShell\ninputs:\n  commands: [dir]`), /the action ExecutePowerShell is not supported by amiforge: it builds Linux images only/);
  rejects(step(`action: CopyFolder\ninputs: []`), /the action CopyFolder is not supported by amiforge/);
  rejects(step(`action: RunMagic\ninputs: {}`), /step 'S': unknown action 'RunMagic' \(amiforge supports ExecuteBash, /);
});

test('each action checks its inputs', () => {
  rejects(step(`action: ExecuteBash\ninputs:\n  commands: []`), /ExecuteBash: input 'commands' must be a non-empty list/);
  rejects(step(`action: ExecuteBash\ninputs:\n  command: [ls]`), /ExecuteBash: unknown input 'command'/);
  rejects(step(`action: ExecuteBash\ninputs:\n  commands: [{a: 1}]`), /ExecuteBash: commands\[0\] must be a string/);
  rejects(step(`action: ExecuteBinary\ninputs:\n  arguments: [x]`), /ExecuteBinary: input 'path' is required/);
  rejects(step(`action: ExecuteBinary\ninputs:\n  path: /bin/ls\n  arguments: x`), /ExecuteBinary: input 'arguments' must be a list of strings/);
  rejects(step(`action: CreateFile\ninputs:\n  - content: x`), /CreateFile: input 'path' is required/);
  rejects(step(`action: CreateFile\ninputs:\n  - path: /a\n    permissions: rwx`), /CreateFile: input 'permissions' is not a file mode: rwx/);
  rejects(step(`action: CreateFile\ninputs:\n  - path: /a\n    encoding: latin1`), /CreateFile: input 'encoding' is not one AWSTOE accepts: latin1/);
  rejects(step(`action: CreateFile\ninputs:\n  - path: /a\n    overwrite: maybe`), /CreateFile: input 'overwrite' must be true or false/);
  rejects(step(`action: CreateFile\ninputs: []`), /CreateFile: inputs must not be empty/);
  rejects(step(`action: CreateFile\ninputs:\n  - /a`), /CreateFile: inputs\[0\] must be a mapping/);
  rejects(step(`action: MoveFile\ninputs:\n  - source: /a/*.log\n    destination: /b`), /MoveFile: the destination must end with '\/' when the source has a wildcard/);
  rejects(step(`action: CopyFile\ninputs:\n  - source: /a`), /CopyFile: input 'destination' is required/);
  rejects(step(`action: SetFilePermissions\ninputs:\n  - path: /a`), /SetFilePermissions: input 'permissions' is required/);
  rejects(step(`action: Reboot\ninputs:\n  delaySeconds: soon`), /Reboot: input 'delaySeconds' must be a whole number of seconds/);
  rejects(step(`action: Assert\ninputs:\n  stringEquals: a`), /Assert: 'stringEquals' needs a value to compare/);
  rejects(step(`action: Assert\ninputs:\n  stringEquals: a\n  numberEquals: 1\n  value: a`), /Assert: a condition must have exactly one operator, found stringEquals, numberEquals/);
  rejects(step(`action: Assert\ninputs:\n  fileSHA256Equals: abc\n  value: /a`), /Assert: the operator fileSHA256Equals is not supported by amiforge/);
  rejects(step(`action: Assert\ninputs:\n  stringMatches: a\n  value: a`), /Assert: unknown operator 'stringMatches'/);
  rejects(step(`action: Assert\ninputs:\n  and: []`), /Assert: 'and' takes a non-empty list of conditions/);
  rejects(step(`action: Assert\ninputs:\n  patternMatches: '(['\n  value: a`), /Assert: 'patternMatches' has an invalid pattern/);
  rejects(step(`action: Reboot\nif:\n  stringIsEmpty: ''\n  value: x`), /step 'S': if: 'stringIsEmpty' takes no value/);
});

test('loops must be well formed and end', () => {
  const body = (loop: string) => step(`action: ExecuteBash\nloop:\n${loop.replace(/^/gm, '  ')}\ninputs:\n  commands: ['echo {{ loop.value }}']`);
  rejects(body('for: { start: 1, end: 5, updateBy: 0 }'), /loop.for updateBy must not be 0/);
  rejects(body('for: { start: 1, end: 5, updateBy: -1 }'), /loop.for from 1 to 5 by -1 would never end/);
  rejects(body('for: { start: 1, end: 5 }'), /loop.for needs whole numbers start, end and updateBy/);
  rejects(body('for: { start: 0, end: 100000, updateBy: 1 }'), /loop.for runs more than 10000 iterations/);
  rejects(body('forEach: []'), /loop.forEach must not be empty/);
  rejects(body('forEach: { list: a|b, delimiter: "|" }'), /loop.forEach.delimiter must be one of/);
  rejects(body('forEach: [a]\nfor: { start: 1, end: 2, updateBy: 1 }'), /loop needs exactly one of for and forEach/);
  rejects(body('name: loop\nforEach: [a]'), /a loop cannot be named 'loop'/);
  const twoLoops = `schemaVersion: 1.0\nphases:\n  - name: build\n    steps:\n${['A', 'B'].map((n) => `      - name: ${n}\n        action: ExecuteBash\n        loop: { name: l1, forEach: [a] }\n        inputs: { commands: [ls] }\n`).join('')}`;
  rejects(twoLoops, /step 'B': the loop name 'l1' is already used in this phase/);
});

test('variables must be defined; chaining must point at an earlier step the phase can see', () => {
  rejects(step(`action: ExecuteBash\ninputs:\n  commands: ['echo {{ Missing }}']`), /step 'S': \{\{ Missing \}\} is not a parameter or constant of this document/);
  rejects(step(`action: ExecuteBash\ninputs:\n  commands: ['echo {{ build.Nope.outputs.stdout }}']`), /refers to the step build.Nope, which is not in this document/);
  rejects(step(`action: ExecuteBash\ninputs:\n  commands: ['echo {{ build.S.outputs.stdout }}']`), /refers to the step build.S, which runs later/);
  const crossStage = `schemaVersion: 1.0\nphases:\n  - name: build\n    steps:\n      - name: A\n        action: ExecuteBash\n        inputs: { commands: [ls] }\n  - name: test\n    steps:\n      - name: B\n        action: ExecuteBash\n        inputs: { commands: ['echo {{ build.A.outputs.stdout }}'] }\n`;
  rejects(crossStage, /phase 'test', step 'B': \{\{ build.A.outputs.stdout \}\}: the test phase cannot use the outputs of the build phase/);
  // Loop expressions outside a loop, and other text in braces, are left as they are.
  validateComponentDocument(step(`action: ExecuteBash\ninputs:\n  commands: ['echo {{ loop.value }} {{ some thing }}']`));
});

test('parameters and constants: named sensibly, typed string, defined once', () => {
  rejects(step(`action: Reboot`, `parameters:\n  - ab:\n      type: string\n`), /parameters\[0\]: the name 'ab' must be 3 to 128 letters/);
  rejects(step(`action: Reboot`, `parameters:\n  - Count:\n      type: integer\n`), /parameters 'Count' must have type string/);
  rejects(step(`action: Reboot`, `parameters:\n  - Count:\n      type: string\n      required: true\n`), /parameter 'Count' has an unknown key 'required'/);
  rejects(step(`action: Reboot`, `parameters:\n  - Name1:\n      type: string\nconstants:\n  - Name1:\n      type: string\n      value: x\n`), /the name 'Name1' is defined more than once/);
  rejects(step(`action: Reboot`, `constants:\n  - Name1:\n      type: string\n`), /constant 'Name1' needs a string value/);
  rejects(step(`action: Reboot`, `parameters: nope\n`), /parameters must be a list/);
});
