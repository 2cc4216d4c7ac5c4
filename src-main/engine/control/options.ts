// Where this engine's control socket goes by default and what its self-test probes: the parts of
// the control API's setup that depend on the host, in one place for `run` and the CLI.
import { controlSocketPath } from '../../shared/control.js';
import { currentNetnsName } from '../system/netns-name.js';
import {
  DEFAULT_SELFTEST_NAME,
  DEFAULT_SELFTEST_TARGETS,
  parseTarget,
  type SelfTestTargets,
} from './selftest.js';

/** The default control socket for this process's namespace (shared/control.ts has the rule). */
export async function controlPlan(): Promise<{ socket: string; netns: string | null }> {
  // The same namespace lookup as `ip netns identify` (/run/netns entry with our inode), in-process.
  const netns = currentNetnsName();
  return { socket: controlSocketPath(netns), netns };
}

/** --selftest-target and --selftest-name, checked; the defaults when not given. */
export function selfTestTargets(targets: string[] | undefined, name: string | undefined): SelfTestTargets {
  return {
    ipv4: (targets?.length ? targets : DEFAULT_SELFTEST_TARGETS).map(parseTarget),
    name: name ?? DEFAULT_SELFTEST_NAME,
  };
}
