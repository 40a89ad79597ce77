/**
 * The AWS SDK reads its endpoints (`AWS_ENDPOINT_URL_<SERVICE>`), region and
 * credentials from the process environment when a client the gateway creates
 * itself resolves them: tests that point such a client at a local endpoint
 * set them here and put the old values back after.
 */

/** Dummy credentials and a region, enough for the SDK to sign requests to a local endpoint. */
export const LOCAL_AWS_ENV: Readonly<Record<string, string>> = {
  AWS_REGION: "us-east-1",
  AWS_ACCESS_KEY_ID: "AKIDEXAMPLE",
  AWS_SECRET_ACCESS_KEY: "secret-access-key-example",
};

/**
 * Sets `variables` in `process.env`.
 * @returns a function that restores the previous values
 */
export function setProcessEnv(variables: Readonly<Record<string, string>>): () => void {
  const saved = Object.entries(variables).map(([name]) => [name, process.env[name]] as const);
  Object.assign(process.env, variables);
  return () => {
    for (const [name, value] of saved) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  };
}

/** Resolves as `promise` does, or rejects naming `what` after `ms`: a clear failure instead of a test timeout. */
export async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}
