/** A test's HTTP client for the services' JSON APIs. */

export interface Answer {
  status: number;
  headers: Headers;
  /** The parsed JSON answer; empty when there was none or it was not JSON (see `text`). */
  body: Record<string, unknown>;
  text: string;
  ms: number;
}

export interface CallOptions {
  /** Sent as JSON, unless it is a string, which is sent as it is. */
  body?: unknown;
  /** A bearer token for the Authorization header. */
  token?: string;
  headers?: Record<string, string>;
}

export async function call(
  base: string,
  method: string,
  path: string,
  options: CallOptions = {},
): Promise<Answer> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token) headers['Authorization'] = `Bearer ${options.token}`;
  let payload: string | undefined;
  if (options.body !== undefined) {
    headers['Content-Type'] ??= 'application/json';
    payload = typeof options.body === 'string' ? options.body : JSON.stringify(options.body);
  }
  const started = performance.now();
  const res = await fetch(`${base}${path}`, {
    method,
    headers,
    ...(payload !== undefined ? { body: payload } : {}),
  });
  const text = await res.text();
  const ms = performance.now() - started;
  let body: Record<string, unknown> = {};
  try {
    if (text) body = JSON.parse(text) as Record<string, unknown>;
  } catch {}
  return { status: res.status, headers: res.headers, body, text, ms };
}
