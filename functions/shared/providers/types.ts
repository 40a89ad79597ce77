/**
 * The one interface every provider module implements.
 *
 * A provider is a description, not a client: the gateway core does the HTTP.
 * An HTTP provider says where its API lives and how to authenticate to it;
 * a local provider (the offline `mock`) answers in-process.
 */
import type { Route } from "../endpoints/match.ts";

/** The provider key and account headers the gateway uses in managed mode. */
export interface ProviderCredentials {
  readonly apiKey: string;
  readonly organization?: string;
  readonly project?: string;
}

/** A body read chunk by chunk; a fixed body may be a plain list of chunks. */
export type BodySource = AsyncIterable<Uint8Array> | Iterable<Uint8Array>;

/** A provider's answer: status, headers and a body read as it arrives. */
export interface ProviderResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body: BodySource;
}

/** A provider reached over HTTP with OpenAI's wire format. */
export interface HttpProvider {
  readonly kind: "http";
  readonly name: string;
  /** Base URL including the version prefix, without trailing slash (e.g. `https://api.openai.com/v1`). */
  readonly baseUrl: string;
  /** Whether streams report usage when asked with `stream_options.include_usage`. */
  readonly streamUsage: boolean;
  /** Request headers that authenticate the gateway's own key to the provider. */
  authHeaders(credentials: ProviderCredentials): Record<string, string>;
}

/** What a local provider gets: the route and the parsed JSON body. */
export interface LocalProviderRequest {
  readonly route: Route;
  readonly body: Readonly<Record<string, unknown>> | undefined;
  readonly query: string;
  readonly signal: AbortSignal;
}

/** A provider answered inside the gateway process, needing no key and no network. */
export interface LocalProvider {
  readonly kind: "local";
  readonly name: string;
  answer(request: LocalProviderRequest): ProviderResponse;
}

/** Any provider the registry holds. */
export type Provider = HttpProvider | LocalProvider;
