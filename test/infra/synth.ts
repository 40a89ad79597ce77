/**
 * Synthesizing the gateway stack for template assertions, with settings read
 * from a context exactly as `infra/app.ts` reads them.
 */
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { App, Validations } from "aws-cdk-lib";
import { Template } from "aws-cdk-lib/assertions";
import nag from "cdk-nag";
import { GatewayStack } from "../../infra/gateway-stack.ts";
import { readGatewaySettings } from "../../infra/settings.ts";

/** The stack synthesized with `context`, and its template. */
export function synth(context: Record<string, unknown> = {}): { template: Template; stack: GatewayStack; app: App } {
  const app = new App({ context });
  const stack = new GatewayStack(app, "TestGateway", { settings: readGatewaySettings((key) => app.node.tryGetContext(key)) });
  return { template: Template.fromStack(stack), stack, app };
}

/** cdk-nag's AwsSolutions findings (errors and warnings) for the stack synthesized with `context`. */
export function nagViolations(context: Record<string, unknown> = {}): unknown[] {
  const outdir = mkdtempSync(join(tmpdir(), "nag-"));
  const app = new App({ outdir, context });
  new GatewayStack(app, "NagGateway", { settings: readGatewaySettings((key) => app.node.tryGetContext(key)) });
  Validations.of(app).addPlugins(new nag.AwsSolutionsChecks(app));
  app.synth();
  // Warnings do not fail a synth; the report holds them too.
  const report = JSON.parse(readFileSync(join(outdir, "validation-report.json"), "utf8")) as { pluginReports: { violations: unknown[] }[] };
  return report.pluginReports.flatMap((plugin) => plugin.violations);
}
