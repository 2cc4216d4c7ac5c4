// Where this engine's control socket goes by default and what its self-test probes: the parts of
// the control API's setup that depend on the host, in one place for `run` and the CLI.
import { controlSocketPath } from '../../shared/control.js';
import { execOut } from '../system/exec.js';
import {
  DEFAULT_SELFTEST_NAME,
  DEFAULT_SELFTEST_TARGETS,
  parseTarget,
  type SelfTestTargets,
} from './selftest.js';

/**
 * The named network namespace this process is in (`ip netns identify`), or null for the host's
 * own or an unnamed one. Both the engine and the CLI use it, so `ip netns exec NAME clatbar
 * status` finds the engine started with `ip netns exec NAME clatbar run`.
 */
export async function currentNetns(): Promise<string | null> {
  try {
    const names = (await execOut(['ip', 'netns', 'identify'], { timeoutMs: 2000 }))
      .split(/\s+/)
      .filter(Boolean);
    return names[0] ?? null;
  } catch {
    return null;
  }
}

/** The default control socket for this process's namespace (shared/control.ts has the rule). */
export async function controlPlan(): Promise<{ socket: string; netns: string | null }> {
  const netns = await currentNetns();
  return { socket: controlSocketPath(netns), netns };
}

/** --selftest-target and --selftest-name, checked; the defaults when not given. */
export function selfTestTargets(targets: string[] | undefined, name: string | undefined): SelfTestTargets {
  return {
    ipv4: (targets?.length ? targets : DEFAULT_SELFTEST_TARGETS).map(parseTarget),
    name: name ?? DEFAULT_SELFTEST_NAME,
  };
}
