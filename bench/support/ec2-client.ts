// A minimal EC2 Query client for benchmarks: form-encoded POSTs over a keep-alive agent, signed
// with SigV4 by @smithy/signature-v4 (the signer the AWS SDK itself uses), response bodies read
// as text and not parsed. It costs the client far less CPU per call than @aws-sdk/client-ec2,
// which matters when client and servers share two cores (see sdkCallCost in bench/api.ts).
import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';
import { Agent, request } from 'node:http';
import { SignatureV4 } from '@smithy/signature-v4';

const EC2_VERSION = '2016-11-15';

type SourceData = string | ArrayBuffer | ArrayBufferView;
const bytes = (d: SourceData): string | Uint8Array =>
  typeof d === 'string' ? d : ArrayBuffer.isView(d) ? new Uint8Array(d.buffer, d.byteOffset, d.byteLength) : new Uint8Array(d);

/** SHA-256 (or HMAC-SHA-256 with a secret) in the Checksum shape the smithy signer expects. */
class Sha256 {
  private readonly h: Hash | Hmac;
  constructor(secret?: SourceData) {
    this.h = secret === undefined ? createHash('sha256') : createHmac('sha256', bytes(secret));
  }
  update(data: SourceData): void {
    this.h.update(bytes(data));
  }
  async digest(): Promise<Uint8Array> {
    return this.h.digest();
  }
  reset(): void {
    throw new Error('not used by the signer');
  }
}

export interface CallResult {
  status: number;
  body: string;
  /** Wall-clock milliseconds from signing to the last byte of the response. */
  ms: number;
}

export interface Ec2ClientOptions {
  endpoint: string;
  accessKeyId?: string;
  secretAccessKey?: string;
  region?: string;
  /** Sockets kept open to the server; the most requests in flight at once. */
  maxSockets?: number;
}

export class BenchEc2Client {
  private readonly url: URL;
  private readonly agent: Agent;
  private readonly signers = new Map<string, SignatureV4>();
  private readonly o: Ec2ClientOptions;

  constructor(o: Ec2ClientOptions) {
    this.o = o;
    this.url = new URL(o.endpoint);
    if (this.url.hostname !== '127.0.0.1' && this.url.hostname !== 'localhost') {
      throw new Error(`benchmarks only talk to loopback servers, not ${this.url.hostname}`);
    }
    this.agent = new Agent({ keepAlive: true, maxSockets: o.maxSockets ?? 32 });
  }

  private signer(service: string): SignatureV4 {
    let signer = this.signers.get(service);
    if (!signer) {
      signer = new SignatureV4({
        service,
        region: this.o.region ?? 'us-east-1',
        credentials: { accessKeyId: this.o.accessKeyId ?? '123456789012', secretAccessKey: this.o.secretAccessKey ?? 'bench-secret' },
        sha256: Sha256,
      });
      this.signers.set(service, signer);
    }
    return signer;
  }

  private async signRequest(service: string, method: string, path: string, headers: Record<string, string>, body: string): Promise<Record<string, string>> {
    const signed = await this.signer(service).sign({
      method, protocol: 'http:', hostname: this.url.hostname, port: Number(this.url.port), path, query: {},
      headers: { host: this.url.host, 'content-length': String(Buffer.byteLength(body)), ...headers },
      body,
    });
    return signed.headers;
  }

  /** The signed request for `action`: its headers and form body. */
  async sign(action: string, params: Record<string, string | number>): Promise<{ headers: Record<string, string>; body: string }> {
    const form = new URLSearchParams({ Action: action, Version: EC2_VERSION });
    for (const [k, v] of Object.entries(params)) form.append(k, String(v));
    const body = form.toString();
    const headers = await this.signRequest('ec2', 'POST', '/', { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' }, body);
    return { headers, body };
  }

  /** Calls `action` with Query parameters such as `{ 'Owner.1': 'self' }`. */
  async call(action: string, params: Record<string, string | number>): Promise<CallResult> {
    const started = performance.now();
    const { headers, body } = await this.sign(action, params);
    return this.send('POST', '/', headers, body, started);
  }

  /** A signed REST request to another service on the same endpoint, e.g. the EBS direct API's JSON. */
  async rest(service: string, method: string, path: string, headers: Record<string, string>, body = ''): Promise<CallResult> {
    const started = performance.now();
    return this.send(method, path, await this.signRequest(service, method, path, headers, body), body, started);
  }

  private send(method: string, path: string, headers: Record<string, string>, body: string, started: number): Promise<CallResult> {
    return new Promise((resolve, reject) => {
      const req = request({ agent: this.agent, host: this.url.hostname, port: this.url.port, method, path, headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({
          status: res.statusCode ?? 0,
          body: Buffer.concat(chunks).toString('utf8'),
          ms: performance.now() - started,
        }));
        res.on('error', reject);
      });
      req.setTimeout(120_000, () => req.destroy(new Error(`${method} ${path}: no response in 120 s`)));
      req.on('error', reject);
      req.end(body);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}
