// The layout's import rules (docs/architecture.md, "Layout"), enforced: which folder may import
// which. One table; a folder under src-main/ that is not in it is an error too, so a new folder
// gets its row (and its line in docs/architecture.md) when it is made.
import path from 'node:path';

/** Folder -> the folders it may import from (its own always). Most specific folder wins. */
export const LAYOUT = {
  // IP addresses, RFC 6052, protocol numbers: imports nothing, so everyone may use it.
  'src-main/engine/ip': [],
  // The RFC 7915 translator: pure functions over bytes.
  'src-main/engine/siit': ['src-main/engine/ip', 'src-main/shared'],
  // DNS wire format and the upstream client.
  'src-main/engine/dns': ['src-main/engine/ip'],
  // Typed wrappers of the native addon.
  'src-main/engine/native': ['src-main/engine/ip', 'src-main/engine/system'],
  // Host changes (iproute2, sysctl, firewall), the undo journal, command execution.
  'src-main/engine/system': ['src-main/shared'],
  // Uplink snapshots, CLAT address generation, DAD.
  'src-main/engine/net': [
    'src-main/engine/ip',
    'src-main/engine/system',
    'src-main/engine/native',
    'src-main/shared',
  ],
  // PREF64 from RAs, RFC 7050, the network monitor.
  'src-main/engine/discovery': [
    'src-main/engine/ip',
    'src-main/engine/dns',
    'src-main/engine/native',
    'src-main/engine/system',
    'src-main/engine/net',
    'src-main/shared',
  ],
  // The DNS64 stub and the system resolver hook.
  'src-main/engine/dns64': [
    'src-main/engine/ip',
    'src-main/engine/dns',
    'src-main/engine/native',
    'src-main/engine/system',
    'src-main/shared',
  ],
  // One CLAT instance: checks, bring-up/teardown, data path.
  'src-main/engine/clat': [
    'src-main/engine/ip',
    'src-main/engine/siit',
    'src-main/engine/dns',
    'src-main/engine/dns64',
    'src-main/engine/native',
    'src-main/engine/system',
    'src-main/engine/net',
    'src-main/engine/discovery',
    'src-main/shared',
  ],
  // Per-network policy (daemon work, issue 11).
  'src-main/engine/policy': [
    'src-main/engine/ip',
    'src-main/engine/system',
    'src-main/engine/net',
    'src-main/engine/discovery',
    'src-main/shared',
  ],
  // The supervisor: network state -> decision -> CLAT instance (issue 11).
  'src-main/engine/daemon': ['src-main/engine', 'src-main/shared'],
  // The control socket: JSON-RPC, peer credentials (issue 12).
  'src-main/engine/control': ['src-main/engine', 'src-main/shared'],
  // `clatbar lab`: network namespaces with a NAT64 to try the main job in (issue 14).
  'src-main/engine/lab': ['src-main/engine/system', 'src-main/shared'],
  // The command line: every subcommand in commands/.
  'src-main/cli': ['src-main/engine', 'src-main/shared'],
  // Electron main, preload and the electron-free app logic: talks to the engine only through
  // the control protocol (shared/control.ts).
  'src-main/app': ['src-main/shared'],
  // Types and schemas shared by engine, app and renderer; no side effects.
  'src-main/shared': [],
  // Svelte windows.
  'src-renderer': ['src-main/shared'],
};

const folders = Object.keys(LAYOUT).sort((a, b) => b.length - a.length);

function folderOf(rel) {
  return folders.find((f) => rel === f || rel.startsWith(`${f}/`)) ?? null;
}

function inside(rel, folder) {
  return rel === folder || rel.startsWith(`${folder}/`);
}

export const layoutRule = {
  meta: {
    type: 'problem',
    docs: { description: 'imports follow the folder layout of docs/architecture.md' },
    schema: [],
  },
  create(context) {
    const root = context.cwd;
    const file = path.relative(root, context.filename).split(path.sep).join('/');
    const own = folderOf(file);
    const underLayout = file.startsWith('src-main/') || file.startsWith('src-renderer/');
    if (!underLayout) return {};
    function check(node, spec) {
      if (typeof spec !== 'string' || !spec.startsWith('.')) return;
      if (!own) {
        context.report({
          node,
          message: `${path.dirname(file)}/ is not in the layout: add its row to eslint/layout.js and docs/architecture.md`,
        });
        return;
      }
      const target = path
        .relative(root, path.resolve(path.dirname(context.filename), spec))
        .split(path.sep)
        .join('/');
      if (inside(target, own)) return;
      const allowed = LAYOUT[own];
      if (allowed.some((f) => inside(target, f))) return;
      context.report({
        node,
        message: `${own}/ may not import ${target} (it may import ${allowed.length ? allowed.map((f) => `${f}/`).join(', ') : 'nothing outside itself'}; docs/architecture.md, "Layout")`,
      });
    }
    return {
      ImportDeclaration: (n) => check(n, n.source.value),
      ExportNamedDeclaration: (n) => n.source && check(n, n.source.value),
      ExportAllDeclaration: (n) => check(n, n.source.value),
      ImportExpression: (n) => n.source.type === 'Literal' && check(n, n.source.value),
    };
  },
};
