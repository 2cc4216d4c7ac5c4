import { notBuilt } from '../command.js';

export default notBuilt('diag', 'Run self-tests and print a diagnostics report');
