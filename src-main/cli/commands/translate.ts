import { notBuilt } from '../command.js';

export default notBuilt('translate', 'Translate a pcap capture offline with the SIIT core');
