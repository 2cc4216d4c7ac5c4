// Commands and processes for `clatbar lab`: every command by absolute path, asynchronous, with a
// timeout; processes identified by pid and start time so a recycled pid is never signalled.
import { readFileSync } from 'node:fs';
import { execOut } from '../system/exec.js';

/** Building a namespace or starting TAYGA takes longer than the engine's own commands. */
const TIMEOUT_MS = 20_000;

/** Runs argv (system/exec.ts); resolves stdout; rejects with the command line and what it printed. */
export function run(argv: readonly string[], timeoutMs = TIMEOUT_MS): Promise<string> {
  return execOut(argv, { timeoutMs });
}

/** Field 22 of /proc/PID/stat (start time in clock ticks since boot), or null when gone. */
export function startTime(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: count from the last ')'.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null;
  } catch {
    return null;
  }
}

/** The process still runs and is the one recorded (not a zombie). */
export function alive(pid: number, start: string): boolean {
  if (startTime(pid) !== start) return false;
  try {
    return !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return false;
  }
}

/** SIGTERM, then SIGKILL after graceMs; resolves when it is gone (or was never there). */
export async function stopProcess(pid: number, start: string, graceMs: number): Promise<void> {
  if (!alive(pid, start)) return;
  process.kill(pid, 'SIGTERM');
  const end = Date.now() + graceMs;
  while (Date.now() < end) {
    if (!alive(pid, start)) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  if (alive(pid, start)) process.kill(pid, 'SIGKILL');
  while (alive(pid, start)) await new Promise((r) => setTimeout(r, 20));
}
