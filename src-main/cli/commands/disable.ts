import { notBuilt } from '../command.js';

export default notBuilt('disable', 'Turn the CLAT off for the current network');
