// The rest-json codec (EBS direct APIs), driven by the generated model: routes a request to its
// operation by method and URI template, binds members from the path, query string, headers and
// body, checks the model's constraints, and renders output and errors as AWS's SDKs expect.
import { ServiceError } from '../../domain/errors.ts';
import type { JsonMemberRef, JsonModel, JsonShape } from './model.ts';
import { checkValue, fromJson, toJson } from './values.ts';

interface Route { operation: string; method: string; pattern: RegExp; params: string[]; fixedQuery: URLSearchParams }

export interface RestRequest { method: string; rawPath: string; rawQuery: string; headers: Record<string, string | string[] | undefined>; body: Buffer }
export interface RestResponse { status: number; headers: Record<string, string>; body: Buffer | string }

/** Makes the protocol's "bad input" error, e.g. EBS's ValidationException. */
export type InvalidInput = (message: string) => ServiceError;

export class RestJsonCodec {
  private readonly model: JsonModel;
  private readonly routes: Route[];
  private readonly invalid: InvalidInput;

  constructor(model: JsonModel, invalid: InvalidInput) {
    this.model = model;
    this.invalid = invalid;
    this.routes = Object.entries(model.operations).map(([operation, op]) => {
      const [path, query = ''] = op.http.requestUri.split('?');
      const params: string[] = [];
      const pattern = new RegExp('^' + path.split('/').map((seg) => {
        const m = /^\{(\w+)\+?\}$/.exec(seg);
        if (!m) return seg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
        params.push(m[1]);
        return '([^/]+)';
      }).join('/') + '$');
      return { operation, method: op.http.method, pattern, params, fixedQuery: new URLSearchParams(query) };
    });
  }

  /** The operation a request addresses, with its URI parameters, or undefined. */
  route(method: string, rawPath: string): { operation: string; uri: Record<string, string> } | undefined {
    for (const r of this.routes) {
      if (r.method !== method) continue;
      const m = r.pattern.exec(rawPath);
      if (!m) continue;
      const uri: Record<string, string> = {};
      try {
        r.params.forEach((p, i) => { uri[p] = decodeURIComponent(m[i + 1]); });
      } catch {
        throw this.invalid(`The request path ${rawPath} is not correctly percent-encoded.`);
      }
      return { operation: r.operation, uri };
    }
    return undefined;
  }

  private shape(name: string): JsonShape {
    return this.model.shapes[name];
  }

  /** Binds the operation's input members from every part of the request. */
  parseInput(operation: string, uri: Record<string, string>, req: RestRequest): Record<string, unknown> {
    const inputName = this.model.operations[operation].input;
    if (!inputName) return {};
    const input = this.shape(inputName);
    const query = new URLSearchParams(req.rawQuery);
    const out: Record<string, unknown> = {};
    let body: Record<string, unknown> | undefined;
    const jsonBody = () => {
      if (body) return body;
      const text = req.body.toString('utf8').trim();
      if (!text) return (body = {});
      try {
        const parsed = JSON.parse(text);
        if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not an object');
        return (body = parsed as Record<string, unknown>);
      } catch {
        throw this.invalid('The request body is not a JSON object.');
      }
    };
    for (const [name, ref] of Object.entries(input.members ?? {})) {
      const raw = this.rawMember(name, ref, input, uri, query, req, jsonBody);
      if (raw === undefined) continue;
      out[name] = ref.location || name === input.payload
        ? this.fromText(ref, raw, name)
        : fromJson(this.model, ref.shape, raw, name, this.invalid);
    }
    for (const req of input.required ?? []) {
      if (out[req] === undefined) throw this.invalid(`Missing required parameter ${req}.`);
    }
    for (const [name, ref] of Object.entries(input.members ?? {})) {
      if (out[name] !== undefined) checkValue(this.model, ref.shape, out[name], name, this.invalid);
    }
    return out;
  }

