// Public surface of the SIIT core (RFC 7915 translator) for the engine and the CLI.
export {
  Translator,
  VERDICT,
  VERDICT_NAMES,
  HEADROOM,
  FLAG,
  type Verdict,
  type EmitFn,
} from './translator.js';
export {
  translatorConfigSchema,
  parseTranslatorConfig,
  compileConfig,
  ConfigError,
  type TranslatorConfig,
  type TranslatorConfigInput,
  type CompiledConfig,
} from './config.js';
export { Counters, R, REASONS, type DropReason } from './counters.js';
export { Pool6 } from '../ip/rfc6052.js';
export { Eamt } from './eamt.js';
export {
  parseIPv4,
  parseIPv6,
  formatIPv4,
  formatIPv6,
  parsePrefix4,
  parsePrefix6,
  isGlobal4,
} from '../ip/address.js';
export { readPcap, writePcap, PcapError, LINKTYPE, type PcapPacket } from './pcap.js';
