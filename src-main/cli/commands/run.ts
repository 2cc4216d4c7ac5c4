import { notBuilt } from '../command.js';

export default notBuilt('run', 'Run the CLAT engine in the foreground on an uplink');
