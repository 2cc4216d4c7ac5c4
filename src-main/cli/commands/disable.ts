// `clatbar disable`: turns the CLAT off on the current network until it changes (daemon mode).
import { changeCommand } from '../change-command.js';

export default changeCommand({
  name: 'disable',
  summary: 'Turn the CLAT off for the current network',
  method: 'disable',
  done: 'disabled: the CLAT is off on this network until the laptop changes network',
  explain: `Turns the CLAT off on the network the laptop is on now and puts the host back as it was,
until the network changes (another network, or no IPv6 default route for more than 10 s). To
keep it off on this network for good: \`clatbar policy set current never\`.`,
});
