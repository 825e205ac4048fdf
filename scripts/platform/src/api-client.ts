/**
 * A small JSON client for the platform's public HTTP API (through the entry port), as the seed and
 * the demo use it: a failed call throws with the problem's detail and the fields it names.
 */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly problem: { title?: string; detail?: string; errors?: { field?: string; message?: string }[] },
    what: string,
  ) {
    const fields = (problem.errors ?? []).map((e) => `${e.field}: ${e.message}`).join('; ');
    super(`${what} → ${status} ${problem.detail ?? problem.title ?? ''}${fields ? ` (${fields})` : ''}`);
  }
}

export interface CallOptions {
  token?: string;
  body?: unknown;
  headers?: Record<string, string>;
  /** Statuses that are an answer rather than a failure (e.g. 409 for "already exists"). */
  accept?: number[];
  timeoutMs?: number;
}

export class ApiClient {
  constructor(readonly base: string) {}

  async call<T>(method: string, path: string, o: CallOptions = {}): Promise<{ status: number; body: T }> {
    const headers: Record<string, string> = { accept: 'application/json', ...o.headers };
    if (o.token) headers['authorization'] = `Bearer ${o.token}`;
    if (o.body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(`${this.base}${path}`, {
      method,
      headers,
      body: o.body === undefined ? undefined : JSON.stringify(o.body),
      signal: AbortSignal.timeout(o.timeoutMs ?? 15_000),
    });
    const text = await res.text();
    let body: unknown = {};
    try {
      body = text ? JSON.parse(text) : {};
    } catch {
      body = { detail: text.slice(0, 200) };
    }
    if (!res.ok && !o.accept?.includes(res.status))
      throw new ApiError(res.status, body as ApiError['problem'], `${method} ${path}`);
    return { status: res.status, body: body as T };
  }

  async get<T>(path: string, o: CallOptions = {}): Promise<T> {
    return (await this.call<T>('GET', path, o)).body;
  }

  async post<T>(path: string, body: unknown, o: CallOptions = {}): Promise<T> {
    return (await this.call<T>('POST', path, { ...o, body })).body;
  }
}
