// JSON values of the JSON protocols: timestamps are epoch seconds, blobs base64; constraints
// (min/max, enum, pattern, lengths) are checked against the model.
import type { ServiceError } from '../../domain/errors.ts';
import type { JsonModel } from './model.ts';

type Invalid = (message: string) => ServiceError;

export function fromJson(model: JsonModel, shapeName: string, raw: unknown, path: string, invalid: Invalid): unknown {
  const s = model.shapes[shapeName];
  const wrong = (what: string) => invalid(`Value at '${path}' must be ${what}.`);
  switch (s.type) {
    case 'structure': {
      if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw wrong('an object');
      const out: Record<string, unknown> = {};
      for (const [name, ref] of Object.entries(s.members ?? {})) {
        const v = (raw as Record<string, unknown>)[ref.locationName ?? name];
        if (v !== undefined && v !== null) out[name] = fromJson(model, ref.shape, v, `${path}.${name}`, invalid);
      }
      for (const r of s.required ?? []) if (out[r] === undefined) throw invalid(`Missing required parameter ${path}.${r}.`);
      return out;
    }
    case 'list':
      if (!Array.isArray(raw)) throw wrong('a list');
      return raw.map((v, i) => fromJson(model, s.member!.shape, v, `${path}.${i}`, invalid));
    case 'map': {
      if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw wrong('a map');
      return Object.fromEntries(Object.entries(raw).map(([k, v]) => [k, fromJson(model, s.value!.shape, v, `${path}.${k}`, invalid)]));
    }
    case 'string':
      if (typeof raw !== 'string') throw wrong('a string');
      return raw;
    case 'boolean':
      if (typeof raw !== 'boolean') throw wrong('a boolean');
      return raw;
    case 'integer':
    case 'long':
      if (typeof raw !== 'number' || !Number.isSafeInteger(raw)) throw wrong('an integer');
      return raw;
    case 'float':
    case 'double':
      if (typeof raw !== 'number' || !Number.isFinite(raw)) throw wrong('a number');
      return raw;
    case 'timestamp':
      if (typeof raw === 'number') return new Date(raw * 1000);
      if (typeof raw === 'string' && !Number.isNaN(Date.parse(raw))) return new Date(raw);
      throw wrong('a timestamp');
    case 'blob':
      if (typeof raw !== 'string') throw wrong('base64 text');
      return Buffer.from(raw, 'base64');
  }
}

export function toJson(model: JsonModel, shapeName: string, v: unknown): unknown {
  const s = model.shapes[shapeName];
  switch (s.type) {
    case 'structure': {
      const out: Record<string, unknown> = {};
      for (const [name, ref] of Object.entries(s.members ?? {})) {
        const x = (v as Record<string, unknown>)[name];
        if (x !== undefined && x !== null) out[ref.locationName ?? name] = toJson(model, ref.shape, x);
      }
      return out;
    }
    case 'list':
      return (v as unknown[]).map((x) => toJson(model, s.member!.shape, x));
    case 'map':
      return Object.fromEntries(Object.entries(v as Record<string, unknown>).map(([k, x]) => [k, toJson(model, s.value!.shape, x)]));
    case 'timestamp':
      return (v instanceof Date ? v : new Date(String(v))).getTime() / 1000;
    case 'blob':
      return Buffer.from(v as Uint8Array).toString('base64');
    default:
      return v;
  }
}

/** Checks the model's constraints on a bound value (recursively for structures and lists). */
export function checkValue(model: JsonModel, shapeName: string, v: unknown, path: string, invalid: Invalid): void {
  const s = model.shapes[shapeName];
  if (s.type === 'structure') {
    for (const [name, ref] of Object.entries(s.members ?? {})) {
      const x = (v as Record<string, unknown>)[name];
      if (x !== undefined) checkValue(model, ref.shape, x, `${path}.${name}`, invalid);
    }
    return;
  }
  if (s.type === 'list') {
    const list = v as unknown[];
    if (s.min !== undefined && list.length < s.min) throw invalid(`'${path}' must have at least ${s.min} items.`);
    if (s.max !== undefined && list.length > s.max) throw invalid(`'${path}' must have at most ${s.max} items.`);
    list.forEach((x, i) => checkValue(model, s.member!.shape, x, `${path}.${i}`, invalid));
    return;
  }
  if (v instanceof Uint8Array) {
    if (s.min !== undefined && v.length < s.min) throw invalid(`Value at '${path}' must have length at least ${s.min}.`);
    if (s.max !== undefined && v.length > s.max) throw invalid(`Value at '${path}' must have length at most ${s.max}.`);
    return;
  }
  if (typeof v === 'number') {
    if (s.min !== undefined && v < s.min) throw invalid(`Value '${v}' at '${path}' must be greater than or equal to ${s.min}.`);
    if (s.max !== undefined && v > s.max) throw invalid(`Value '${v}' at '${path}' must be less than or equal to ${s.max}.`);
  }
  if (typeof v === 'string') {
    if (s.enum && !s.enum.includes(v)) throw invalid(`Value '${v}' at '${path}' must be one of: ${s.enum.join(', ')}.`);
    if (s.min !== undefined && v.length < s.min) throw invalid(`Value at '${path}' must have length at least ${s.min}.`);
    if (s.max !== undefined && v.length > s.max) throw invalid(`Value at '${path}' must have length at most ${s.max}.`);
    if (s.pattern && !new RegExp(s.pattern, 'u').test(v)) throw invalid(`Value '${v}' at '${path}' must match the pattern ${s.pattern}.`);
  }
}
