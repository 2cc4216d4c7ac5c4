// `clatbar enable`: lifts a `never` or a `disable` on the current network (daemon mode).
import { changeCommand } from '../change-command.js';

export default changeCommand({
  name: 'enable',
  summary: 'Turn the CLAT on for the current network',
  method: 'enable',
  done: 'enabled: the engine runs the CLAT on this network whenever it is IPv6-only with a NAT64 (until the network changes)',
  explain: `Lifts a \`never\` policy or an earlier \`clatbar disable\` on the network the laptop is on now,
until it changes network; the engine then behaves as with the policy \`auto\` there (only the
policy \`always\` runs the CLAT beside native IPv4: \`clatbar policy set current always\`).`,
});
