// Parses an EC2 Query request (form fields such as `ImageId.1`, `Filter.1.Value.2`,
// `BlockDeviceMapping.1.Ebs.VolumeSize`) into the operation's input object, guided by the
// generated shape table. Every malformed value becomes an AWS-shaped client error.
import { Errors } from '../../domain/errors.ts';
import { ec2Model, type MemberRef, type Shape } from './model.ts';

/** A node of the dotted-name tree: `Filter.1.Name` lives at root → Filter → 1 → Name. */
interface Node { value?: string; children: Map<string, Node> }

const newNode = (): Node => ({ children: new Map() });

/** Fields that belong to the envelope or the signature, not to the operation's input. */
const ENVELOPE = /^(Action|Version|X-Amz-.*|AWSAccessKeyId|Signature|SignatureMethod|SignatureVersion|Timestamp|Expires|SecurityToken)$/;

function buildTree(fields: Iterable<[string, string]>): Node {
  const root = newNode();
  for (const [name, value] of fields) {
    if (ENVELOPE.test(name)) continue;
    let node = root;
    for (const part of name.split('.')) {
      let child = node.children.get(part);
      if (!child) node.children.set(part, (child = newNode()));
      node = child;
    }
    node.value = value;
  }
  return root;
}

/** EC2's serialized name for a member: queryName, else capitalized locationName, else its name. */
export function querySerializedName(memberName: string, ref: MemberRef): string {
  if (ref.queryName) return ref.queryName;
  if (ref.locationName) return ref.locationName[0].toUpperCase() + ref.locationName.slice(1);
  return memberName;
}

function shapeOf(name: string): Shape {
  const shape = ec2Model.shapes[name];
  if (!shape) throw new Error(`shape ${name} missing from the generated table`);
  return shape;
}

function parseScalar(shape: Shape, raw: string, path: string): unknown {
  const invalid = () => Errors.invalidParameterValue(`Value (${raw}) for parameter ${path} is invalid.`);
  switch (shape.type) {
    case 'string':
      if (shape.enum && !shape.enum.includes(raw)) {
        throw Errors.invalidParameterValue(
          `Value (${raw}) for parameter ${path} is invalid. Valid values: ${shape.enum.join(', ')}`);
      }
      return raw;
    case 'integer':
    case 'long': {
      if (!/^-?\d+$/.test(raw.trim())) throw invalid();
      const n = Number(raw);
      if (!Number.isSafeInteger(n)) throw invalid();
      // The model's integer is 32-bit: a larger value is AWS's InvalidParameterValue, not a
      // number the domain should ever see.
      if (shape.type === 'integer' && (n < -2147483648 || n > 2147483647)) throw invalid();
      return n;
    }
    case 'float':
    case 'double': {
      const n = Number(raw);
      if (raw.trim() === '' || !Number.isFinite(n)) throw invalid();
      return n;
    }
    case 'boolean': {
      const v = raw.toLowerCase();
      if (v === 'true') return true;
      if (v === 'false') return false;
      throw invalid();
    }
    case 'timestamp': {
      const d = /^\d+(\.\d+)?$/.test(raw) ? new Date(Number(raw) * 1000) : new Date(raw);
      if (Number.isNaN(d.getTime())) throw invalid();
      return d;
    }
    case 'blob':
      return Buffer.from(raw, 'base64');
    default:
      throw invalid();
  }
}

function parseValue(shapeName: string, node: Node, path: string): unknown {
  const shape = shapeOf(shapeName);
  switch (shape.type) {
    case 'structure':
      if (node.value !== undefined) throw Errors.invalidParameterValue(`Parameter ${path} must be a structure.`);
      return parseStructure(shape, node, path);
    case 'list':
      return parseList(shape, node, path);
    case 'map':
      return parseMap(shape, node, path);
    default:
      if (node.value === undefined) {
        throw Errors.invalidParameterValue(`Parameter ${path} must be a single value.`);
      }
      return parseScalar(shape, node.value, path);
  }
}

/** Lists are flattened in EC2 Query: `Name.1`, `Name.2`, ... in any order, 1-based. */
function parseList(shape: Shape, node: Node, path: string): unknown[] {
  const entries: [number, Node][] = [];
  for (const [key, child] of node.children) {
    if (!/^[1-9]\d{0,5}$/.test(key)) throw Errors.unknownParameter(`${path}.${key}`);
    entries.push([Number(key), child]);
  }
  if (node.value !== undefined && node.children.size === 0) {
    // `ImageId=ami-1` without an index: accepted by AWS as a one-element list.
    entries.push([1, { value: node.value, children: new Map() }]);
  }
  entries.sort((a, b) => a[0] - b[0]);
  return entries.map(([i, child]) => parseValue(shape.member!.shape, child, `${path}.${i}`));
}

/** Maps: `Name.N.Key` / `Name.N.Value` (EC2 has few, but the model allows them). */
function parseMap(shape: Shape, node: Node, path: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [i, entry] of node.children) {
    const k = entry.children.get(shape.key?.locationName ?? 'Key')?.value;
    const v = entry.children.get(shape.value?.locationName ?? 'Value');
    if (k === undefined || v === undefined) throw Errors.invalidParameterValue(`Incomplete map entry ${path}.${i}`);
    out[k] = parseValue(shape.value!.shape, v, `${path}.${i}.Value`);
  }
  return out;
}

function parseStructure(shape: Shape, node: Node, path: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const consumed = new Set<string>();
  for (const [memberName, ref] of Object.entries(shape.members ?? {})) {
    const wire = querySerializedName(memberName, ref);
    // Clients differ on the case of a capitalized locationName's first letter (`DryRun`,
    // `dryRun`); accept both. The member's own name is not a wire name where it differs
    // (`Filters.1.Name`, `ImageIds.1`): AWS rejects those as UnknownParameter, and so must we,
    // or code tested here would fail against AWS.
    const lower = !ref.queryName && ref.locationName ? ref.locationName : undefined;
    const key = node.children.has(wire) ? wire : lower !== undefined && node.children.has(lower) ? lower : undefined;
    if (key === undefined) continue;
    consumed.add(key);
    out[memberName] = parseValue(ref.shape, node.children.get(key)!, path ? `${path}.${wire}` : wire);
  }
  for (const key of node.children.keys()) {
    if (!consumed.has(key)) throw Errors.unknownParameter(path ? `${path}.${key}` : key);
  }
  for (const req of shape.required ?? []) {
    if (out[req] === undefined) {
      const ref = shape.members![req];
      const wire = querySerializedName(req, ref);
      throw Errors.missingParameter(path ? `${path}.${wire}` : wire);
    }
  }
  return out;
}

/** Turns the request's form fields into the input object of `inputShape`. */
export function parseQueryInput(inputShape: string | null, fields: Iterable<[string, string]>): Record<string, unknown> {
  const tree = buildTree(fields);
  if (!inputShape) return {};
  return parseStructure(shapeOf(inputShape), tree, '');
}
