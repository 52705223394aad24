// The AWS JSON 1.1 protocol (KMS), driven by the generated model: every request is a POST whose
// `X-Amz-Target: <prefix>.<Operation>` names the operation and whose body is the input structure
// as JSON. Values are bound and checked by the same code as rest-json's (../rest-json/values.ts).
import type { ServiceError } from '../../domain/errors.ts';
import type { JsonModel } from '../rest-json/model.ts';
import { serializeJsonError, type RestResponse } from '../rest-json/codec.ts';
import { checkValue, fromJson, toJson } from '../rest-json/values.ts';

export const JSON_11_CONTENT_TYPE = 'application/x-amz-json-1.1';

/** The protocol's errors, made by the service's catalog. */
export interface JsonProtocolErrors {
  /** A member's value breaks the model (type, length, pattern, enum, required). */
  invalid(message: string): ServiceError;
  /** The body is not a JSON object. */
  serialization(message: string): ServiceError;
  /** The target names no operation of this service. */
  unknownOperation(target: string): ServiceError;
}

export class AwsJsonCodec {
  private readonly model: JsonModel;
  private readonly errors: JsonProtocolErrors;
  private readonly prefix: string;

  constructor(model: JsonModel, errors: JsonProtocolErrors) {
    this.model = model;
    this.errors = errors;
    this.prefix = `${model.metadata.targetPrefix}.`;
  }

  /** The operation an `X-Amz-Target` header names. */
  operation(target: string | string[] | undefined): string {
    const t = Array.isArray(target) ? target.join(',') : target ?? '';
    const name = t.startsWith(this.prefix) ? t.slice(this.prefix.length) : '';
    if (!Object.hasOwn(this.model.operations, name)) throw this.errors.unknownOperation(t || '(no X-Amz-Target header)');
    return name;
  }

  /** Binds the operation's input from the JSON body and checks the model's constraints. */
  parseInput(operation: string, body: Buffer): Record<string, unknown> {
    const inputName = this.model.operations[operation].input;
    const text = body.toString('utf8').trim();
    let raw: unknown = {};
    if (text) {
      try {
        raw = JSON.parse(text);
      } catch {
        throw this.errors.serialization('The request body is not valid JSON.');
      }
    }
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw this.errors.serialization('The request body is not a JSON object.');
    if (!inputName) return {};
    const shape = this.model.shapes[inputName];
    const out: Record<string, unknown> = {};
    for (const [name, ref] of Object.entries(shape.members ?? {})) {
      const v = (raw as Record<string, unknown>)[ref.locationName ?? name];
      if (v !== undefined && v !== null) out[name] = fromJson(this.model, ref.shape, v, name, this.errors.invalid);
    }
    for (const name of shape.required ?? []) {
      if (out[name] === undefined) {
        throw this.errors.invalid(`1 validation error detected: Value null at '${name}' failed to satisfy constraint: Member must not be null`);
      }
    }
    for (const [name, ref] of Object.entries(shape.members ?? {})) {
      if (out[name] !== undefined) checkValue(this.model, ref.shape, out[name], name, this.errors.invalid);
    }
    return out;
  }

  serializeOutput(operation: string, output: Record<string, unknown>): RestResponse {
    const outputName = this.model.operations[operation].output;
    const body = outputName ? JSON.stringify(toJson(this.model, outputName, output)) : '{}';
    return { status: 200, headers: { 'content-type': JSON_11_CONTENT_TYPE }, body };
  }
}

/** The JSON protocols' error envelope (`__type`, `message`) with this protocol's content type. */
export function serializeAwsJsonError(err: ServiceError, requestId: string): RestResponse {
  const r = serializeJsonError(err, requestId);
  return { ...r, headers: { ...r.headers, 'content-type': JSON_11_CONTENT_TYPE } };
}
