import { notBuilt } from '../command.js';

export default notBuilt('status', 'Show what the running engine is doing');
