/**
 * `npm run start:lambda`: the deployable Lambda artifact, run locally.
 *
 * Synthesizes the stack (bundling the function exactly as `cdk deploy`
 * would), then serves the bundle under the real aws-lambda-ric behind an
 * emulated Function URL on http://127.0.0.1:3001 (PORT changes it). Keys come
 * from this environment like `npm start`'s (OPENAI_API_KEY, GATEWAY_API_KEYS),
 * or from a real secret with GATEWAY_SECRET_ID.
 */
import { synthesizeGatewayBundle } from "./lambda-bundle.ts";
import { startFunctionUrlEmulator } from "./lambda-emulator.ts";

const bundle = synthesizeGatewayBundle();
const { GATEWAY_SECRET_ID: _tokenizedSecretId, ...bundleEnvironment } = bundle.environment;
const env: Record<string, string> = { ...bundleEnvironment };
for (const [key, value] of Object.entries(process.env)) if (value !== undefined) env[key] = value;

const emulator = await startFunctionUrlEmulator({
  taskRoot: bundle.taskRoot,
  handler: bundle.handler,
  port: Number(process.env.PORT ?? 3001),
  timeoutMs: Number(bundle.environment.GATEWAY_TOTAL_TIMEOUT_MS ?? 600_000),
  env,
  onLog: (line, stream) => (stream === "stdout" ? process.stdout : process.stderr).write(`${line}\n`),
});
console.log(`Lambda bundle (${bundle.taskRoot}) ready in ${emulator.readyMs.toFixed(0)} ms`);
console.log(`Emulated Function URL: ${emulator.url}/v1/`);
const stop = () => void emulator.close().then(() => process.exit(0));
process.once("SIGINT", stop);
process.once("SIGTERM", stop);
