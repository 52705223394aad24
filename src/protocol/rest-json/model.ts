// Typed access to a generated JSON-protocol wire table (rest-json or json 1.1).
import { readFileSync } from 'node:fs';

export interface JsonMemberRef { shape: string; location?: 'uri' | 'querystring' | 'header' | 'headers' | 'statusCode'; locationName?: string }
export interface JsonShape {
  type: 'structure' | 'list' | 'map' | 'string' | 'integer' | 'long' | 'float' | 'double' | 'boolean' | 'timestamp' | 'blob';
  members?: Record<string, JsonMemberRef>;
  member?: JsonMemberRef;
  key?: JsonMemberRef;
  value?: JsonMemberRef;
  required?: string[];
  enum?: string[];
  min?: number;
  max?: number;
  pattern?: string;
  payload?: string;
  streaming?: boolean;
  error?: { httpStatusCode?: number; code?: string };
  /** An error shape; `fault` when it is the service's fault (5xx) rather than the caller's. */
  exception?: boolean;
  fault?: boolean;
}
export interface JsonOperation {
  http: { method: string; requestUri: string; responseCode?: number };
  input: string | null;
  output: string | null;
  errors: string[];
}
export interface JsonModel {
  metadata: { apiVersion: string; protocol: string; targetPrefix?: string; jsonVersion?: string };
  operations: Record<string, JsonOperation>;
  shapes: Record<string, JsonShape>;
}

export function loadJsonModel(url: URL): JsonModel {
  return JSON.parse(readFileSync(url, 'utf8'));
}
