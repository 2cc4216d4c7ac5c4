// The CLAT instance's status (ClatEngine.status()) as part of the engine's status document
// (shared/status.ts): the same fields with the same names and meanings as the foreground engine
// always had; `state` is the document's (active, stopping, ...), not the instance's.
import type { ClatStatus } from './engine.js';
import type { EngineStatusDoc } from '../../shared/status.js';

export type ClatFields = Omit<ClatStatus, 'state' | 'pid' | 'startedAt' | 'discovery'> & {
  discovery?: Record<string, number>;
};

export function clatFields(s: ClatStatus): ClatFields {
  const { state: _state, pid: _pid, startedAt: _startedAt, discovery, ...fields } = s;
  return discovery ? { ...fields, discovery: { ...discovery } } : fields;
}

/**
 * The document of the foreground engine (`run --uplink IFACE`): active while it translates,
 * attention while the network's prefix is gone, stopping while it tears down. No network
 * identity, policy or transitions: it does what the command line says on the one uplink.
 */
export function foregroundStatusDoc(s: ClatStatus): EngineStatusDoc {
  const doc: EngineStatusDoc = {
    ...clatFields(s),
    state: 'active',
    mode: 'foreground',
    pid: s.pid,
    startedAt: s.startedAt,
    reason: {
      code: 'active.foreground',
      params: { uplink: s.uplink, prefix: s.prefix },
      text: `IPv4 apps on this host reach IPv4 hosts through the NAT64 (${s.prefix}) via ${s.uplink}`,
    },
    transitions: [],
  };
  if (s.state === 'stopping') {
    doc.state = 'stopping';
    doc.reason = { code: 'stopping', text: 'the engine is stopping and putting the network back as it was' };
  } else if (s.prefix === '') {
    doc.state = 'attention';
    doc.reason = {
      code: 'attention.no-prefix',
      params: { uplink: s.uplink },
      text: `no NAT64 prefix on ${s.uplink}: ${s.prefixProblem ?? 'the network announces none'}`,
    };
    doc.fix = {
      code: 'fix.no-prefix',
      text: 'clatbar resumes when the network announces a prefix again, or restart it with `clatbar run --prefix PFX/LEN`',
    };
  }
  return doc;
}
