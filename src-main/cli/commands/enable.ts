import { notBuilt } from '../command.js';

export default notBuilt('enable', 'Turn the CLAT on for the current network');
