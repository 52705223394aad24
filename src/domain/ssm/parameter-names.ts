// Parameter names, selectors, labels and ARNs as Systems Manager defines them
// (docs: "Working with parameter hierarchies", "Requirements and constraints for parameter names").
import { Errors } from '../errors.ts';

/** AWS reserves 1037 of the model's 2048 characters for internal use. */
const MAX_NAME = 1011;
const MAX_LEVELS = 15;
const NAME_CHARS = /^[a-zA-Z0-9_.\-/]+$/;

/** A name as PutParameter accepts it: allowed characters, hierarchy rules, reserved prefixes. */
export function checkNewName(name: string): void {
  checkName(name);
  const first = name.startsWith('/') ? name.split('/')[1] : name;
  if (/^(aws|ssm)/i.test(first)) {
    throw Errors.ssmValidation('Parameter name: can\'t be prefixed with "aws" or "ssm" (case-insensitive). '
      + 'If formed as a path, it can consist of sub-paths divided by slash symbol; each sub-path can be formed as a mix of letters, numbers and the following 3 symbols .-_');
  }
}

/** A name any operation accepts (reserved prefixes included: public parameters are read by name). */
export function checkName(name: string): void {
  if (name.length > MAX_NAME) throw Errors.ssmValidation(`Parameter name: must be at most ${MAX_NAME} characters.`);
  if (!NAME_CHARS.test(name)) {
    throw Errors.ssmValidation(`Parameter name: ${JSON.stringify(name)} may contain only letters, numbers and the symbols . - _ /.`);
  }
  if (name.includes('/') && !name.startsWith('/')) throw Errors.ssmValidation('Parameter name must be a fully qualified name.');
  if (name.startsWith('/') && (name.endsWith('/') || name.includes('//'))) {
    throw Errors.ssmValidation('Parameter name: every level of a hierarchy must have a name (no empty level, no trailing slash).');
  }
  if (name.split('/').length - 1 > MAX_LEVELS) throw Errors.ssmHierarchyLevels();
}

/** A path for GetParametersByPath: `/`, or a fully qualified hierarchy with or without the trailing slash. */
export function checkPath(path: string): string {
  if (!path.startsWith('/')) throw Errors.ssmValidation('The parameter path must begin with a forward slash (/).');
  if (path === '/') return path;
  const trimmed = path.endsWith('/') ? path.slice(0, -1) : path;
  checkName(trimmed);
  return `${trimmed}/`;
}

export interface Selector { name: string; version?: number; label?: string; text?: string }

/** `name`, `name:version` or `name:label` (names never contain a colon). */
export function parseSelector(text: string): Selector {
  const at = text.lastIndexOf(':');
  if (at < 0) return { name: text };
  const name = text.slice(0, at);
  const selector = text.slice(at + 1);
  if (!selector) throw Errors.ssmValidation(`Invalid parameter selector: ${text}`);
  if (/^\d+$/.test(selector)) return { name, version: Number(selector), text: `:${selector}` };
  return { name, label: selector, text: `:${selector}` };
}

/** Why a label is refused, or undefined; refused labels are reported in InvalidLabels, not as errors. */
export function labelProblem(label: string): string | undefined {
  if (label.length > 100) return 'longer than 100 characters';
  if (!/^[a-zA-Z0-9_.-]+$/.test(label)) return 'characters other than letters, numbers and . - _';
  if (/^\d/.test(label)) return 'starts with a number';
  if (/^(aws|ssm)/i.test(label)) return 'starts with aws or ssm';
  return undefined;
}

export function parameterArn(region: string, account: string, name: string): string {
  return `arn:aws:ssm:${region}:${account}:parameter${name.startsWith('/') ? '' : '/'}${name}`;
}
