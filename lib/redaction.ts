/**
 * Keeping secrets out of what the client hands out: redaction of texts (a secret as is or
 * URL-encoded), and failure causes rebuilt from an allow-list of fields, so no property of a
 * network error (raw response bytes, headers) can carry the AppSecret, a code or a token out.
 */

/** Replaces every secret in a text, as is or URL-encoded, with `[redacted]`. Pure. */
export function redact(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const form of formsOf(secrets)) out = out.split(form).join('[redacted]');
  return out;
}

// Each secret as it may show in a text: as is, as the request URL carries it (URLSearchParams:
// a space becomes "+") and as encodeURIComponent writes it. Longest first, so that no shorter form
// is replaced inside a longer one and leaves the rest of it readable. Shorter than 4 characters
// would match by chance and blank out ordinary text.
function formsOf(secrets: readonly string[]): string[] {
  const forms = new Set<string>();
  for (const secret of secrets) {
    if (secret.length < 4) continue;
    forms.add(secret);
    forms.add(encodeURIComponent(secret));
    forms.add(new URLSearchParams({ s: secret }).toString().slice('s='.length));
  }
  return [...forms].sort((a, b) => b.length - a.length);
}

/** How many causes deep a failure is copied; undici nests one or two. */
const CAUSE_DEPTH = 3;
/** The longest message kept of a cause, counted after redaction. */
const MAX_CAUSE_MESSAGE = 500;
/** The longest name or code kept of a cause. */
const MAX_CAUSE_LABEL = 100;

/**
 * A copy of a failure that is safe to hand out: a fresh Error with the name, a string code and the
 * message of `error` (each redacted, then capped), and the same for its causes down to
 * CAUSE_DEPTH. Nothing else is copied, on purpose: undici's errors hold raw response bytes
 * (HTTPParserError's `data`, where a server can echo the request line and its secret), headers or
 * a body, and no scan of them can be trusted (util.inspect stops at 10,000 characters).
 */
export function safeCause(error: unknown, secrets: readonly string[], depth = 1): SafeError {
  const seen = fieldsOf(error);
  const deeper = depth < CAUSE_DEPTH && seen.cause !== undefined && seen.cause !== null;
  const copy: SafeError = new Error(
    capped(redact(seen.message, secrets), MAX_CAUSE_MESSAGE),
    deeper ? { cause: safeCause(seen.cause, secrets, depth + 1) } : undefined,
  );
  copy.name = capped(redact(seen.name, secrets), MAX_CAUSE_LABEL);
  if (seen.code !== undefined) copy.code = capped(redact(seen.code, secrets), MAX_CAUSE_LABEL);
  return copy;
}

/** The copy {@link safeCause} makes: an Error, with Node's `code` when the original had a string one. */
export type SafeError = Error & { code?: string };

interface FailureFields {
  name: string;
  code: string | undefined;
  message: string;
  cause: unknown;
}

// Reads only the allowed fields, each once and guarded: a thrown value may be anything, a getter
// may throw. Error-like objects from another realm count as errors.
function fieldsOf(error: unknown): FailureFields {
  if (typeof error !== 'object' || error === null) {
    return { name: 'Error', code: undefined, message: String(error), cause: undefined };
  }
  const name = read(error, 'name');
  const code = read(error, 'code');
  const message = read(error, 'message');
  return {
    name: typeof name === 'string' && name !== '' ? name : 'Error',
    code: typeof code === 'string' ? code : undefined,
    message: typeof message === 'string' ? message : 'a non-Error value was thrown',
    cause: read(error, 'cause'),
  };
}

function read(object: object, key: string): unknown {
  try {
    return Reflect.get(object, key);
  } catch {
    // A getter that throws: the field counts as absent.
  }
  return undefined;
}

function capped(text: string, limit: number): string {
  return text.length <= limit ? text : `${text.slice(0, limit)}…`;
}
