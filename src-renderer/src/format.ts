// The renderer's number formatting is the one `clatbar status` uses too.
export * from '../../src-main/shared/format.js';
