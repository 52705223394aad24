// Typed access to the generated EC2 wire table (model.generated.json).
import { readFileSync } from 'node:fs';

export interface MemberRef { shape: string; locationName?: string; queryName?: string }
export interface Shape {
  type: 'structure' | 'list' | 'map' | 'string' | 'integer' | 'long' | 'float' | 'double' | 'boolean' | 'timestamp' | 'blob';
  members?: Record<string, MemberRef>;
  member?: MemberRef;
  key?: MemberRef;
  value?: MemberRef;
  required?: string[];
  enum?: string[];
  min?: number;
  max?: number;
}
export interface Ec2Model {
  metadata: { apiVersion: string; xmlNamespace: string };
  allOperations: string[];
  operations: Record<string, { input: string | null; output: string | null }>;
  shapes: Record<string, Shape>;
}

export const ec2Model: Ec2Model = JSON.parse(
  readFileSync(new URL('./model.generated.json', import.meta.url), 'utf8'),
);

/** The namespace EC2 responses carry; the model omits the trailing slash AWS sends. */
export const EC2_XMLNS = ec2Model.metadata.xmlNamespace.replace(/\/?$/, '/');

export const knownEc2Actions: ReadonlySet<string> = new Set(ec2Model.allOperations);
