import { notBuilt } from '../command.js';

export default notBuilt('dns64', 'Run the DNS64 stub resolver in the foreground');
