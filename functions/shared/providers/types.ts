/**
 * The one interface every provider module implements.
 *
 * A provider is a description, not a client: the core does the HTTP. An HTTP
 * provider turns an OpenAI-shaped call into the HTTP request it expects
 * ({@link HttpProvider.prepare}: URL, headers, body), authenticates it
 * ({@link HttpProvider.authorize}: a header, or a signature over the whole
 * request), and turns its answer back into OpenAI's wire
 * ({@link HttpProvider.decode}). A local provider (the offline `mock`)
 * answers in-process.
 */
import type { EndpointMatch } from "../endpoints/match.ts";
import type { BodySource } from "../http/wire.ts";

/** A provider's answer: status, headers and a body read as it arrives. */
export interface ProviderResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body: BodySource;
}

/** What a provider can and cannot take, so the core adapts the request to it. */
export interface ProviderCapabilities {
  /** Whether streams report usage when asked with `stream_options.include_usage` (else the option is never added). */
  readonly streamUsageOption: boolean;
  /**
   * Whether a managed call needs a configured key. A provider that needs none
   * (a self-hosted server run without one) gets the credential `none`, and may
   * authenticate on its own (Bedrock signs with the function's IAM role).
   */
  readonly keyRequired: boolean;
  /**
   * The endpoints (catalogue names, e.g. `chat.completions`) the provider
   * serves; absent means every endpoint. A request for another endpoint is
   * refused with a 400 naming these, before anything is sent.
   */
  readonly endpoints?: readonly string[];
}

/**
 * The credential one attempt uses: the gateway's own key for the provider
 * (managed mode), the caller's own `Authorization` (passthrough), or none.
 */
export type ProviderCredential =
  | { readonly kind: "managed"; readonly apiKey: string; readonly organization?: string; readonly project?: string }
  | { readonly kind: "passthrough"; readonly authorization: string }
  | { readonly kind: "none" };

/** An OpenAI-shaped call, as the client made it (its body possibly adapted by the core). */
export interface ProviderCall {
  readonly endpoint: EndpointMatch;
  /** Raw query string without `?`. */
  readonly query: string;
  /** The client's headers that may go upstream (content negotiation, SDK telemetry…). */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Uint8Array | undefined;
  /** The model the request names, when it names one. */
  readonly model?: string;
}

/** An HTTP request ready to go to a provider. */
export interface UpstreamRequest {
  /** Absolute URL, used as given (no normalisation). */
  readonly url: string;
  readonly method: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Uint8Array | undefined;
}

/** A provider reached over HTTP. */
export interface HttpProvider {
  readonly kind: "http";
  readonly name: string;
  readonly capabilities: ProviderCapabilities;
  /** The provider's id in the price catalogue, when its models have list prices. */
  readonly priceProvider?: string;
  /** The HTTP request for a call: its URL (which may depend on the model), headers and body. Pure. */
  prepare(call: ProviderCall): UpstreamRequest;
  /**
   * Authenticates a prepared request with a credential: a header for most
   * providers, a signature over method, URL, headers and body for others.
   */
  authorize(request: UpstreamRequest, credential: ProviderCredential): UpstreamRequest | Promise<UpstreamRequest>;
  /** Turns the provider's answer into OpenAI's wire; absent for providers that speak it already. */
  decode?(response: ProviderResponse, call: ProviderCall): ProviderResponse;
  /**
   * An answer made from the provider's configuration alone (Bedrock lists its
   * configured models), or undefined when the call needs the provider. Pure.
   */
  answerLocally?(call: ProviderCall): ProviderResponse | undefined;
  /**
   * A call the provider takes in several requests (Titan embeds one text per
   * request): the parts, each an OpenAI call of the same endpoint, whose
   * OpenAI answers the core merges; undefined when one request does. Pure.
   */
  split?(call: ProviderCall): readonly ProviderCall[] | undefined;
}

/** What a local provider gets: the matched endpoint and the parsed JSON body. */
export interface LocalProviderRequest {
  readonly endpoint: EndpointMatch;
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
