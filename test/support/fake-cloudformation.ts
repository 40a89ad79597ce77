/**
 * A fake CloudFormation on 127.0.0.1 that answers DescribeStacks in the
 * service's query protocol, for the real `CloudFormationClient` (pointed at it
 * with AWS_ENDPOINT_URL_CLOUDFORMATION or `endpoint`): a form-encoded POST
 * `Action=DescribeStacks&StackName=…`, answered with
 * `DescribeStacksResponse/DescribeStacksResult/Stacks/member/Outputs/member`,
 * or for a stack it does not hold with CloudFormation's own 400
 * `ErrorResponse/Error` (`ValidationError`, "Stack with id … does not exist").
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/** One DescribeStacks the fake answered (or held). */
export interface DescribeStacksCall {
  readonly stackName: string | null;
  /** The region the caller signed for (from the SigV4 credential scope). */
  readonly region: string | undefined;
  /** Whether the request was signed at all (credentials were found). */
  readonly signed: boolean;
}

/** A running fake. */
export interface FakeCloudFormation {
  /** e.g. http://127.0.0.1:PORT */
  readonly endpoint: string;
  /** Deployed stacks: name → outputs (OutputKey → OutputValue). */
  readonly stacks: Map<string, Record<string, string>>;
  readonly calls: DescribeStacksCall[];
  /** When set, requests are read and recorded but never answered (a service that hangs). */
  hang: boolean;
  close(): Promise<void>;
}

/** Starts the fake with `stacks` deployed. */
export async function startFakeCloudFormation(stacks: Record<string, Record<string, string>> = {}): Promise<FakeCloudFormation> {
  const held: ServerResponse[] = [];
  const fake: FakeCloudFormation = {
    endpoint: "",
    stacks: new Map(Object.entries(stacks)),
    calls: [],
    hang: false,
    close: async () => undefined,
  };
  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    let body = "";
    request.setEncoding("utf8");
    request.on("data", (chunk: string) => (body += chunk));
    request.on("end", () => {
      const form = new URLSearchParams(body);
      const authorization = String(request.headers.authorization ?? "");
      const stackName = form.get("StackName");
      fake.calls.push({ stackName, region: /Credential=[^/]+\/\d{8}\/([^/]+)\/cloudformation\//.exec(authorization)?.[1], signed: authorization.startsWith("AWS4-HMAC-SHA256") });
      if (fake.hang) {
        held.push(response);
        return;
      }
      if (request.method !== "POST" || form.get("Action") !== "DescribeStacks") {
        return answer(response, 400, errorXml("InvalidAction", `The fake answers DescribeStacks only, not ${form.get("Action") ?? request.method}.`));
      }
      const outputs = stackName === null ? undefined : fake.stacks.get(stackName);
      if (stackName === null || outputs === undefined) return answer(response, 400, errorXml("ValidationError", `Stack with id ${stackName ?? ""} does not exist`));
      answer(response, 200, describeStacksXml(stackName, outputs));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  return Object.assign(fake, {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    async close() {
      for (const response of held) response.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  });
}

function answer(response: ServerResponse, status: number, xml: string): void {
  response.writeHead(status, { "content-type": "text/xml", "x-amzn-requestid": "fake-request-id" });
  response.end(xml);
}

function escape(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

function describeStacksXml(stackName: string, outputs: Record<string, string>): string {
  const members = Object.entries(outputs)
    .map(([key, value]) => `<member><OutputKey>${escape(key)}</OutputKey><OutputValue>${escape(value)}</OutputValue></member>`)
    .join("");
  return `<DescribeStacksResponse xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/">
  <DescribeStacksResult>
    <Stacks>
      <member>
        <StackName>${escape(stackName)}</StackName>
        <StackId>arn:aws:cloudformation:us-east-1:123456789012:stack/${escape(stackName)}/00000000-0000-0000-0000-000000000000</StackId>
        <CreationTime>2026-01-01T00:00:00.000Z</CreationTime>
        <StackStatus>CREATE_COMPLETE</StackStatus>
        <Outputs>${members}</Outputs>
      </member>
    </Stacks>
  </DescribeStacksResult>
  <ResponseMetadata><RequestId>fake-request-id</RequestId></ResponseMetadata>
</DescribeStacksResponse>`;
}

function errorXml(code: string, message: string): string {
  return `<ErrorResponse xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/">
  <Error><Type>Sender</Type><Code>${escape(code)}</Code><Message>${escape(message)}</Message></Error>
  <RequestId>fake-request-id</RequestId>
</ErrorResponse>`;
}