  private rawMember(
    name: string, ref: JsonMemberRef, input: JsonShape, uri: Record<string, string>, query: URLSearchParams,
    req: RestRequest, jsonBody: () => Record<string, unknown>,
  ): unknown {
    const wire = ref.locationName ?? name;
    switch (ref.location) {
      case 'uri': return uri[wire];
      case 'querystring': {
        // A list member repeats its key (UntagResource's tagKeys=a&tagKeys=b).
        if (this.shape(ref.shape).type === 'list') return query.has(wire) ? query.getAll(wire) : undefined;
        return query.get(wire) ?? undefined;
      }
      case 'header': {
        const v = req.headers[wire.toLowerCase()];
        return Array.isArray(v) ? v.join(',') : v;
      }
      default:
        if (name === input.payload) {
          const s = this.shape(ref.shape);
          return s.type === 'blob' ? req.body : jsonBody();
        }
        return jsonBody()[wire];
    }
  }

  /** Values from the path, query and headers arrive as text; blobs arrive as bytes. */
  private fromText(ref: JsonMemberRef, raw: unknown, name: string): unknown {
    const s = this.shape(ref.shape);
    if (s.type === 'blob') return raw;
    if (s.type === 'structure' || s.type === 'list') return fromJson(this.model, ref.shape, raw, name, this.invalid);
    const text = String(raw);
    switch (s.type) {
      case 'integer':
      case 'long':
        if (!/^-?\d+$/.test(text)) throw this.invalid(`Value '${text}' at '${name}' must be an integer.`);
        return Number(text);
      case 'boolean':
        if (text !== 'true' && text !== 'false') throw this.invalid(`Value '${text}' at '${name}' must be true or false.`);
        return text === 'true';
      case 'timestamp': {
        const d = /^\d+(\.\d+)?$/.test(text) ? new Date(Number(text) * 1000) : new Date(text);
        if (Number.isNaN(d.getTime())) throw this.invalid(`Value '${text}' at '${name}' must be a timestamp.`);
        return d;
      }
      default:
        return text;
    }
  }

  /** Renders the output: header members as headers, a blob payload raw, the rest as JSON. */
  serializeOutput(operation: string, output: Record<string, unknown>): RestResponse {
    const op = this.model.operations[operation];
    const headers: Record<string, string> = {};
    const status = op.http.responseCode ?? 200;
    // 204 No Content carries no body (Recycle Bin's DeleteRule and UntagResource).
    if (status === 204) return { status, headers: { 'content-type': 'application/json' }, body: '' };
    if (!op.output) return { status, headers: { 'content-type': 'application/json' }, body: '{}' };
    const shape = this.shape(op.output);
    const json: Record<string, unknown> = {};
    let payload: Buffer | undefined;
    for (const [name, ref] of Object.entries(shape.members ?? {})) {
      const v = output[name];
      if (v === undefined || v === null) continue;
      if (ref.location === 'header') headers[(ref.locationName ?? name).toLowerCase()] = v instanceof Date ? v.toUTCString() : String(v);
      else if (name === shape.payload && this.shape(ref.shape).type === 'blob') {
        // A view of the bytes, not a copy (a 512 KiB block per GetSnapshotBlock).
        const b = v as Uint8Array;
        payload = Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength);
      }
      else json[ref.locationName ?? name] = toJson(this.model, ref.shape, v);
    }
    if (payload) return { status, headers: { ...headers, 'content-type': 'application/octet-stream' }, body: payload };
    return { status, headers: { ...headers, 'content-type': 'application/json' }, body: JSON.stringify(json) };
  }
}

/** AWS's JSON error envelope: the type in a header and the body, the message and extra members. */
export function serializeJsonError(err: ServiceError, requestId: string): RestResponse {
  return {
    status: err.status,
    headers: { 'content-type': 'application/json', 'x-amzn-errortype': err.code, 'x-amzn-requestid': requestId },
    body: JSON.stringify({ __type: err.code, message: err.message, Message: err.message, ...err.fields }),
  };
}
