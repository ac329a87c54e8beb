/**
 * The local Convex host runs the module's functions in the test process, so its deployment
 * variables are this process's environment. Tests change them to fake a misconfigured deployment.
 */

/** Sets (or, with undefined, removes) variables; returns a function that puts them back. */
export function setProcessEnv(vars: Record<string, string | undefined>): () => void {
  const before = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
  const apply = (values: Record<string, string | undefined>) => {
    for (const [k, v] of Object.entries(values)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  };
  apply(vars);
  return () => apply(before);
}

/** Runs `fn` with `vars` set, then puts them back. */
export async function withProcessEnv<R>(
  vars: Record<string, string | undefined>,
  fn: () => Promise<R>,
): Promise<R> {
  const undo = setProcessEnv(vars);
  try {
    return await fn();
  } finally {
    undo();
  }
}
