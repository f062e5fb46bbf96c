// Starts a throwaway Clavis (fresh data directory, SQLite) for the browser
// tests, captures the bootstrap admin's one-time password from its output,
// and waits until it answers /healthz.
import { spawn } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const root = resolve(__dirname, "..");
export const statePath = join(__dirname, ".e2e-state.json");

export default async function globalSetup() {
  const port = process.env.CLAVIS_E2E_PORT ?? "3457";
  const baseURL = `http://127.0.0.1:${port}`;
  const dataDir = mkdtempSync(join(tmpdir(), "clavis-e2e-"));
  const binary = process.env.CLAVIS_BIN ?? join(root, "target", "debug", "clavis");
  const env = {
    ...process.env,
    CLAVIS_ADDR: `127.0.0.1:${port}`,
    CLAVIS_PUBLIC_URL: baseURL,
    CLAVIS_DATA_DIR: dataDir,
    LEPTOS_SITE_ROOT: join(root, "target", "site"),
    // The tests are the proxy: a spec that fails sign-ins on purpose sends
    // its own X-Forwarded-For, so its failures are throttled per address
    // without slowing down every later spec from 127.0.0.1.
    CLAVIS_TRUSTED_PROXIES: "127.0.0.1/32",
  };
  delete env.CLAVIS_DATABASE_URL;
  delete env.CLAVIS_MASTER_KEY;
  const server = spawn(binary, ["serve"], { cwd: root, env, stdio: ["ignore", "pipe", "pipe"], detached: true });
  let output = "";
  server.stdout.on("data", (chunk) => (output += chunk.toString()));
  server.stderr.on("data", (chunk) => {
    if (process.env.CLAVIS_E2E_VERBOSE) process.stderr.write(chunk);
  });

  const deadline = Date.now() + 60_000;
  let password: string | undefined;
  let email: string | undefined;
  while (Date.now() < deadline) {
    if (server.exitCode !== null) throw new Error(`clavis exited early with ${server.exitCode}: ${output}`);
    email ??= output.match(/email:\s+(\S+)/)?.[1];
    password ??= output.match(/password:\s+(\S+)/)?.[1];
    if (email && password) {
      try {
        const res = await fetch(`${baseURL}/healthz`);
        if (res.ok) break;
      } catch {
        // not listening yet
      }
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  if (!email || !password) throw new Error(`no bootstrap credentials in the output: ${output}`);
  writeFileSync(statePath, JSON.stringify({ pid: server.pid, email, password, dataDir, baseURL, binary }));
  server.unref();
}
