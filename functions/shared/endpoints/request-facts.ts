/**
 * What a request says about itself that the gateway reports and prices by:
 * the model it names and whether it asks for a stream, wherever the endpoint
 * puts them (the JSON body, a form field, the path, the query).
 */
import type { RequestBody } from "../http/request-body.ts";
import { readFormFields } from "../http/multipart-fields.ts";
import { modelOfPath, type EndpointMatch } from "./match.ts";

/** The model and the stream flag of a request. */
export interface RequestFacts {
  readonly model?: string;
  readonly stream: boolean;
}

const STREAM_QUERY = /(?:^|&)stream=true(?:&|$)/;

/** Reads the model and the stream flag of a request as its endpoint carries them. */
export function requestFacts(match: EndpointMatch, body: RequestBody, query: string): RequestFacts {
  switch (body.kind) {
    case "json": {
      const { json } = body;
      const model = typeof json.model === "string" ? json.model : modelOfPath(match);
      // Speech streams events with `stream_format: "sse"`; everything else with `stream: true`.
      return { model, stream: json.stream === true || json.stream_format === "sse" };
    }
    case "multipart": {
      // A transcription or an image edit names its model, and asks for a stream, in form fields.
      const fields = readFormFields(body.raw, body.contentType, ["model", "stream"]);
      return { model: fields.model?.trim() || undefined, stream: fields.stream?.trim() === "true" };
    }
    default:
      // A stored response is retrieved as a stream with `?stream=true`.
      return { model: modelOfPath(match), stream: STREAM_QUERY.test(query) };
  }
}
