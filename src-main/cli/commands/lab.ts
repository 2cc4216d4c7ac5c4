import { notBuilt } from '../command.js';

export default notBuilt('lab', 'Build a throwaway IPv6-only lab in network namespaces');
