// Stops the Clavis started by global-setup and removes its data directory.
import { existsSync, readFileSync, rmSync } from "node:fs";
import { statePath } from "./global-setup";

export default async function globalTeardown() {
  if (!existsSync(statePath)) return;
  const state = JSON.parse(readFileSync(statePath, "utf8"));
  try {
    process.kill(-state.pid, "SIGTERM");
  } catch {
    try {
      process.kill(state.pid, "SIGTERM");
    } catch {
      // already gone
    }
  }
  rmSync(state.dataDir, { recursive: true, force: true });
  rmSync(statePath, { force: true });
}
