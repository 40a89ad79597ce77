/**
 * fetch for tests that need the answer whole: status, headers and body text
 * (a request the SDK cannot express, or an answer it would parse away).
 */

/** A response read whole with fetch. */
export interface FetchedResponse {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
}

/** fetch, then the whole body as text. A ReadableStream body is sent half-duplex. */
export async function fetchText(url: string, init: RequestInit = {}): Promise<FetchedResponse> {
  const response = await fetch(url, init.body instanceof ReadableStream ? ({ ...init, duplex: "half" } as RequestInit) : init);
  return { status: response.status, headers: response.headers, text: await response.text() };
}

/** POSTs a JSON body (a string is sent as is) to `${baseURL}${path}` with `headers`, and reads the whole answer. */
export function postJson(baseURL: string, path: string, body: unknown, headers: Record<string, string> = {}): Promise<FetchedResponse> {
  return fetchText(`${baseURL}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
}
