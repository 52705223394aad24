// The operator's bearer token (`amiforge serve --operator-token-file FILE`): what Prometheus sends
// from its `authorization.credentials_file`, and any script that cannot sign requests. Read once at
// start-up; surrounding whitespace is dropped, as Prometheus drops it from the same file.
import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';

/** Long enough not to be guessed: `openssl rand -hex 32` gives 64 characters. */
const MIN_LENGTH = 16;
/** What an HTTP header carries unchanged: visible ASCII, no spaces. */
const TOKEN_CHARS = /^[\x21-\x7e]+$/;

export interface OperatorToken {
  /** Whether `candidate` is the token, in time that does not depend on where they differ. */
  matches(candidate: string): boolean;
}

export function loadOperatorToken(file: string): OperatorToken {
  let token: string;
  try {
    token = readFileSync(file, 'utf8').trim();
  } catch (err) {
    throw new Error(`${file}: cannot read the operator token (${(err as Error).message})`);
  }
  if (token.length < MIN_LENGTH || !TOKEN_CHARS.test(token)) {
    throw new Error(`${file}: the operator token must be at least ${MIN_LENGTH} visible ASCII characters without spaces (for example from: openssl rand -hex 32)`);
  }
  return operatorToken(token);
}

export function operatorToken(token: string): OperatorToken {
  // Digests have one length whatever the candidate's, so the comparison never exits early.
  const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();
  const expected = digest(token);
  return { matches: (candidate) => timingSafeEqual(digest(candidate), expected) };
}
