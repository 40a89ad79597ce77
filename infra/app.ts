/**
 * The CDK app: one gateway stack, settings from the context, cdk-nag's
 * AwsSolutions checks on everything it synthesizes.
 */
import { App, Validations } from "aws-cdk-lib";
import nag from "cdk-nag";
import { GatewayStack } from "./gateway-stack.ts";
import { readGatewaySettings } from "./settings.ts";

const app = new App();
const stackName = (app.node.tryGetContext("gateway:stackName") as string | undefined) ?? "AiGateway";
new GatewayStack(app, stackName, {
  settings: readGatewaySettings((key) => app.node.tryGetContext(key)),
  description: "OpenAI-compatible LLM gateway on AWS Lambda with response streaming",
});
Validations.of(app).addPlugins(new nag.AwsSolutionsChecks(app, { verbose: true }));
app.synth();
